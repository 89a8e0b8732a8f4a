//! The host loop: drives the consensus core and carries out its effects. It runs on its own thread and
//! is woken by a bounded inbox (new txs, shutdown; network messages once peers exist) or by a timer.
//!
//! Order of duties, raft-rs style: an input is journaled before the core sees it; a vote or proposal is
//! recorded in the last-sign state (synced, which makes every journaled input before it durable too) before
//! it is signed, and journaled synced once signed; a decided block is committed in one synced batch that
//! also drops the height's journal. Peers' messages are journaled without a sync of their own (Tendermint
//! does the same): a machine crash loses only those after our last signature, which changed nothing we
//! signed, and peers send them again.

#[cfg(feature = "byzantine")]
mod byzantine;
mod journal;
mod signer;

use journal::WalBlockRef;
pub use journal::WalRecord;

use crate::block_check::check_block;
use crate::consensus::{Core, Effect, Input, TimeoutKind};
use crate::hashed_block::HashedBlock;
use crate::network::NetCommand;
use crate::node::{build_block, commit_decided, CommitOrigin, NodeState};
use crate::storage::Durability;
use anyhow::Context;
use consort_sdk::{Commit, ConsensusMessage, Evidence, Hash, Keypair, Proposal, SyncRequest, SyncResponse, Vote};
use libp2p::PeerId;
use signer::Signer;
use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Capacity of the host's inbox; senders drop wake-ups when it is full (the loop polls state anyway).
pub const HOST_INBOX_MAX: usize = 1024;
/// Longest the loop sleeps without checking its inbox.
const IDLE_WAKE: Duration = Duration::from_secs(1);
/// Own messages of the height in progress are re-published this often, so peers that missed them —
/// partitioned, restarting — still get them.
const REBROADCAST_EVERY: Duration = Duration::from_secs(5);
/// Blocks asked for in one sync request.
pub const SYNC_BATCH_MAX: u32 = 64;
/// A sync request without an answer is given up after this and may be retried.
const SYNC_PATIENCE: Duration = Duration::from_secs(5);
/// Blocks of the current height kept (one per proposal seen); more from a flooding proposer are ignored.
const HEIGHT_BLOCKS_MAX: usize = 64;

#[derive(Debug)]
pub enum HostEvent {
    TxAdded,
    Consensus {
        msg: Box<ConsensusMessage>,
        from: PeerId,
    },
    Synced {
        peer: PeerId,
        response: SyncResponse,
    },
    PeerConnected(PeerId),
    /// A peer gossips heights far above ours: we are behind and should sync from it.
    PeerAhead(PeerId),
    Shutdown,
}

pub struct Host {
    state: Arc<NodeState>,
    signer: Signer,
    core: Core,
    /// Blocks proposed at the current height, by hash.
    blocks: BTreeMap<Hash, HashedBlock>,
    journal_seq: u64,
    /// The highest height a previous run left journal records for: heights above it have none to replay.
    journal_left: Option<u64>,
    timers: BTreeMap<(Instant, u64), (u64, u32, TimeoutKind)>,
    timer_seq: u64,
    pending_value: Option<u32>,
    queue: VecDeque<(u64, Input)>,
    draining: bool,
    inbox: Receiver<HostEvent>,
    net: Option<tokio::sync::mpsc::Sender<NetCommand>>,
    /// Our own signed messages of the current height, for rebroadcast.
    own: Vec<ConsensusMessage>,
    /// The certificate of the last height we committed, re-sent with our own messages: a validator that
    /// left the set after deciding sends nothing else, yet others may still need its precommit.
    last_commit: Option<Commit>,
    last_rebroadcast: Instant,
    /// Messages for heights above ours, replayed when we get there.
    future: Vec<(PeerId, ConsensusMessage)>,
    sync_asked: Option<Instant>,
}

impl Host {
    pub fn new(
        state: Arc<NodeState>,
        key: Keypair,
        inbox: Receiver<HostEvent>,
        net: Option<tokio::sync::mpsc::Sender<NetCommand>>,
    ) -> anyhow::Result<Host> {
        let height = state.head().height + 1;
        let core = state.new_core(height, state.validators().index_of(&key.public()));
        let signer = Signer::new(key, &state.store)?;
        let journal_left = state.store.wal_last_height()?;
        Ok(Host {
            state,
            signer,
            core,
            blocks: BTreeMap::new(),
            journal_seq: 0,
            journal_left,
            timers: BTreeMap::new(),
            timer_seq: 0,
            pending_value: None,
            queue: VecDeque::new(),
            draining: false,
            inbox,
            net,
            own: Vec::new(),
            last_commit: None,
            last_rebroadcast: Instant::now(),
            future: Vec::new(),
            sync_asked: None,
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
                Ok(HostEvent::Consensus { msg, from }) => self.on_message(*msg, from)?,
                Ok(HostEvent::Synced { peer, response }) => self.on_synced(peer, response)?,
                Ok(HostEvent::PeerConnected(peer)) => self.ask_sync(peer, true),
                Ok(HostEvent::PeerAhead(peer)) => self.ask_sync(peer, false),
            }
            self.fire_due_timers()?;
            if self.last_rebroadcast.elapsed() >= REBROADCAST_EVERY {
                self.last_rebroadcast = Instant::now();
                for msg in self.own.clone() {
                    self.publish(msg);
                }
                if let Some(commit) = &self.last_commit {
                    for vote in commit.precommits(&self.state.chain_id) {
                        self.publish(ConsensusMessage::Vote(vote));
                    }
                }
            }
        }
    }

