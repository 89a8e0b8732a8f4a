use super::{Address, Hash, SignedTx};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// What a block commits to. The block hash is the hash of this header alone; `txs_hash` binds the body.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BlockHeader {
    pub chain_id: String,
    pub height: u64,
    /// Proposer's wall clock, milliseconds since the Unix epoch; strictly increasing along the chain.
    pub time_ms: u64,
    pub prev_block_hash: Hash,
    pub txs_hash: Hash,
    /// App hash after executing the previous block (Tendermint style: a proposer need not execute first).
    pub last_app_hash: Hash,
    pub proposer: Address,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTx>,
}

impl BlockHeader {
    pub fn hash(&self) -> Hash {
        Hash::digest(&crate::encoding::encode(self))
    }
}

impl Block {
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// The commitment to an ordered list of txs: blake3 over their hashes in order.
    pub fn txs_hash_of(txs: &[SignedTx]) -> Hash {
        Block::txs_hash_from(&txs.iter().map(SignedTx::hash).collect::<Vec<_>>())
    }

    /// [`Block::txs_hash_of`] from the txs' hashes, for callers that already have them.
    pub fn txs_hash_from(tx_hashes: &[Hash]) -> Hash {
        let mut hasher = blake3::Hasher::new();
        for hash in tx_hashes {
            hasher.update(hash.as_bytes());
        }
        Hash(*hasher.finalize().as_bytes())
    }
}
