//! Co-creation royalties: a retailer opens a program (royalty rate, jury). Customers propose ideas, others
//! contribute improvements, the jury weighs the contributions and approves (or rejects) each idea by
//! majority. For an approved idea the retailer reports sales and pays the royalty in; originator and
//! contributors withdraw by weight, with cumulative accounting per idea. Rejected ideas pay nothing.

mod msg;

pub use msg::*;

use consort_contract::agreement::{
    party_event, AgreementQuery, AgreementTotals, AgreementView, PartyView, VIEW_PARTIES_MAX,
};
use consort_contract::math::{bps_of, BPS_WHOLE};
use consort_contract::prelude::*;
use consort_contract::split::{Ledger, SplitError};
use consort_contract::validate_address;
use std::fmt;

pub const JURY_MAX: usize = 15;
pub const CONTRIBUTIONS_MAX: usize = 20;
pub const TEXT_BYTES_MAX: usize = 500;
/// Ideas one party may take part in (each withdrawal walks them).
pub const IDEAS_PER_PARTY_MAX: usize = 100;
pub const IDEAS_PAGE_MAX: u32 = 50;

const PROGRAM: Item<Program> = Item::new("program");
const TOTALS: Item<Totals> = Item::new("totals");
const NEXT_IDEA: Item<u64> = Item::new("next_idea");
const IDEAS: Map<Idea> = Map::new("ideas");
/// Approved idea → its royalty ledger.
const LEDGERS: Map<Ledger> = Map::new("ledgers");
/// Party → the ideas it originated or contributed to.
const PARTY_IDEAS: Map<Vec<u64>> = Map::new("party_ideas");

