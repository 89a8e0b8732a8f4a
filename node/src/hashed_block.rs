//! A block together with its txs' hashes, computed once per node. Checking the header's `txs_hash`,
//! finding which signatures are already verified, and writing the receipts all need every tx's hash;
//! computing them in each of those places was three passes over every tx of a block on the commit path.

use consort_sdk::{Block, Hash, SignedTx};

#[derive(Clone, Debug)]
pub struct HashedBlock {
    pub block: Block,
    /// `tx_hashes[i]` is `block.txs[i].hash()`.
    pub tx_hashes: Vec<Hash>,
}

impl HashedBlock {
    /// Hashes every tx of `block`.
    pub fn new(block: Block) -> HashedBlock {
        let tx_hashes = block.txs.iter().map(SignedTx::hash).collect();
        HashedBlock { block, tx_hashes }
    }

    /// A block whose tx hashes are already known (the mempool keeps each tx's hash from admission).
    pub fn with_hashes(block: Block, tx_hashes: Vec<Hash>) -> HashedBlock {
        debug_assert!(block.txs.iter().map(SignedTx::hash).eq(tx_hashes.iter().copied()), "hashes of other txs");
        HashedBlock { block, tx_hashes }
    }

    pub fn hash(&self) -> Hash {
        self.block.hash()
    }

    /// The commitment the header's `txs_hash` must equal.
    pub fn txs_hash(&self) -> Hash {
        Block::txs_hash_from(&self.tx_hashes)
    }
}
