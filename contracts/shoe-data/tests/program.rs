//! The shoe-data program on the mock chain: the story's every step and refusal, and a property test over
//! random histories (10,000 by default; `CONSORT_PROPTEST_CASES` for more).

use consort_contract::agreement::AgreementView;
use consort_contract::mock::{address, MockChain};
use proptest::prelude::*;
use serde_json::{json, Value};
use shoe_data::{contract, Commitment, WearerView};

const CATEGORIES: [&str; 5] = ["steps", "pace", "route", "heart_rate", "glucose"];

fn hash(n: u64) -> String {
    format!("{n:064x}")
}

fn setup(bps: u64) -> (MockChain, String) {
    let mut chain = MockChain::new();
    for name in ["brand", "ana", "ben", "cy", "buyer", "buyer2", "device"] {
        chain.fund(&address(name), 1_000_000_000);
    }
    let terms = json!({"brand": "Stride", "wearer_share_bps": bps, "categories": CATEGORIES,
        "units_per_pair": 10, "sync_bonus_units": 3});
    let c = chain.instantiate(contract(), &address("brand"), &terms, 0).unwrap();
    (chain, c)
}

fn run(chain: &mut MockChain, c: &str, who: &str, msg: Value) -> Result<consort_contract::Response, String> {
    chain.execute(c, &address(who), &msg, 0)
}

fn activate(chain: &mut MockChain, c: &str, who: &str, shoe: &str, consent: &[&str]) {
    run(chain, c, who, json!({"activate": {"shoe_id": shoe, "consent": consent, "device_key": null}})).unwrap();
}

fn commit(
    chain: &mut MockChain,
    c: &str,
    who: &str,
    category: &str,
    n: u64,
    from: u64,
    records: u64,
) -> Result<(), String> {
    let msg = json!({"commit": {"wearer": null, "category": category, "hash": hash(n), "from_ms": from, "to_ms": from + 10, "records": records}});
    run(chain, c, who, msg).map(|_| ())
}

fn wearer(chain: &MockChain, c: &str, who: &str) -> WearerView {
    chain.query(c, &json!({"wearer": {"address": address(who)}})).unwrap()
}

fn buy(
    chain: &mut MockChain,
    c: &str,
    who: &str,
    category: &str,
    from: u64,
    to: u64,
    amount: u128,
) -> Result<consort_contract::Response, String> {
    chain.execute(c, &address(who), &json!({"purchase": {"category": category, "from_ms": from, "to_ms": to}}), amount)
}

#[test]
fn activation_credits_units_once_per_shoe_and_syncing_adds_a_bonus() {
    let (mut chain, c) = setup(7_000);
    activate(&mut chain, &c, "ana", "SHOE-1", &["steps"]);
    let err = run(&mut chain, &c, "ben", json!({"activate": {"shoe_id": "SHOE-1", "consent": [], "device_key": null}}))
        .unwrap_err();
    assert_eq!(err, "shoe SHOE-1 is already activated");
    activate(&mut chain, &c, "ana", "SHOE-2", &["pace"]);
    let sync = json!({"sync_wearable": {"device_id": "HRM-9", "kind": "heart monitor", "categories": ["heart_rate"], "device_key": address("device")}});
    run(&mut chain, &c, "ana", sync.clone()).unwrap();
    assert!(run(&mut chain, &c, "ben", sync).unwrap_err().contains("has not activated a shoe"));
    let w = wearer(&chain, &c, "ana");
    assert_eq!(
        (w.wearer.units, w.wearer.consent.clone()),
        (23, vec!["heart_rate".to_string(), "pace".into(), "steps".into()])
    );
    let bad =
        run(&mut chain, &c, "ana", json!({"activate": {"shoe_id": "S3", "consent": ["dna"], "device_key": null}}));
    assert!(bad.unwrap_err().contains("not offered"));
}

