//! Shoe data: a brand's data program with the people who wear its smart shoes (the reference case).
//!
//! A wearer activates a shoe (each shoe once) and consents to data categories; each activated pair
//! credits loyalty share units, and syncing another wearable adds its categories and a bonus. Data stays
//! off-chain: only blake3 hashes are committed, by the wearer or a device key the wearer authorised, and
//! only under live consent. A buyer purchases a dataset (category and time window); the payment is split:
//! the wearers' part pro rata to the records each contributed, the rest to the brand. Revoking consent
//! takes a wearer's data out of future sales. Earnings are pulled with `withdraw`.

mod errors;
mod msg;

pub use errors::ContractError;
pub use msg::*;

use consort_contract::agreement::{
    party_event, AgreementQuery, AgreementTotals, AgreementView, PartyView, VIEW_PARTIES_MAX,
};
use consort_contract::math::{bps_of, share_of, BPS_WHOLE};
use consort_contract::prelude::*;
use consort_contract::validate_address;
use std::collections::BTreeMap;

/// Most categories a program offers.
pub const CATEGORIES_MAX: usize = 32;
/// Longest category, shoe id, device id or device kind.
pub const NAME_BYTES_MAX: usize = 64;
/// Most commitments one purchase may cover (their hashes are kept with the purchase).
pub const DATASET_COMMITMENTS_MAX: usize = 200;
/// Most shoes or devices per wearer.
pub const ITEMS_PER_WEARER_MAX: usize = 32;
/// Most commitments one export query returns.
pub const EXPORT_PAGE_MAX: u32 = 100;

const PROGRAM: Item<Program> = Item::new("program");
const TOTALS: Item<Totals> = Item::new("totals");
const NEXT_SEQ: Item<u64> = Item::new("next_seq");
const NEXT_PURCHASE: Item<u64> = Item::new("next_purchase");
const WEARERS: Map<Wearer> = Map::new("wearers");
/// shoe id → wearer.
const SHOES: Map<String> = Map::new("shoes");
const DEVICES: Map<Device> = Map::new("devices");
/// device key address → the wearer it commits for.
const DEVICE_KEYS: Map<String> = Map::new("device_keys");
/// `{category}/{from_ms:020}/{seq:020}` → commitment: a category's data in time order.
const COMMITS: Map<Commitment> = Map::new("commits");
/// `{wearer}/{seq:020}` → commitment key, for export.
const WEARER_COMMITS: Map<String> = Map::new("wearer_commits");
const PURCHASES: Map<Purchase> = Map::new("purchases");
/// buyer → total spent.
const BUYERS: Map<String> = Map::new("buyers");

type Result<T> = std::result::Result<T, ContractError>;

fn check_name(what: &str, name: &str) -> Result<()> {
    match name.is_empty() || name.len() > NAME_BYTES_MAX {
        true => Err(ContractError::Invalid(format!("{what} must be 1 to {NAME_BYTES_MAX} bytes"))),
        false => Ok(()),
    }
}

fn check_categories(program: &Program, categories: &[String]) -> Result<()> {
    match categories.iter().find(|c| !program.categories.contains(c)) {
        Some(c) => Err(ContractError::UnknownCategory(c.clone())),
        None => Ok(()),
    }
}

fn seq_key(seq: u64) -> String {
    format!("{seq:020}")
}

fn instantiate(ctx: &mut Ctx, msg: InstantiateMsg) -> Result<Response> {
    if msg.wearer_share_bps > BPS_WHOLE {
        return Err(ContractError::Invalid(format!("wearer_share_bps must be at most {BPS_WHOLE}")));
    }
    if msg.categories.is_empty() || msg.categories.len() > CATEGORIES_MAX {
        return Err(ContractError::Invalid(format!("offer 1 to {CATEGORIES_MAX} categories")));
    }
    for c in &msg.categories {
        check_name("a category", c)?;
        if c.contains('/') {
            return Err(ContractError::Invalid(format!("category {c:?} may not contain '/'")));
        }
    }
    check_name("the brand name", &msg.brand)?;
    let brand_address = ctx.info.sender.clone();
    let program = Program {
        brand: msg.brand,
        brand_address: brand_address.clone(),
        wearer_share_bps: msg.wearer_share_bps,
        categories: msg.categories,
        units_per_pair: msg.units_per_pair,
        sync_bonus_units: msg.sync_bonus_units,
    };
    PROGRAM.save(ctx.host, &program)?;
    TOTALS.save(ctx.host, &Totals::default())?;
    NEXT_SEQ.save(ctx.host, &1)?;
    NEXT_PURCHASE.save(ctx.host, &1)?;
    let opened = Event::new("program_opened")
        .attr("brand", &program.brand)
        .attr("wearer_share_bps", program.wearer_share_bps)
        .attr("categories", program.categories.join(","));
    Ok(Response::new().add_event(opened).add_event(party_event(&brand_address, "brand")))
}

