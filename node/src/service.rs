//! Starting and stopping a node: load the home, open storage, serve the RPC, run the host loop, and on
//! Ctrl-C or SIGTERM stop taking requests, finish the block in progress and close the database.

use crate::home::Home;
use crate::node::{open_state, run_block_loop};
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
    let state = Arc::new(open_state(config, &genesis, &home.data_dir(), &validator_key)?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for RPC on {listen} (is the port in use? pick another with --rpc)"))?;
    let bound = listener.local_addr()?;
    tracing::info!(chain_id = %state.chain_id, height = state.head().height, rpc = %bound, "node started");
    on_ready(bound);

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut rpc_stop = stop_rx.clone();
    let app = crate::rpc::router(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rpc_stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    let blocks = tokio::spawn(run_block_loop(state.clone(), validator_key, stop_rx));

    tokio::select! {
        signal = shutdown_signal() => { signal?; tracing::info!("shutting down"); }
        done = blocks_done(&blocks) => { done?; }
    }
    let _ = stop_tx.send(true);
    blocks.await.context("block loop task failed")??;
    server.await.context("RPC task failed")?.context("RPC server failed")?;
    let height = state.head().height;
    drop(state);
    tracing::info!(height, "stopped cleanly");
    Ok(())
}

/// Resolves only if the block loop ends by itself, which means it failed.
async fn blocks_done(blocks: &tokio::task::JoinHandle<anyhow::Result<()>>) -> anyhow::Result<()> {
    loop {
        if blocks.is_finished() {
            anyhow::bail!("block production stopped unexpectedly");
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
