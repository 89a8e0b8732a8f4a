//! The Tendermint state machine for one height (Buchman, Kwon, Milosevic: "The latest gossip on BFT
//! consensus", arXiv 1807.04938; rule numbers below follow Algorithm 1's line groups). Pure: no I/O, no
//! clock, no randomness; the same inputs always give the same effects.

use super::io::{Effect, Input, Step, TimeoutKind, TimeoutParams};
use super::proposer::ProposerSchedule;
use super::vote_keeper::{Added, VoteKeeper};
use super::ValidatorSet;
use consort_sdk::{Commit, CommitSig, Hash, Proposal, SignedProposal, SignedVote, Vote, VoteKind};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
struct ProposalSeen {
    /// The first signed proposal of the round, kept as evidence should the proposer sign another.
    signed: Box<SignedProposal>,
    block_hash: Hash,
    pol_round: Option<u32>,
    valid: bool,
}

/// One-shot conditions ("for the first time") of a round.
#[derive(Default)]
struct Fired {
    prevote_timeout: BTreeSet<u32>,
    precommit_timeout: BTreeSet<u32>,
    polka_value: BTreeSet<u32>,
}

pub struct Core {
    chain_id: String,
    height: u64,
    set: ValidatorSet,
    schedule: ProposerSchedule,
    me: Option<usize>,
    timeouts: TimeoutParams,
    started: bool,
    round: u32,
    step: Step,
    locked: Option<(u32, Hash)>,
    valid: Option<(u32, Hash)>,
    decided: Option<Commit>,
    proposals: BTreeMap<u32, ProposalSeen>,
    votes: VoteKeeper,
    fired: Fired,
    proposed_in: BTreeSet<u32>,
}

impl Core {
    /// A core for `height`. `me` is our index in `set`, or `None` for a non-validating node.
    pub fn new(chain_id: &str, height: u64, set: ValidatorSet, me: Option<usize>, timeouts: TimeoutParams) -> Core {
        Core {
            chain_id: chain_id.to_owned(),
            height,
            schedule: ProposerSchedule::new(&set),
            set,
            me,
            timeouts,
            started: false,
            round: 0,
            step: Step::Propose,
            locked: None,
            valid: None,
            decided: None,
            proposals: BTreeMap::new(),
            votes: VoteKeeper::default(),
            fired: Fired::default(),
            proposed_in: BTreeSet::new(),
        }
    }

    pub fn height(&self) -> u64 {
        self.height
    }
    pub fn round(&self) -> u32 {
        self.round
    }
    pub fn step(&self) -> Step {
        self.step
    }
    pub fn decision(&self) -> Option<&Commit> {
        self.decided.as_ref()
    }
    pub fn validators(&self) -> &ValidatorSet {
        &self.set
    }

    /// The prevotes for `value` in `round`: the polka certificate a proposal with `pol_round` travels with,
    /// so that every receiver can check the re-proposal rule (lines 28–33) for itself.
    pub fn polka_certificate(&self, round: u32, value: Hash) -> Vec<SignedVote> {
        self.votes.votes_for(round, VoteKind::Prevote, value)
    }

    /// The index of the proposer of `round` at this height.
    pub fn proposer(&self, round: u32) -> usize {
        self.schedule.proposer(self.height, round)
    }

    pub fn step_input(&mut self, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.decided.is_some() {
            return out;
        }
        match input {
            Input::Start => {
                if !self.started {
                    self.started = true;
                    self.start_round(0, &mut out);
                }
            }
            Input::Proposal { proposal, valid } => self.on_proposal(proposal, valid, &mut out),
            Input::Vote(vote) => self.on_vote(vote, &mut out),
            Input::Timeout { round, kind } => self.on_timeout(round, kind, &mut out),
            Input::ValueReady { round, block_hash } => {
                let mine = self.me == Some(self.proposer(round));
                if self.started && round == self.round && self.step == Step::Propose && mine {
                    self.propose(round, block_hash, None, &mut out);
                }
            }
            Input::Decided(commit) => self.on_synced_decision(commit, &mut out),
        }
        if self.started {
            self.progress(&mut out);
        }
        out
    }

    fn start_round(&mut self, round: u32, out: &mut Vec<Effect>) {
        self.round = round;
        self.step = Step::Propose;
        if self.me.is_some() && self.me == Some(self.proposer(round)) {
            match self.valid {
                Some((vr, v)) => self.propose(round, v, Some(vr), out),
                None => out.push(Effect::RequestValue { round }),
            }
        } else {
            self.schedule(round, TimeoutKind::Propose, out);
        }
    }

    fn propose(&mut self, round: u32, block_hash: Hash, pol_round: Option<u32>, out: &mut Vec<Effect>) {
        if self.proposed_in.insert(round) {
            out.push(Effect::Propose(Proposal {
                chain_id: self.chain_id.clone(),
                height: self.height,
                round,
                pol_round,
                block_hash,
            }));
        }
    }