fn authorise_device_key(ctx: &mut Ctx, key: &Option<String>, wearer: &str) -> Result<()> {
    let Some(key) = key else { return Ok(()) };
    validate_address(key)?;
    match DEVICE_KEYS.may_load(ctx.host, key)? {
        Some(owner) if owner != wearer => Err(ContractError::DeviceKeyTaken(key.clone())),
        _ => Ok(DEVICE_KEYS.save(ctx.host, key, &wearer.to_owned())?),
    }
}

fn add_consent(wearer: &mut Wearer, categories: &[String]) {
    for c in categories {
        if !wearer.consent.contains(c) {
            wearer.consent.push(c.clone());
        }
    }
    wearer.consent.sort();
}

fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<Response> {
    let program = PROGRAM.load(ctx.host)?;
    let sender = ctx.info.sender.clone();
    if ctx.info.funds > 0 && !matches!(msg, ExecuteMsg::Purchase { .. }) {
        return Err(ContractError::Invalid("only purchase takes funds".into()));
    }
    match msg {
        ExecuteMsg::Activate { shoe_id, consent, device_key } => {
            check_name("a shoe id", &shoe_id)?;
            check_categories(&program, &consent)?;
            if SHOES.has(ctx.host, &shoe_id) {
                return Err(ContractError::AlreadyActivated(shoe_id));
            }
            let existing = WEARERS.may_load(ctx.host, &sender)?;
            let mut wearer = existing.clone().unwrap_or_default();
            if wearer.shoes.len() >= ITEMS_PER_WEARER_MAX {
                return Err(ContractError::Invalid(format!("at most {ITEMS_PER_WEARER_MAX} shoes per wearer")));
            }
            authorise_device_key(ctx, &device_key, &sender)?;
            SHOES.save(ctx.host, &shoe_id, &sender)?;
            wearer.shoes.push(shoe_id.clone());
            add_consent(&mut wearer, &consent);
            wearer.units += program.units_per_pair;
            WEARERS.save(ctx.host, &sender, &wearer)?;
            let mut totals = TOTALS.load(ctx.host)?;
            totals.pairs += 1;
            totals.units_granted += program.units_per_pair;
            totals.wearers += u64::from(existing.is_none());
            TOTALS.save(ctx.host, &totals)?;
            let event = Event::new("shoe_activated")
                .attr("wearer", &sender)
                .attr("shoe_id", shoe_id)
                .attr("units", program.units_per_pair)
                .attr("consent", wearer.consent.join(","));
            let mut response = Response::new().add_event(event);
            if existing.is_none() {
                response = response.add_event(party_event(&sender, "wearer"));
            }
            Ok(response)
        }
        ExecuteMsg::SyncWearable { device_id, kind, categories, device_key } => {
            check_name("a device id", &device_id)?;
            check_name("a device kind", &kind)?;
            check_categories(&program, &categories)?;
            let mut wearer = WEARERS.may_load(ctx.host, &sender)?.ok_or(ContractError::NoShoe(sender.clone()))?;
            if DEVICES.has(ctx.host, &device_id) {
                return Err(ContractError::Invalid(format!("device {device_id} is already synced")));
            }
            if wearer.devices.len() >= ITEMS_PER_WEARER_MAX {
                return Err(ContractError::Invalid(format!("at most {ITEMS_PER_WEARER_MAX} devices per wearer")));
            }
            authorise_device_key(ctx, &device_key, &sender)?;
            DEVICES.save(
                ctx.host,
                &device_id,
                &Device { wearer: sender.clone(), kind: kind.clone(), categories: categories.clone() },
            )?;
            wearer.devices.push(device_id.clone());
            add_consent(&mut wearer, &categories);
            wearer.units += program.sync_bonus_units;
            WEARERS.save(ctx.host, &sender, &wearer)?;
            let mut totals = TOTALS.load(ctx.host)?;
            totals.units_granted += program.sync_bonus_units;
            TOTALS.save(ctx.host, &totals)?;
            let event = Event::new("wearable_synced")
                .attr("wearer", &sender)
                .attr("device_id", device_id)
                .attr("kind", kind)
                .attr("categories", categories.join(","))
                .attr("units", program.sync_bonus_units);
            Ok(Response::new().add_event(event))
        }
        ExecuteMsg::GrantConsent { categories } => {
            check_categories(&program, &categories)?;
            let mut wearer = WEARERS.may_load(ctx.host, &sender)?.ok_or(ContractError::NoShoe(sender.clone()))?;
            add_consent(&mut wearer, &categories);
            WEARERS.save(ctx.host, &sender, &wearer)?;
            let event = Event::new("consent_granted").attr("wearer", &sender).attr("categories", categories.join(","));
            Ok(Response::new().add_event(event))
        }
        ExecuteMsg::RevokeConsent { categories } => {
            let mut wearer = WEARERS.may_load(ctx.host, &sender)?.ok_or(ContractError::NoShoe(sender.clone()))?;
            wearer.consent.retain(|c| !categories.contains(c));
            WEARERS.save(ctx.host, &sender, &wearer)?;
            let event = Event::new("consent_revoked").attr("wearer", &sender).attr("categories", categories.join(","));
            Ok(Response::new().add_event(event))
        }
        ExecuteMsg::Commit { wearer, category, hash, from_ms, to_ms, records } => {
            let owner = wearer.unwrap_or_else(|| sender.clone());
            if owner != sender && DEVICE_KEYS.may_load(ctx.host, &sender)?.as_deref() != Some(owner.as_str()) {
                return Err(ContractError::NotAuthorised { committer: sender, wearer: owner });
            }
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(ContractError::Invalid("hash must be a blake3 hash: 64 lowercase hex digits".into()));
            }
            if from_ms > to_ms || records == 0 {
                return Err(ContractError::Invalid("need from_ms ≤ to_ms and at least one record".into()));
            }
            let mut w = WEARERS.may_load(ctx.host, &owner)?.ok_or(ContractError::NoShoe(owner.clone()))?;
            if !w.consent.contains(&category) {
                return Err(ContractError::NoConsent { wearer: owner, category });
            }
            let seq = NEXT_SEQ.load(ctx.host)?;
            NEXT_SEQ.save(ctx.host, &(seq + 1))?;
            let key = format!("{category}/{from_ms:020}/{}", seq_key(seq));
            let commitment = Commitment {
                seq,
                wearer: owner.clone(),
                category: category.clone(),
                hash: hash.clone(),
                from_ms,
                to_ms,
                records,
                committed_by: sender,
            };
            COMMITS.save(ctx.host, &key, &commitment)?;
            WEARER_COMMITS.save(ctx.host, &format!("{owner}/{}", seq_key(seq)), &key)?;
            w.records = w.records.saturating_add(records);
            WEARERS.save(ctx.host, &owner, &w)?;
            let event = Event::new("data_committed")
                .attr("wearer", owner)
                .attr("category", category)
                .attr("hash", hash)
                .attr("records", records)
                .attr("seq", seq);
            Ok(Response::new().add_event(event))
        }
        ExecuteMsg::Purchase { category, from_ms, to_ms } => purchase(ctx, &program, category, from_ms, to_ms),
        ExecuteMsg::Withdraw {} => withdraw(ctx, &program),
    }
}