#[test]
fn commits_need_live_consent_and_the_wearer_or_their_device() {
    let (mut chain, c) = setup(7_000);
    activate(&mut chain, &c, "ana", "SHOE-1", &["steps"]);
    assert!(commit(&mut chain, &c, "ana", "route", 1, 100, 5).unwrap_err().contains("no live consent for route"));
    commit(&mut chain, &c, "ana", "steps", 1, 100, 5).unwrap();
    let by_device = || json!({"commit": {"wearer": address("ana"), "category": "steps", "hash": hash(2), "from_ms": 200, "to_ms": 210, "records": 1}});
    let err = run(&mut chain, &c, "device", by_device()).unwrap_err();
    assert!(err.contains("may not commit data for"), "{err}");
    run(&mut chain, &c, "ana", json!({"sync_wearable": {"device_id": "W1", "kind": "watch", "categories": [], "device_key": address("device")}})).unwrap();
    run(&mut chain, &c, "device", by_device()).unwrap();
    let bad_hash = json!({"commit": {"wearer": null, "category": "steps", "hash": "raw data!", "from_ms": 1, "to_ms": 2, "records": 1}});
    assert!(run(&mut chain, &c, "ana", bad_hash).unwrap_err().contains("64 lowercase hex"));
    let export: Vec<Commitment> =
        chain.query(&c, &json!({"export": {"wearer": address("ana"), "after": null, "limit": null}})).unwrap();
    assert_eq!(export.iter().map(|e| e.hash.clone()).collect::<Vec<_>>(), vec![hash(1), hash(2)]);
    assert_eq!(export[1].committed_by, address("device"));
}

#[test]
fn a_sale_splits_by_records_and_revoked_data_is_not_sold() {
    let (mut chain, c) = setup(7_000);
    activate(&mut chain, &c, "ana", "S1", &["steps"]);
    activate(&mut chain, &c, "ben", "S2", &["steps"]);
    commit(&mut chain, &c, "ana", "steps", 1, 100, 300).unwrap();
    commit(&mut chain, &c, "ben", "steps", 2, 150, 100).unwrap();
    commit(&mut chain, &c, "ben", "steps", 3, 5_000, 100).unwrap(); // outside the window bought below
    let r = buy(&mut chain, &c, "buyer", "steps", 0, 1_000, 1_000).unwrap();
    assert_eq!(r.events[0].get("records"), Some("400"));
    // 700 to wearers by records (3:1), 300 to the brand.
    assert_eq!((wearer(&chain, &c, "ana").owed, wearer(&chain, &c, "ben").owed), (525, 175));
    run(&mut chain, &c, "ben", json!({"revoke_consent": {"categories": ["steps"]}})).unwrap();
    buy(&mut chain, &c, "buyer2", "steps", 0, 10_000, 100).unwrap();
    assert_eq!((wearer(&chain, &c, "ana").owed, wearer(&chain, &c, "ben").owed), (595, 175), "ben's data was not sold");
    assert!(commit(&mut chain, &c, "ben", "steps", 4, 6_000, 1).is_err());
    let err = buy(&mut chain, &c, "buyer", "pace", 0, 10_000, 100).unwrap_err();
    assert!(err.contains("no pace data"), "{err}");
    let purchase: Value = chain.query(&c, &json!({"purchase": {"id": 1}})).unwrap();
    assert_eq!(purchase["hashes"], json!([hash(1), hash(2)]));
}

#[test]
fn everyone_withdraws_what_they_earned_and_no_more() {
    let (mut chain, c) = setup(5_000);
    activate(&mut chain, &c, "ana", "S1", &["steps"]);
    activate(&mut chain, &c, "ben", "S2", &["steps"]);
    activate(&mut chain, &c, "cy", "S3", &["steps"]);
    for (i, who) in ["ana", "ben", "cy"].iter().enumerate() {
        commit(&mut chain, &c, who, "steps", i as u64, 100, 1).unwrap();
    }
    buy(&mut chain, &c, "buyer", "steps", 0, 1_000, 101).unwrap();
    // Wearers' 50 over 3 equal contributors: 16 each, 2 carried into the next sale.
    assert_eq!(wearer(&chain, &c, "ana").owed, 16);
    buy(&mut chain, &c, "buyer", "steps", 0, 1_000, 100).unwrap();
    assert_eq!(wearer(&chain, &c, "ana").owed, 16 + 17);
    let before = chain.balance(&address("ana"));
    run(&mut chain, &c, "ana", json!({"withdraw": {}})).unwrap();
    assert_eq!(chain.balance(&address("ana")), before + 33);
    assert!(run(&mut chain, &c, "ana", json!({"withdraw": {}})).unwrap_err().contains("nothing is owed"));
    assert!(run(&mut chain, &c, "buyer2", json!({"withdraw": {}}))
        .unwrap_err()
        .contains("neither the brand nor a wearer"));
    run(&mut chain, &c, "brand", json!({"withdraw": {}})).unwrap();
    let view: AgreementView = chain.query(&c, &json!({"agreement": {}})).unwrap();
    assert_eq!(view.parties[0].withdrawn, 51 + 50);
    assert_eq!(view.totals.paid_out + chain.balance(&c), view.totals.received);
    let buyer: AgreementView = chain.query(&c, &json!({"agreement": {"party": address("buyer")}})).unwrap();
    assert_eq!(buyer.parties[0].role, "buyer");
}

