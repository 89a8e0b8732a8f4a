//! Prometheus metrics of the node, served at `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

pub struct Metrics {
    registry: Registry,
    pub height: Gauge,
    pub round: Gauge,
    pub step: Gauge,
    pub equivocations: Counter,
    pub signatures_refused: Counter,
    pub blocks_committed: Counter,
    pub txs_committed: Counter,
    pub txs_failed: Counter,
    pub txs_admitted: Counter,
    pub mempool_txs: Gauge,
    pub txs_rejected: Family<ReasonLabel, Counter>,
    pub blocks_synced: Counter,
    pub blocks_past_round_zero: Counter,
    /// Handed to the node's `TxVerifier`, which counts into them.
    pub signatures_checked: crate::exec::SignatureCounts,
    pub votes_received: Counter,
    pub sync_lag: Gauge,
    pub network: crate::network::NetworkMetrics,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("consort");
        let m = Metrics {
            height: Gauge::default(),
            round: Gauge::default(),
            step: Gauge::default(),
            equivocations: Counter::default(),
            signatures_refused: Counter::default(),
            blocks_committed: Counter::default(),
            txs_committed: Counter::default(),
            txs_failed: Counter::default(),
            txs_admitted: Counter::default(),
            mempool_txs: Gauge::default(),
            txs_rejected: Family::default(),
            blocks_synced: Counter::default(),
            blocks_past_round_zero: Counter::default(),
            signatures_checked: Default::default(),
            votes_received: Counter::default(),
            sync_lag: Gauge::default(),
            network: Default::default(),
            registry: Registry::default(),
        };
        registry.register("height", "Height of the last committed block", m.height.clone());
        registry.register("round", "Consensus round of the height in progress", m.round.clone());
        registry.register("step", "Consensus step in progress: 0 propose, 1 prevote, 2 precommit", m.step.clone());
        registry.register("equivocations", "Conflicting votes seen from one validator", m.equivocations.clone());
        registry.register(
            "signatures_refused",
            "Votes or proposals this node refused to sign because they conflict with what it signed",
            m.signatures_refused.clone(),
        );
        registry.register("blocks_committed", "Blocks committed since start", m.blocks_committed.clone());
        registry.register(
            "txs_committed",
            "Txs committed in blocks since start (failed ones included)",
            m.txs_committed.clone(),
        );
        registry.register("txs_failed", "Committed txs whose receipt reports failure", m.txs_failed.clone());
        registry.register("txs_admitted", "Txs accepted into the mempool", m.txs_admitted.clone());
        registry.register("mempool_txs", "Txs waiting in the mempool", m.mempool_txs.clone());
        registry.register("txs_rejected", "Submitted txs refused, by reason", m.txs_rejected.clone());
        registry.register(
            "signatures_checked_ahead",
            "Tx signatures checked before execution (at admission)",
            m.signatures_checked.ahead.clone(),
        );
        registry.register(
            "signatures_checked_executing",
            "Tx signatures the executor checked: txs of a block this node had not verified before",
            m.signatures_checked.executing.clone(),
        );
        registry.register("blocks_synced", "Blocks committed from block sync", m.blocks_synced.clone());
        registry.register(
            "blocks_past_round_zero",
            "Committed blocks decided after round 0: a proposal or votes missed their round's timeouts",
            m.blocks_past_round_zero.clone(),
        );
        registry.register("votes_received", "Consensus votes received from peers", m.votes_received.clone());
        registry.register("sync_lag", "Heights between ours and the highest a peer has shown us", m.sync_lag.clone());
        registry.register("peers_connected", "Member peers connected", m.network.peers_connected.clone());
        registry.register(
            "peers_refused",
            "Connections refused from non-member peers",
            m.network.peers_refused.clone(),
        );
        registry.register(
            "gossip_rejected",
            "Gossip messages that failed our checks",
            m.network.gossip_rejected.clone(),
        );
        registry.register(
            "gossip_dropped",
            "Gossip dropped, by what: this node's consensus messages or txs (its network queue was full), \
             received messages (the host's inbox or the tx admission queue was full), or messages a slow \
             peer's queue refused or let expire",
            m.network.gossip_dropped.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn reject(&self, reason: &str) {
        self.txs_rejected.get_or_create(&ReasonLabel { reason: reason.to_owned() }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
