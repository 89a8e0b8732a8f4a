use super::{Hash, PublicKey, Signature};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteKind {
    Prevote,
    Precommit,
}

/// A consensus vote, signed over `b"consort/vote/v1" || borsh(vote)`. `block_hash: None` is a nil vote.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Vote {
    pub chain_id: String,
    pub height: u64,
    pub round: u32,
    pub kind: VoteKind,
    pub block_hash: Option<Hash>,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct CommitSig {
    pub validator: PublicKey,
    pub signature: Signature,
}

/// A commit certificate: precommits for `block_hash` at (`height`, `round`) from validators holding more
/// than two thirds of the voting power. Stored beside every block and served to syncing peers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Commit {
    pub height: u64,
    pub round: u32,
    pub block_hash: Hash,
    pub signatures: Vec<CommitSig>,
}

impl Commit {
    /// The precommit every signature in this certificate signs.
    pub fn vote(&self, chain_id: &str) -> Vote {
        Vote {
            chain_id: chain_id.to_owned(),
            height: self.height,
            round: self.round,
            kind: VoteKind::Precommit,
            block_hash: Some(self.block_hash),
        }
    }

    /// The signed precommits this certificate is made of, for re-sending to validators still deciding.
    pub fn precommits(&self, chain_id: &str) -> Vec<SignedVote> {
        let vote = self.vote(chain_id);
        self.signatures
            .iter()
            .map(|s| SignedVote { vote: vote.clone(), validator: s.validator, signature: s.signature })
            .collect()
    }
}

/// A proposer's claim that `block_hash` is its value for (`height`, `round`); `pol_round` names the round
/// of the polka that justifies re-proposing a valid value. Signed over `b"consort/proposal/v1" || borsh`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Proposal {
    pub chain_id: String,
    pub height: u64,
    pub round: u32,
    pub pol_round: Option<u32>,
    pub block_hash: Hash,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedProposal {
    pub proposal: Proposal,
    pub proposer: PublicKey,
    pub signature: Signature,
}

/// A vote with the validator that cast it and its signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedVote {
    pub vote: Vote,
    pub validator: PublicKey,
    pub signature: Signature,
}
