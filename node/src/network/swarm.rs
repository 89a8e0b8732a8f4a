use super::gossip_check::{GossipCheck, Verdict};
use super::sync_codec::{SyncCodec, SYNC_PROTOCOL};
use crate::metrics::ReasonLabel;
use consort_sdk::encoding::{decode, encode};
use consort_sdk::{ConsensusGossip, ConsensusMessage, SyncRequest, SyncResponse, TxGossip};
use futures::StreamExt;
use libp2p::swarm::{ListenError, NetworkBehaviour, SwarmEvent};
use libp2p::{
    allow_block_list, gossipsub, identify, noise, request_response, tcp, yamux, Multiaddr, PeerId, StreamProtocol,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::time::Duration;
use tokio::sync::mpsc;

/// Queued commands from the host before it waits for the network.
pub const NET_COMMANDS_MAX: usize = 1024;
/// Admitted tx batches queued for gossip (an RPC batch holds at most `consort_sdk::api::TX_BATCH_MAX`
/// txs); past this a batch is not gossiped, and its txs reach the other members in our blocks.
pub const TX_GOSSIP_QUEUE_BATCHES: usize = 64;
const REDIAL_INTERVAL: Duration = Duration::from_secs(2);
/// Admitted txs are gossiped at least this often, in one message.
const TX_GOSSIP_FLUSH: Duration = Duration::from_millis(50);
/// A tx batch goes out early once it holds this many bytes.
const TX_GOSSIP_BATCH_BYTES: usize = 256 * 1024;
/// Mesh peers each node relays a received message to. Every member dials every other and publishes to all
/// of them (flood publish), so relaying only repairs a missing link; with gossipsub's default of 6 each of
/// 4 nodes received every message about three times, and decrypting, framing and hashing the copies cost
/// CPU the signature checks need. One keeps repair eager (without a mesh, gossip's IHAVE/IWANT took
/// seconds to fill a gap).
const MESH_PEERS: usize = 1;
/// Most txs a gossiped batch may carry.
pub const TX_GOSSIP_TXS_MAX: usize = 8192;

#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    gossipsub: gossipsub::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
    identify: identify::Behaviour,
}

pub struct NetworkConfig {
    pub chain_id: String,
    pub listen: Multiaddr,
    /// Members to dial, as `/ip4/…/tcp/…/p2p/<peer id>`; redialled while disconnected.
    pub peers: Vec<Multiaddr>,
    /// Peer ids allowed to connect; every other peer is refused.
    pub members: Vec<PeerId>,
    pub message_bytes_max: usize,
}

#[derive(Clone, Default)]
pub struct NetworkMetrics {
    pub peers_connected: Gauge,
    pub peers_refused: Counter,
    pub gossip_rejected: Counter,
    pub gossip_dropped: Family<ReasonLabel, Counter>,
}

impl NetworkMetrics {
    pub fn dropped(&self, what: &str, count: u64) {
        self.gossip_dropped.get_or_create(&ReasonLabel { reason: what.to_owned() }).inc_by(count);
    }
}

#[derive(Debug)]
pub enum NetEvent {
    /// A consensus message that passed our checks, and the peer it came through.
    Consensus {
        msg: Box<ConsensusMessage>,
        from: PeerId,
    },
    /// Encoded tx bytes gossiped by a member, to be admitted like an RPC submission.
    /// A gossiped batch of txs, each still to pass admission.
    Txs(Vec<Vec<u8>>),
    Synced {
        peer: PeerId,
        response: SyncResponse,
    },
    /// A member connected: the host may ask it for blocks.
    PeerConnected(PeerId),
    /// A member gossips heights far above ours.
    PeerAhead(PeerId),
}

/// What the host and the node ask of the network. Admitted txs have a queue of their own
/// (`NetworkHandle::txs`), so that however many arrive they never crowd these out.
#[derive(Debug)]
pub enum NetCommand {
    PublishConsensus(ConsensusMessage),
    RequestSync {
        peer: PeerId,
        request: SyncRequest,
    },
    /// The members' nodes changed: allow exactly these peers, and drop connections to any other.
    SetAllowedPeers(Vec<PeerId>),
}

