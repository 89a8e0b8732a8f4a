//! The host loop: drives the consensus core and carries out its effects. It runs on its own thread and
//! is woken by a bounded inbox (new txs, shutdown; network messages once peers exist) or by a timer.
//!
//! Order of duties, raft-rs style: an input is journaled (synced) before the core sees it; a vote or
//! proposal is recorded in the last-sign state (synced) before it is signed; a decided block is committed
//! in one synced batch that also drops the height's journal.

mod journal;
mod signer;

pub use journal::WalRecord;

use crate::consensus::{Core, Effect, Input, TimeoutKind};
use crate::node::{build_block, commit_decided, NodeState};
use anyhow::Context;
use consort_sdk::{Block, Hash, Keypair, Proposal, Vote};
use signer::Signer;
use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Capacity of the host's inbox; senders drop wake-ups when it is full (the loop polls state anyway).
pub const HOST_INBOX_MAX: usize = 1024;
/// Longest the loop sleeps without checking its inbox.
const IDLE_WAKE: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub enum HostEvent {
    TxAdded,
    Shutdown,
}

pub struct Host {
    state: Arc<NodeState>,
    signer: Signer,
    me: usize,
    core: Core,
    /// Blocks proposed at the current height, by hash.
    blocks: BTreeMap<Hash, Block>,
    journal_seq: u64,
    timers: BTreeMap<(Instant, u64), (u64, u32, TimeoutKind)>,
    timer_seq: u64,
    pending_value: Option<u32>,
    queue: VecDeque<(u64, Input)>,
    draining: bool,
    inbox: Receiver<HostEvent>,
}

impl Host {
    pub fn new(state: Arc<NodeState>, key: Keypair, inbox: Receiver<HostEvent>) -> anyhow::Result<Host> {
        let me = state.validators.index_of(&key.public()).context("this node's key is not a validator")?;
        let height = state.head().height + 1;
        let core = state.new_core(height, me);
        let signer = Signer::new(key, &state.store)?;
        Ok(Host {
            state,
            signer,
            me,
            core,
            blocks: BTreeMap::new(),
            journal_seq: 0,
            timers: BTreeMap::new(),
            timer_seq: 0,
            pending_value: None,
            queue: VecDeque::new(),
            draining: false,
            inbox,
        })
    }

