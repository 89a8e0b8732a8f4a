//! What the consensus WAL holds, and replaying it after a restart.

use crate::consensus::{Core, Effect, Input};
use borsh::{BorshDeserialize, BorshSerialize};
use consort_sdk::{Block, Hash, PublicKey, VoteKind};
use std::collections::BTreeMap;

#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub enum WalRecord {
    /// A block this node built, journaled before it is proposed (it cannot be rebuilt identically).
    Block(Block),
    Input(Input),
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
    blocks: &mut BTreeMap<Hash, Block>,
    records: Vec<WalRecord>,
    me: PublicKey,
) -> Outstanding {
    let mut timers_and_requests = Vec::new();
    let mut unsent: Vec<Effect> = Vec::new();
    for record in records {
        let input = match record {
            WalRecord::Block(block) => {
                blocks.insert(block.hash(), block);
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
                Effect::Equivocation { .. } => {}
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
