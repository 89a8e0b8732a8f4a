//! Revenue split: parties share everything paid in by fixed weights. Anyone pays in; each party pulls
//! what it is owed (or anyone pushes with `distribute`). Terms change only when every current party
//! approves the same amendment; what was received before is settled under the old terms. A party may
//! hand its position to a new address. Closing (also approved by all) pays everything out, remainders
//! included.

mod msg;

pub use msg::*;

use consort_contract::agreement::{party_event, AgreementTotals, AgreementView, PartyView, VIEW_PARTIES_MAX};
use consort_contract::prelude::*;
use consort_contract::split::{Ledger, SplitError};
use consort_contract::split_store::StoredLedger;
use consort_contract::validate_address;
use std::fmt;

/// Fewest parties an agreement may have.
pub const PARTIES_MIN: usize = 2;
/// Most parties: every withdrawal and distribution walks them.
pub const PARTIES_MAX: usize = 50;
/// Longest title.
pub const TITLE_BYTES_MAX: usize = 200;
/// Open proposals at a time.
pub const PROPOSALS_MAX: usize = 10;

const CONFIG: Item<Config> = Item::new("config");
/// The pot (one small record a payment touches) and one record per party.
const LEDGER: StoredLedger = StoredLedger::new("pot", "positions");
const PROPOSALS: Item<Vec<Proposal>> = Item::new("proposals");
const NEXT_PROPOSAL: Item<u64> = Item::new("next_proposal");

#[derive(Debug)]
pub enum ContractError {
    Std(StdError),
    Split(SplitError),
    Invalid(String),
    NotAParty(String),
    NothingOwed(String),
    NoFunds,
    Closed,
    UnknownProposal(u64),
    AlreadyApproved { id: u64, party: String },
    TooManyProposals,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContractError::Std(e) => write!(f, "{e}"),
            ContractError::Split(e) => write!(f, "{e}"),
            ContractError::Invalid(m) => write!(f, "{m}"),
            ContractError::NotAParty(a) => write!(f, "{a} is not a party to this agreement"),
            ContractError::NothingOwed(a) => write!(f, "nothing is owed to {a} right now"),
            ContractError::NoFunds => write!(f, "send funds with pay"),
            ContractError::Closed => write!(f, "the agreement is closed"),
            ContractError::UnknownProposal(id) => {
                write!(f, "no open proposal {id} (it may have lapsed when terms changed)")
            }
            ContractError::AlreadyApproved { id, party } => write!(f, "{party} already approved proposal {id}"),
            ContractError::TooManyProposals => write!(f, "at most {PROPOSALS_MAX} proposals may be open"),
        }
    }
}

impl From<StdError> for ContractError {
    fn from(e: StdError) -> Self {
        ContractError::Std(e)
    }
}

impl From<SplitError> for ContractError {
    fn from(e: SplitError) -> Self {
        ContractError::Split(e)
    }
}

type Result<T> = std::result::Result<T, ContractError>;

fn shares_of(parties: &[PartyShare]) -> Result<Vec<(String, u64)>> {
    if parties.len() > PARTIES_MAX {
        return Err(ContractError::Invalid(format!("at most {PARTIES_MAX} parties are allowed")));
    }
    for p in parties {
        validate_address(&p.address)?;
    }
    Ok(parties.iter().map(|p| (p.address.clone(), p.share)).collect())
}

fn party_events(shares: &[(String, u64)]) -> Vec<Event> {
    shares.iter().map(|(a, _)| party_event(a, "party")).collect()
}

fn instantiate(ctx: &mut Ctx, msg: InstantiateMsg) -> Result<Response> {
    if msg.title.len() > TITLE_BYTES_MAX {
        return Err(ContractError::Invalid(format!("the title is over {TITLE_BYTES_MAX} bytes")));
    }
    let shares = shares_of(&msg.parties)?;
    let ledger = Ledger::new(&shares, PARTIES_MIN)?;
    LEDGER.save(ctx.host, &ledger)?;
    CONFIG.save(ctx.host, &Config { title: msg.title, closed: false })?;
    PROPOSALS.save(ctx.host, &Vec::new())?;
    NEXT_PROPOSAL.save(ctx.host, &1)?;
    let terms = Event::new("terms_set").attr("parties", describe_shares(&shares));
    let mut response = Response::new().add_event(terms);
    response.events.extend(party_events(&shares));
    if ctx.info.funds > 0 {
        response = response.add_event(receive(ctx)?);
    }
    Ok(response)
}

