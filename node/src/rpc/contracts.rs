//! Contract endpoints: stored code, contract records, and read-only queries.

use super::ApiError;
use crate::contracts::records::{code_info_key, contract_key, CodeInfo, ContractInfo};
use crate::contracts::{CallError, QueryError};
use crate::exec::Overlay;
use crate::node::NodeState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use consort_sdk::api::{CodeInfoResponse, ContractInfoResponse, QueryResponse};
use consort_sdk::{Address, Hash};
use std::sync::Arc;

fn parse_address(text: &str) -> Result<Address, ApiError> {
    text.parse().map_err(|e: consort_sdk::AddressError| ApiError::bad_request("bad_address", e.to_string()))
}

pub async fn code(
    State(state): State<Arc<NodeState>>,
    Path(hash): Path<String>,
) -> Result<Json<CodeInfoResponse>, ApiError> {
    let code_hash: Hash =
        hash.parse().map_err(|_| ApiError::bad_request("bad_hash", format!("{hash:?} is not a 64-digit hex hash")))?;
    let overlay = Overlay::new(state.shared_state());
    let info: CodeInfo = overlay
        .record(&code_info_key(&code_hash))?
        .ok_or_else(|| ApiError::not_found(format!("no code with hash {code_hash} is stored")))?;
    Ok(Json(CodeInfoResponse { code_hash, size: info.size, creator: info.creator, stored_height: info.stored_height }))
}

pub async fn contract(
    State(state): State<Arc<NodeState>>,
    Path(address): Path<String>,
) -> Result<Json<ContractInfoResponse>, ApiError> {
    let address = parse_address(&address)?;
    let overlay = Overlay::new(state.shared_state());
    let info: ContractInfo = overlay
        .record(&contract_key(&address))?
        .ok_or_else(|| ApiError::not_found(format!("no contract at {address}")))?;
    let balance = overlay.account(&address)?.unwrap_or_default().balance;
    Ok(Json(ContractInfoResponse {
        address,
        code_hash: info.code_hash,
        admin: info.admin,
        label: info.label,
        creator: info.creator,
        created_height: info.created_height,
        balance,
    }))
}

/// Runs the query on a blocking thread: contract code may take up to the query gas cap.
pub async fn run_query(
    State(state): State<Arc<NodeState>>,
    Path(address): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<QueryResponse>, ApiError> {
    let body = body.map_err(|r| ApiError::from_body_rejection(r, state.config.rpc.body_bytes_max))?;
    let address = parse_address(&address)?;
    if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return Err(ApiError::bad_request("malformed_json", "the request body must be the query message as JSON"));
    }
    let task = tokio::task::spawn_blocking(move || state.query_contract(&address, &body));
    let (data, gas_used) = task.await.map_err(ApiError::internal)?.map_err(|e| match e {
        QueryError::UnknownContract(a) => ApiError::not_found(format!("no contract at {a}")),
        QueryError::TooLarge { .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "msg_too_large", e.to_string()),
        QueryError::Call(CallError::Storage(m)) => ApiError::internal(m),
        QueryError::Call(CallError::Busy) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string()),
        QueryError::Call(call) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, call.code(), call.to_string()),
        QueryError::Store(s) => ApiError::internal(s),
    })?;
    Ok(Json(QueryResponse { data, gas_used }))
}
