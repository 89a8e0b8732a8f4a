//! The HTTP API under `/v1`, plus `/metrics`. Every error is JSON `{"error":{"code","message"}}`.

mod agreements;
mod contracts;
mod error;
mod events;
mod evidence;
mod governance;
mod openapi;
mod queries;
mod rate_limit;
mod txs;

pub use error::ApiError;

use crate::node::NodeState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub fn router(state: Arc<NodeState>) -> Router {
    let body_limit = state.config.rpc.body_bytes_max;
    let limiter = Arc::new(rate_limit::RateLimiter::new(&state.config.rpc));
    Router::new()
        .route("/v1/txs", post(txs::submit))
        .route("/v1/txs/batch", post(txs::submit_batch))
        .route("/v1/txs/{hash}", get(txs::get_tx))
        .route("/v1/blocks/latest", get(queries::latest_block))
        .route("/v1/blocks/{height}", get(queries::block))
        .route("/v1/accounts/{address}", get(queries::account))
        .route("/v1/status", get(queries::status))
        .route("/v1/codes/{hash}", get(contracts::code))
        .route("/v1/contracts/{address}", get(contracts::contract))
        .route("/v1/contracts/{address}/query", post(contracts::run_query))
        .route("/v1/members", get(governance::members_of))
        .route("/v1/gov/proposals", get(governance::proposals))
        .route("/v1/gov/proposals/{id}", get(governance::proposal))
        .route("/v1/agreements", get(agreements::list))
        .route("/v1/agreements/{address}", get(agreements::one))
        .route("/v1/events", get(events::stream))
        .route("/v1/evidence", get(evidence::list))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/metrics", get(queries::metrics))
        .fallback(|| async { ApiError::not_found("no such endpoint; the API lives under /v1") })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(limiter, rate_limit::limit))
        .with_state(state)
}
