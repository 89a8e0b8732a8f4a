//! The revenue-split contract on the mock chain: every refusal, amendments, transfers, closing, and a
//! property test over random histories (10,000 by default; `CONSORT_PROPTEST_CASES` for more).

use consort_contract::agreement::AgreementView;
use consort_contract::mock::{address, MockChain};
use proptest::prelude::*;
use revenue_split::{contract, PartyShare};
use serde_json::{json, Value};

fn parties(list: &[(&str, u64)]) -> Value {
    json!(list.iter().map(|(n, s)| PartyShare { address: address(n), share: *s }).collect::<Vec<_>>())
}

fn setup(list: &[(&str, u64)]) -> (MockChain, String) {
    let mut chain = MockChain::new();
    for name in ["alice", "bob", "carol", "dave", "payer", "outsider"] {
        chain.fund(&address(name), 1_000_000_000_000);
    }
    let msg = json!({"title": "band royalties", "parties": parties(list)});
    let c = chain.instantiate(contract(), &address("alice"), &msg, 0).unwrap();
    (chain, c)
}

fn owed(chain: &MockChain, c: &str, who: &str) -> u128 {
    let v: Value = chain.query(c, &json!({"party": {"address": address(who)}})).unwrap();
    v["owed"].as_str().unwrap().parse().unwrap()
}

fn pay(chain: &mut MockChain, c: &str, amount: u128) {
    chain.execute(c, &address("payer"), &json!({"pay": {}}), amount).unwrap();
}

#[test]
fn bad_terms_are_refused() {
    let mut chain = MockChain::new();
    let a = address("a");
    for (list, why) in [
        (json!([{"address": a, "share": 1}]), "at least 2 parties"),
        (json!([{"address": a, "share": 1}, {"address": a, "share": 2}]), "listed twice"),
        (json!([{"address": a, "share": 1}, {"address": address("b"), "share": 0}]), "zero share"),
        (json!([{"address": a, "share": 1}, {"address": "consort1nope", "share": 1}]), "not a valid address"),
        (json!([{"address": a, "share": u64::MAX}, {"address": address("b"), "share": 1}]), "add up to more"),
    ] {
        let err = chain.instantiate(contract(), &a, &json!({"title": "t", "parties": list}), 0).unwrap_err();
        assert!(err.contains(why), "{err} should say {why}");
    }
}

#[test]
fn parties_pull_their_share_and_remainders_carry_over() {
    let (mut chain, c) = setup(&[("alice", 1), ("bob", 2)]);
    pay(&mut chain, &c, 100);
    assert_eq!((owed(&chain, &c, "alice"), owed(&chain, &c, "bob")), (33, 66));
    let before = chain.balance(&address("bob"));
    let r = chain.execute(&c, &address("bob"), &json!({"withdraw": {}}), 0).unwrap();
    assert_eq!(r.events[0].get("amount"), Some("66"));
    assert_eq!(chain.balance(&address("bob")), before + 66);
    pay(&mut chain, &c, 2);
    // 102 received: alice 34, bob 68 in all; the remainder of the first payment flowed out with the second.
    assert_eq!((owed(&chain, &c, "alice"), owed(&chain, &c, "bob")), (34, 2));
    let err = chain.execute(&c, &address("outsider"), &json!({"withdraw": {}}), 0).unwrap_err();
    assert!(err.contains("is not a party"), "{err}");
    chain.execute(&c, &address("outsider"), &json!({"distribute": {}}), 0).unwrap();
    assert_eq!(chain.balance(&c), 0);
    let err = chain.execute(&c, &address("bob"), &json!({"withdraw": {}}), 0).unwrap_err();
    assert!(err.contains("nothing is owed"), "{err}");
    assert!(chain.execute(&c, &address("payer"), &json!({"pay": {}}), 0).unwrap_err().contains("send funds"));
}

