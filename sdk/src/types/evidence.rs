use super::{PublicKey, SignedProposal, SignedVote};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Proof that a validator signed two conflicting messages for one height and round: two different votes
/// of one kind, or two different proposals. Either is a fault no honest validator commits, even across
/// crashes (its last-sign record forbids it).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Evidence {
    ConflictingVotes { first: SignedVote, second: SignedVote },
    ConflictingProposals { first: SignedProposal, second: SignedProposal },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvidenceError {
    #[error("the two messages are not from one validator for one chain, height, round and step")]
    NotComparable,
    #[error("the two messages are the same value: no conflict")]
    SameValue,
    #[error("a signature in the evidence does not verify")]
    BadSignature,
}

impl Evidence {
    pub fn validator(&self) -> PublicKey {
        match self {
            Evidence::ConflictingVotes { first, .. } => first.validator,
            Evidence::ConflictingProposals { first, .. } => first.proposer,
        }
    }

    pub fn height(&self) -> u64 {
        match self {
            Evidence::ConflictingVotes { first, .. } => first.vote.height,
            Evidence::ConflictingProposals { first, .. } => first.proposal.height,
        }
    }

    pub fn round(&self) -> u32 {
        match self {
            Evidence::ConflictingVotes { first, .. } => first.vote.round,
            Evidence::ConflictingProposals { first, .. } => first.proposal.round,
        }
    }

    /// Checks that this is real proof: one signer, one chain, height, round (and vote kind), two different
    /// values, both signatures valid. Only verified evidence is stored or shown.
    pub fn verify(&self) -> Result<(), EvidenceError> {
        match self {
            Evidence::ConflictingVotes { first, second } => {
                let (a, b) = (&first.vote, &second.vote);
                let same_step = (&a.chain_id, a.height, a.round, a.kind) == (&b.chain_id, b.height, b.round, b.kind);
                if first.validator != second.validator || !same_step {
                    return Err(EvidenceError::NotComparable);
                }
                if a.block_hash == b.block_hash {
                    return Err(EvidenceError::SameValue);
                }
                first.verify_signature().and(second.verify_signature()).map_err(|_| EvidenceError::BadSignature)
            }
            Evidence::ConflictingProposals { first, second } => {
                let (a, b) = (&first.proposal, &second.proposal);
                if first.proposer != second.proposer
                    || (&a.chain_id, a.height, a.round) != (&b.chain_id, b.height, b.round)
                {
                    return Err(EvidenceError::NotComparable);
                }
                if a.block_hash == b.block_hash && a.pol_round == b.pol_round {
                    return Err(EvidenceError::SameValue);
                }
                first.verify_signature().and(second.verify_signature()).map_err(|_| EvidenceError::BadSignature)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Hash, Vote, VoteKind};
    use crate::Keypair;

    fn vote(key: &Keypair, value: Option<Hash>, round: u32) -> SignedVote {
        key.sign_vote_full(Vote { chain_id: "c".into(), height: 3, round, kind: VoteKind::Prevote, block_hash: value })
    }

    #[test]
    fn only_real_conflicts_verify() {
        let key = Keypair::generate();
        let (a, b) = (Some(Hash::digest(b"a")), Some(Hash::digest(b"b")));
        let real = Evidence::ConflictingVotes { first: vote(&key, a, 0), second: vote(&key, b, 0) };
        assert_eq!(real.verify(), Ok(()));
        assert_eq!(real.validator(), key.public());
        let same = Evidence::ConflictingVotes { first: vote(&key, a, 0), second: vote(&key, a, 0) };
        assert_eq!(same.verify(), Err(EvidenceError::SameValue));
        let rounds = Evidence::ConflictingVotes { first: vote(&key, a, 0), second: vote(&key, b, 1) };
        assert_eq!(rounds.verify(), Err(EvidenceError::NotComparable));
        let other = Keypair::generate();
        let two_signers = Evidence::ConflictingVotes { first: vote(&key, a, 0), second: vote(&other, b, 0) };
        assert_eq!(two_signers.verify(), Err(EvidenceError::NotComparable));
        let mut forged = vote(&key, b, 0);
        forged.signature.0[5] ^= 1;
        let forged = Evidence::ConflictingVotes { first: vote(&key, a, 0), second: forged };
        assert_eq!(forged.verify(), Err(EvidenceError::BadSignature));
    }
}