    fn publish(&self, msg: ConsensusMessage) {
        if let Some(net) = &self.net {
            // A full queue drops this copy; the rebroadcast sends it again.
            if net.try_send(NetCommand::PublishConsensus(msg)).is_err() {
                self.state.metrics.network.dropped("consensus", 1);
            }
        }
    }

    /// Asks `peer` for the blocks after our head, unless a request is already out (or `force`).
    fn ask_sync(&mut self, peer: PeerId, force: bool) {
        let waiting = self.sync_asked.is_some_and(|at| at.elapsed() < SYNC_PATIENCE);
        if waiting && !force {
            return;
        }
        if let Some(net) = &self.net {
            let request = SyncRequest { from_height: self.state.head().height + 1, count: SYNC_BATCH_MAX };
            if net.try_send(NetCommand::RequestSync { peer, request }).is_ok() {
                self.sync_asked = Some(Instant::now());
            }
        }
    }

    fn on_message(&mut self, msg: ConsensusMessage, from: PeerId) -> anyhow::Result<()> {
        let height = match &msg {
            ConsensusMessage::Vote(v) => v.vote.height,
            ConsensusMessage::Proposal { proposal, .. } => proposal.proposal.height,
        };
        let current = self.core.height();
        if matches!(msg, ConsensusMessage::Vote(_)) {
            self.state.metrics.votes_received.inc();
        }
        self.state.metrics.sync_lag.set(height.saturating_sub(current) as i64);
        if height > current {
            if self.future.len() < self.state.config.p2p.future_messages_max {
                self.future.push((from, msg));
            }
            self.ask_sync(from, false);
            return Ok(());
        }
        if height < current {
            return Ok(());
        }
        match msg {
            ConsensusMessage::Vote(v) => self.apply(Input::Vote(v)),
            ConsensusMessage::Proposal { proposal, block, polka } => {
                let hash = block.hash();
                if !self.blocks.contains_key(&hash) {
                    if self.blocks.len() >= HEIGHT_BLOCKS_MAX {
                        return Ok(());
                    }
                    // Journaled with the inputs: a replay after a crash must still be able to commit it.
                    self.journal(&WalBlockRef::Block(&block), Durability::Deferred)?;
                    self.blocks.insert(hash, HashedBlock::new(*block));
                }
                let head = self.state.head();
                let limits = self.state.limits().block_txs_max as usize;
                let validators = self.state.validators();
                let checked = check_block(&self.blocks[&hash], &head, &self.state.chain_id, &validators, limits);
                if let Err(e) = &checked {
                    tracing::warn!(%from, height = proposal.proposal.height, error = %e, "a proposed block is invalid: it gets no prevote from us");
                }
                let valid = checked.is_ok();
                for vote in polka {
                    self.apply(Input::Vote(vote))?;
                }
                self.apply(Input::Proposal { proposal, valid })
            }
        }
    }

    /// Applies blocks a peer sent, each verified against its commit certificate before it is committed.
    fn on_synced(&mut self, peer: PeerId, response: SyncResponse) -> anyhow::Result<()> {
        self.sync_asked = None;
        let full = response.blocks.len() as u32 >= SYNC_BATCH_MAX;
        let mut advanced = false;
        for (block, commit) in response.blocks {
            let head = self.state.head();
            if block.header.height <= head.height {
                continue;
            }
            if block.header.height != head.height + 1 {
                break;
            }
            let height = block.header.height;
            if let Err(e) =
                commit_decided(&self.state, &HashedBlock::new(block), &commit, CommitOrigin::Peer, Durability::Deferred)
            {
                tracing::warn!(%peer, height, error = %e, "refused a synced block");
                break;
            }
            self.state.metrics.blocks_synced.inc();
            self.last_commit = Some(commit);
            advanced = true;
        }
        if advanced {
            // One disk sync for the whole response instead of one per block.
            self.state.store.sync()?;
            self.enter_height()?;
            if full {
                self.ask_sync(peer, true);
            }
        }
        Ok(())
    }