#[derive(Clone)]
pub struct NetworkHandle {
    /// Handled before anything else the network has waiting: a vote that waits behind txs, or is dropped
    /// because their queue is full, can cost the height a round.
    pub commands: mpsc::Sender<NetCommand>,
    /// Admitted txs to gossip, one batch per admission (an RPC batch or a single tx); they go out merged
    /// into `TxGossip` messages.
    pub txs: mpsc::Sender<Vec<Vec<u8>>>,
    pub local_peer_id: PeerId,
}

pub type SyncServer = Box<dyn Fn(&SyncRequest) -> SyncResponse + Send>;
pub type EventSink = Box<dyn Fn(NetEvent) + Send>;

/// Starts the swarm on the current tokio runtime. Accepted messages and sync answers go to `sink`. The task
/// runs until every command sender is gone; if it ends before, the node has lost its network.
pub fn spawn(
    config: NetworkConfig,
    key: libp2p::identity::Keypair,
    check: GossipCheck,
    serve_sync: SyncServer,
    sink: EventSink,
    metrics: NetworkMetrics,
) -> anyhow::Result<(NetworkHandle, tokio::task::JoinHandle<()>)> {
    let local_peer_id = key.public().to_peer_id();
    let message_bytes_max = config.message_bytes_max;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)?
        .with_behaviour(|key| {
            // Messages go unsigned and must arrive so (Anonymous). A gossip signature proves only which node
            // first published a message, which nothing here uses: the sending peer is a member authenticated
            // by noise, consensus messages carry their validator's signature and every tx its sender's. The
            // signature cost a verification per copy received (every peer relays each message), 7 % of a
            // node's CPU at load. All nodes of a network must agree on this mode.
            let gossip_config = gossip_config(message_bytes_max)?;
            let gossipsub = gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config)?;
            let sync = request_response::Behaviour::new(
                [(StreamProtocol::new(SYNC_PROTOCOL), request_response::ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(30)),
            );
            let identify = identify::Behaviour::new(identify::Config::new("/consort/1".into(), key.public()));
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Behaviour {
                allow: Default::default(),
                gossipsub,
                sync,
                identify,
            })
        })
        .map_err(|e| anyhow::anyhow!("cannot build the p2p behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();

    let allowed: std::collections::BTreeSet<PeerId> = config.members.iter().copied().collect();
    for member in &allowed {
        swarm.behaviour_mut().allow.allow_peer(*member);
    }
    let consensus_topic = gossipsub::IdentTopic::new(format!("consort/{}/consensus", config.chain_id));
    let tx_topic = gossipsub::IdentTopic::new(format!("consort/{}/txs", config.chain_id));
    swarm.behaviour_mut().gossipsub.subscribe(&consensus_topic)?;
    swarm.behaviour_mut().gossipsub.subscribe(&tx_topic)?;
    swarm.listen_on(config.listen.clone())?;

    let (commands, mut inbox) = mpsc::channel(NET_COMMANDS_MAX);
    let (txs, mut tx_inbox) = mpsc::channel::<Vec<Vec<u8>>>(TX_GOSSIP_QUEUE_BATCHES);
    let topics = Topics { consensus: consensus_topic, txs: tx_topic };
    let peers = config.peers;
    let task = tokio::spawn(async move {
        let mut redial = tokio::time::interval(REDIAL_INTERVAL);
        let mut flush = tokio::time::interval(TX_GOSSIP_FLUSH);
        let mut out =
            Outbox { allowed, resend: 0, pending: TxGossip { txs: Vec::new() }, pending_bytes: 0, message_bytes_max };
        loop {
            // Commands first, whatever else is waiting: at saturation the swarm and the tx queue always are.
            loop {
                match inbox.try_recv() {
                    Ok(command) => out.command(&mut swarm, &topics, command),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => return,
                }
            }
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(command) => out.command(&mut swarm, &topics, command),
                    None => return,
                },
                Some(batch) = tx_inbox.recv() => out.txs(&mut swarm, &topics, batch),
                _ = flush.tick() => out.flush(&mut swarm, &topics),
                _ = redial.tick() => {
                    for addr in &peers {
                        let connected = peer_of(addr).is_some_and(|p| swarm.is_connected(&p));
                        if !connected {
                            let _ = swarm.dial(addr.clone());
                        }
                    }
                }
                event = swarm.select_next_some() => {
                    on_event(&mut swarm, event, &check, &serve_sync, &sink, &metrics, &topics.consensus);
                }
            }
        }
    });
    Ok((NetworkHandle { commands, txs, local_peer_id }, task))
}