fn describe_shares(shares: &[(String, u64)]) -> String {
    shares.iter().map(|(a, s)| format!("{a}:{s}")).collect::<Vec<_>>().join(",")
}

fn receive(ctx: &mut Ctx) -> Result<Event> {
    if CONFIG.load(ctx.host)?.closed {
        return Err(ContractError::Closed);
    }
    if ctx.info.funds == 0 {
        return Err(ContractError::NoFunds);
    }
    LEDGER.receive(ctx.host, ctx.info.funds)?;
    Ok(Event::new("payment").attr("payer", &ctx.info.sender).attr("amount", ctx.info.funds))
}

fn withdrawal_event(party: &str, amount: u128) -> Event {
    Event::new("withdrawal").attr("party", party).attr("amount", amount)
}

/// Sends every party of the loaded `ledger` what it is owed; the caller saves the ledger.
fn pay_out_all(ctx: &mut Ctx, ledger: &mut Ledger, mut response: Response) -> Result<Response> {
    let parties: Vec<String> = ledger.positions().keys().cloned().collect();
    for party in parties {
        if ledger.owed(&party) == 0 {
            continue;
        }
        let amount = ledger.withdraw(&party)?;
        ctx.host.send(&party, amount)?;
        response = response.add_event(withdrawal_event(&party, amount));
    }
    Ok(response)
}

fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<Response> {
    Ok(match msg {
        ExecuteMsg::Pay {} => Response::new().add_event(receive(ctx)?),
        ExecuteMsg::Withdraw {} => {
            let sender = ctx.info.sender.clone();
            let amount = match LEDGER.withdraw(ctx.host, &sender) {
                Err(SplitError::NotAParty(_)) => return Err(ContractError::NotAParty(sender)),
                Ok(0) => return Err(ContractError::NothingOwed(sender)),
                other => other?,
            };
            ctx.host.send(&sender, amount)?;
            Response::new().add_event(withdrawal_event(&sender, amount))
        }
        ExecuteMsg::Distribute {} => {
            let mut ledger = LEDGER.load(ctx.host)?;
            let response = pay_out_all(ctx, &mut ledger, Response::new())?;
            LEDGER.save(ctx.host, &ledger)?;
            response
        }
        ExecuteMsg::Propose { change } => propose(ctx, change)?,
        ExecuteMsg::Approve { id } => approve(ctx, id)?,
        ExecuteMsg::TransferPosition { to } => {
            validate_address(&to)?;
            let from = ctx.info.sender.clone();
            LEDGER.transfer(ctx.host, &from, &to)?;
            // Approvals were given by the old holder; open proposals start over.
            PROPOSALS.save(ctx.host, &Vec::new())?;
            Response::new()
                .add_event(Event::new("position_transferred").attr("from", &from).attr("to", &to))
                .add_event(party_event(&to, "party"))
        }
    })
}

/// Whether `party` holds a share under the current terms.
fn is_current_party(ctx: &Ctx, party: &str) -> Result<bool> {
    Ok(LEDGER.position(ctx.host, party)?.is_some_and(|p| p.share > 0))
}

fn current_parties(ledger: &Ledger) -> Vec<String> {
    ledger.shares().into_iter().map(|(a, _)| a).collect()
}

fn propose(ctx: &mut Ctx, change: Change) -> Result<Response> {
    if CONFIG.load(ctx.host)?.closed {
        return Err(ContractError::Closed);
    }
    let sender = ctx.info.sender.clone();
    if !is_current_party(ctx, &sender)? {
        return Err(ContractError::NotAParty(sender));
    }
    if let Change::Terms { parties } = &change {
        // Checked now so that a proposal that could never take effect is refused at once.
        consort_contract::split::check_shares(&shares_of(parties)?, PARTIES_MIN)?;
    }
    let mut proposals = PROPOSALS.load(ctx.host)?;
    if proposals.len() >= PROPOSALS_MAX {
        return Err(ContractError::TooManyProposals);
    }
    let id = NEXT_PROPOSAL.load(ctx.host)?;
    NEXT_PROPOSAL.save(ctx.host, &(id + 1))?;
    let event = Event::new("amendment_proposed").attr("id", id).attr("by", &sender).attr("change", change.describe());
    proposals.push(Proposal { id, change, approvals: vec![sender] });
    PROPOSALS.save(ctx.host, &proposals)?;
    // There are always at least two parties, so a proposal never takes effect on its own proposer's word.
    Ok(Response::new().add_event(event).set_data(id))
}

