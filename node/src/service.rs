//! Starting and stopping a node: load the home, open storage, serve the RPC, run the host loop, and on
//! Ctrl-C or SIGTERM stop taking requests, finish the block in progress and close the database.

use crate::home::Home;
use crate::host::{Host, HostEvent, SYNC_BATCH_MAX};
use crate::network::{GossipCheck, NetCommand, NetEvent, NetworkConfig, SYNC_RESPONSE_BYTES_MAX};
use crate::node::open_state;
use crate::node::NodeState;
use anyhow::Context;
use consort_sdk::encoding::encode;
use consort_sdk::{Keypair, SyncRequest, SyncResponse};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Runs the node in `home` until a shutdown signal. `on_ready` gets the bound RPC address.
pub async fn run(
    home: &Home,
    rpc_override: Option<SocketAddr>,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let (mut config, genesis, validator_key, node_key) = home.load()?;
    if let Some(addr) = rpc_override {
        config.rpc.listen = addr;
    }
    let listen = config.rpc.listen;
    let (state, inbox) = open_state(config, &genesis, &home.data_dir(), &validator_key)?;
    // Genesis is state now. Its accounts (1,000,000 of them are ~50 MB, and importing them freed many small
    // allocations more) would otherwise stay resident for the node's whole life.
    drop(genesis);
    crate::malloc_arenas::release_freed();
    let state = Arc::new(state);
    let (net, mut network, gossip_admission) = start_network(&state, &node_key)?;
    let host = Host::new(state.clone(), validator_key, inbox, Some(net))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for RPC on {listen} (is the port in use? pick another with --rpc)"))?;
    let bound = listener.local_addr()?;
    tracing::info!(chain_id = %state.chain_id, height = state.head().height, rpc = %bound, "node started");
    on_ready(bound);

    let (stop_tx, mut rpc_stop) = watch::channel(false);
    let app = crate::rpc::router(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rpc_stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    let host = tokio::task::spawn_blocking(move || host.run());

    let mut network_lost = None;
    tokio::select! {
        signal = shutdown_signal() => { signal?; tracing::info!("shutting down"); }
        done = host_done(&host) => { done?; }
        // Only a bug ends it early. Running on cut off from every peer would look alive and decide nothing:
        // stop instead, so that the operator's supervisor restarts the node.
        ended = &mut network => {
            let why = ended.err().map_or_else(|| "ended".to_owned(), |e| e.to_string());
            tracing::error!(why, "the p2p network stopped; shutting down");
            network_lost = Some(why);
        }
    }
    let _ = state.host_events.send(HostEvent::Shutdown);
    let _ = stop_tx.send(true);
    host.await.context("host loop panicked")?.context("consensus host loop failed")?;
    server.await.context("RPC task failed")?.context("RPC server failed")?;
    drop(gossip_admission);
    let height = state.head().height;
    drop(state);
    if let Some(why) = network_lost {
        anyhow::bail!(
            "the p2p network stopped ({why}) at height {height}; the database was closed cleanly, start the node again"
        );
    }
    tracing::info!(height, "stopped cleanly");
    Ok(())
}

/// Resolves only if the host loop ends by itself, which means it failed.
async fn host_done(host: &tokio::task::JoinHandle<anyhow::Result<()>>) -> anyhow::Result<()> {
    loop {
        if host.is_finished() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn shutdown_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

/// Starts the libp2p network: members' peers from state, peers to dial from config. Returns the command
/// channel, the network's task and the thread that admits gossiped txs.
fn start_network(
    state: &Arc<NodeState>,
    node_key: &Keypair,
) -> anyhow::Result<(tokio::sync::mpsc::Sender<NetCommand>, tokio::task::JoinHandle<()>, GossipAdmission)> {
    let p2p = &state.config.p2p;
    let listen = p2p.listen.parse().with_context(|| format!("p2p.listen {:?} is not a multiaddr", p2p.listen))?;
    let peers = p2p
        .peers
        .iter()
        .map(|p| p.parse().with_context(|| format!("p2p.peers entry {p:?} is not a multiaddr")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let members = state.allowed_peers()?;
    let config = NetworkConfig {
        chain_id: state.chain_id.clone(),
        listen,
        peers,
        members,
        message_bytes_max: p2p.message_bytes_max,
    };
    let check = GossipCheck {
        chain_id: state.chain_id.clone(),
        validators: state.validator_set.clone(),
        height: state.height_in_progress.clone(),
        message_bytes_max: p2p.message_bytes_max,
    };
    let server_state = state.clone();
    let serve = Box::new(move |req: &SyncRequest| serve_sync(&server_state, req));
    let (gossiped, gossip_admission) = GossipAdmission::spawn(state.clone())?;
    let sink_state = state.clone();
    let sink = Box::new(move |event: NetEvent| {
        let to_host = match event {
            NetEvent::Consensus { msg, from } => HostEvent::Consensus { msg, from },
            NetEvent::Synced { peer, response } => HostEvent::Synced { peer, response },
            NetEvent::PeerConnected(peer) => HostEvent::PeerConnected(peer),
            NetEvent::PeerAhead(peer) => HostEvent::PeerAhead(peer),
            NetEvent::Txs(batch) => {
                // A full queue drops the batch: its txs still reach us in the block that includes them.
                let count = batch.len() as u64;
                if gossiped.try_send(batch).is_err() {
                    sink_state.metrics.network.dropped("txs_received", count);
                }
                return;
            }
        };
        // A full inbox drops the message; the sender re-broadcasts until the height is decided.
        if sink_state.host_events.try_send(to_host).is_err() {
            sink_state.metrics.network.dropped("host_inbox_full", 1);
        }
    });
    let (handle, task) = crate::network::spawn(
        config,
        crate::network::identity_of(node_key.secret_bytes()),
        check,
        serve,
        sink,
        state.metrics.network.clone(),
    )?;
    tracing::info!(peer_id = %handle.local_peer_id, "p2p identity");
    let commands = handle.commands.clone();
    let _ = state.network.set(handle);
    Ok((commands, task, gossip_admission))
}

/// Gossiped tx batches waiting for admission; beyond this the network drops them rather than queue more.
pub const GOSSIP_BATCHES_QUEUED: usize = 256;

/// Admits gossiped txs on a thread of their own, so signature checks never hold up the network loop.
/// Refusals are normal there (most are txs we already hold).
struct GossipAdmission {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often an idle gossip admission thread looks whether the node is stopping.
const GOSSIP_ADMISSION_STOP_POLL: Duration = Duration::from_millis(100);

impl GossipAdmission {
    fn spawn(state: Arc<NodeState>) -> anyhow::Result<(SyncSender<Vec<Vec<u8>>>, GossipAdmission)> {
        let (queue, batches) = sync_channel::<Vec<Vec<u8>>>(GOSSIP_BATCHES_QUEUED);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("gossip-admission".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    match batches.recv_timeout(GOSSIP_ADMISSION_STOP_POLL) {
                        Ok(batch) => {
                            let txs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
                            crate::admission::admit_many(&state, &txs);
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .context("cannot start the gossip admission thread")?;
        Ok((queue, GossipAdmission { stop, thread: Some(thread) }))
    }
}

/// Ends the thread and waits for it, on every way out of `run`: its hold on the database must be gone
/// before the process exits, or RocksDB aborts.
impl Drop for GossipAdmission {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if self.thread.take().is_some_and(|thread| thread.join().is_err()) {
            tracing::error!("the gossip admission thread panicked");
        }
    }
}

/// Answers a block-sync request from storage: consecutive blocks with their commits, within limits.
fn serve_sync(state: &NodeState, req: &SyncRequest) -> SyncResponse {
    let head = state.head().height;
    let mut blocks = Vec::new();
    let mut bytes = 0usize;
    let last = req.from_height.saturating_add(req.count.min(SYNC_BATCH_MAX) as u64).min(head.saturating_add(1));
    for height in req.from_height.max(1)..last {
        let (Ok(Some(block)), Ok(Some(commit))) = (state.store.block(height), state.store.commit(height)) else {
            break;
        };
        bytes += encode(&block).len() + encode(&commit).len();
        if bytes > SYNC_RESPONSE_BYTES_MAX / 2 {
            break;
        }
        blocks.push((block, commit));
    }
    SyncResponse { blocks }
}
