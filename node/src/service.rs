//! Starting and stopping a node: load the home, open storage, serve the RPC, run the host loop, and on
//! Ctrl-C or SIGTERM stop taking requests, finish the block in progress and close the database.

use crate::home::Home;
use crate::host::{Host, HostEvent};
use crate::node::open_state;
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// Runs the node in `home` until a shutdown signal. `on_ready` gets the bound RPC address.
pub async fn run(
    home: &Home,
    rpc_override: Option<SocketAddr>,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let (mut config, genesis, validator_key) = home.load()?;
    if let Some(addr) = rpc_override {
        config.rpc.listen = addr;
    }
    let listen = config.rpc.listen;
    let (state, inbox) = open_state(config, &genesis, &home.data_dir(), &validator_key)?;
    let state = Arc::new(state);
    let host = Host::new(state.clone(), validator_key, inbox)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for RPC on {listen} (is the port in use? pick another with --rpc)"))?;
    let bound = listener.local_addr()?;
    tracing::info!(chain_id = %state.chain_id, height = state.head().height, rpc = %bound, "node started");
    on_ready(bound);

    let (stop_tx, mut rpc_stop) = watch::channel(false);
    let app = crate::rpc::router(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rpc_stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    let host = tokio::task::spawn_blocking(move || host.run());

    tokio::select! {
        signal = shutdown_signal() => { signal?; tracing::info!("shutting down"); }
        done = host_done(&host) => { done?; }
    }
    let _ = state.host_events.send(HostEvent::Shutdown);
    let _ = stop_tx.send(true);
    host.await.context("host loop panicked")?.context("consensus host loop failed")?;
    server.await.context("RPC task failed")?.context("RPC server failed")?;
    let height = state.head().height;
    drop(state);
    tracing::info!(height, "stopped cleanly");
    Ok(())
}

/// Resolves only if the host loop ends by itself, which means it failed.
async fn host_done(host: &tokio::task::JoinHandle<anyhow::Result<()>>) -> anyhow::Result<()> {
    loop {
        if host.is_finished() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
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
