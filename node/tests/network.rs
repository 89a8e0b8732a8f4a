//! The libp2p adapter on real loopback sockets: members exchange checked consensus messages and sync
//! blocks; a forged message is rejected and counted; a non-member is refused at connection time; a member
//! relays to one whose link to the publisher is missing; a node's own vote overtakes a full queue of txs.

use consort_node::consensus::{Validator, ValidatorSet};
use consort_node::network::{
    identity_of, spawn, GossipCheck, NetCommand, NetEvent, NetworkConfig, NetworkHandle, NetworkMetrics,
    TX_GOSSIP_QUEUE_BATCHES,
};
use consort_sdk::{ConsensusMessage, Keypair, SyncRequest, SyncResponse, Vote, VoteKind};
use libp2p::{Multiaddr, PeerId};
use std::sync::atomic::AtomicU64;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Peer {
    handle: NetworkHandle,
    events: mpsc::Receiver<NetEvent>,
    metrics: NetworkMetrics,
    addr: Multiaddr,
}

/// The peer ids of the nodes `start` runs with these seeds.
fn peer_ids(seeds: &[u8]) -> Vec<PeerId> {
    seeds.iter().map(|s| identity_of([*s; 32]).public().to_peer_id()).collect()
}

fn start(seed: u8, members: &[PeerId], dial: Vec<Multiaddr>, set: &ValidatorSet) -> Peer {
    let key = identity_of([seed; 32]);
    let peer_id = key.public().to_peer_id();
    let port = free_port();
    let listen: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap();
    let (tx, events) = mpsc::channel();
    let metrics = NetworkMetrics::default();
    let check = GossipCheck {
        chain_id: "net-test".into(),
        validators: Arc::new(std::sync::RwLock::new(set.clone())),
        height: Arc::new(AtomicU64::new(1)),
        message_bytes_max: 1 << 20,
    };
    let (handle, _task) = spawn(
        NetworkConfig {
            chain_id: "net-test".into(),
            listen: listen.clone(),
            peers: dial,
            members: members.to_vec(),
            message_bytes_max: 1 << 20,
        },
        key,
        check,
        Box::new(|req: &SyncRequest| SyncResponse { blocks: Vec::with_capacity(req.count.min(1) as usize) }),
        Box::new(move |e| {
            let _ = tx.send(e);
        }),
        metrics.clone(),
    )
    .unwrap();
    Peer { handle, events, metrics, addr: format!("{listen}/p2p/{peer_id}").parse().unwrap() }
}

fn vote(validator: &Keypair, round: u32) -> ConsensusMessage {
    let v = Vote { chain_id: "net-test".into(), height: 1, round, kind: VoteKind::Prevote, block_hash: None };
    ConsensusMessage::Vote(validator.sign_vote_full(v))
}