#[test]
fn amendments_need_every_party_and_settle_the_past_under_old_terms() {
    let (mut chain, c) = setup(&[("alice", 1), ("bob", 1)]);
    pay(&mut chain, &c, 100);
    let change =
        json!({"propose": {"change": {"terms": {"parties": parties(&[("alice", 3), ("bob", 1), ("carol", 1)])}}}});
    let err = chain.execute(&c, &address("carol"), &change, 0).unwrap_err();
    assert!(err.contains("not a party"), "{err}");
    let r = chain.execute(&c, &address("alice"), &change, 0).unwrap();
    let id = r.data.unwrap();
    // Only alice has approved: nothing changes, more payments still follow the old terms.
    pay(&mut chain, &c, 10);
    assert_eq!(owed(&chain, &c, "alice"), 55);
    let again = chain.execute(&c, &address("alice"), &json!({"approve": {"id": id}}), 0).unwrap_err();
    assert!(again.contains("already approved"), "{again}");
    assert!(chain.execute(&c, &address("carol"), &json!({"approve": {"id": id}}), 0).is_err());
    let r = chain.execute(&c, &address("bob"), &json!({"approve": {"id": id}}), 0).unwrap();
    assert!(r.events.iter().any(|e| e.kind == "terms_changed"));
    assert!(r.events.iter().any(|e| e.kind == "agreement_party" && e.get("address") == Some(&address("carol"))));
    pay(&mut chain, &c, 50);
    assert_eq!((owed(&chain, &c, "alice"), owed(&chain, &c, "bob"), owed(&chain, &c, "carol")), (85, 65, 10));
    let stale = chain.execute(&c, &address("bob"), &json!({"approve": {"id": id}}), 0).unwrap_err();
    assert!(stale.contains("no open proposal"), "{stale}");
}

#[test]
fn a_position_moves_whole_to_a_new_address() {
    let (mut chain, c) = setup(&[("alice", 1), ("bob", 1)]);
    pay(&mut chain, &c, 10);
    let to = address("dave");
    let r = chain.execute(&c, &address("bob"), &json!({"transfer_position": {"to": to}}), 0).unwrap();
    assert!(r.events.iter().any(|e| e.kind == "agreement_party"));
    assert!(chain.execute(&c, &address("bob"), &json!({"withdraw": {}}), 0).is_err());
    assert_eq!(owed(&chain, &c, "dave"), 5);
    let taken = chain.execute(&c, &address("dave"), &json!({"transfer_position": {"to": address("alice")}}), 0);
    assert!(taken.unwrap_err().contains("already a party"));
}

#[test]
fn closing_pays_out_everything_and_stops_payments() {
    let (mut chain, c) = setup(&[("alice", 1), ("bob", 1), ("carol", 1)]);
    pay(&mut chain, &c, 100);
    let id =
        chain.execute(&c, &address("alice"), &json!({"propose": {"change": {"close": {}}}}), 0).unwrap().data.unwrap();
    chain.execute(&c, &address("bob"), &json!({"approve": {"id": id}}), 0).unwrap();
    assert_eq!(chain.balance(&c), 100, "carol has not approved yet");
    chain.execute(&c, &address("carol"), &json!({"approve": {"id": id}}), 0).unwrap();
    assert_eq!(chain.balance(&c), 0, "the remainder unit went out too");
    let view: AgreementView = chain.query(&c, &json!({"agreement": {}})).unwrap();
    assert_eq!(view.status, "closed");
    let paid: u128 = view.parties.iter().map(|p| p.withdrawn).sum();
    assert_eq!(paid, 100);
    assert!(chain.execute(&c, &address("payer"), &json!({"pay": {}}), 5).unwrap_err().contains("closed"));
}

#[test]
fn the_standard_view_shows_one_party_or_all() {
    let (mut chain, c) = setup(&[("alice", 1), ("bob", 3)]);
    pay(&mut chain, &c, 40);
    let view: AgreementView = chain.query(&c, &json!({"agreement": {"party": address("bob")}})).unwrap();
    assert_eq!((view.kind.as_str(), view.parties.len(), view.parties_total), ("revenue_split", 1, 2));
    assert_eq!((view.parties[0].owed, view.parties[0].share.as_str()), (30, "3 of 4"));
    assert_eq!(view.totals.received, 40);
}

#[derive(Clone, Debug)]
enum Op {
    Pay(u128),
    Withdraw(usize),
    Distribute,
    Amend(Vec<u64>),
    Transfer(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u128..1_000_000u128).prop_map(Op::Pay),
        3 => (0usize..4).prop_map(Op::Withdraw),
        1 => Just(Op::Distribute),
        1 => prop::collection::vec(1u64..100, 2..4).prop_map(Op::Amend),
        1 => (0usize..4).prop_map(Op::Transfer),
    ]
}

