//! `GET /v1/evidence?from=HEIGHT`: verified validator faults this node saw, in height order.

use super::ApiError;
use crate::node::NodeState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use consort_sdk::api::{EvidenceResponse, EVIDENCE_PAGE_MAX};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct Params {
    from: Option<u64>,
}

pub async fn list(
    State(state): State<Arc<NodeState>>,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<EvidenceResponse>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("bad_query", format!("{}; expected ?from=HEIGHT", e.body_text())))?;
    let evidence = state.store.evidence_from(params.from.unwrap_or(0), EVIDENCE_PAGE_MAX)?;
    Ok(Json(EvidenceResponse { evidence }))
}