fn purchase(ctx: &mut Ctx, program: &Program, category: String, from_ms: u64, to_ms: u64) -> Result<Response> {
    let amount = ctx.info.funds;
    if amount == 0 {
        return Err(ContractError::Invalid("send the price as funds with purchase".into()));
    }
    if !program.categories.contains(&category) {
        return Err(ContractError::UnknownCategory(category));
    }
    // Commitments are keyed by start time: scan from `from_ms`, stop past `to_ms`.
    let after = from_ms.checked_sub(1).map(|f| format!("{category}/{f:020}/~"));
    let mut selected: Vec<Commitment> = Vec::new();
    let mut consent_of: BTreeMap<String, bool> = BTreeMap::new();
    for item in COMMITS.iter_prefix(ctx.host, &format!("{category}/"), after.as_deref()) {
        let (_, c) = item?;
        if c.from_ms > to_ms {
            break;
        }
        if c.to_ms > to_ms {
            continue;
        }
        let live = match consent_of.get(&c.wearer) {
            Some(live) => *live,
            None => {
                let live = WEARERS.may_load(ctx.host, &c.wearer)?.is_some_and(|w| w.consent.contains(&category));
                consent_of.insert(c.wearer.clone(), live);
                live
            }
        };
        if live {
            if selected.len() == DATASET_COMMITMENTS_MAX {
                return Err(ContractError::DatasetTooLarge);
            }
            selected.push(c);
        }
    }
    let mut records_of: BTreeMap<String, u64> = BTreeMap::new();
    for c in &selected {
        *records_of.entry(c.wearer.clone()).or_insert(0) += c.records;
    }
    let total_records: u64 =
        records_of.values().try_fold(0u64, |a, r| a.checked_add(*r)).ok_or(ContractError::Overflow)?;
    if total_records == 0 {
        return Err(ContractError::NoData { category });
    }
    let mut totals = TOTALS.load(ctx.host)?;
    let wearers_cut = bps_of(amount, program.wearer_share_bps).ok_or(ContractError::Overflow)?;
    let brand_part = amount - wearers_cut;
    let pool = wearers_cut.checked_add(totals.carry).ok_or(ContractError::Overflow)?;
    let mut paid_to_wearers = 0u128;
    for (address, records) in &records_of {
        let credit = share_of(pool, *records, total_records).ok_or(ContractError::Overflow)?;
        let mut w = WEARERS.load(ctx.host, address)?;
        w.earned = w.earned.checked_add(credit).ok_or(ContractError::Overflow)?;
        WEARERS.save(ctx.host, address, &w)?;
        paid_to_wearers += credit;
    }
    totals.carry = pool - paid_to_wearers;
    totals.wearers_earned += paid_to_wearers;
    totals.brand_earned = totals.brand_earned.checked_add(brand_part).ok_or(ContractError::Overflow)?;
    totals.revenue = totals.revenue.checked_add(amount).ok_or(ContractError::Overflow)?;
    totals.purchases += 1;
    TOTALS.save(ctx.host, &totals)?;
    let id = NEXT_PURCHASE.load(ctx.host)?;
    NEXT_PURCHASE.save(ctx.host, &(id + 1))?;
    let buyer = ctx.info.sender.clone();
    let spent: u128 = BUYERS.may_load(ctx.host, &buyer)?.and_then(|s| s.parse().ok()).unwrap_or(0);
    BUYERS.save(ctx.host, &buyer, &spent.saturating_add(amount).to_string())?;
    let record = Purchase {
        id,
        buyer: buyer.clone(),
        category: category.clone(),
        from_ms,
        to_ms,
        amount,
        records: total_records,
        wearers: records_of.len() as u64,
        hashes: selected.iter().map(|c| c.hash.clone()).collect(),
    };
    PURCHASES.save(ctx.host, &seq_key(id), &record)?;
    let event = Event::new("dataset_purchased")
        .attr("id", id)
        .attr("buyer", &buyer)
        .attr("category", category)
        .attr("records", total_records)
        .attr("wearers", records_of.len())
        .attr("amount", amount)
        .attr("to_wearers", paid_to_wearers)
        .attr("to_brand", brand_part);
    let mut response = Response::new().add_event(event).set_data(id);
    if spent == 0 {
        response = response.add_event(party_event(&buyer, "buyer"));
    }
    Ok(response)
}