    fn schedule(&self, round: u32, kind: TimeoutKind, out: &mut Vec<Effect>) {
        out.push(Effect::ScheduleTimeout { round, kind, duration_ms: self.timeouts.duration_ms(kind, round) });
    }

    fn vote(&mut self, kind: VoteKind, value: Option<Hash>, out: &mut Vec<Effect>) {
        self.step = match kind {
            VoteKind::Prevote => Step::Prevote,
            VoteKind::Precommit => Step::Precommit,
        };
        if self.me.is_some() {
            out.push(Effect::Vote(Vote {
                chain_id: self.chain_id.clone(),
                height: self.height,
                round: self.round,
                kind,
                block_hash: value,
            }));
        }
    }

    fn on_proposal(&mut self, signed: SignedProposal, valid: bool, out: &mut Vec<Effect>) {
        let p = &signed.proposal;
        if p.height != self.height || p.chain_id != self.chain_id {
            return;
        }
        let Some(index) = self.set.index_of(&signed.proposer) else { return };
        if index != self.proposer(p.round) || p.pol_round.is_some_and(|vr| vr >= p.round) {
            return;
        }
        if !self.votes.admits(index, p.round, self.round) {
            return;
        }
        // The first proposal of a round counts; a proposer's second, different one is ignored, and reported.
        if let Some(first) = self.proposals.get(&p.round) {
            if (first.block_hash, first.pol_round) != (p.block_hash, p.pol_round) {
                out.push(Effect::ProposalEquivocation {
                    first: first.signed.clone(),
                    second: Box::new(signed.clone()),
                });
            }
            return;
        }
        self.proposals.entry(p.round).or_insert(ProposalSeen {
            signed: Box::new(signed.clone()),
            block_hash: p.block_hash,
            pol_round: p.pol_round,
            valid,
        });
        self.votes.note_sender(index, p.round);
    }

    fn on_vote(&mut self, signed: SignedVote, out: &mut Vec<Effect>) {
        let v = &signed.vote;
        if v.height != self.height || v.chain_id != self.chain_id {
            return;
        }
        let Some(index) = self.set.index_of(&signed.validator) else { return };
        if let Added::Equivocation(first) = self.votes.add(index, signed.clone(), self.round) {
            out.push(Effect::Equivocation { first, second: Box::new(signed) });
        }
    }

    fn on_timeout(&mut self, round: u32, kind: TimeoutKind, out: &mut Vec<Effect>) {
        if round != self.round {
            return;
        }
        match kind {
            // Lines 57–60
            TimeoutKind::Propose if self.step == Step::Propose => self.vote(VoteKind::Prevote, None, out),
            // Lines 61–64
            TimeoutKind::Prevote if self.step == Step::Prevote => self.vote(VoteKind::Precommit, None, out),
            // Lines 65–67
            TimeoutKind::Precommit => self.start_round(round + 1, out),
            _ => {}
        }
    }

    fn on_synced_decision(&mut self, commit: Commit, out: &mut Vec<Effect>) {
        if commit.height != self.height {
            return;
        }
        let mut seen = BTreeSet::new();
        let power: u64 = commit
            .signatures
            .iter()
            .filter_map(|s| self.set.index_of(&s.validator))
            .filter(|i| seen.insert(*i))
            .map(|i| self.set.by_index(i).power)
            .sum();
        if self.set.is_quorum(power) {
            self.decided = Some(commit.clone());
            out.push(Effect::Decide(commit));
        }
    }

    fn quorum(&self, power: u64) -> bool {
        self.set.is_quorum(power)
    }

    /// Applies every rule whose condition now holds, until none does.
    fn progress(&mut self, out: &mut Vec<Effect>) {
        loop {
            if self.decided.is_some() {
                return;
            }
            let before = (self.round, self.step, out.len());
            self.try_decide(out);
            // A decision ends the height: nothing after it, or the host would carry out a timer or vote of this
            // height after it has entered the next (a precommit timeout scheduled by the very precommit that
            // decided fired one timeout later in the next height's round 0 and pushed it to round 1).
            if self.decided.is_some() {
                return;
            }
            self.try_skip_round(out);
            self.rules_of_current_round(out);
            if (self.round, self.step, out.len()) == before {
                return;
            }
        }
    }

    /// Lines 49–54: a proposal and 2f+1 precommits for it in any round decide.
    fn try_decide(&mut self, out: &mut Vec<Effect>) {
        for round in self.votes.precommit_rounds() {
            let Some(p) = self.proposals.get(&round) else { continue };
            if !p.valid {
                continue;
            }
            let value = p.block_hash;
            if self.quorum(self.votes.power_for(&self.set, round, VoteKind::Precommit, Some(value))) {
                let signatures = self
                    .votes
                    .votes_for(round, VoteKind::Precommit, value)
                    .into_iter()
                    .map(|v| CommitSig { validator: v.validator, signature: v.signature })
                    .collect();
                let commit = Commit { height: self.height, round, block_hash: value, signatures };
                self.decided = Some(commit.clone());
                out.push(Effect::Decide(commit));
                return;
            }
        }
    }

