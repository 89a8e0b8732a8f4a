//! Test-only misbehaviour (feature `byzantine`, binary `consort-node-byzantine`): besides each honest
//! vote and proposal, this validator signs and sends a conflicting one for the same step. The fault suite
//! runs one such validator among honest ones to check they stay safe and live and record the evidence.
//! Never built into `consort-node`.

use consort_sdk::{Block, ConsensusMessage, Hash, Keypair, SignedProposal, SignedVote};

/// A vote for the same height, round and kind with the other value: nil for a block, a made-up block
/// for nil.
pub fn second_vote(key: &Keypair, honest: &SignedVote) -> ConsensusMessage {
    let mut vote = honest.vote.clone();
    vote.block_hash = match vote.block_hash {
        Some(_) => None,
        None => Some(Hash::digest(b"byzantine")),
    };
    ConsensusMessage::Vote(key.sign_vote_full(vote))
}

/// A proposal for the same height and round of a different, equally valid block (one millisecond later).
pub fn second_proposal(
    key: &Keypair,
    honest: &SignedProposal,
    block: &Block,
    polka: Vec<SignedVote>,
) -> ConsensusMessage {
    let mut other = block.clone();
    other.header.time_ms += 1;
    let mut proposal = honest.proposal.clone();
    proposal.block_hash = other.hash();
    ConsensusMessage::Proposal { proposal: key.sign_proposal(proposal), block: Box::new(other), polka }
}