fn approve(ctx: &mut Ctx, id: u64) -> Result<Response> {
    let sender = ctx.info.sender.clone();
    if !is_current_party(ctx, &sender)? {
        return Err(ContractError::NotAParty(sender));
    }
    let mut proposals = PROPOSALS.load(ctx.host)?;
    let proposal = proposals.iter_mut().find(|p| p.id == id).ok_or(ContractError::UnknownProposal(id))?;
    if proposal.approvals.contains(&sender) {
        return Err(ContractError::AlreadyApproved { id, party: sender });
    }
    proposal.approvals.push(sender.clone());
    PROPOSALS.save(ctx.host, &proposals)?;
    let mut response = Response::new().add_event(Event::new("amendment_approved").attr("id", id).attr("by", &sender));
    if let Some(applied) = apply_if_approved(ctx, id)? {
        response.events.extend(applied.events);
    }
    Ok(response)
}

/// Carries out proposal `id` once every current party has approved it.
fn apply_if_approved(ctx: &mut Ctx, id: u64) -> Result<Option<Response>> {
    let proposals = PROPOSALS.load(ctx.host)?;
    let Some(proposal) = proposals.iter().find(|p| p.id == id) else { return Ok(None) };
    let mut ledger = LEDGER.load(ctx.host)?;
    if !current_parties(&ledger).iter().all(|p| proposal.approvals.contains(p)) {
        return Ok(None);
    }
    // Terms are changing: every other open proposal was approved against the old terms.
    PROPOSALS.save(ctx.host, &Vec::new())?;
    let mut response = Response::new();
    match &proposal.change {
        Change::Terms { parties } => {
            let shares = shares_of(parties)?;
            ledger.amend(&shares, PARTIES_MIN)?;
            response = response
                .add_event(Event::new("terms_changed").attr("id", id).attr("parties", describe_shares(&shares)));
            response.events.extend(party_events(&shares));
        }
        Change::Close {} => {
            ledger.settle_all();
            response = pay_out_all(ctx, &mut ledger, response)?;
            let mut config = CONFIG.load(ctx.host)?;
            config.closed = true;
            CONFIG.save(ctx.host, &config)?;
            response = response.add_event(Event::new("closed").attr("id", id));
        }
    }
    LEDGER.save(ctx.host, &ledger)?;
    Ok(Some(response))
}

fn party_view(ledger: &Ledger, address: &str) -> Option<PartyView> {
    let position = ledger.position(address)?;
    Some(PartyView {
        address: address.into(),
        role: "party".into(),
        share: format!("{} of {}", position.share, ledger.total_shares()),
        owed: ledger.owed(address),
        withdrawn: position.withdrawn,
    })
}

fn query(ctx: &QueryCtx, msg: QueryMsg) -> Result<serde_json::Value> {
    let ledger = LEDGER.load(ctx.host)?;
    let config = CONFIG.load(ctx.host)?;
    let answer = match msg {
        QueryMsg::Terms {} => serde_json::to_value(TermsView {
            title: config.title,
            closed: config.closed,
            parties: ledger.shares().into_iter().map(|(address, share)| PartyShare { address, share }).collect(),
            total_shares: ledger.total_shares(),
        }),
        QueryMsg::Party { address } => {
            let view = party_view(&ledger, &address).ok_or(ContractError::NotAParty(address))?;
            serde_json::to_value(view)
        }
        QueryMsg::Totals {} => serde_json::to_value(totals(&ledger)),
        QueryMsg::Proposals {} => serde_json::to_value(PROPOSALS.load(ctx.host)?),
        QueryMsg::Agreement(q) => {
            let parties: Vec<PartyView> = match &q.party {
                Some(p) => party_view(&ledger, p).into_iter().collect(),
                None => {
                    ledger.positions().keys().take(VIEW_PARTIES_MAX).filter_map(|a| party_view(&ledger, a)).collect()
                }
            };
            serde_json::to_value(AgreementView {
                kind: "revenue_split".into(),
                title: config.title,
                status: if config.closed { "closed" } else { "open" }.into(),
                terms: serde_json::json!({ "shares": describe_shares(&ledger.shares()), "total_shares": ledger.total_shares() }),
                totals: totals(&ledger),
                parties,
                parties_total: ledger.positions().len() as u64,
            })
        }
    };
    answer.map_err(|e| ContractError::Std(StdError::msg(e.to_string())))
}

fn totals(ledger: &Ledger) -> AgreementTotals {
    AgreementTotals { received: ledger.total_received(), paid_out: ledger.total_withdrawn(), held: ledger.held() }
}

consort_contract::entry_points!(instantiate: instantiate, execute: execute, query: query);