    /// Runs until a `Shutdown` event or until every sender is gone.
    pub fn run(mut self) -> anyhow::Result<()> {
        self.enter_height()?;
        loop {
            self.answer_value_request()?;
            let now = Instant::now();
            let wake = self.next_wake(now);
            match self.inbox.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(HostEvent::Shutdown) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
                Ok(HostEvent::TxAdded) | Err(RecvTimeoutError::Timeout) => {}
            }
            self.fire_due_timers()?;
        }
    }

    fn next_wake(&self, now: Instant) -> Instant {
        let mut wake = now + IDLE_WAKE;
        if let Some(((at, _), _)) = self.timers.first_key_value() {
            wake = wake.min(*at);
        }
        if self.pending_value.is_some() {
            wake = wake.min(now + Duration::from_millis(self.empty_block_wait_ms()));
        }
        wake
    }

    /// Milliseconds until an empty block may be proposed (one empty-block interval after the last block);
    /// zero once it is due.
    fn empty_block_wait_ms(&self) -> u64 {
        let head_ms = self.state.head().block_time_ms;
        let due_ms = head_ms.saturating_add(self.state.config.consensus.empty_block_interval_ms);
        due_ms.saturating_sub(crate::clock::now_ms())
    }

    fn fire_due_timers(&mut self) -> anyhow::Result<()> {
        let now = Instant::now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (height, round, kind) = entry.remove();
            if height == self.core.height() {
                self.apply(Input::Timeout { round, kind })?;
            }
        }
        Ok(())
    }

    /// Starts the height after the head: replays its journal if a previous run left one, else begins it.
    fn enter_height(&mut self) -> anyhow::Result<()> {
        let height = self.state.head().height + 1;
        self.core = self.state.new_core(height, self.me);
        self.blocks.clear();
        self.timers.clear();
        self.pending_value = None;
        self.queue.clear();
        let records: Vec<WalRecord> = self.state.store.wal_records(height)?;
        self.journal_seq = records.len() as u64;
        self.state.metrics.height.set(height as i64 - 1);
        if records.is_empty() {
            return self.apply(Input::Start);
        }
        tracing::info!(height, records = records.len(), "replaying the consensus journal");
        for record in &records {
            tracing::debug!(?record, "journal record");
        }
        let outstanding = journal::replay(&mut self.core, &mut self.blocks, records, self.signer.key().public());
        tracing::debug!(timers_and_requests = ?outstanding.timers_and_requests, unsent = ?outstanding.unsent, "after replay");
        for effect in outstanding.timers_and_requests {
            self.carry_out(effect)?;
        }
        for effect in outstanding.unsent {
            self.carry_out(effect)?;
        }
        Ok(())
    }

    /// Journals `input`, then applies it and everything it leads to, breadth first and never recursively.
    /// Inputs queued for a height that has since been decided are dropped.
    fn apply(&mut self, input: Input) -> anyhow::Result<()> {
        self.queue.push_back((self.core.height(), input));
        if self.draining {
            return Ok(());
        }
        self.draining = true;
        let result = self.drain();
        self.draining = false;
        result
    }

    fn drain(&mut self) -> anyhow::Result<()> {
        while let Some((height, input)) = self.queue.pop_front() {
            if height != self.core.height() {
                continue;
            }
            self.journal(&WalRecord::Input(input.clone()))?;
            let effects = self.core.step_input(input);
            self.publish_progress();
            for effect in effects {
                self.carry_out(effect)?;
            }
        }
        Ok(())
    }

    fn journal(&mut self, record: &WalRecord) -> anyhow::Result<()> {
        self.state.store.wal_append(self.core.height(), self.journal_seq, record)?;
        self.journal_seq += 1;
        Ok(())
    }

    fn publish_progress(&self) {
        self.state.metrics.round.set(self.core.round() as i64);
        self.state.metrics.step.set(self.core.step() as i64);
    }

    fn carry_out(&mut self, effect: Effect) -> anyhow::Result<()> {
        match effect {
            Effect::RequestValue { round } => self.pending_value = Some(round),
            Effect::Propose(proposal) => self.propose(proposal)?,
            Effect::Vote(vote) => self.vote(vote)?,
            Effect::ScheduleTimeout { round, kind, duration_ms } => {
                self.timer_seq += 1;
                let at = Instant::now() + Duration::from_millis(duration_ms);
                self.timers.insert((at, self.timer_seq), (self.core.height(), round, kind));
            }
            Effect::Decide(commit) => {
                let block = self
                    .blocks
                    .get(&commit.block_hash)
                    .cloned()
                    .with_context(|| format!("decided block {} is not known to this node", commit.block_hash))?;
                commit_decided(&self.state, &block, &commit)?;
                self.enter_height()?;
            }
            Effect::Equivocation { first, second } => {
                tracing::warn!(validator = %first.validator, first = ?first.vote, second = ?second.vote, "equivocation");
                self.state.metrics.equivocations.inc();
            }
        }
        Ok(())
    }

    /// Builds the block a pending `RequestValue` asked for, once there are txs or an empty block is due.
    fn answer_value_request(&mut self) -> anyhow::Result<()> {
        let Some(round) = self.pending_value else { return Ok(()) };
        let has_txs = !self.state.mempool.lock().expect("mempool lock poisoned").is_empty();
        if !has_txs && self.empty_block_wait_ms() > 0 {
            return Ok(());
        }
        self.pending_value = None;
        let block = build_block(&self.state, &self.signer.key().address(), crate::clock::now_ms())?;
        let hash = block.hash();
        self.journal(&WalRecord::Block(block.clone()))?;
        self.blocks.insert(hash, block);
        self.apply(Input::ValueReady { round, block_hash: hash })
    }

    fn propose(&mut self, proposal: Proposal) -> anyhow::Result<()> {
        match self.signer.sign_proposal(&self.state.store, proposal) {
            Ok(signed) => self.apply(Input::Proposal { proposal: signed, valid: true }),
            Err(refusal) => {
                self.state.metrics.signatures_refused.inc();
                tracing::error!(%refusal, "refused to sign a proposal");
                Ok(())
            }
        }
    }

    fn vote(&mut self, vote: Vote) -> anyhow::Result<()> {
        match self.signer.sign_vote(&self.state.store, vote) {
            Ok(signed) => self.apply(Input::Vote(signed)),
            Err(refusal) => {
                self.state.metrics.signatures_refused.inc();
                tracing::error!(%refusal, "refused to sign a vote");
                Ok(())
            }
        }
    }
}
