//! The agreement registry: which agreements an address is party to, and each one's standard view with
//! what that party is owed (DESIGN §7). Indexed from `agreement_party` events; views come from each
//! contract's `{"agreement": {…}}` query.

use super::ApiError;
use crate::contracts::records::{
    agreement_key, agreement_party_key, agreement_party_prefix, agreement_prefix, contract_key, trailing_address,
    ContractInfo,
};
use crate::exec::Overlay;
use crate::node::NodeState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use consort_sdk::api::{AgreementEntry, AgreementView, AgreementsResponse};
use consort_sdk::Address;
use serde::Deserialize;
use std::sync::Arc;

/// Most agreements in one answer (each costs a contract query); `next` pages on.
pub const AGREEMENTS_PAGE_MAX: usize = 50;

#[derive(Deserialize)]
pub struct ListParams {
    party: Option<String>,
    after: Option<String>,
}

fn parse_address(text: &str) -> Result<Address, ApiError> {
    text.parse().map_err(|e: consort_sdk::AddressError| ApiError::bad_request("bad_address", e.to_string()))
}

/// The standard view of `contract`, for `party` only when given.
fn entry(state: &NodeState, contract: Address, role: Option<String>, party: Option<&Address>) -> AgreementEntry {
    let overlay = Overlay::new(state.shared_state());
    let label = match overlay.record::<ContractInfo>(&contract_key(&contract)) {
        Ok(Some(info)) => info.label,
        _ => String::new(),
    };
    let msg = serde_json::json!({ "agreement": { "party": party.map(|p| p.to_string()) } }).to_string();
    let answer = state.query_contract(&contract, msg.as_bytes());
    let (view, error) = match answer.map_err(|e| e.to_string()).and_then(|(data, _)| {
        serde_json::from_value::<AgreementView>(data).map_err(|e| format!("not a standard agreement view: {e}"))
    }) {
        Ok(view) => (Some(view), None),
        Err(e) => (None, Some(e)),
    };
    AgreementEntry { contract, label, role, view, error }
}

fn list_blocking(
    state: &NodeState,
    party: Option<Address>,
    after: Option<Address>,
) -> Result<AgreementsResponse, ApiError> {
    let prefix = party.as_ref().map_or_else(|| agreement_prefix().to_vec(), agreement_party_prefix);
    let mut cursor = after.map(|a| match &party {
        Some(p) => agreement_party_key(p, &a),
        None => agreement_key(&a),
    });
    let overlay = Overlay::new(state.shared_state());
    let mut agreements = Vec::new();
    while agreements.len() < AGREEMENTS_PAGE_MAX {
        let Some((key, value)) = overlay.next(&prefix, cursor.as_deref())? else { break };
        let contract = trailing_address(&key).ok_or_else(|| ApiError::internal("malformed agreement index key"))?;
        let role = party.is_some().then(|| String::from_utf8_lossy(&value).into_owned());
        agreements.push(entry(state, contract, role, party.as_ref()));
        cursor = Some(key);
    }
    let next = (agreements.len() == AGREEMENTS_PAGE_MAX).then(|| agreements.last().map(|e| e.contract)).flatten();
    Ok(AgreementsResponse { agreements, next })
}

pub async fn list(
    State(state): State<Arc<NodeState>>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<AgreementsResponse>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let party = params.party.as_deref().map(parse_address).transpose()?;
    let after = params.after.as_deref().map(parse_address).transpose()?;
    let answer = tokio::task::spawn_blocking(move || list_blocking(&state, party, after));
    Ok(Json(answer.await.map_err(ApiError::internal)??))
}

pub async fn one(
    State(state): State<Arc<NodeState>>,
    Path(address): Path<String>,
) -> Result<Json<AgreementEntry>, ApiError> {
    let contract = parse_address(&address)?;
    let answer = tokio::task::spawn_blocking(move || {
        let overlay = Overlay::new(state.shared_state());
        match overlay.get(&agreement_key(&contract))? {
            None => Err(ApiError::not_found(format!("{contract} is not an agreement contract"))),
            Some(_) => Ok(entry(&state, contract, None, None)),
        }
    });
    Ok(Json(answer.await.map_err(ApiError::internal)??))
}
