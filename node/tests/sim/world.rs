use super::faults::{Faults, SYNC_DELAY_MAX_MS};
use super::rng::{test_rng, TestRng};
use consort_node::consensus::{Core, Effect, Input, TimeoutKind, TimeoutParams, Validator, ValidatorSet};
use consort_sdk::{Address, Commit, Hash, Proposal, PublicKey, Signature, SignedProposal, SignedVote, Vote};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

const CHAIN: &str = "sim";
/// Each node re-sends its own messages of the current height this often: gossip's eventual delivery.
const REBROADCAST_MS: u64 = 1_000;
/// Own messages re-sent per rebroadcast (three per round: proposal, prevote, precommit).
const REBROADCAST_MSGS_MAX: usize = 3 * 128;
/// Time a proposer takes to build its block.
const BUILD_BLOCK_MS: u64 = 1;
/// Future-height messages a node buffers, as the real host does.
const FUTURE_BUFFER_MAX: usize = 256;
/// Simulated time allowed after GST for every honest node to decide `heights_after_gst` more heights.
const LIVENESS_WINDOW_MS: u64 = 600_000;
/// Hard cap on processed events, so a bug cannot hang the test run.
const EVENTS_MAX: u64 = 2_000_000;

#[derive(Clone, Debug)]
enum Msg {
    Proposal(SignedProposal),
    Vote(SignedVote),
    SyncRequest { height: u64 },
    SyncResponse(Commit),
}

