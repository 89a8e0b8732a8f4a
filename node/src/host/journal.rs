//! What the consensus WAL holds, and replaying it after a restart.

use crate::consensus::{Core, Effect, Input};
use crate::hashed_block::HashedBlock;
use borsh::{BorshDeserialize, BorshSerialize};
use consort_sdk::{Block, Hash, PublicKey, VoteKind};
use std::collections::BTreeMap;

#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub enum WalRecord {
    /// A block this node built, journaled before it is proposed (it cannot be rebuilt identically).
    Block(Block),
    Input(Input),
}

/// `WalRecord::Block` by reference, encoded byte for byte the same: a block is journaled without
/// copying its txs first.
#[derive(BorshSerialize)]
pub enum WalBlockRef<'a> {
    Block(&'a Block),
}

/// Effects a replay leaves to carry out.
pub struct Outstanding {
    /// Timers to re-arm and a value request still unanswered.
    pub timers_and_requests: Vec<Effect>,
    /// Proposals and votes the core asked for whose signed form never reached the journal (the node
    /// stopped in between), and a decision not yet committed: carried out now. Signing them again is
    /// safe: they are the same (height, round, step, value) the last-sign state allows.
    pub unsent: Vec<Effect>,
}

/// Feeds every journaled input to a fresh core for the height.
pub fn replay(
    core: &mut Core,
    blocks: &mut BTreeMap<Hash, HashedBlock>,
    records: Vec<WalRecord>,
    me: PublicKey,
) -> Outstanding {
    let mut timers_and_requests = Vec::new();
    let mut unsent: Vec<Effect> = Vec::new();
    for record in records {
        let input = match record {
            WalRecord::Block(block) => {
                blocks.insert(block.hash(), HashedBlock::new(block));
                continue;
            }
            WalRecord::Input(input) => input,
        };
        match &input {
            Input::Proposal { proposal, .. } if proposal.proposer == me => {
                unsent.retain(|e| !matches!(e, Effect::Propose(p) if p == &proposal.proposal));
            }
            Input::Vote(v) if v.validator == me => {
                unsent.retain(|e| !matches!(e, Effect::Vote(w) if w == &v.vote));
            }
            Input::ValueReady { round, .. } => {
                timers_and_requests.retain(|e| !matches!(e, Effect::RequestValue { round: r } if r == round));
            }
            _ => {}
        }
        for effect in core.step_input(input) {
            match effect {
                Effect::ScheduleTimeout { .. } | Effect::RequestValue { .. } => timers_and_requests.push(effect),
                Effect::Propose(_) | Effect::Vote(_) | Effect::Decide(_) => unsent.push(effect),
                Effect::Equivocation { .. } | Effect::ProposalEquivocation { .. } => {}
            }
        }
    }
    // A precommit for a value that was never signed cannot exist alongside its later steps; keep order.
    unsent.sort_by_key(|e| match e {
        Effect::Propose(_) => 0,
        Effect::Vote(v) if v.kind == VoteKind::Prevote => 1,
        Effect::Vote(_) => 2,
        _ => 3,
    });
    Outstanding { timers_and_requests, unsent }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::{Validator, ValidatorSet};
    use consort_sdk::{Keypair, VoteKind};

    #[test]
    fn a_block_by_reference_encodes_as_the_record() {
        let key = Keypair::generate();
        let tx = key.sign_tx(consort_sdk::Tx {
            chain_id: "c".into(),
            signer: key.public(),
            nonce: 3,
            gas_limit: 10_000,
            action: consort_sdk::Action::Transfer { to: key.address(), amount: 5 },
        });
        let header = consort_sdk::BlockHeader {
            chain_id: "c".into(),
            height: 7,
            time_ms: 9,
            prev_block_hash: Hash([1; 32]),
            txs_hash: Block::txs_hash_of(std::slice::from_ref(&tx)),
            last_app_hash: Hash([2; 32]),
            proposer: key.address(),
        };
        let block = Block { header, txs: vec![tx] };
        let by_ref = consort_sdk::encoding::encode(&WalBlockRef::Block(&block));
        assert_eq!(by_ref, consort_sdk::encoding::encode(&WalRecord::Block(block.clone())));
        let decoded: WalRecord = consort_sdk::encoding::decode(&by_ref, 1 << 20).unwrap();
        assert!(matches!(decoded, WalRecord::Block(b) if b == block));
    }

    /// A lone validator that crashed right after journaling its own proposal: replay must rebuild the
    /// round and hand back exactly the prevote it had not yet signed, nothing it already sent.
    #[test]
    fn replay_returns_only_what_the_crash_interrupted() {
        let key = Keypair::generate();
        let set = ValidatorSet::new(vec![Validator {
            name: "v".into(),
            public_key: key.public(),
            address: key.address(),
            power: 1,
        }]);
        let new_core = || Core::new("c", 1, set.clone(), Some(0), Default::default());
        let block_hash = Hash([3; 32]);

        // The live run, journaling as the host does.
        let mut core = new_core();
        let mut journal = vec![WalRecord::Input(Input::Start)];
        assert_eq!(core.step_input(Input::Start), vec![Effect::RequestValue { round: 0 }]);
        journal.push(WalRecord::Input(Input::ValueReady { round: 0, block_hash }));
        let effects = core.step_input(Input::ValueReady { round: 0, block_hash });
        let Some(Effect::Propose(proposal)) = effects.first().cloned() else {
            panic!("expected a proposal: {effects:?}")
        };
        let signed = key.sign_proposal(proposal);
        journal.push(WalRecord::Input(Input::Proposal { proposal: signed.clone(), valid: true }));
        let effects = core.step_input(Input::Proposal { proposal: signed, valid: true });
        let Some(Effect::Vote(prevote)) = effects.first().cloned() else { panic!("expected a prevote: {effects:?}") };
        // Crash here: the prevote was asked for but never signed or journaled.

        let mut replayed = new_core();
        let mut blocks = BTreeMap::new();
        let outstanding = replay(&mut replayed, &mut blocks, journal, key.public());
        assert_eq!(outstanding.unsent, vec![Effect::Vote(prevote.clone())]);
        assert!(outstanding.timers_and_requests.is_empty(), "the value request was answered before the crash");
        assert_eq!(prevote.kind, VoteKind::Prevote);
        assert_eq!((replayed.round(), replayed.step()), (core.round(), core.step()));
    }
}