/// Waits until `condition` holds, failing after `DEADLINE`.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Publishes fresh votes from `from` until `to` receives one matching `want`.
async fn until_received(
    from: &Peer,
    to: &Peer,
    mut make: impl FnMut(u32) -> ConsensusMessage,
    want: impl Fn(&NetEvent) -> bool,
) {
    let start = Instant::now();
    let mut round = 0;
    loop {
        assert!(start.elapsed() < DEADLINE, "message never arrived");
        from.handle.commands.send(NetCommand::PublishConsensus(make(round))).await.unwrap();
        round += 1;
        // Wait for an event; after a quiet spell, publish a fresh message (the mesh may still be forming).
        while let Ok(e) = to.events.recv_timeout(Duration::from_millis(200)) {
            if want(&e) {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_gossip_and_sync_and_strangers_are_refused() {
    let validator = Keypair::generate();
    let set = one_validator(&validator);
    let members = peer_ids(&[1, 2]);
    let a = start(1, &members, vec![], &set);
    let b = start(2, &members, vec![a.addr.clone()], &set);

    // A checked vote crosses from a to b.
    until_received(
        &a,
        &b,
        |r| vote(&validator, r),
        |e| matches!(e, NetEvent::Consensus { msg, .. } if matches!(**msg, ConsensusMessage::Vote(_))),
    )
    .await;

    // A forged vote is rejected by b's checks and counted; nothing reaches b's host.
    let mut forged = vote(&validator, 999);
    if let ConsensusMessage::Vote(v) = &mut forged {
        v.signature.0[0] ^= 1;
    }
    a.handle.commands.send(NetCommand::PublishConsensus(forged)).await.unwrap();
    eventually("the forged vote rejected", || b.metrics.gossip_rejected.get() > 0).await;
    while let Ok(e) = b.events.try_recv() {
        if let NetEvent::Consensus { msg, .. } = e {
            assert!(
                !matches!(*msg, ConsensusMessage::Vote(ref v) if v.vote.round == 999),
                "forged vote reached the host"
            );
        }
    }

    // Block sync: b asks a, a answers.
    b.handle
        .commands
        .send(NetCommand::RequestSync {
            peer: a.handle.local_peer_id,
            request: SyncRequest { from_height: 1, count: 10 },
        })
        .await
        .unwrap();
    let start_wait = Instant::now();
    loop {
        assert!(start_wait.elapsed() < DEADLINE, "no sync response");
        if let Ok(NetEvent::Synced { peer, .. }) = b.events.recv_timeout(Duration::from_millis(100)) {
            assert_eq!(peer, a.handle.local_peer_id);
            break;
        }
    }

    // A stranger dialling a member is refused at connection time and hears nothing.
    let stranger = start(9, &members, vec![a.addr.clone()], &set);
    eventually("the stranger refused", || a.metrics.peers_refused.get() > 0).await;
    // Once the member b has heard a's latest broadcast, the stranger would have heard it too.
    until_received(&a, &b, |r| vote(&validator, 2000 + r), |e| {
        matches!(e, NetEvent::Consensus { msg, .. } if matches!(**msg, ConsensusMessage::Vote(ref v) if v.vote.round >= 2000))
    })
    .await;
    assert!(
        !stranger.events.try_iter().any(|e| matches!(e, NetEvent::Consensus { .. })),
        "a non-member received messages"
    );
    assert_eq!(a.metrics.peers_connected.get(), 1, "only the member b stays connected");
}

fn one_validator(validator: &Keypair) -> ValidatorSet {
    ValidatorSet::new(vec![Validator {
        name: "v".into(),
        public_key: validator.public(),
        address: validator.address(),
        power: 1,
    }])
}

/// A line A — B — C where only B connects to both: whatever the mesh settings, B must relay what A publishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tx_batch_reaches_the_far_end_of_a_line_through_the_middle_member() {
    let members = peer_ids(&[11, 12, 13]);
    let none = ValidatorSet::new(vec![]);
    let b = start(12, &members, vec![], &none);
    let a = start(11, &members, vec![b.addr.clone()], &none);
    let c = start(13, &members, vec![b.addr.clone()], &none);

    // A publishes a new tx every 200 ms (gossip drops what it cannot send yet, before subscriptions are
    // known), until C has one of them.
    let start = Instant::now();
    let mut sent = 0u64;
    let mut at_b = false;
    let got = loop {
        assert!(start.elapsed() < DEADLINE, "C never received a tx that A published (B saw one: {at_b})");
        sent += 1;
        a.handle.txs.send(vec![format!("tx {sent}").into_bytes()]).await.unwrap();
        at_b |= b.events.try_iter().any(|e| matches!(e, NetEvent::Txs(_)));
        match c.events.recv_timeout(Duration::from_millis(200)) {
            Ok(NetEvent::Txs(txs)) => break txs,
            Ok(NetEvent::PeerConnected(peer)) => assert_ne!(peer, members[0], "A and C connected directly"),
            _ => {}
        }
    };
    let got: Vec<String> = got.into_iter().map(|t| String::from_utf8(t).unwrap()).collect();
    assert!(!got.is_empty() && got.iter().all(|t| t.starts_with("tx ")), "C received {got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_own_vote_goes_out_ahead_of_a_full_tx_queue() {
    let validator = Keypair::generate();
    let set = one_validator(&validator);
    let members = peer_ids(&[21, 22]);
    let b = start(22, &members, vec![], &set);
    let a = start(21, &members, vec![b.addr.clone()], &set);

    // Until B has a first tx from A, A does not know B's subscriptions and gossip drops what it publishes.
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < DEADLINE, "B never received a tx from A");
        a.handle.txs.send(vec![b"warm-up".to_vec()]).await.unwrap();
        if let Ok(NetEvent::Txs(_)) = b.events.recv_timeout(Duration::from_millis(200)) {
            break;
        }
    }

    // Batches of 256 KiB, each a gossip message of its own (and each different, or gossip would drop it as a
    // duplicate), until A's tx queue is full.
    let batch = |n: u32| (0..64u32).map(|i| [n.to_le_bytes(), i.to_le_bytes()].concat().repeat(512)).collect();
    let flood = Instant::now();
    let mut queued = 0u32;
    while a.handle.txs.try_send(batch(queued)).is_ok() {
        queued += 1;
        assert!(queued < 10_000, "A's tx queue never filled");
    }
    let vote = vote(&validator, 0);
    a.handle.commands.try_send(NetCommand::PublishConsensus(vote.clone())).expect("a vote is queued whatever the txs");

    // B gets the vote, and after it most of the batches that were waiting when it was queued.
    let mut after_vote: Option<usize> = None;
    while after_vote.is_none_or(|n| n < TX_GOSSIP_QUEUE_BATCHES / 2) {
        assert!(
            flood.elapsed() < DEADLINE,
            "B got the vote: {}; tx batches after it: {after_vote:?}",
            after_vote.is_some()
        );
        match b.events.recv_timeout(Duration::from_secs(1)) {
            Ok(NetEvent::Consensus { msg, .. }) => {
                assert_eq!(*msg, vote);
                after_vote = Some(0);
            }
            Ok(NetEvent::Txs(_)) => after_vote = after_vote.map(|n| n + 1),
            _ => {}
        }
    }
}