impl Msg {
    fn height(&self) -> Option<u64> {
        match self {
            Msg::Proposal(p) => Some(p.proposal.height),
            Msg::Vote(v) => Some(v.vote.height),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
enum Event {
    Deliver { from: usize, to: usize, msg: Msg },
    Timeout { node: usize, height: u64, round: u32, kind: TimeoutKind },
    Crash(usize),
    Restart(usize),
    Rebroadcast(usize),
    ValueReady { node: usize, height: u64, round: u32 },
}

struct Node {
    core: Core,
    /// Inputs of the current height, journaled before they are applied (the consensus WAL).
    wal: Vec<Input>,
    /// How much of `wal` a machine crash keeps: the host syncs the journal with each of its own signed
    /// messages (and the last-sign state before it); peers' messages in between wait for that sync.
    durable: usize,
    /// Our own signed messages of the current height, for rebroadcast.
    own: Vec<Msg>,
    buffered: Vec<(usize, Msg)>,
    commits: BTreeMap<u64, Commit>,
    crashed: bool,
}

pub struct Outcome {
    pub trace: Hash,
    pub heights: Vec<u64>,
    pub equivocations_seen: usize,
}

pub struct World {
    n: usize,
    faults: Faults,
    rng: TestRng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    events: Vec<Option<Event>>,
    nodes: Vec<Node>,
    /// Fixed set of all n nodes, or (when rotating) one that changes every few heights.
    rotating: bool,
    /// Every value decided by an honest node, per height: must never hold two.
    decided: BTreeMap<u64, (usize, Hash)>,
    /// Every vote an honest node ever signed, per (height, round, kind).
    signed: BTreeMap<(usize, u64, u32, u8), Option<Hash>>,
    trace: blake3::Hasher,
    equivocations_seen: usize,
    local: VecDeque<(usize, u64, Input)>,
    feeding: bool,
    /// `CONSORT_SIM_TRACE=1` prints every effect, for replaying a failing seed.
    print_trace: bool,
}

fn key(i: usize) -> PublicKey {
    PublicKey([i as u8 + 1; 32])
}

fn validator(i: usize, power: u64) -> Validator {
    Validator { name: format!("v{i}"), public_key: key(i), address: Address([i as u8; 20]), power }
}

/// Heights a rotating set stays the same.
const ROTATION_HEIGHTS: u64 = 2;

/// The validator set of `height`. Fixed: all n nodes with power 1. Rotating, as governance would change
/// it: every ROTATION_HEIGHTS heights one node leaves the set (becoming a follower) and the previous one
/// returns; node 0's power doubles on alternate rotations.
fn set_at(n: usize, rotating: bool, height: u64) -> ValidatorSet {
    if !rotating {
        return ValidatorSet::new((0..n).map(|i| validator(i, 1)).collect());
    }
    let epoch = height / ROTATION_HEIGHTS;
    let out = (epoch % n as u64) as usize;
    let boost = if epoch.is_multiple_of(2) { 2 } else { 1 };
    ValidatorSet::new((0..n).filter(|&i| i != out).map(|i| validator(i, if i == 0 { boost } else { 1 })).collect())
}

/// A core for node `i` at `height`: validator if the set of that height holds it, follower otherwise.
fn core_for(n: usize, rotating: bool, i: usize, height: u64) -> Core {
    let set = set_at(n, rotating, height);
    let me = set.index_of(&key(i));
    Core::new(CHAIN, height, set, me, TimeoutParams::default())
}

fn value_of(node: usize, height: u64, round: u32, salt: u8) -> Hash {
    let mut bytes = vec![node as u8, salt];
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&round.to_be_bytes());
    Hash::digest(&bytes)
}

impl World {
    pub fn new(seed: u64, n: usize, byzantine_max: usize) -> World {
        World::build(seed, n, byzantine_max, false)
    }

    /// A world whose validator set changes every few heights (see `set_at`); nodes outside the set of a
    /// height follow it without voting.
    pub fn with_rotating_set(seed: u64, n: usize, byzantine_max: usize) -> World {
        World::build(seed, n, byzantine_max, true)
    }

    fn build(seed: u64, n: usize, byzantine_max: usize, rotating: bool) -> World {
        let mut rng = test_rng(seed);
        let faults = Faults::draw(&mut rng, n, byzantine_max);
        let nodes = (0..n)
            .map(|i| Node {
                core: core_for(n, rotating, i, 1),
                wal: Vec::new(),
                durable: 0,
                own: Vec::new(),
                buffered: Vec::new(),
                commits: BTreeMap::new(),
                crashed: false,
            })
            .collect();
        let mut w = World {
            n,
            faults,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            nodes,
            rotating,
            decided: BTreeMap::new(),
            signed: BTreeMap::new(),
            trace: blake3::Hasher::new(),
            equivocations_seen: 0,
            local: VecDeque::new(),
            feeding: false,
            print_trace: std::env::var_os("CONSORT_SIM_TRACE").is_some(),
        };
        for (node, at, back) in w.faults.crashes.clone() {
            w.push(at, Event::Crash(node));
            w.push(back, Event::Restart(node));
        }
        for i in 0..n {
            w.push(REBROADCAST_MS + i as u64, Event::Rebroadcast(i));
            w.feed(i, Input::Start);
        }
        w
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    fn honest(&self, i: usize) -> bool {
        !self.faults.byzantine.contains(&i)
    }

    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.events.push(Some(event));
        self.queue.push(Reverse((at, self.seq, self.events.len() - 1)));
    }

    fn send(&mut self, from: usize, to: usize, msg: Msg) {
        let now = self.now;
        let stable = now >= self.faults.gst_ms;
        if !stable && (self.rng.chance(self.faults.drop_percent) || self.faults.partitioned(now, from, to)) {
            return;
        }
        let copies = if !stable && self.rng.chance(self.faults.duplicate_percent) { 2 } else { 1 };
        for _ in 0..copies {
            let delay_max = if stable { SYNC_DELAY_MAX_MS } else { self.faults.delay_max_ms };
            let at = now + self.rng.range(1, delay_max);
            self.push(at, Event::Deliver { from, to, msg: msg.clone() });
        }
    }

    fn broadcast(&mut self, from: usize, msg: Msg) {
        for to in 0..self.n {
            if to != from {
                self.send(from, to, msg.clone());
            }
        }
    }

    /// Queues `input` for node `i`'s current height. Inputs are applied from a queue, never recursively,
    /// and one meant for an earlier height is dropped: a stale `ValueReady` must not reach a new height.
    fn feed(&mut self, i: usize, input: Input) {
        self.local.push_back((i, self.nodes[i].core.height(), input));
        if self.feeding {
            return;
        }
        self.feeding = true;
        while let Some((i, height, input)) = self.local.pop_front() {
            if self.nodes[i].core.height() != height || self.nodes[i].crashed {
                continue;
            }
            // Journal first; our own signed messages are synced, and with them everything before.
            let own = input.signer() == Some(&key(i));
            self.nodes[i].wal.push(input.clone());
            if own {
                self.nodes[i].durable = self.nodes[i].wal.len();
            }
            let effects = self.nodes[i].core.step_input(input);
            self.carry_out(i, effects);
        }
        self.feeding = false;
    }

    fn carry_out(&mut self, i: usize, effects: Vec<Effect>) {
        // A decision ends the height: anything after it would be carried out at the next one.
        if let Some(at) = effects.iter().position(|e| matches!(e, Effect::Decide(_))) {
            assert_eq!(at + 1, effects.len(), "node {i} has effects after its decision: {:?}", &effects[at + 1..]);
        }
        for effect in effects {
            let line = format!("{}|{i}|{effect:?}", self.now);
            if self.print_trace {
                eprintln!("{line}");
            }
            self.trace.update(line.as_bytes());
            match effect {
                Effect::RequestValue { round } => {
                    // Building a block takes a moment; the value is journaled like every other input.
                    let height = self.nodes[i].core.height();
                    self.push(self.now + BUILD_BLOCK_MS, Event::ValueReady { node: i, height, round });
                }
                Effect::Propose(p) => {
                    let signed =
                        SignedProposal { proposal: p.clone(), proposer: key(i), signature: Signature([0; 64]) };
                    if let Some(vr) = p.pol_round {
                        // The polka certificate goes out ahead of the re-proposal it justifies.
                        for vote in self.nodes[i].core.polka_certificate(vr, p.block_hash) {
                            self.nodes[i].own.push(Msg::Vote(vote.clone()));
                            self.broadcast(i, Msg::Vote(vote));
                        }
                    }
                    self.nodes[i].own.push(Msg::Proposal(signed.clone()));
                    if self.honest(i) {
                        self.broadcast(i, Msg::Proposal(signed.clone()));
                    } else {
                        self.equivocate_proposal(i, &p);
                    }
                    self.feed(i, Input::Proposal { proposal: signed, valid: true });
                }
                Effect::Vote(v) => {
                    if self.honest(i) {
                        let slot = (i, v.height, v.round, v.kind as u8);
                        if let Some(previous) = self.signed.insert(slot, v.block_hash) {
                            assert_eq!(previous, v.block_hash, "node {i} double-signed {slot:?}");
                        }
                    }
                    let signed = SignedVote { vote: v.clone(), validator: key(i), signature: Signature([0; 64]) };
                    self.nodes[i].own.push(Msg::Vote(signed.clone()));
                    if self.honest(i) {
                        self.broadcast(i, Msg::Vote(signed.clone()));
                    } else {
                        self.equivocate_vote(i, &v);
                    }
                    self.feed(i, Input::Vote(signed));
                }
                Effect::ScheduleTimeout { round, kind, duration_ms } => {
                    let height = self.nodes[i].core.height();
                    self.push(self.now + duration_ms, Event::Timeout { node: i, height, round, kind });
                }
                Effect::Decide(commit) => self.on_decide(i, commit),
                Effect::Equivocation { .. } | Effect::ProposalEquivocation { .. } => self.equivocations_seen += 1,
            }
        }
    }

    /// A byzantine proposer sends one value to half the peers and another to the rest.
    fn equivocate_proposal(&mut self, i: usize, p: &Proposal) {
        for to in (0..self.n).filter(|&t| t != i) {
            let mut q = p.clone();
            if to % 2 == 1 {
                q.block_hash = value_of(i, p.height, p.round, 1);
            }
            self.send(
                i,
                to,
                Msg::Proposal(SignedProposal { proposal: q, proposer: key(i), signature: Signature([0; 64]) }),
            );
        }
    }

    /// A byzantine voter tells half the peers one thing and the rest another.
    fn equivocate_vote(&mut self, i: usize, v: &Vote) {
        for to in (0..self.n).filter(|&t| t != i) {
            let mut w = v.clone();
            if to % 2 == 1 {
                w.block_hash = match v.block_hash {
                    Some(_) => None,
                    None => Some(value_of(i, v.height, v.round, 1)),
                };
            }
            self.send(i, to, Msg::Vote(SignedVote { vote: w, validator: key(i), signature: Signature([0; 64]) }));
        }
    }

    fn on_decide(&mut self, i: usize, commit: Commit) {
        let height = commit.height;
        if self.honest(i) {
            match self.decided.get(&height) {
                Some((other, value)) => {
                    assert_eq!(
                        *value, commit.block_hash,
                        "safety: nodes {other} and {i} decided differently at height {height}"
                    )
                }
                None => {
                    self.decided.insert(height, (i, commit.block_hash));
                }
            }
        }
        let node = &mut self.nodes[i];
        node.commits.insert(height, commit);
        node.core = core_for(self.n, self.rotating, i, height + 1);
        node.wal.clear();
        node.durable = 0;
        node.own.clear();
        let buffered = std::mem::take(&mut node.buffered);
        self.feed(i, Input::Start);
        for (from, msg) in buffered {
            self.deliver(from, i, msg);
        }
    }

    fn deliver(&mut self, from: usize, to: usize, msg: Msg) {
        if self.nodes[to].crashed {
            return;
        }
        let height = self.nodes[to].core.height();
        match (&msg, msg.height()) {
            (Msg::SyncRequest { height: wanted }, _) => {
                if let Some(commit) = self.nodes[to].commits.get(wanted).cloned() {
                    self.send(to, from, Msg::SyncResponse(commit));
                }
            }
            (Msg::SyncResponse(commit), _) if commit.height == height => {
                self.feed(to, Input::Decided(commit.clone()));
            }
            (_, Some(h)) if h > height => {
                // Someone is ahead: ask them for the decision we are missing, and keep the message.
                self.send(to, from, Msg::SyncRequest { height });
                if self.nodes[to].buffered.len() < FUTURE_BUFFER_MAX {
                    self.nodes[to].buffered.push((from, msg));
                }
            }
            (Msg::Proposal(p), Some(h)) if h == height => {
                self.feed(to, Input::Proposal { proposal: p.clone(), valid: true })
            }
            (Msg::Vote(v), Some(h)) if h == height => self.feed(to, Input::Vote(v.clone())),
            _ => {}
        }
    }

    /// A crashed node loses its memory and the WAL's unsynced tail (peers' messages after its last own
    /// one); on restart it rebuilds the core by replaying what is left of the WAL of its height. Replay
    /// re-arms timers and re-derives our own votes (which must match what we signed) but sends nothing:
    /// our signed messages are in the WAL and go out again with the next rebroadcast.
    fn restart(&mut self, i: usize) {
        let height = self.nodes[i].core.height();
        let mut wal = std::mem::take(&mut self.nodes[i].wal);
        wal.truncate(self.nodes[i].durable);
        let node = &mut self.nodes[i];
        node.crashed = false;
        node.buffered.clear();
        node.core = core_for(self.n, self.rotating, i, height);
        node.own = wal
            .iter()
            .filter_map(|input| match input {
                Input::Proposal { proposal, .. } if proposal.proposer == key(i) => {
                    Some(Msg::Proposal(proposal.clone()))
                }
                Input::Vote(v) if v.validator == key(i) => Some(Msg::Vote(v.clone())),
                _ => None,
            })
            .collect();
        for input in wal {
            self.nodes[i].wal.push(input.clone());
            let effects = self.nodes[i].core.step_input(input);
            for effect in effects {
                match effect {
                    Effect::ScheduleTimeout { round, kind, duration_ms } => {
                        self.push(self.now + duration_ms, Event::Timeout { node: i, height, round, kind })
                    }
                    Effect::Vote(v) if self.honest(i) => {
                        let slot = (i, v.height, v.round, v.kind as u8);
                        let before = self.signed.get(&slot);
                        assert_eq!(
                            before,
                            Some(&v.block_hash),
                            "node {i} re-derived a different vote for {slot:?} on replay"
                        );
                    }
                    Effect::Decide(_) => panic!("replaying an undecided height cannot decide"),
                    _ => {}
                }
            }
        }
        self.nodes[i].durable = self.nodes[i].wal.len();
        // Nothing survived (the node had signed nothing at this height): it starts the height afresh.
        if self.nodes[i].wal.is_empty() {
            self.feed(i, Input::Start);
        }
    }

    /// Runs until every honest node has decided `heights_after_gst` heights beyond the highest decided at
    /// GST, and returns what happened. Panics (naming the property) on any violation.
    pub fn run(mut self, heights_after_gst: u64) -> Outcome {
        let mut target: Option<u64> = None;
        let mut processed = 0u64;
        while let Some(Reverse((at, _, idx))) = self.queue.pop() {
            processed += 1;
            assert!(processed < EVENTS_MAX, "event cap reached at t={at}");
            self.now = at;
            if target.is_none() && at >= self.faults.gst_ms {
                let top = self.decided.keys().max().copied().unwrap_or(0);
                target = Some(top + heights_after_gst);
            }
            if let Some(t) = target {
                if (0..self.n).filter(|&i| self.honest(i)).all(|i| self.nodes[i].core.height() > t) {
                    break;
                }
                assert!(
                    at <= self.faults.gst_ms + LIVENESS_WINDOW_MS,
                    "liveness: honest nodes at (height, round, step) {:?} did not reach height {} within {LIVENESS_WINDOW_MS} ms of GST",
                    self.nodes.iter().map(|n| (n.core.height(), n.core.round(), n.core.step())).collect::<Vec<_>>(),
                    t + 1
                );
            }
            let event = self.events[idx].take().expect("each event runs once");
            match event {
                Event::Deliver { from, to, msg } => self.deliver(from, to, msg),
                Event::Timeout { node, height, round, kind } => {
                    if !self.nodes[node].crashed && self.nodes[node].core.height() == height {
                        self.feed(node, Input::Timeout { round, kind });
                    }
                }
                Event::ValueReady { node, height, round } => {
                    if !self.nodes[node].crashed && self.nodes[node].core.height() == height {
                        self.feed(node, Input::ValueReady { round, block_hash: value_of(node, height, round, 0) });
                    }
                }
                Event::Crash(i) => self.nodes[i].crashed = true,
                Event::Restart(i) => self.restart(i),
                Event::Rebroadcast(i) => {
                    if !self.nodes[i].crashed {
                        let own = self.nodes[i].own.clone();
                        // Every round's messages, not just the latest: unlocking a validator locked in an
                        // old round needs that round's polka to reach everyone eventually.
                        for msg in own.into_iter().rev().take(REBROADCAST_MSGS_MAX) {
                            self.broadcast(i, msg);
                        }
                        // The certificate of the height just decided, as the host re-sends it: a node
                        // that left the set after deciding is the only one still holding some precommits.
                        let last = self.nodes[i].core.height().saturating_sub(1);
                        if let Some(commit) = self.nodes[i].commits.get(&last).cloned() {
                            for v in commit.precommits(CHAIN) {
                                self.broadcast(i, Msg::Vote(v));
                            }
                        }
                    }
                    self.push(self.now + REBROADCAST_MS, Event::Rebroadcast(i));
                }
            }
        }
        Outcome {
            trace: Hash(*self.trace.finalize().as_bytes()),
            heights: self.nodes.iter().map(|n| n.core.height()).collect(),
            equivocations_seen: self.equivocations_seen,
        }
    }
}
