//! Governance transactions: proposals by member organisations' admin keys, approvals (one per member),
//! and execution once the threshold is reached within the voting period. A proposal that passes but can
//! no longer be carried out is marked failed; an expired one never does anything.

use super::records::*;
use crate::contracts::records::deployer_key;
use crate::exec::{Overlay, TxRejection};
use crate::storage::StoreError;
use consort_sdk::encoding::encode;
use consort_sdk::{Address, Event, GovAction, ProposalKind};

/// Longest member name.
pub const MEMBER_NAME_BYTES_MAX: usize = 64;
/// Most admin keys or node peer ids per member.
pub const MEMBER_KEYS_MAX: usize = 16;
/// Most members in a consortium.
pub const MEMBERS_MAX: usize = 256;

/// The outcome of a governance tx: its events, or why it was refused.
pub type GovResult = Result<Result<Vec<Event>, TxRejection>, StoreError>;

fn refuse(message: impl Into<String>) -> Result<Vec<Event>, String> {
    Err(message.into())
}

/// Every member, in name order.
pub fn members(overlay: &Overlay) -> Result<Vec<Member>, StoreError> {
    let mut out = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    while let Some((key, _)) = overlay.next(member_prefix(), cursor.as_deref())? {
        if let Some(m) = overlay.record::<Member>(&key)? {
            out.push(m);
        }
        cursor = Some(key);
    }
    Ok(out)
}

pub fn validators(overlay: &Overlay) -> Result<Vec<ValidatorRecord>, StoreError> {
    Ok(overlay.record(VALIDATORS_KEY)?.unwrap_or_default())
}

pub fn params(overlay: &Overlay) -> Result<GovParams, StoreError> {
    Ok(overlay.record(PARAMS_KEY)?.unwrap_or_default())
}

pub fn limits(overlay: &Overlay) -> Result<Option<ChainLimits>, StoreError> {
    overlay.record(LIMITS_KEY)
}

