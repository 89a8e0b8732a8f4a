//! Checks a proposed block against the chain head before it is executed: the checks every validator
//! makes of a proposal, whoever proposed it.

use crate::consensus::ValidatorSet;
use crate::hashed_block::HashedBlock;
use crate::storage::ChainHead;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("block is for chain {0:?}")]
    WrongChain(String),
    #[error("block height {got} does not follow head {head}")]
    WrongHeight { head: u64, got: u64 },
    #[error("block does not link to the head's hash")]
    WrongParent,
    #[error("block's last_app_hash does not match the state after the head")]
    WrongAppHash,
    #[error("block's txs_hash does not match its txs")]
    WrongTxsHash,
    #[error("block time {got} is not after the head's time {head}")]
    TimeNotIncreasing { head: u64, got: u64 },
    #[error("block proposer {0} is not a validator")]
    UnknownProposer(String),
    #[error("block holds {got} txs, over the limit of {max}")]
    TooManyTxs { max: usize, got: usize },
}

pub fn check_block(
    hashed: &HashedBlock,
    head: &ChainHead,
    chain_id: &str,
    validators: &ValidatorSet,
    block_txs_max: usize,
) -> Result<(), BlockError> {
    let (block, h) = (&hashed.block, &hashed.block.header);
    if h.chain_id != chain_id {
        return Err(BlockError::WrongChain(h.chain_id.chars().take(64).collect()));
    }
    if h.height != head.height + 1 {
        return Err(BlockError::WrongHeight { head: head.height, got: h.height });
    }
    if h.prev_block_hash != head.block_hash {
        return Err(BlockError::WrongParent);
    }
    if h.last_app_hash != head.app_hash {
        return Err(BlockError::WrongAppHash);
    }
    if h.time_ms <= head.block_time_ms {
        return Err(BlockError::TimeNotIncreasing { head: head.block_time_ms, got: h.time_ms });
    }
    if !validators.contains_address(&h.proposer) {
        return Err(BlockError::UnknownProposer(h.proposer.to_string()));
    }
    if block.txs.len() > block_txs_max {
        return Err(BlockError::TooManyTxs { max: block_txs_max, got: block.txs.len() });
    }
    if h.txs_hash != hashed.txs_hash() {
        return Err(BlockError::WrongTxsHash);
    }
    Ok(())
}
