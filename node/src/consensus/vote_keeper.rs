//! Votes of one height, by round and kind, with equivocation detection and a bound on how far ahead of
//! our round any single validator can make us keep state.

use super::ValidatorSet;
use consort_sdk::{Hash, SignedVote, VoteKind};
use std::collections::{BTreeMap, BTreeSet};

/// Rounds above `round + 1` a single validator may occupy in our memory (CometBFT keeps 2 as well): enough
/// for the f+1 round-skip rule, not enough for a byzantine validator to make us store unbounded rounds.
pub const FUTURE_ROUNDS_PER_VALIDATOR_MAX: usize = 2;

/// Distinct votes kept per validator, round and step: the first, and one conflicting vote as evidence.
/// An equivocator's vote counts for each value it signed: safe, because two quorums overlap in at least
/// one honest validator, and needed for liveness, or a validator that showed different votes to different
/// peers could keep a real polka from being seen by all.
pub const VOTES_PER_VALIDATOR_STEP_MAX: usize = 2;

/// Votes per validator (each list holds at most `VOTES_PER_VALIDATOR_STEP_MAX`, first one first).
type VotesBy = BTreeMap<usize, Vec<SignedVote>>;

#[derive(Default)]
struct RoundVotes {
    prevotes: VotesBy,
    precommits: VotesBy,
}

impl RoundVotes {
    fn of(&self, kind: VoteKind) -> &VotesBy {
        match kind {
            VoteKind::Prevote => &self.prevotes,
            VoteKind::Precommit => &self.precommits,
        }
    }
    fn of_mut(&mut self, kind: VoteKind) -> &mut VotesBy {
        match kind {
            VoteKind::Prevote => &mut self.prevotes,
            VoteKind::Precommit => &mut self.precommits,
        }
    }
}

/// What adding a vote did.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    New,
    Duplicate,
    /// The validator already voted differently in this round and step: the earlier vote is returned as
    /// evidence. The new one is counted too while under `VOTES_PER_VALIDATOR_STEP_MAX`.
    Equivocation(Box<SignedVote>),
    /// Too far in the future for this validator's allowance; dropped.
    Dropped,
}

#[derive(Default)]
pub struct VoteKeeper {
    rounds: BTreeMap<u32, RoundVotes>,
    /// Validators heard from (vote or proposal) per round, for the f+1 skip rule.
    senders: BTreeMap<u32, BTreeSet<usize>>,
}

impl VoteKeeper {
    /// Whether `validator` may still make us keep state for `round` while we are at `current`.
    pub fn admits(&self, validator: usize, round: u32, current: u32) -> bool {
        if round <= current.saturating_add(1) {
            return true;
        }
        let held: Vec<u32> = self
            .senders
            .range(current.saturating_add(2)..)
            .filter(|(_, who)| who.contains(&validator))
            .map(|(r, _)| *r)
            .collect();
        held.contains(&round) || held.len() < FUTURE_ROUNDS_PER_VALIDATOR_MAX
    }

    pub fn note_sender(&mut self, validator: usize, round: u32) {
        self.senders.entry(round).or_default().insert(validator);
    }

    pub fn add(&mut self, validator: usize, vote: SignedVote, current: u32) -> Added {
        let round = vote.vote.round;
        if !self.admits(validator, round, current) {
            return Added::Dropped;
        }
        let slot = self.rounds.entry(round).or_default().of_mut(vote.vote.kind).entry(validator).or_default();
        if slot.iter().any(|v| v.vote.block_hash == vote.vote.block_hash) {
            return Added::Duplicate;
        }
        let first = slot.first().cloned();
        if slot.len() < VOTES_PER_VALIDATOR_STEP_MAX {
            slot.push(vote);
        }
        self.note_sender(validator, round);
        match first {
            Some(first) => Added::Equivocation(Box::new(first)),
            None => Added::New,
        }
    }

    /// Power of the `kind` votes in `round` for exactly `value` (`None` = nil).
    pub fn power_for(&self, set: &ValidatorSet, round: u32, kind: VoteKind, value: Option<Hash>) -> u64 {
        self.rounds.get(&round).map_or(0, |r| {
            r.of(kind)
                .iter()
                .filter(|(_, votes)| votes.iter().any(|v| v.vote.block_hash == value))
                .map(|(i, _)| set.by_index(*i).power)
                .sum()
        })
    }

    /// Power of all `kind` votes in `round`, whatever their value.
    pub fn power_any(&self, set: &ValidatorSet, round: u32, kind: VoteKind) -> u64 {
        self.rounds.get(&round).map_or(0, |r| r.of(kind).keys().map(|i| set.by_index(*i).power).sum())
    }

    /// Power of distinct validators heard from in `round`.
    pub fn power_heard(&self, set: &ValidatorSet, round: u32) -> u64 {
        self.senders.get(&round).map_or(0, |who| who.iter().map(|i| set.by_index(*i).power).sum())
    }

    /// Rounds above `round` in which anything was heard, lowest first.
    pub fn rounds_heard_above(&self, round: u32) -> Vec<u32> {
        self.senders.range(round.saturating_add(1)..).map(|(r, _)| *r).collect()
    }

    /// Rounds with any precommits, for the decision rule (which applies to every round).
    pub fn precommit_rounds(&self) -> Vec<u32> {
        self.rounds.iter().filter(|(_, r)| !r.precommits.is_empty()).map(|(r, _)| *r).collect()
    }

    /// The `kind` votes for `value` in `round`, in validator order.
    pub fn votes_for(&self, round: u32, kind: VoteKind, value: Hash) -> Vec<SignedVote> {
        self.rounds.get(&round).map_or_else(Vec::new, |r| {
            r.of(kind).values().flatten().filter(|v| v.vote.block_hash == Some(value)).cloned().collect()
        })
    }
}
