//! Membership and governance, read-only: members, validators, deployers, rules, proposals.

use super::ApiError;
use crate::contracts::records::deployer_prefix;
use crate::exec::Overlay;
use crate::governance::records::{proposal_key, Proposal, ProposalStatus};
use crate::governance::{governed_limits, members, params, validators};
use crate::node::NodeState;
use axum::extract::{Path, State};
use axum::Json;
use consort_sdk::api::{MemberView, MembersResponse, ProposalView, ProposalsResponse, ValidatorView};
use consort_sdk::Address;
use std::sync::Arc;

/// Most proposals one answer lists (the newest).
pub const PROPOSALS_PAGE_MAX: usize = 100;

pub async fn members_of(State(state): State<Arc<NodeState>>) -> Result<Json<MembersResponse>, ApiError> {
    let overlay = Overlay::new(state.shared_state());
    let members = members(&overlay)?;
    let params = params(&overlay)?;
    let mut deployers = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    while let Some((key, _)) = overlay.next(deployer_prefix(), cursor.as_deref())? {
        if let Some(a) = crate::contracts::records::trailing_address(&key) {
            deployers.push(a);
        }
        cursor = Some(key);
    }
    Ok(Json(MembersResponse {
        approvals_needed: params.approvals_needed(members.len() as u64),
        members: members
            .into_iter()
            .map(|m| MemberView { name: m.name, admins: m.admins, peer_ids: m.peer_ids })
            .collect(),
        validators: validators(&overlay)?
            .into_iter()
            .map(|v| ValidatorView {
                member: v.member,
                address: Address::from_public_key(&v.public_key),
                public_key: v.public_key,
                power: v.power,
            })
            .collect(),
        deployers,
        threshold_num: params.threshold_num,
        threshold_den: params.threshold_den,
        voting_period_blocks: params.voting_period_blocks,
        limits: serde_json::to_value(governed_limits(&overlay)?).unwrap_or_default(),
    }))
}

fn view(p: Proposal, height: u64) -> ProposalView {
    let (status, reason) = match p.status {
        ProposalStatus::Open if height > p.deadline_height => ("expired".to_owned(), None),
        ProposalStatus::Open => ("open".to_owned(), None),
        ProposalStatus::Executed => ("executed".to_owned(), None),
        ProposalStatus::Failed(reason) => ("failed".to_owned(), Some(reason)),
    };
    ProposalView {
        id: p.id,
        kind: p.kind,
        proposer: p.proposer,
        created_height: p.created_height,
        deadline_height: p.deadline_height,
        approvals: p.approvals,
        status,
        reason,
    }
}

pub async fn proposals(State(state): State<Arc<NodeState>>) -> Result<Json<ProposalsResponse>, ApiError> {
    let overlay = Overlay::new(state.shared_state());
    // The next height is the one an approval sent now would land in.
    let height = state.head().height + 1;
    let next: u64 = overlay.record(crate::governance::records::next_proposal_key())?.unwrap_or(1);
    let mut out = Vec::new();
    for id in (1..next).rev().take(PROPOSALS_PAGE_MAX) {
        if let Some(p) = overlay.record::<Proposal>(&proposal_key(id))? {
            out.push(view(p, height));
        }
    }
    Ok(Json(ProposalsResponse { proposals: out }))
}

pub async fn proposal(
    State(state): State<Arc<NodeState>>,
    Path(id): Path<String>,
) -> Result<Json<ProposalView>, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::bad_request("bad_id", format!("{id:?} is not a proposal id")))?;
    let overlay = Overlay::new(state.shared_state());
    let p: Proposal =
        overlay.record(&proposal_key(id))?.ok_or_else(|| ApiError::not_found(format!("no proposal {id}")))?;
    Ok(Json(view(p, state.head().height + 1)))
}
