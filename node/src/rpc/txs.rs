use super::ApiError;
use crate::admission::{admit, admit_many, AdmissionError};
use crate::node::NodeState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use consort_sdk::api::{
    BatchResult, SubmitBatchRequest, SubmitBatchResponse, SubmitTxRequest, SubmitTxResponse, TxResponse, TX_BATCH_MAX,
};
use consort_sdk::Hash;
use std::sync::Arc;

fn status_of(e: &AdmissionError) -> StatusCode {
    match e {
        AdmissionError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        AdmissionError::Malformed(_) => StatusCode::BAD_REQUEST,
        AdmissionError::Rule(crate::exec::TxRejection::NonceTooLow { .. }) => StatusCode::CONFLICT,
        AdmissionError::Rule(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AdmissionError::Mempool(crate::mempool::MempoolRejection::Full(_)) => StatusCode::SERVICE_UNAVAILABLE,
        AdmissionError::Mempool(_) => StatusCode::CONFLICT,
        AdmissionError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `POST /v1/txs` with `{"tx": "<hex of borsh(SignedTx)>"}` → 202 `{"hash"}` once in the mempool.
pub async fn submit(
    State(state): State<Arc<NodeState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SubmitTxResponse>), ApiError> {
    let result = parse_and_admit(&state, body);
    if let Err(e) = &result {
        state.metrics.reject(e.code);
    }
    result.map(|hash| (StatusCode::ACCEPTED, Json(SubmitTxResponse { hash })))
}

fn parse_and_admit(state: &NodeState, body: Result<Bytes, BytesRejection>) -> Result<Hash, ApiError> {
    let body = body.map_err(|r| ApiError::from_body_rejection(r, state.config.rpc.body_bytes_max))?;
    let request: SubmitTxRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("expected {{\"tx\": \"<hex>\"}}: {e}")))?;
    let bytes = hex::decode(request.tx.trim_start_matches("0x"))
        .map_err(|e| ApiError::bad_request("malformed_hex", format!("field tx is not hex: {e}")))?;
    let admitted = admit(state, &bytes);
    if admitted.is_ok() {
        state.gossip_txs(vec![bytes]);
    }
    admitted.map_err(|e| {
        let status = status_of(&e);
        if let AdmissionError::Store(store) = &e {
            return ApiError::internal(store);
        }
        ApiError::new(status, e.code(), e.to_string())
    })
}

/// `POST /v1/txs/batch` with `{"txs": ["<hex>", …]}` → 200 with one result per tx, in order. For load
/// generators and gateways: one request, one mempool lock per tx, no per-tx HTTP overhead.
pub async fn submit_batch(
    State(state): State<Arc<NodeState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SubmitBatchResponse>, ApiError> {
    let body = body.map_err(|r| ApiError::from_body_rejection(r, state.config.rpc.body_bytes_max))?;
    let request: SubmitBatchRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("expected {{\"txs\": [\"<hex>\", …]}}: {e}")))?;
    if request.txs.len() > TX_BATCH_MAX {
        let message = format!("{} txs in one batch; at most {TX_BATCH_MAX}", request.txs.len());
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large", message));
    }
    // Verification runs on all cores for a while: off the async workers.
    let results = tokio::task::spawn_blocking(move || admit_hex_batch(&state, &request.txs))
        .await
        .map_err(|e| ApiError::internal(format!("batch admission stopped: {e}")))?;
    Ok(Json(SubmitBatchResponse { results }))
}

fn admit_hex_batch(state: &NodeState, txs: &[String]) -> Vec<BatchResult> {
    let decoded: Vec<Result<Vec<u8>, hex::FromHexError>> =
        txs.iter().map(|tx| hex::decode(tx.trim_start_matches("0x"))).collect();
    let bytes: Vec<&[u8]> = decoded.iter().filter_map(|d| d.as_deref().ok()).collect();
    let mut admitted = admit_many(state, &bytes).into_iter();
    let mut gossip = Vec::new();
    let results = decoded
        .into_iter()
        .map(|d| match d {
            Err(e) => BatchResult::Refused { code: "malformed_hex".into(), message: e.to_string() },
            Ok(bytes) => match admitted.next().expect("one result per decoded tx") {
                Ok(hash) => {
                    gossip.push(bytes);
                    BatchResult::Accepted { hash }
                }
                Err(e) => {
                    state.metrics.reject(e.code());
                    BatchResult::Refused { code: e.code().into(), message: e.to_string() }
                }
            },
        })
        .collect();
    state.gossip_txs(gossip);
    results
}

/// `GET /v1/txs/{hash}`: a committed tx with its receipt; 404 while it is pending or unknown.
pub async fn get_tx(
    State(state): State<Arc<NodeState>>,
    Path(hash): Path<String>,
) -> Result<Json<TxResponse>, ApiError> {
    let hash: Hash =
        hash.parse().map_err(|e: consort_sdk::HashParseError| ApiError::bad_request("bad_hash", e.to_string()))?;
    let Some(receipt) = state.store.receipt(&hash)? else {
        return Err(ApiError::not_found(format!("tx {hash} is not committed (it may still be pending)")));
    };
    let (height, index) = (receipt.height, receipt.index);
    let block = state
        .store
        .block(height)?
        .ok_or_else(|| ApiError::internal(format!("block {height} of tx {hash} is missing")))?;
    let tx = block
        .txs
        .get(index as usize)
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("block {height} has no tx at index {index}")))?;
    Ok(Json(TxResponse { hash, tx, receipt }))
}