#[derive(Debug)]
pub enum ContractError {
    Std(StdError),
    Split(SplitError),
    Invalid(String),
    NotJury(String),
    NotRetailer(String),
    UnknownIdea(u64),
    WrongStatus { id: u64, status: Status },
    WrongRoyalty { due: u128, sent: u128 },
    NothingOwed(String),
    Overflow,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContractError::Std(e) => write!(f, "{e}"),
            ContractError::Split(e) => write!(f, "{e}"),
            ContractError::Invalid(m) => write!(f, "{m}"),
            ContractError::NotJury(a) => write!(f, "{a} is not on the jury"),
            ContractError::NotRetailer(a) => write!(f, "only the retailer may report sales, not {a}"),
            ContractError::UnknownIdea(id) => write!(f, "no idea {id}"),
            ContractError::WrongStatus { id, status } => {
                write!(f, "idea {id} is {status:?}, which does not allow this")
            }
            ContractError::WrongRoyalty { due, sent } => {
                write!(f, "the royalty due is {due}; send exactly that (sent {sent})")
            }
            ContractError::NothingOwed(a) => write!(f, "nothing is owed to {a} right now"),
            ContractError::Overflow => write!(f, "amounts overflow"),
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

fn key(id: u64) -> String {
    format!("{id:020}")
}

fn check_text(what: &str, text: &str) -> Result<()> {
    match text.is_empty() || text.len() > TEXT_BYTES_MAX {
        true => Err(ContractError::Invalid(format!("{what} must be 1 to {TEXT_BYTES_MAX} bytes"))),
        false => Ok(()),
    }
}

fn instantiate(ctx: &mut Ctx, msg: InstantiateMsg) -> Result<Response> {
    check_text("the title", &msg.title)?;
    if msg.royalty_bps > BPS_WHOLE {
        return Err(ContractError::Invalid(format!("royalty_bps must be at most {BPS_WHOLE}")));
    }
    if msg.jury.is_empty() || msg.jury.len() > JURY_MAX {
        return Err(ContractError::Invalid(format!("the jury needs 1 to {JURY_MAX} members")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for j in &msg.jury {
        validate_address(j)?;
        if !seen.insert(j) {
            return Err(ContractError::Invalid(format!("jury member {j} is listed twice")));
        }
    }
    let program =
        Program { title: msg.title, retailer: ctx.info.sender.clone(), royalty_bps: msg.royalty_bps, jury: msg.jury };
    PROGRAM.save(ctx.host, &program)?;
    TOTALS.save(ctx.host, &Totals::default())?;
    NEXT_IDEA.save(ctx.host, &1)?;
    let mut response = Response::new()
        .add_event(Event::new("program_opened").attr("title", &program.title).attr("royalty_bps", program.royalty_bps))
        .add_event(party_event(&program.retailer, "retailer"));
    for j in &program.jury {
        response = response.add_event(party_event(j, "jury"));
    }
    Ok(response)
}

fn load_idea(ctx: &Ctx, id: u64) -> Result<Idea> {
    IDEAS.may_load(ctx.host, &key(id))?.ok_or(ContractError::UnknownIdea(id))
}

fn require(idea: &Idea, status: Status) -> Result<()> {
    match idea.status == status {
        true => Ok(()),
        false => Err(ContractError::WrongStatus { id: idea.id, status: idea.status.clone() }),
    }
}

/// Links `party` to idea `id` and returns the party event for the node's index.
fn join(ctx: &mut Ctx, party: &str, id: u64, role: &str) -> Result<Event> {
    let mut ideas = PARTY_IDEAS.may_load(ctx.host, party)?.unwrap_or_default();
    let new_party = ideas.is_empty();
    if ideas.len() >= IDEAS_PER_PARTY_MAX {
        return Err(ContractError::Invalid(format!("{party} already takes part in {IDEAS_PER_PARTY_MAX} ideas")));
    }
    ideas.push(id);
    PARTY_IDEAS.save(ctx.host, party, &ideas)?;
    if new_party {
        let mut totals = TOTALS.load(ctx.host)?;
        totals.parties += 1;
        TOTALS.save(ctx.host, &totals)?;
    }
    Ok(party_event(party, role))
}

fn only_jury(program: &Program, sender: &str) -> Result<()> {
    match program.jury.iter().any(|j| j == sender) {
        true => Ok(()),
        false => Err(ContractError::NotJury(sender.into())),
    }
}

fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<Response> {
    let program = PROGRAM.load(ctx.host)?;
    let sender = ctx.info.sender.clone();
    if ctx.info.funds > 0 && !matches!(msg, ExecuteMsg::ReportSales { .. }) {
        return Err(ContractError::Invalid("only report_sales takes funds".into()));
    }
    let mut response = Response::new();
    match msg {
        ExecuteMsg::Propose { title, summary } => {
            check_text("the title", &title)?;
            check_text("the summary", &summary)?;
            let id = NEXT_IDEA.load(ctx.host)?;
            NEXT_IDEA.save(ctx.host, &(id + 1))?;
            let idea = Idea {
                id,
                title: title.clone(),
                summary,
                originator: sender.clone(),
                contributions: Vec::new(),
                status: Status::Proposed,
                weights: Vec::new(),
                approvals: Vec::new(),
                rejections: Vec::new(),
                sales: 0,
            };
            IDEAS.save(ctx.host, &key(id), &idea)?;
            let mut totals = TOTALS.load(ctx.host)?;
            totals.ideas += 1;
            TOTALS.save(ctx.host, &totals)?;
            response = response
                .add_event(Event::new("idea_proposed").attr("id", id).attr("originator", &sender).attr("title", title));
            response.events.push(join(ctx, &sender, id, "originator")?);
            response = response.set_data(id);
        }
        ExecuteMsg::Contribute { idea, summary } => {
            check_text("the summary", &summary)?;
            let mut i = load_idea(ctx, idea)?;
            require(&i, Status::Proposed)?;
            if i.originator == sender || i.contributions.iter().any(|c| c.contributor == sender) {
                return Err(ContractError::Invalid(format!("{sender} already takes part in idea {idea}")));
            }
            if i.contributions.len() >= CONTRIBUTIONS_MAX {
                return Err(ContractError::Invalid(format!(
                    "idea {idea} has {CONTRIBUTIONS_MAX} contributions already"
                )));
            }
            i.contributions.push(Contribution { contributor: sender.clone(), summary });
            IDEAS.save(ctx.host, &key(idea), &i)?;
            response =
                response.add_event(Event::new("contribution_added").attr("idea", idea).attr("contributor", &sender));
            response.events.push(join(ctx, &sender, idea, "contributor")?);
        }
        ExecuteMsg::SetWeights { idea, weights } => {
            only_jury(&program, &sender)?;
            let mut i = load_idea(ctx, idea)?;
            require(&i, Status::Proposed)?;
            let eligible = |a: &str| a == i.originator || i.contributions.iter().any(|c| c.contributor == a);
            if let Some(w) = weights.iter().find(|w| !eligible(&w.address)) {
                return Err(ContractError::Invalid(format!("{} neither proposed nor improved idea {idea}", w.address)));
            }
            if !weights.iter().any(|w| w.address == i.originator) {
                return Err(ContractError::Invalid("the originator must have a weight".into()));
            }
            let shares: Vec<(String, u64)> = weights.iter().map(|w| (w.address.clone(), w.weight)).collect();
            consort_contract::split::check_shares(&shares, 1)?;
            i.weights = weights;
            i.approvals.clear();
            IDEAS.save(ctx.host, &key(idea), &i)?;
            let described: Vec<String> = i.weights.iter().map(|w| format!("{}:{}", w.address, w.weight)).collect();
            response = response.add_event(
                Event::new("weights_set").attr("idea", idea).attr("by", &sender).attr("weights", described.join(",")),
            );
        }
        ExecuteMsg::Approve { idea } | ExecuteMsg::Reject { idea } => {
            let approve = matches!(msg, ExecuteMsg::Approve { .. });
            only_jury(&program, &sender)?;
            let mut i = load_idea(ctx, idea)?;
            require(&i, Status::Proposed)?;
            if approve && i.weights.is_empty() {
                return Err(ContractError::Invalid(format!("set the weights of idea {idea} before approving it")));
            }
            let votes = if approve { &mut i.approvals } else { &mut i.rejections };
            if votes.contains(&sender) {
                return Err(ContractError::Invalid(format!("{sender} already voted on idea {idea}")));
            }
            votes.push(sender.clone());
            let majority = votes.len() * 2 > program.jury.len();
            let kind = if approve { "idea_approval" } else { "idea_rejection" };
            response = response.add_event(Event::new(kind).attr("idea", idea).attr("by", &sender));
            if majority && approve {
                let shares: Vec<(String, u64)> = i.weights.iter().map(|w| (w.address.clone(), w.weight)).collect();
                LEDGERS.save(ctx.host, &key(idea), &Ledger::new(&shares, 1)?)?;
                i.status = Status::Approved;
                response = response.add_event(Event::new("idea_approved").attr("idea", idea));
            } else if majority {
                i.status = Status::Rejected;
                response = response.add_event(Event::new("idea_rejected").attr("idea", idea));
            }
            IDEAS.save(ctx.host, &key(idea), &i)?;
        }
        ExecuteMsg::ReportSales { idea, sales } => {
            if sender != program.retailer {
                return Err(ContractError::NotRetailer(sender));
            }
            let mut i = load_idea(ctx, idea)?;
            require(&i, Status::Approved)?;
            let due = bps_of(sales, program.royalty_bps).ok_or(ContractError::Overflow)?;
            if ctx.info.funds != due {
                return Err(ContractError::WrongRoyalty { due, sent: ctx.info.funds });
            }
            let mut ledger = LEDGERS.load(ctx.host, &key(idea))?;
            ledger.receive(due)?;
            LEDGERS.save(ctx.host, &key(idea), &ledger)?;
            i.sales = i.sales.checked_add(sales).ok_or(ContractError::Overflow)?;
            IDEAS.save(ctx.host, &key(idea), &i)?;
            let mut totals = TOTALS.load(ctx.host)?;
            totals.royalties = totals.royalties.checked_add(due).ok_or(ContractError::Overflow)?;
            TOTALS.save(ctx.host, &totals)?;
            response = response
                .add_event(Event::new("royalty_paid").attr("idea", idea).attr("sales", sales).attr("royalty", due));
        }
        ExecuteMsg::Withdraw {} => {
            let ideas = PARTY_IDEAS.may_load(ctx.host, &sender)?.unwrap_or_default();
            let mut total = 0u128;
            for id in ideas {
                let Some(mut ledger) = LEDGERS.may_load(ctx.host, &key(id))? else { continue };
                if ledger.owed(&sender) > 0 {
                    total += ledger.withdraw(&sender)?;
                    LEDGERS.save(ctx.host, &key(id), &ledger)?;
                }
            }
            if total == 0 {
                return Err(ContractError::NothingOwed(sender));
            }
            let mut totals = TOTALS.load(ctx.host)?;
            totals.paid_out += total;
            TOTALS.save(ctx.host, &totals)?;
            ctx.host.send(&sender, total)?;
            response = response.add_event(Event::new("withdrawal").attr("party", &sender).attr("amount", total));
        }
    }
    Ok(response)
}

/// What `address` is owed and has withdrawn across its ideas.
fn position(host: &dyn Host, address: &str) -> Result<OwedView> {
    let ideas = PARTY_IDEAS.may_load(host, address)?.unwrap_or_default();
    let (mut owed, mut withdrawn) = (0u128, 0u128);
    for id in &ideas {
        if let Some(ledger) = LEDGERS.may_load(host, &key(*id))? {
            owed += ledger.owed(address);
            withdrawn += ledger.position(address).map_or(0, |p| p.withdrawn);
        }
    }
    Ok(OwedView { address: address.into(), owed, withdrawn, ideas })
}

fn party_view(host: &dyn Host, program: &Program, address: &str) -> Result<Option<PartyView>> {
    let mut roles = Vec::new();
    if *address == program.retailer {
        roles.push("retailer".to_string());
    }
    if program.jury.iter().any(|j| j == address) {
        roles.push("jury".into());
    }
    let p = position(host, address)?;
    if !p.ideas.is_empty() {
        roles.push("co-creator".into());
    }
    if roles.is_empty() {
        return Ok(None);
    }
    let share = match p.ideas.is_empty() {
        true => format!("{}.{:02}% royalty program", program.royalty_bps / 100, program.royalty_bps % 100),
        false => format!("weighted share of royalties on ideas {:?}", p.ideas),
    };
    Ok(Some(PartyView { address: address.into(), role: roles.join("+"), share, owed: p.owed, withdrawn: p.withdrawn }))
}

fn agreement_view(ctx: &QueryCtx, q: AgreementQuery) -> Result<AgreementView> {
    let program = PROGRAM.load(ctx.host)?;
    let totals = TOTALS.load(ctx.host)?;
    let parties = match q.party {
        Some(p) => party_view(ctx.host, &program, &p)?.into_iter().collect(),
        None => {
            let mut addresses: Vec<String> = vec![program.retailer.clone()];
            addresses.extend(program.jury.iter().cloned());
            for item in PARTY_IDEAS.iter(ctx.host).take(VIEW_PARTIES_MAX) {
                addresses.push(item?.0);
            }
            addresses.sort();
            addresses.dedup();
            let mut views = Vec::new();
            for a in addresses.iter().take(VIEW_PARTIES_MAX) {
                views.extend(party_view(ctx.host, &program, a)?);
            }
            views
        }
    };
    Ok(AgreementView {
        kind: "co_creation".into(),
        title: program.title.clone(),
        status: "open".into(),
        terms: serde_json::to_value(&program).map_err(|e| StdError::msg(e.to_string()))?,
        totals: AgreementTotals {
            received: totals.royalties,
            paid_out: totals.paid_out,
            held: totals.royalties - totals.paid_out,
        },
        parties,
        parties_total: totals.parties + 1 + program.jury.len() as u64,
    })
}

fn query(ctx: &QueryCtx, msg: QueryMsg) -> Result<serde_json::Value> {
    let json = |v: std::result::Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|e| ContractError::Std(StdError::msg(e.to_string())))
    };
    match msg {
        QueryMsg::Program {} => json(serde_json::to_value((PROGRAM.load(ctx.host)?, TOTALS.load(ctx.host)?))),
        QueryMsg::Idea { id } => {
            json(serde_json::to_value(IDEAS.may_load(ctx.host, &key(id))?.ok_or(ContractError::UnknownIdea(id))?))
        }
        QueryMsg::Ideas { after, limit } => {
            let limit = limit.unwrap_or(IDEAS_PAGE_MAX).min(IDEAS_PAGE_MAX) as usize;
            let after = after.map(key);
            let ideas: Vec<Idea> = IDEAS.page(ctx.host, after.as_deref(), limit)?.into_iter().map(|(_, i)| i).collect();
            json(serde_json::to_value(ideas))
        }
        QueryMsg::Owed { address } => json(serde_json::to_value(position(ctx.host, &address)?)),
        QueryMsg::Agreement(q) => json(serde_json::to_value(agreement_view(ctx, q)?)),
    }
}

consort_contract::entry_points!(instantiate: instantiate, execute: execute, query: query);