fn withdraw(ctx: &mut Ctx, program: &Program) -> Result<Response> {
    let sender = ctx.info.sender.clone();
    let mut totals = TOTALS.load(ctx.host)?;
    let amount = if sender == program.brand_address {
        let owed = totals.brand_earned - totals.brand_withdrawn;
        totals.brand_withdrawn += owed;
        owed
    } else {
        let mut w = WEARERS.may_load(ctx.host, &sender)?.ok_or(ContractError::NotAParty(sender.clone()))?;
        let owed = w.earned - w.withdrawn;
        w.withdrawn += owed;
        WEARERS.save(ctx.host, &sender, &w)?;
        owed
    };
    if amount == 0 {
        return Err(ContractError::NothingOwed(sender));
    }
    totals.paid_out += amount;
    TOTALS.save(ctx.host, &totals)?;
    ctx.host.send(&sender, amount)?;
    Ok(Response::new().add_event(Event::new("withdrawal").attr("party", sender).attr("amount", amount)))
}

fn wearer_party(address: &str, w: &Wearer, program: &Program) -> PartyView {
    PartyView {
        address: address.into(),
        role: "wearer".into(),
        share: format!(
            "{}.{:02}% of data revenue by records; {} share units",
            program.wearer_share_bps / 100,
            program.wearer_share_bps % 100,
            w.units
        ),
        owed: w.earned - w.withdrawn,
        withdrawn: w.withdrawn,
    }
}

