//! Our own checks of a consensus gossip message, before gossipsub may forward it: size and decoding
//! limits, chain, membership of the signer, signatures, and a height window.

use crate::consensus::ValidatorSet;
use consort_sdk::encoding::decode;
use consort_sdk::{ConsensusGossip, ConsensusMessage};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// How far above our height a message may be and still be relayed (and kept for later).
pub const FUTURE_HEIGHTS_MAX: u64 = 2;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept(Box<ConsensusMessage>),
    /// Not wrong, just not useful now (an old or far-future height): not relayed, peer not penalised.
    Ignore(&'static str),
    /// Malformed or forged: not relayed, and gossipsub penalises the peer that sent it.
    Reject(&'static str),
    /// Valid-looking but for a height too far above ours to keep: not relayed, but it tells us we are
    /// behind the sender.
    Ahead,
}

pub struct GossipCheck {
    pub chain_id: String,
    /// The current validator set, kept current by the node as governance changes it.
    pub validators: Arc<RwLock<ValidatorSet>>,
    /// Height in progress, kept current by the host.
    pub height: Arc<AtomicU64>,
    pub message_bytes_max: usize,
}

impl GossipCheck {
    fn height_verdict(&self, height: u64) -> Option<Verdict> {
        let current = self.height.load(Ordering::Relaxed);
        if height < current {
            return Some(Verdict::Ignore("old height"));
        }
        // Saturating: a peer's height is any u64, and ours must never wrap the window (found by fuzzing).
        if height > current.saturating_add(FUTURE_HEIGHTS_MAX) {
            return Some(Verdict::Ahead);
        }
        None
    }

    /// A signer the current set does not know: forged for our height, but for a later height it may be a
    /// validator that the block we have not committed yet adds, so it is only ignored.
    fn unknown_signer(&self, height: u64) -> Verdict {
        match height > self.height.load(Ordering::Relaxed) {
            true => Verdict::Ignore("not a validator yet"),
            false => Verdict::Reject("not a validator"),
        }
    }

    pub fn check(&self, bytes: &[u8]) -> Verdict {
        let Ok(ConsensusGossip { msg, .. }) = decode::<ConsensusGossip>(bytes, self.message_bytes_max) else {
            return Verdict::Reject("malformed");
        };
        let validators = self.validators.read().expect("validator set lock poisoned").clone();
        match &msg {
            ConsensusMessage::Vote(v) => {
                if v.vote.chain_id != self.chain_id {
                    return Verdict::Reject("wrong chain");
                }
                if validators.get(&v.validator).is_none() {
                    return self.unknown_signer(v.vote.height);
                }
                if let Some(verdict) = self.height_verdict(v.vote.height) {
                    return verdict;
                }
                if v.verify_signature().is_err() {
                    return Verdict::Reject("bad signature");
                }
            }
            ConsensusMessage::Proposal { proposal, block, polka } => {
                let p = &proposal.proposal;
                if p.chain_id != self.chain_id {
                    return Verdict::Reject("wrong chain");
                }
                if validators.get(&proposal.proposer).is_none() {
                    return self.unknown_signer(p.height);
                }
                if let Some(verdict) = self.height_verdict(p.height) {
                    return verdict;
                }
                if block.hash() != p.block_hash || block.header.height != p.height {
                    return Verdict::Reject("block does not match proposal");
                }
                if polka.len() > 2 * validators.len() {
                    return Verdict::Reject("oversized polka");
                }
                if proposal.verify_signature().is_err() {
                    return Verdict::Reject("bad signature");
                }
                let polka_ok = polka.iter().all(|v| {
                    v.vote.height == p.height
                        && Some(v.vote.round) == p.pol_round
                        && v.vote.block_hash == Some(p.block_hash)
                        && validators.get(&v.validator).is_some()
                        && v.verify_signature().is_ok()
                });
                if !polka_ok {
                    return Verdict::Reject("bad polka certificate");
                }
            }
        }
        Verdict::Accept(Box::new(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::Validator;
    use consort_sdk::encoding::encode;
    use consort_sdk::{Address, Hash, Keypair, Vote, VoteKind};

    fn vote_at(key: &Keypair, height: u64) -> Vec<u8> {
        let vote =
            Vote { chain_id: "c".into(), height, round: 0, kind: VoteKind::Prevote, block_hash: Some(Hash::ZERO) };
        encode(&ConsensusGossip { msg: ConsensusMessage::Vote(key.sign_vote_full(vote)), resend: 0 })
    }

    fn check_at(key: &Keypair, height: u64) -> GossipCheck {
        let validator = Validator {
            name: "v".into(),
            public_key: key.public(),
            address: Address::from_public_key(&key.public()),
            power: 1,
        };
        GossipCheck {
            chain_id: "c".into(),
            validators: Arc::new(RwLock::new(ValidatorSet::new(vec![validator]))),
            height: Arc::new(AtomicU64::new(height)),
            message_bytes_max: 4096,
        }
    }

    #[test]
    fn heights_at_the_end_of_u64_do_not_overflow_the_window() {
        let key = Keypair::generate();
        assert!(matches!(check_at(&key, u64::MAX - 1).check(&vote_at(&key, u64::MAX)), Verdict::Accept(_)));
        assert!(matches!(check_at(&key, u64::MAX).check(&vote_at(&key, u64::MAX)), Verdict::Accept(_)));
        assert_eq!(check_at(&key, 5).check(&vote_at(&key, u64::MAX)), Verdict::Ahead);
        assert_eq!(check_at(&key, u64::MAX).check(&vote_at(&key, 5)), Verdict::Ignore("old height"));
    }
}
