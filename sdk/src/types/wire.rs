use super::{Block, Commit, SignedProposal, SignedVote};
use borsh::{BorshDeserialize, BorshSerialize};

/// A message on the consensus gossip topic `consort/<chain_id>/consensus`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ConsensusMessage {
    /// A proposal with its block, and for a re-proposal (`pol_round`) the prevotes that justify it.
    Proposal {
        proposal: SignedProposal,
        block: Box<Block>,
        polka: Vec<SignedVote>,
    },
    Vote(SignedVote),
}

/// What travels on the consensus topic. `resend` differs on every publish so that a re-broadcast is new
/// content to gossipsub (which refuses to publish the same bytes twice); receivers deduplicate by vote.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ConsensusGossip {
    pub msg: ConsensusMessage,
    pub resend: u64,
}

/// Block sync request: committed blocks from `from_height`, at most `count` of them.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SyncRequest {
    pub from_height: u64,
    pub count: u32,
}

/// Block sync response: consecutive committed blocks, each with its commit certificate.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SyncResponse {
    pub blocks: Vec<(Block, Commit)>,
}

/// What travels on the tx topic `consort/<chain_id>/txs`: admitted txs, each its canonical bytes, sent in
/// batches because one gossip message per tx floods gossipsub's send queues and crowds out consensus.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TxGossip {
    pub txs: Vec<Vec<u8>>,
}