struct Topics {
    consensus: gossipsub::IdentTopic,
    txs: gossipsub::IdentTopic,
}

/// What the network loop sends: commands carried out, and admitted txs merged into gossip batches.
struct Outbox {
    allowed: std::collections::BTreeSet<PeerId>,
    /// Makes each publication of a consensus message unique, so a re-broadcast is not a gossip duplicate.
    resend: u64,
    pending: TxGossip,
    pending_bytes: usize,
    message_bytes_max: usize,
}

impl Outbox {
    // Publishing with no peer yet, or a duplicate, is not an error: gossip is best effort and the host
    // re-sends its messages until the height is decided.
    fn command(&mut self, swarm: &mut libp2p::Swarm<Behaviour>, topics: &Topics, command: NetCommand) {
        match command {
            NetCommand::PublishConsensus(msg) => {
                self.resend += 1;
                let gossip = ConsensusGossip { msg, resend: self.resend };
                let _ = swarm.behaviour_mut().gossipsub.publish(topics.consensus.clone(), encode(&gossip));
            }
            NetCommand::RequestSync { peer, request } => {
                swarm.behaviour_mut().sync.send_request(&peer, request);
            }
            NetCommand::SetAllowedPeers(peers) => {
                let now: std::collections::BTreeSet<PeerId> = peers.into_iter().collect();
                for gone in self.allowed.difference(&now) {
                    swarm.behaviour_mut().allow.disallow_peer(*gone);
                    let _ = swarm.disconnect_peer_id(*gone);
                    tracing::info!(peer = %gone, "peer no longer a member: disconnected");
                }
                for new in now.difference(&self.allowed) {
                    swarm.behaviour_mut().allow.allow_peer(*new);
                    tracing::info!(peer = %new, "new member peer allowed");
                }
                self.allowed = now;
            }
        }
    }

    /// Adds admitted txs to the pending gossip message, which goes out once it is big enough.
    fn txs(&mut self, swarm: &mut libp2p::Swarm<Behaviour>, topics: &Topics, batch: Vec<Vec<u8>>) {
        let bytes_max = TX_GOSSIP_BATCH_BYTES.min(self.message_bytes_max / 2);
        for tx in batch {
            self.pending_bytes += tx.len();
            self.pending.txs.push(tx);
            if self.pending_bytes >= bytes_max || self.pending.txs.len() >= TX_GOSSIP_TXS_MAX {
                self.flush(swarm, topics);
            }
        }
    }

    fn flush(&mut self, swarm: &mut libp2p::Swarm<Behaviour>, topics: &Topics) {
        if self.pending.txs.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.pending, TxGossip { txs: Vec::new() });
        self.pending_bytes = 0;
        let _ = swarm.behaviour_mut().gossipsub.publish(topics.txs.clone(), encode(&batch));
    }
}

/// Gossipsub as every member runs it (all must agree on the validation mode).
fn gossip_config(message_bytes_max: usize) -> Result<gossipsub::Config, gossipsub::ConfigBuilderError> {
    gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| gossipsub::MessageId::from(blake3::hash(&m.data).as_bytes().to_vec()))
        .max_transmit_size(message_bytes_max)
        .heartbeat_interval(Duration::from_millis(500))
        .mesh_n_low(MESH_PEERS)
        .mesh_n(MESH_PEERS)
        .mesh_n_high(MESH_PEERS + 1)
        .mesh_outbound_min(0)
        // Peers kept by score when a mesh above mesh_n_high is pruned. Gossipsub's default of 4 is more
        // than such a mesh holds here, and pruning then slices past its end: a member whose mesh grew to
        // three (peers it dialled may graft it beyond mesh_n_high) panicked at its next heartbeat, and its
        // network stopped. Peers are not scored here anyway.
        .retain_scores(0)
        .build()
}

fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

fn on_event(
    swarm: &mut libp2p::Swarm<Behaviour>,
    event: SwarmEvent<BehaviourEvent>,
    check: &GossipCheck,
    serve_sync: &SyncServer,
    sink: &EventSink,
    metrics: &NetworkMetrics,
    consensus_topic: &gossipsub::IdentTopic,
) {
    match event {
        SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        })) => {
            let is_consensus = message.topic == consensus_topic.hash();
            let (acceptance, forward) = if is_consensus {
                match check.check(&message.data) {
                    Verdict::Accept(msg) => (
                        gossipsub::MessageAcceptance::Accept,
                        Some(NetEvent::Consensus { msg, from: propagation_source }),
                    ),
                    Verdict::Ignore(_) => (gossipsub::MessageAcceptance::Ignore, None),
                    Verdict::Ahead => {
                        (gossipsub::MessageAcceptance::Ignore, Some(NetEvent::PeerAhead(propagation_source)))
                    }
                    Verdict::Reject(why) => {
                        tracing::warn!(peer = %propagation_source, why, "rejected consensus message");
                        metrics.gossip_rejected.inc();
                        (gossipsub::MessageAcceptance::Reject, None)
                    }
                }
            } else {
                // Txs are checked fully by admission; a batch is relayed once it decodes within limits.
                match decode::<TxGossip>(&message.data, check.message_bytes_max) {
                    Ok(batch) if batch.txs.len() <= TX_GOSSIP_TXS_MAX => {
                        (gossipsub::MessageAcceptance::Accept, Some(NetEvent::Txs(batch.txs)))
                    }
                    _ => {
                        metrics.gossip_rejected.inc();
                        (gossipsub::MessageAcceptance::Reject, None)
                    }
                }
            };
            // False only if the message already left the cache, which is harmless.
            let _ = swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &message_id,
                &propagation_source,
                acceptance,
            );
            if let Some(event) = forward {
                sink(event);
            }
        }
        SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message { peer, message, .. })) => {
            match message {
                request_response::Message::Request { request, channel, .. } => {
                    let response = serve_sync(&request);
                    let _ = swarm.behaviour_mut().sync.send_response(channel, response);
                }
                request_response::Message::Response { response, .. } => sink(NetEvent::Synced { peer, response }),
            }
        }
        SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::SlowPeer { peer_id, failed_messages })) => {
            let (full, expired) = (failed_messages.total_queue_full(), failed_messages.timeout);
            tracing::debug!(peer = %peer_id, full, expired, "a peer's gossip queue dropped messages");
            metrics.dropped("peer_queue_full", full as u64);
            metrics.dropped("peer_queue_expired", expired as u64);
        }
        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
            metrics.peers_connected.set(swarm.connected_peers().count() as i64);
            sink(NetEvent::PeerConnected(peer_id));
        }
        SwarmEvent::ConnectionClosed { .. } => {
            metrics.peers_connected.set(swarm.connected_peers().count() as i64);
        }
        SwarmEvent::IncomingConnectionError { error: ListenError::Denied { cause }, send_back_addr, .. } => {
            metrics.peers_refused.inc();
            tracing::warn!(%send_back_addr, %cause, "refused a connection from a non-member peer");
        }
        SwarmEvent::NewListenAddr { address, .. } => tracing::info!(%address, "p2p listening"),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    /// Gossipsub prunes a mesh above mesh_n_high by shuffling all but its `retain_scores` best peers, slicing
    /// at `mesh.len() - retain_scores`: with more retained than such a mesh holds, the heartbeat panics and
    /// the member's network stops (it did, in a 4-validator testnet under load, with gossipsub's default of 4).
    #[test]
    fn pruning_an_oversized_mesh_retains_no_more_peers_than_it_holds() {
        let config = super::gossip_config(1 << 20).unwrap();
        let smallest_pruned_mesh = config.mesh_n_high() + 1;
        assert!(
            config.retain_scores() <= smallest_pruned_mesh,
            "retain_scores {} > {smallest_pruned_mesh} peers",
            config.retain_scores()
        );
    }
}