fn cases() -> u32 {
    std::env::var("CONSORT_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Whatever happens, withdrawals + what the contract holds == everything received, and no party ever
    /// gets more than its exact share (plus at most one unit per change of terms, from remainders).
    #[test]
    fn money_is_conserved_and_nobody_is_overpaid(
        shares in prop::collection::vec(1u64..100, 2..4),
        ops in prop::collection::vec(op(), 1..25),
        close in any::<bool>(),
    ) {
        let mut chain = MockChain::new();
        chain.fund(&address("payer"), u128::MAX / 2);
        let mut holders: Vec<String> = (0..shares.len()).map(|i| address(&format!("party{i}"))).collect();
        let list: Vec<PartyShare> = holders.iter().zip(&shares).map(|(a, s)| PartyShare { address: a.clone(), share: *s }).collect();
        let c = chain.instantiate(contract(), &address("payer"), &json!({"title": "t", "parties": list}), 0).unwrap();
        let mut current: Vec<u64> = shares.clone();
        // Exact entitlement of each position (indexed like `holders`), and how many times terms changed.
        let mut entitled = vec![0f64; holders.len()];
        let (mut received, mut epochs, mut fresh) = (0u128, 1u32, 0usize);
        let start_supply = chain.total_supply();
        for op in ops {
            match op {
                Op::Pay(amount) => {
                    pay(&mut chain, &c, amount);
                    received += amount;
                    let total: u64 = current.iter().sum();
                    for (i, s) in current.iter().enumerate() {
                        entitled[i] += amount as f64 * *s as f64 / total as f64;
                    }
                }
                Op::Withdraw(i) => {
                    let who = &holders[i % holders.len()];
                    let _ = chain.execute(&c, who, &json!({"withdraw": {}}), 0);
                }
                Op::Distribute => { chain.execute(&c, &address("payer"), &json!({"distribute": {}}), 0).unwrap(); }
                Op::Amend(new) => {
                    let n = holders.len().min(new.len());
                    let list: Vec<PartyShare> = (0..holders.len()).map(|i| PartyShare {
                        address: holders[i].clone(),
                        share: if i < n { new[i] } else { 0 },
                    }).filter(|p| p.share > 0).collect();
                    if list.len() < 2 { continue; }
                    let msg = json!({"propose": {"change": {"terms": {"parties": list}}}});
                    let voters: Vec<String> = holders.iter().zip(&current).filter(|(_, s)| **s > 0).map(|(a, _)| a.clone()).collect();
                    let id = chain.execute(&c, &voters[0], &msg, 0).unwrap().data.unwrap();
                    for v in &voters[1..] {
                        chain.execute(&c, v, &json!({"approve": {"id": id}}), 0).unwrap();
                    }
                    current = (0..holders.len()).map(|i| if i < n { new[i] } else { 0 }).collect();
                    epochs += 1;
                }
                Op::Transfer(i) => {
                    let i = i % holders.len();
                    fresh += 1;
                    let to = address(&format!("fresh{fresh}"));
                    chain.execute(&c, &holders[i].clone(), &json!({"transfer_position": {"to": to}}), 0).unwrap();
                    holders[i] = to;
                }
            }
            // Conservation: nothing minted or burnt anywhere, and the contract holds exactly received − paid.
            prop_assert_eq!(chain.total_supply(), start_supply);
            let view: AgreementView = chain.query(&c, &json!({"agreement": {}})).unwrap();
            prop_assert_eq!(view.totals.received, received);
            prop_assert_eq!(view.totals.paid_out + chain.balance(&c), received);
            prop_assert_eq!(view.totals.held, chain.balance(&c));
            let owed: u128 = view.parties.iter().map(|p| p.owed).sum();
            prop_assert!(owed <= chain.balance(&c));
        }
        if close {
            let voters: Vec<String> = holders.iter().zip(&current).filter(|(_, s)| **s > 0).map(|(a, _)| a.clone()).collect();
            let id = chain.execute(&c, &voters[0], &json!({"propose": {"change": {"close": {}}}}), 0).unwrap().data.unwrap();
            for v in &voters[1..] {
                chain.execute(&c, v, &json!({"approve": {"id": id}}), 0).unwrap();
            }
            prop_assert_eq!(chain.balance(&c), 0, "closing pays out everything");
            epochs += 1;
        }
        let view: AgreementView = chain.query(&c, &json!({"agreement": {}})).unwrap();
        for (i, holder) in holders.iter().enumerate() {
            let p = view.parties.iter().find(|p| &p.address == holder).unwrap();
            let got = (p.owed + p.withdrawn) as f64;
            prop_assert!(got <= entitled[i].floor() + epochs as f64, "{holder} got {got}, entitled to {}", entitled[i]);
        }
    }
}