fn brand_party(program: &Program, totals: &Totals) -> PartyView {
    let bps = BPS_WHOLE - program.wearer_share_bps;
    PartyView {
        address: program.brand_address.clone(),
        role: "brand".into(),
        share: format!("{}.{:02}% of data revenue", bps / 100, bps % 100),
        owed: totals.brand_earned - totals.brand_withdrawn,
        withdrawn: totals.brand_withdrawn,
    }
}

fn agreement_view(ctx: &QueryCtx, q: AgreementQuery) -> Result<AgreementView> {
    let program = PROGRAM.load(ctx.host)?;
    let totals = TOTALS.load(ctx.host)?;
    let parties = match q.party {
        Some(p) if p == program.brand_address => vec![brand_party(&program, &totals)],
        Some(p) => match (WEARERS.may_load(ctx.host, &p)?, BUYERS.may_load(ctx.host, &p)?) {
            (Some(w), _) => vec![wearer_party(&p, &w, &program)],
            (None, Some(spent)) => vec![PartyView {
                address: p,
                role: "buyer".into(),
                share: format!("bought datasets for {spent}"),
                owed: 0,
                withdrawn: 0,
            }],
            (None, None) => Vec::new(),
        },
        None => {
            let mut all = vec![brand_party(&program, &totals)];
            for item in WEARERS.iter(ctx.host).take(VIEW_PARTIES_MAX - 1) {
                let (address, w) = item?;
                all.push(wearer_party(&address, &w, &program));
            }
            all
        }
    };
    Ok(AgreementView {
        kind: "shoe_data".into(),
        title: format!("{} data program", program.brand),
        status: "open".into(),
        terms: serde_json::to_value(&program).map_err(|e| StdError::msg(e.to_string()))?,
        totals: AgreementTotals {
            received: totals.revenue,
            paid_out: totals.paid_out,
            held: totals.revenue - totals.paid_out,
        },
        parties,
        parties_total: 1 + totals.wearers,
    })
}

fn query(ctx: &QueryCtx, msg: QueryMsg) -> Result<serde_json::Value> {
    let json = |v: std::result::Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|e| ContractError::Std(StdError::msg(e.to_string())))
    };
    match msg {
        QueryMsg::Program {} => {
            json(serde_json::to_value(ProgramView { program: PROGRAM.load(ctx.host)?, totals: TOTALS.load(ctx.host)? }))
        }
        QueryMsg::Wearer { address } => {
            let wearer = WEARERS.may_load(ctx.host, &address)?.ok_or(ContractError::NotAParty(address.clone()))?;
            let owed = wearer.earned - wearer.withdrawn;
            json(serde_json::to_value(WearerView { address, wearer, owed }))
        }
        QueryMsg::Export { wearer, after, limit } => {
            let limit = limit.unwrap_or(EXPORT_PAGE_MAX).min(EXPORT_PAGE_MAX) as usize;
            let after = after.map(|s| format!("{wearer}/{}", seq_key(s)));
            let mut out = Vec::new();
            for item in WEARER_COMMITS.iter_prefix(ctx.host, &format!("{wearer}/"), after.as_deref()).take(limit) {
                let (_, key) = item?;
                out.push(COMMITS.load(ctx.host, &key)?);
            }
            json(serde_json::to_value(out))
        }
        QueryMsg::Purchase { id } => {
            let p = PURCHASES
                .may_load(ctx.host, &seq_key(id))?
                .ok_or(ContractError::Invalid(format!("no purchase {id}")))?;
            json(serde_json::to_value(p))
        }
        QueryMsg::Agreement(q) => json(serde_json::to_value(agreement_view(ctx, q)?)),
    }
}

consort_contract::entry_points!(instantiate: instantiate, execute: execute, query: query);
