use super::ApiError;
use crate::node::NodeState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use consort_sdk::api::{AccountResponse, BlockResponse, StatusResponse};
use consort_sdk::Address;
use std::sync::Arc;

fn block_at(state: &NodeState, height: u64) -> Result<BlockResponse, ApiError> {
    let head = state.head();
    if height == 0 || height > head.height {
        return Err(ApiError::not_found(format!("no block at height {height}; blocks run from 1 to {}", head.height)));
    }
    let missing = || ApiError::internal(format!("block {height} is below the head but missing from storage"));
    let block = state.store.block(height)?.ok_or_else(missing)?;
    let commit = state.store.commit(height)?.ok_or_else(missing)?;
    let app_hash = state.store.app_hash_at(height)?.ok_or_else(missing)?;
    Ok(BlockResponse {
        hash: block.hash(),
        tx_hashes: block.txs.iter().map(|t| t.hash()).collect(),
        header: block.header,
        commit,
        app_hash,
    })
}

pub async fn block(
    State(state): State<Arc<NodeState>>,
    Path(height): Path<String>,
) -> Result<Json<BlockResponse>, ApiError> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::bad_request("bad_height", format!("{height:?} is not a block height (a whole number, or 'latest')"))
    })?;
    block_at(&state, height).map(Json)
}

pub async fn latest_block(State(state): State<Arc<NodeState>>) -> Result<Json<BlockResponse>, ApiError> {
    let height = state.head().height;
    if height == 0 {
        return Err(ApiError::not_found("no block has been committed yet"));
    }
    block_at(&state, height).map(Json)
}

/// An address never seen reads as balance 0, nonce 0: every address is a valid destination.
pub async fn account(
    State(state): State<Arc<NodeState>>,
    Path(address): Path<String>,
) -> Result<Json<AccountResponse>, ApiError> {
    let address: Address =
        address.parse().map_err(|e: consort_sdk::AddressError| ApiError::bad_request("bad_address", e.to_string()))?;
    let account = state.account(&address)?.unwrap_or_default();
    Ok(Json(AccountResponse { address, balance: account.balance, nonce: account.nonce }))
}

pub async fn status(State(state): State<Arc<NodeState>>) -> Json<StatusResponse> {
    let head = state.head();
    Json(StatusResponse {
        chain_id: state.chain_id.clone(),
        height: head.height,
        app_hash: head.app_hash,
        latest_block_hash: head.block_hash,
        latest_block_time_ms: head.block_time_ms,
        peers: state.metrics.network.peers_connected.get().max(0) as u32,
        mempool_txs: state.mempool.lock().expect("mempool lock poisoned").len() as u64,
        validator: state.validator_address,
    })
}

pub async fn metrics(State(state): State<Arc<NodeState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