    /// Lines 55–56: f+1 validators in a higher round mean we are behind; jump there.
    fn try_skip_round(&mut self, out: &mut Vec<Effect>) {
        let higher = self.votes.rounds_heard_above(self.round);
        if let Some(round) =
            higher.into_iter().rev().find(|r| self.set.is_one_third(self.votes.power_heard(&self.set, *r)))
        {
            self.start_round(round, out);
        }
    }

    fn rules_of_current_round(&mut self, out: &mut Vec<Effect>) {
        let r = self.round;
        let proposal = self.proposals.get(&r).cloned();

        if self.step == Step::Propose {
            if let Some(p) = &proposal {
                match p.pol_round {
                    // Lines 22–27
                    None => {
                        let ok = p.valid && self.locked.is_none_or(|(_, lv)| lv == p.block_hash);
                        self.vote(VoteKind::Prevote, ok.then_some(p.block_hash), out);
                    }
                    // Lines 28–33
                    Some(vr) => {
                        let polka = self.votes.power_for(&self.set, vr, VoteKind::Prevote, Some(p.block_hash));
                        if self.quorum(polka) {
                            let ok = p.valid && self.locked.is_none_or(|(lr, lv)| lr <= vr || lv == p.block_hash);
                            self.vote(VoteKind::Prevote, ok.then_some(p.block_hash), out);
                        }
                    }
                }
            }
        }

        // Lines 34–35
        if self.step == Step::Prevote
            && self.quorum(self.votes.power_any(&self.set, r, VoteKind::Prevote))
            && self.fired.prevote_timeout.insert(r)
        {
            self.schedule(r, TimeoutKind::Prevote, out);
        }

        // Lines 36–43
        if let Some(p) = &proposal {
            if p.valid
                && self.step >= Step::Prevote
                && self.quorum(self.votes.power_for(&self.set, r, VoteKind::Prevote, Some(p.block_hash)))
                && self.fired.polka_value.insert(r)
            {
                if self.step == Step::Prevote {
                    self.locked = Some((r, p.block_hash));
                    self.vote(VoteKind::Precommit, Some(p.block_hash), out);
                }
                self.valid = Some((r, p.block_hash));
            }
        }

        // Lines 44–46
        if self.step == Step::Prevote && self.quorum(self.votes.power_for(&self.set, r, VoteKind::Prevote, None)) {
            self.vote(VoteKind::Precommit, None, out);
        }

        // Lines 47–48
        if self.quorum(self.votes.power_any(&self.set, r, VoteKind::Precommit))
            && self.fired.precommit_timeout.insert(r)
        {
            self.schedule(r, TimeoutKind::Precommit, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::Validator;
    use consort_sdk::{Address, PublicKey, Signature};

    const VALUE: Hash = Hash([7; 32]);

    fn key(i: usize) -> PublicKey {
        PublicKey([i as u8 + 1; 32])
    }

    fn four_validators() -> ValidatorSet {
        let validator = |i: usize| Validator {
            name: format!("v{i}"),
            public_key: key(i),
            address: Address([i as u8; 20]),
            power: 1,
        };
        ValidatorSet::new((0..4).map(validator).collect())
    }

    /// The core checks no signatures (the gossip check did), so unsigned votes stand in for signed ones.
    fn vote(i: usize, kind: VoteKind) -> Input {
        let vote = Vote { chain_id: "c".into(), height: 1, round: 0, kind, block_hash: Some(VALUE) };
        Input::Vote(SignedVote { vote, validator: key(i), signature: Signature([0; 64]) })
    }

    #[test]
    fn the_precommit_that_decides_is_the_last_thing_a_height_does() {
        let proposer = Core::new("c", 1, four_validators(), None, TimeoutParams::default()).proposer(0);
        let me = (proposer + 1) % 4;
        let mut core = Core::new("c", 1, four_validators(), Some(me), TimeoutParams::default());
        core.step_input(Input::Start);
        let proposal = Proposal { chain_id: "c".into(), height: 1, round: 0, pol_round: None, block_hash: VALUE };
        let signed = SignedProposal { proposal, proposer: key(proposer), signature: Signature([0; 64]) };
        core.step_input(Input::Proposal { proposal: signed, valid: true });
        for i in 0..4 {
            core.step_input(vote(i, VoteKind::Prevote));
        }
        assert_eq!(core.step(), Step::Precommit, "a polka for the proposal leads to our precommit");

        let others = (0..4).filter(|&i| i != me);
        let mut decided_by = None;
        for i in std::iter::once(me).chain(others) {
            let effects = core.step_input(vote(i, VoteKind::Precommit));
            if let Some(at) = effects.iter().position(|e| matches!(e, Effect::Decide(_))) {
                assert_eq!(at, effects.len() - 1, "effects after the decision: {effects:?}");
                decided_by = Some(i);
                break;
            }
        }
        assert!(decided_by.is_some(), "three precommits for the proposal decide");
        assert!(core.step_input(vote(3, VoteKind::Precommit)).is_empty(), "a decided height does nothing more");
    }
}