fn member_of(overlay: &Overlay, admin: &Address) -> Result<Option<String>, StoreError> {
    Ok(overlay.get(&admin_key(admin))?.map(|name| String::from_utf8_lossy(&name).into_owned()))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MEMBER_NAME_BYTES_MAX
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// Carries out `kind` on `overlay`, or says why it cannot be. Callers run it under a checkpoint.
fn apply(overlay: &mut Overlay, kind: &ProposalKind) -> Result<Result<Vec<Event>, String>, StoreError> {
    Ok(match kind {
        ProposalKind::AddMember { name, admins, peer_ids } => {
            if !valid_name(name) {
                return Ok(refuse(format!(
                    "member name {name:?} must be 1-{MEMBER_NAME_BYTES_MAX} of a-z, 0-9, '-', '_', '.'"
                )));
            }
            if overlay.get(&member_key(name))?.is_some() {
                return Ok(refuse(format!("{name} is already a member")));
            }
            if members(overlay)?.len() >= MEMBERS_MAX {
                return Ok(refuse(format!("the consortium already has {MEMBERS_MAX} members")));
            }
            if admins.is_empty() || admins.len() > MEMBER_KEYS_MAX || peer_ids.len() > MEMBER_KEYS_MAX {
                return Ok(refuse(format!(
                    "a member needs 1-{MEMBER_KEYS_MAX} admin keys and at most {MEMBER_KEYS_MAX} peer ids"
                )));
            }
            if let Some(p) = peer_ids.iter().find(|p| p.parse::<libp2p::PeerId>().is_err()) {
                return Ok(refuse(format!("{p:?} is not a libp2p peer id")));
            }
            for admin in admins {
                if let Some(other) = member_of(overlay, admin)? {
                    return Ok(refuse(format!("{admin} is already an admin of {other}")));
                }
                overlay.set(admin_key(admin), name.as_bytes().to_vec());
            }
            let member = Member { name: name.clone(), admins: admins.clone(), peer_ids: peer_ids.clone() };
            overlay.set(member_key(name), encode(&member));
            Ok(vec![Event::new("member_added", &[("member", name.clone()), ("peers", peer_ids.join(","))])])
        }
        ProposalKind::RemoveMember { name } => {
            let Some(member) = overlay.record::<Member>(&member_key(name))? else {
                return Ok(refuse(format!("{name} is not a member")));
            };
            if members(overlay)?.len() <= 1 {
                return Ok(refuse("the last member cannot be removed"));
            }
            for admin in &member.admins {
                overlay.remove(admin_key(admin));
            }
            overlay.remove(member_key(name));
            let mut set = validators(overlay)?;
            set.retain(|v| &v.member != name);
            if set.is_empty() {
                return Ok(refuse(format!("removing {name} would leave no validator")));
            }
            overlay.set(VALIDATORS_KEY.to_vec(), encode(&set));
            Ok(vec![Event::new("member_removed", &[("member", name.clone())])])
        }
        ProposalKind::SetValidator { member, public_key, power } => {
            if overlay.get(&member_key(member))?.is_none() {
                return Ok(refuse(format!("{member} is not a member")));
            }
            let mut set = validators(overlay)?;
            match set.iter().position(|v| v.public_key == *public_key) {
                Some(i) if &set[i].member != member => {
                    return Ok(refuse(format!("validator {public_key} belongs to {}", set[i].member)));
                }
                Some(i) if *power == 0 => {
                    set.remove(i);
                }
                Some(i) => set[i].power = *power,
                None if *power == 0 => return Ok(refuse(format!("{public_key} is not a validator"))),
                None => set.push(ValidatorRecord { member: member.clone(), public_key: *public_key, power: *power }),
            }
            if set.is_empty() {
                return Ok(refuse("the validator set cannot become empty"));
            }
            let total = set.iter().try_fold(0u64, |t, v| t.checked_add(v.power)).filter(|t| *t <= u64::MAX / 4);
            if total.is_none() {
                return Ok(refuse("total voting power would be too large"));
            }
            overlay.set(VALIDATORS_KEY.to_vec(), encode(&set));
            let attrs =
                [("member", member.clone()), ("public_key", public_key.to_string()), ("power", power.to_string())];
            Ok(vec![Event::new("validator_set", &attrs)])
        }
        ProposalKind::GrantDeployer { address } => {
            overlay.set(deployer_key(address), Vec::new());
            Ok(vec![Event::new("deployer_granted", &[("address", address.to_string())])])
        }
        ProposalKind::RevokeDeployer { address } => {
            if overlay.get(&deployer_key(address))?.is_none() {
                return Ok(refuse(format!("{address} does not hold the deploy role")));
            }
            overlay.remove(deployer_key(address));
            Ok(vec![Event::new("deployer_revoked", &[("address", address.to_string())])])
        }
        ProposalKind::SetLimit { name, value } => {
            let Some(mut limits) = limits(overlay)? else { return Ok(refuse("this chain has no governed limits")) };
            if let Err(e) = super::limits::set_named(&mut limits, name, *value) {
                return Ok(refuse(e));
            }
            overlay.set(LIMITS_KEY.to_vec(), encode(&limits));
            Ok(vec![Event::new("limit_set", &[("name", name.clone()), ("value", value.to_string())])])
        }
        ProposalKind::RotateValidatorKey { member, old_key, new_key } => {
            let mut set = validators(overlay)?;
            if set.iter().any(|v| v.public_key == *new_key) {
                return Ok(refuse(format!("{new_key} is already a validator")));
            }
            let Some(v) = set.iter_mut().find(|v| v.public_key == *old_key && &v.member == member) else {
                return Ok(refuse(format!("{old_key} is not a validator of {member}")));
            };
            v.public_key = *new_key;
            overlay.set(VALIDATORS_KEY.to_vec(), encode(&set));
            let attrs =
                [("member", member.clone()), ("old_key", old_key.to_string()), ("new_key", new_key.to_string())];
            Ok(vec![Event::new("validator_key_rotated", &attrs)])
        }
        ProposalKind::Mint { to, amount } => {
            if *amount == 0 {
                return Ok(refuse("mint a positive amount"));
            }
            let mut account = overlay.account(to)?.unwrap_or_default();
            let Some(balance) = account.balance.checked_add(*amount) else {
                return Ok(refuse("the balance would overflow"));
            };
            account.balance = balance;
            overlay.set_account(to, &account);
            Ok(vec![Event::new("minted", &[("to", to.to_string()), ("amount", amount.to_string())])])
        }
    })
}

fn proposal_event(kind: &str, p: &Proposal, extra: &[(&str, String)]) -> Event {
    let mut attrs = vec![("id", p.id.to_string())];
    attrs.extend(extra.iter().cloned());
    Event::new(kind, &attrs)
}

/// Executes `proposal` if it has enough approvals; records the outcome.
fn maybe_execute(overlay: &mut Overlay, proposal: &mut Proposal, events: &mut Vec<Event>) -> Result<(), StoreError> {
    let needed = params(overlay)?.approvals_needed(members(overlay)?.len() as u64);
    if (proposal.approvals.len() as u64) < needed {
        return Ok(());
    }
    let checkpoint = overlay.checkpoint();
    match apply(overlay, &proposal.kind)? {
        Ok(applied) => {
            overlay.commit(checkpoint);
            proposal.status = ProposalStatus::Executed;
            events.push(proposal_event("proposal_executed", proposal, &[]));
            events.extend(applied);
        }
        Err(reason) => {
            overlay.rollback(checkpoint);
            events.push(proposal_event("proposal_failed", proposal, &[("reason", reason.clone())]));
            proposal.status = ProposalStatus::Failed(reason);
        }
    }
    Ok(())
}

pub fn govern(overlay: &mut Overlay, height: u64, sender: &Address, action: &GovAction) -> GovResult {
    let Some(member) = member_of(overlay, sender)? else {
        return Ok(Err(TxRejection::NotMember(sender.to_string())));
    };
    let mut events = Vec::new();
    let mut proposal = match action {
        GovAction::Propose { kind } => {
            // Refused now if it could not be carried out now; checked again when it passes.
            let checkpoint = overlay.checkpoint();
            let dry_run = apply(overlay, kind)?;
            overlay.rollback(checkpoint);
            if let Err(reason) = dry_run {
                return Ok(Err(TxRejection::BadProposal(reason)));
            }
            let id = overlay.record::<u64>(next_proposal_key())?.unwrap_or(1);
            overlay.set(next_proposal_key().to_vec(), encode(&(id + 1)));
            let period = params(overlay)?.voting_period_blocks;
            let p = Proposal {
                id,
                kind: kind.clone(),
                proposer: *sender,
                created_height: height,
                deadline_height: height.saturating_add(period),
                approvals: vec![member.clone()],
                status: ProposalStatus::Open,
            };
            let what = serde_json::to_string(kind).unwrap_or_default();
            let extra = [("member", member), ("kind", what), ("deadline_height", p.deadline_height.to_string())];
            events.push(proposal_event("proposal_created", &p, &extra));
            p
        }
        GovAction::Approve { id } => {
            let Some(mut p) = overlay.record::<Proposal>(&proposal_key(*id))? else {
                return Ok(Err(TxRejection::UnknownProposal(*id)));
            };
            if p.status != ProposalStatus::Open {
                return Ok(Err(TxRejection::ProposalClosed(*id)));
            }
            if height > p.deadline_height {
                return Ok(Err(TxRejection::ProposalExpired { id: *id, deadline: p.deadline_height }));
            }
            if p.approvals.contains(&member) {
                return Ok(Err(TxRejection::AlreadyApproved { id: *id, member }));
            }
            p.approvals.push(member.clone());
            events.push(proposal_event("proposal_approved", &p, &[("member", member)]));
            p
        }
    };
    maybe_execute(overlay, &mut proposal, &mut events)?;
    overlay.set(proposal_key(proposal.id), encode(&proposal));
    Ok(Ok(events))
}
