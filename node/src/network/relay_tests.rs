//! Gossip reaches a member whose link to the publisher is missing: three real swarms on loopback in a line,
//! A — B — C, where only B connects to both. Whatever the mesh settings, B must relay what A publishes.

use super::{spawn, GossipCheck, NetCommand, NetEvent, NetworkConfig, NetworkMetrics};
use crate::consensus::ValidatorSet;
use consort_sdk::SyncResponse;
use libp2p::{identity::Keypair, Multiaddr, PeerId};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Generous: a loaded 2-core machine, and relaying may wait for gossip's heartbeat.
const DEADLINE: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Member {
    key: Keypair,
    port: u16,
}

impl Member {
    fn new() -> Member {
        Member { key: Keypair::generate_ed25519(), port: free_port() }
    }

    fn id(&self) -> PeerId {
        self.key.public().to_peer_id()
    }

    fn addr(&self) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.port, self.id()).parse().unwrap()
    }
}

/// Starts `me`, dialling `dial`; its accepted events go to the returned channel.
fn start(
    me: &Member,
    dial: &[&Member],
    members: &[PeerId],
) -> (mpsc::Sender<NetCommand>, mpsc::UnboundedReceiver<NetEvent>) {
    let config = NetworkConfig {
        chain_id: "relay".into(),
        listen: format!("/ip4/127.0.0.1/tcp/{}", me.port).parse().unwrap(),
        peers: dial.iter().map(|m| m.addr()).collect(),
        members: members.to_vec(),
        message_bytes_max: 1 << 20,
    };
    let check = GossipCheck {
        chain_id: "relay".into(),
        validators: Arc::new(RwLock::new(ValidatorSet::new(vec![]))),
        height: Arc::new(AtomicU64::new(1)),
        message_bytes_max: 1 << 20,
    };
    let (events, received) = mpsc::unbounded_channel();
    let sink = Box::new(move |event| {
        let _ = events.send(event);
    });
    let serve = Box::new(|_: &_| SyncResponse { blocks: vec![] });
    let handle = spawn(config, me.key.clone(), check, serve, sink, NetworkMetrics::default()).unwrap();
    (handle.commands, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tx_batch_reaches_the_far_end_of_a_line_through_the_middle_member() {
    let (a, b, c) = (Member::new(), Member::new(), Member::new());
    let members = [a.id(), b.id(), c.id()];
    let (to_a, _from_a) = start(&a, &[&b], &members);
    let (_to_b, mut from_b) = start(&b, &[], &members);
    let (_to_c, mut from_c) = start(&c, &[&b], &members);

    // A publishes a new tx every 200 ms (gossip drops what it cannot send yet, before subscriptions are
    // known), until C has one of them.
    let start = Instant::now();
    let mut sent = 0u64;
    let mut at_b = false;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let got = loop {
        assert!(start.elapsed() < DEADLINE, "C never received a tx that A published (B saw one: {at_b})");
        tokio::select! {
            _ = tick.tick() => {
                sent += 1;
                to_a.send(NetCommand::PublishTx(format!("tx {sent}").into_bytes())).await.unwrap();
            }
            Some(event) = from_b.recv() => at_b |= matches!(event, NetEvent::Txs(_)),
            Some(event) = from_c.recv() => match event {
                NetEvent::Txs(txs) => break txs,
                NetEvent::PeerConnected(peer) => assert_ne!(peer, a.id(), "A and C connected directly"),
                _ => {}
            },
        }
    };
    let got: Vec<String> = got.into_iter().map(|t| String::from_utf8(t).unwrap()).collect();
    assert!(!got.is_empty() && got.iter().all(|t| t.starts_with("tx ")), "C received {got:?}");
}