#[derive(Clone, Debug)]
enum Op {
    Commit { wearer: usize, category: usize, from: u64, records: u64 },
    Revoke { wearer: usize, category: usize },
    Grant { wearer: usize, category: usize },
    Buy { category: usize, from: u64, span: u64, amount: u128 },
    Withdraw { who: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..3, 0usize..2, 0u64..1_000, 1u64..1_000).prop_map(|(wearer, category, from, records)| Op::Commit { wearer, category, from, records }),
        1 => (0usize..3, 0usize..2).prop_map(|(wearer, category)| Op::Revoke { wearer, category }),
        1 => (0usize..3, 0usize..2).prop_map(|(wearer, category)| Op::Grant { wearer, category }),
        3 => (0usize..2, 0u64..1_000, 0u64..1_200, 1u128..10_000_000).prop_map(|(category, from, span, amount)| Op::Buy { category, from, span, amount }),
        2 => (0usize..4).prop_map(|who| Op::Withdraw { who }),
    ]
}

fn cases() -> u32 {
    std::env::var("CONSORT_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Withdrawals + what the contract holds == everything paid in; the brand gets exactly its part; no
    /// wearer gets more than its exact pro-rata share (plus at most one unit per sale from carried
    /// remainders).
    #[test]
    fn money_is_conserved_and_nobody_is_overpaid(bps in 0u64..=10_000, ops in prop::collection::vec(op(), 1..25)) {
        let (mut chain, c) = setup(bps);
        let names = ["ana", "ben", "cy", "brand"];
        for (i, who) in names[..3].iter().enumerate() {
            activate(&mut chain, &c, who, &format!("S{i}"), &["steps", "pace"]);
        }
        let cats = ["steps", "pace"];
        let supply = chain.total_supply();
        let (mut received, mut brand_exact, mut sales, mut n) = (0u128, 0u128, 0u32, 0u64);
        let mut entitled = [0f64; 3];
        for op in ops {
            match op {
                Op::Commit { wearer, category, from, records } => {
                    n += 1;
                    let _ = commit(&mut chain, &c, names[wearer], cats[category], n, from, records);
                }
                Op::Revoke { wearer, category } => { run(&mut chain, &c, names[wearer], json!({"revoke_consent": {"categories": [cats[category]]}})).unwrap(); }
                Op::Grant { wearer, category } => { run(&mut chain, &c, names[wearer], json!({"grant_consent": {"categories": [cats[category]]}})).unwrap(); }
                Op::Buy { category, from, span, amount } => {
                    if let Ok(r) = buy(&mut chain, &c, "buyer", cats[category], from, from + span, amount) {
                        received += amount;
                        sales += 1;
                        let wearers_cut = amount * u128::from(bps) / 10_000;
                        brand_exact += amount - wearers_cut;
                        let id = r.data.unwrap();
                        let p: Value = chain.query(&c, &json!({"purchase": {"id": id}})).unwrap();
                        let total = p["records"].as_u64().unwrap() as f64;
                        // Each wearer's records in this sale, from its export.
                        for (w, who) in names[..3].iter().enumerate() {
                            let export: Vec<Commitment> = chain.query(&c, &json!({"export": {"wearer": address(who), "after": null, "limit": 100}})).unwrap();
                            let hashes: Vec<String> = serde_json::from_value(p["hashes"].clone()).unwrap();
                            let mine: u64 = export.iter().filter(|e| hashes.contains(&e.hash)).map(|e| e.records).sum();
                            entitled[w] += amount as f64 * bps as f64 / 10_000.0 * mine as f64 / total;
                        }
                    }
                }
                Op::Withdraw { who } => { let _ = run(&mut chain, &c, names[who], json!({"withdraw": {}})); }
            }
            prop_assert_eq!(chain.total_supply(), supply);
            let view: AgreementView = chain.query(&c, &json!({"agreement": {}})).unwrap();
            prop_assert_eq!(view.totals.received, received);
            prop_assert_eq!(view.totals.paid_out + chain.balance(&c), received);
            let brand = &view.parties[0];
            prop_assert_eq!(brand.owed + brand.withdrawn, brand_exact);
        }
        for (w, who) in names[..3].iter().enumerate() {
            let v = wearer(&chain, &c, who);
            let got = (v.wearer.earned) as f64;
            prop_assert!(got <= entitled[w].floor() + sales as f64 + 1e-6, "{who} got {got}, entitled to {}", entitled[w]);
        }
    }
}
