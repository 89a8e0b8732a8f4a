//! Signs proposals and votes, never twice differently for one step: the (height, round, step, value) is
//! made durable before the signature exists.

use crate::storage::{LastSign, Store, StoreError};
use consort_sdk::{Hash, Keypair, Proposal, SignedProposal, SignedVote, Vote, VoteKind};

#[derive(Debug, thiserror::Error)]
pub enum SignRefusal {
    #[error("already signed {0:?}; refusing to sign the earlier step {1:?}")]
    Regression(LastSign, LastSign),
    #[error("already signed {0:?}; refusing to sign a different value for the same step ({1:?})")]
    DoubleSign(LastSign, LastSign),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Signer {
    key: Keypair,
    last: Option<LastSign>,
}

impl Signer {
    pub fn new(key: Keypair, store: &Store) -> Result<Signer, StoreError> {
        Ok(Signer { key, last: store.last_sign()? })
    }

    pub fn key(&self) -> &Keypair {
        &self.key
    }

    fn permit(&mut self, store: &Store, next: LastSign) -> Result<(), SignRefusal> {
        if let Some(last) = &self.last {
            let order = (next.height, next.round, next.step).cmp(&(last.height, last.round, last.step));
            match order {
                std::cmp::Ordering::Less => return Err(SignRefusal::Regression(last.clone(), next)),
                std::cmp::Ordering::Equal if last.value != next.value => {
                    return Err(SignRefusal::DoubleSign(last.clone(), next))
                }
                std::cmp::Ordering::Equal => return Ok(()),
                std::cmp::Ordering::Greater => {}
            }
        }
        store.set_last_sign(&next)?;
        self.last = Some(next);
        Ok(())
    }

    pub fn sign_proposal(&mut self, store: &Store, proposal: Proposal) -> Result<SignedProposal, SignRefusal> {
        let value: Option<Hash> = Some(proposal.block_hash);
        self.permit(store, LastSign { height: proposal.height, round: proposal.round, step: 0, value })?;
        Ok(self.key.sign_proposal(proposal))
    }

    pub fn sign_vote(&mut self, store: &Store, vote: Vote) -> Result<SignedVote, SignRefusal> {
        let step = match vote.kind {
            VoteKind::Prevote => 1,
            VoteKind::Precommit => 2,
        };
        self.permit(store, LastSign { height: vote.height, round: vote.round, step, value: vote.block_hash })?;
        Ok(self.key.sign_vote_full(vote))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(height: u64, round: u32, kind: VoteKind, value: Option<Hash>) -> Vote {
        Vote { chain_id: "c".into(), height, round, kind, block_hash: value }
    }

    #[test]
    fn never_signs_two_values_for_one_step_even_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let key = Keypair::generate();
        let a = Some(Hash([1; 32]));
        let b = Some(Hash([2; 32]));
        {
            let store = Store::open(dir.path()).unwrap();
            let mut signer = Signer::new(key.clone(), &store).unwrap();
            signer.sign_vote(&store, vote(5, 0, VoteKind::Prevote, a)).unwrap();
            assert!(matches!(
                signer.sign_vote(&store, vote(5, 0, VoteKind::Prevote, b)),
                Err(SignRefusal::DoubleSign(..))
            ));
        }
        // A restarted signer reads the durable state: the same vote again is fine, a different one is not.
        let store = Store::open(dir.path()).unwrap();
        let mut signer = Signer::new(key, &store).unwrap();
        let again = signer.sign_vote(&store, vote(5, 0, VoteKind::Prevote, a)).unwrap();
        assert!(again.verify_signature().is_ok());
        assert!(matches!(
            signer.sign_vote(&store, vote(5, 0, VoteKind::Prevote, None)),
            Err(SignRefusal::DoubleSign(..))
        ));
        assert!(matches!(
            signer.sign_vote(&store, vote(4, 9, VoteKind::Precommit, a)),
            Err(SignRefusal::Regression(..))
        ));
        signer.sign_vote(&store, vote(5, 0, VoteKind::Precommit, a)).unwrap();
        signer.sign_vote(&store, vote(5, 1, VoteKind::Prevote, None)).unwrap();
        signer.sign_vote(&store, vote(6, 0, VoteKind::Prevote, b)).unwrap();
    }
}
