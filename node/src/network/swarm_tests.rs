//! Real swarms on loopback, and the gossip settings they run. Gossip reaches a member whose link to the publisher is missing (a line A — B — C,
//! where only B connects to both: whatever the mesh settings, B must relay what A publishes), and a node's
//! own consensus messages go out ahead of a full queue of txs.

use super::swarm::TX_GOSSIP_QUEUE_BATCHES;
use super::{spawn, GossipCheck, NetCommand, NetEvent, NetworkConfig, NetworkHandle, NetworkMetrics};
use crate::consensus::{Validator, ValidatorSet};
use consort_sdk::{Address, ConsensusMessage, Hash, SyncResponse, Vote, VoteKind};
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

/// Starts `me`, dialling `dial`, with `validators` as the consensus set; its accepted events go to the
/// returned channel.
fn start(
    me: &Member,
    dial: &[&Member],
    members: &[PeerId],
    validators: ValidatorSet,
) -> (NetworkHandle, mpsc::UnboundedReceiver<NetEvent>) {
    let config = NetworkConfig {
        chain_id: "relay".into(),
        listen: format!("/ip4/127.0.0.1/tcp/{}", me.port).parse().unwrap(),
        peers: dial.iter().map(|m| m.addr()).collect(),
        members: members.to_vec(),
        message_bytes_max: 1 << 20,
    };
    let check = GossipCheck {
        chain_id: "relay".into(),
        validators: Arc::new(RwLock::new(validators)),
        height: Arc::new(AtomicU64::new(1)),
        message_bytes_max: 1 << 20,
    };
    let (events, received) = mpsc::unbounded_channel();
    let sink = Box::new(move |event| {
        let _ = events.send(event);
    });
    let serve = Box::new(|_: &_| SyncResponse { blocks: vec![] });
    let (handle, _task) = spawn(config, me.key.clone(), check, serve, sink, NetworkMetrics::default()).unwrap();
    (handle, received)
}

fn no_validators() -> ValidatorSet {
    ValidatorSet::new(vec![])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tx_batch_reaches_the_far_end_of_a_line_through_the_middle_member() {
    let (a, b, c) = (Member::new(), Member::new(), Member::new());
    let members = [a.id(), b.id(), c.id()];
    let (to_a, _from_a) = start(&a, &[&b], &members, no_validators());
    let (_to_b, mut from_b) = start(&b, &[], &members, no_validators());
    let (_to_c, mut from_c) = start(&c, &[&b], &members, no_validators());

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
                to_a.txs.send(vec![format!("tx {sent}").into_bytes()]).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_own_vote_goes_out_ahead_of_a_full_tx_queue() {
    let (a, b) = (Member::new(), Member::new());
    let members = [a.id(), b.id()];
    let voter = consort_sdk::Keypair::generate();
    let validators = || {
        let public_key = voter.public();
        let address = Address::from_public_key(&public_key);
        ValidatorSet::new(vec![Validator { name: "v".into(), public_key, address, power: 1 }])
    };
    let (to_a, _from_a) = start(&a, &[&b], &members, validators());
    let (_to_b, mut from_b) = start(&b, &[], &members, validators());

    // Until B has a first tx from A, A does not know B's subscriptions and gossip drops what it publishes.
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        assert!(start.elapsed() < DEADLINE, "B never received a tx from A");
        tokio::select! {
            _ = tick.tick() => to_a.txs.send(vec![b"warm-up".to_vec()]).await.unwrap(),
            Some(event) = from_b.recv() => if matches!(event, NetEvent::Txs(_)) { break },
        }
    }

    // Batches of 256 KiB, each a gossip message of its own (and each different, or gossip would drop it as a
    // duplicate), until A's tx queue is full.
    let batch = |n: u32| (0..64u32).map(|i| [n.to_le_bytes(), i.to_le_bytes()].concat().repeat(512)).collect();
    let flood = Instant::now();
    let mut queued = 0u32;
    while to_a.txs.try_send(batch(queued)).is_ok() {
        queued += 1;
        assert!(queued < 10_000, "A's tx queue never filled");
    }
    let vote =
        Vote { chain_id: "relay".into(), height: 1, round: 0, kind: VoteKind::Prevote, block_hash: Some(Hash::ZERO) };
    let vote = ConsensusMessage::Vote(voter.sign_vote_full(vote));
    to_a.commands.try_send(NetCommand::PublishConsensus(vote.clone())).expect("a vote is queued whatever the txs");

    // B gets the vote, and after it most of the batches that were waiting when it was queued.
    let mut after_vote: Option<usize> = None;
    while after_vote.is_none_or(|n| n < TX_GOSSIP_QUEUE_BATCHES / 2) {
        assert!(
            flood.elapsed() < DEADLINE,
            "B got the vote: {}; tx batches after it: {after_vote:?}",
            after_vote.is_some()
        );
        let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(1), from_b.recv()).await else { continue };
        match event {
            NetEvent::Consensus { msg, .. } => {
                assert_eq!(*msg, vote);
                after_vote = Some(0);
            }
            NetEvent::Txs(_) => after_vote = after_vote.map(|n| n + 1),
            _ => {}
        }
    }
}

/// Gossipsub prunes a mesh above mesh_n_high by shuffling all but its `retain_scores` best peers, slicing
/// at `mesh.len() - retain_scores`: with more retained than such a mesh holds, the heartbeat panics and the
/// member's network stops (it did, in a 4-validator testnet under load, with gossipsub's default of 4).
#[test]
fn pruning_an_oversized_mesh_retains_no_more_peers_than_it_holds() {
    let config = super::swarm::gossip_config(1 << 20).unwrap();
    let smallest_pruned_mesh = config.mesh_n_high() + 1;
    assert!(
        config.retain_scores() <= smallest_pruned_mesh,
        "retain_scores {} > {smallest_pruned_mesh} peers",
        config.retain_scores()
    );
}