    fn next_wake(&self, now: Instant) -> Instant {
        let mut wake = now + IDLE_WAKE;
        if let Some(((at, _), _)) = self.timers.first_key_value() {
            wake = wake.min(*at);
        }
        if self.pending_value.is_some() {
            wake = wake.min(now + Duration::from_millis(self.value_wait_ms()));
        }
        wake
    }

    /// Milliseconds until this proposer builds its block; zero once it is due. An empty block waits one
    /// empty-block interval after the last block, a block with txs but less than a full block's waits
    /// `block_interval_min_ms` after it, a full one not at all. Never longer than the interval, whatever the
    /// previous proposer's clock said.
    fn value_wait_ms(&self) -> u64 {
        let pool_txs = self.state.mempool.lock().expect("mempool lock poisoned").len();
        let c = &self.state.config.consensus;
        let (full, _) = self.state.proposal_limits();
        let interval = match pool_txs {
            0 => c.empty_block_interval_ms,
            n if n >= full => 0,
            _ => c.block_interval_min_ms,
        };
        let due_ms = self.state.head().block_time_ms.saturating_add(interval);
        due_ms.saturating_sub(crate::clock::now_ms()).min(interval)
    }

    fn fire_due_timers(&mut self) -> anyhow::Result<()> {
        let now = Instant::now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (height, round, kind) = entry.remove();
            if height == self.core.height() {
                let before = (self.core.round(), self.core.step());
                self.apply(Input::Timeout { round, kind })?;
                if self.core.height() == height && (self.core.round(), self.core.step()) != before {
                    // Rare in a healthy network: each one costs the height a timeout's wait.
                    let missed = match kind {
                        TimeoutKind::Propose => "no valid proposal in time: prevoted nil",
                        TimeoutKind::Prevote => "no two thirds of prevotes for one block: precommitted nil",
                        TimeoutKind::Precommit => "no two thirds of precommits for one block: next round",
                    };
                    tracing::info!(height, round, "consensus timeout: {missed}");
                }
            }
        }
        Ok(())
    }

    /// Starts the height after the head: replays its journal if a previous run left one, else begins it.
    fn enter_height(&mut self) -> anyhow::Result<()> {
        let height = self.state.head().height + 1;
        // The set may have changed with the block just committed: whether we vote is decided per height.
        let me = self.state.validators().index_of(&self.signer.key().public());
        self.core = self.state.new_core(height, me);
        self.blocks.clear();
        self.timers.clear();
        self.pending_value = None;
        self.queue.clear();
        self.own.clear();
        self.state.height_in_progress.store(height, std::sync::atomic::Ordering::Relaxed);
        // Only a previous run can have left records (this one clears each height's as it commits), and reading
        // the column on every height cost a scan over its deleted ranges.
        let records: Vec<WalRecord> = match self.journal_left {
            Some(last) if height <= last => self.state.store.wal_records(height)?,
            _ => Vec::new(),
        };
        self.journal_seq = records.len() as u64;
        self.state.metrics.height.set(height as i64 - 1);
        if records.is_empty() {
            self.apply(Input::Start)?;
        } else {
            self.replay_journal(records)?;
        }
        // Messages that arrived early for this height are applied now; later ones wait on.
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.future).into_iter().partition(|(_, m)| match m {
            ConsensusMessage::Vote(v) => v.vote.height == height,
            ConsensusMessage::Proposal { proposal, .. } => proposal.proposal.height == height,
        });
        self.future = later
            .into_iter()
            .filter(|(_, m)| match m {
                ConsensusMessage::Vote(v) => v.vote.height > height,
                ConsensusMessage::Proposal { proposal, .. } => proposal.proposal.height > height,
            })
            .collect();
        for (from, msg) in now {
            if self.core.height() != height {
                break;
            }
            self.on_message(msg, from)?;
        }
        Ok(())
    }

    fn replay_journal(&mut self, records: Vec<WalRecord>) -> anyhow::Result<()> {
        let height = self.core.height();
        tracing::info!(height, records = records.len(), "replaying the consensus journal");
        let me = self.signer.key().public();
        let outstanding = journal::replay(&mut self.core, &mut self.blocks, records.clone(), me);
        // What we signed before the restart goes out again with the next rebroadcast.
        for record in records {
            match record {
                WalRecord::Input(Input::Vote(v)) if v.validator == me => self.own.push(ConsensusMessage::Vote(v)),
                WalRecord::Input(Input::Proposal { proposal, .. }) if proposal.proposer == me => {
                    if let Some(block) = self.blocks.get(&proposal.proposal.block_hash).map(|b| b.block.clone()) {
                        self.own.push(ConsensusMessage::Proposal {
                            proposal,
                            block: Box::new(block),
                            polka: Vec::new(),
                        });
                    }
                }
                _ => {}
            }
        }
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
            // Our own signed messages are replayed and re-sent after a restart: durable at once.
            let own = input.signer() == Some(&self.signer.key().public());
            let durability = if own { Durability::Synced } else { Durability::Deferred };
            self.journal(&WalRecord::Input(input.clone()), durability)?;
            let effects = self.core.step_input(input);
            self.publish_progress();
            for effect in effects {
                // A decision among them enters the next height; what follows it belongs to this one.
                if self.core.height() != height {
                    break;
                }
                self.carry_out(effect)?;
            }
        }
        Ok(())
    }

    /// Appends a `WalRecord` (or a `WalBlockRef`, which encodes as one) to the height's journal.
    fn journal(&mut self, record: &impl borsh::BorshSerialize, durability: Durability) -> anyhow::Result<()> {
        self.state.store.wal_append(self.core.height(), self.journal_seq, record, durability)?;
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
                // Taken, not copied: entering the next height clears the blocks anyway.
                let block = self
                    .blocks
                    .remove(&commit.block_hash)
                    .with_context(|| format!("decided block {} is not known to this node", commit.block_hash))?;
                commit_decided(&self.state, &block, &commit, CommitOrigin::OwnCore, Durability::Synced)?;
                self.last_commit = Some(commit);
                self.enter_height()?;
            }
            Effect::Equivocation { first, second } => {
                self.record_evidence(Evidence::ConflictingVotes { first: *first, second: *second })?;
            }
            Effect::ProposalEquivocation { first, second } => {
                self.record_evidence(Evidence::ConflictingProposals { first: *first, second: *second })?;
            }
        }
        Ok(())
    }

    /// A validator signed two conflicting messages: counted, logged, and (once verified) stored for
    /// `GET /v1/evidence`.
    fn record_evidence(&self, evidence: Evidence) -> anyhow::Result<()> {
        self.state.metrics.equivocations.inc();
        if let Err(e) = evidence.verify() {
            tracing::error!(error = %e, ?evidence, "the core reported evidence that does not verify");
            return Ok(());
        }
        tracing::warn!(validator = %evidence.validator(), height = evidence.height(), round = evidence.round(), "equivocation");
        self.state.store.evidence_add(&evidence).context("cannot store evidence")?;
        Ok(())
    }

    /// Builds the block a pending `RequestValue` asked for, once there are txs or an empty block is due.
    fn answer_value_request(&mut self) -> anyhow::Result<()> {
        let Some(round) = self.pending_value else { return Ok(()) };
        if self.value_wait_ms() > 0 {
            return Ok(());
        }
        self.pending_value = None;
        let block = build_block(&self.state, &self.signer.key().address(), crate::clock::now_ms())?;
        let hash = block.hash();
        self.journal(&WalBlockRef::Block(&block.block), Durability::Deferred)?;
        self.blocks.insert(hash, block);
        self.apply(Input::ValueReady { round, block_hash: hash })
    }

    fn propose(&mut self, proposal: Proposal) -> anyhow::Result<()> {
        let polka = match proposal.pol_round {
            Some(vr) => self.core.polka_certificate(vr, proposal.block_hash),
            None => Vec::new(),
        };
        let block = self
            .blocks
            .get(&proposal.block_hash)
            .map(|b| b.block.clone())
            .context("proposing a block this node does not have")?;
        match self.signer.sign_proposal(&self.state.store, proposal) {
            Ok(signed) => {
                #[cfg(feature = "byzantine")]
                self.publish(byzantine::second_proposal(self.signer.key(), &signed, &block, polka.clone()));
                let msg = ConsensusMessage::Proposal { proposal: signed.clone(), block: Box::new(block), polka };
                self.publish(msg.clone());
                self.own.push(msg);
                self.apply(Input::Proposal { proposal: signed, valid: true })
            }
            Err(refusal) => {
                self.state.metrics.signatures_refused.inc();
                tracing::error!(%refusal, "refused to sign a proposal");
                Ok(())
            }
        }
    }

    fn vote(&mut self, vote: Vote) -> anyhow::Result<()> {
        match self.signer.sign_vote(&self.state.store, vote) {
            Ok(signed) => {
                #[cfg(feature = "byzantine")]
                self.publish(byzantine::second_vote(self.signer.key(), &signed));
                let msg = ConsensusMessage::Vote(signed.clone());
                self.publish(msg.clone());
                self.own.push(msg);
                self.apply(Input::Vote(signed))
            }
            Err(refusal) => {
                self.state.metrics.signatures_refused.inc();
                tracing::error!(%refusal, "refused to sign a vote");
                Ok(())
            }
        }
    }
}
