//! The co-creation program on the mock chain: every refusal, the royalty flow, and a property test over
//! random histories (10,000 by default; `CONSORT_PROPTEST_CASES` for more).

use co_creation::{contract, Idea, OwedView, Status};
use consort_contract::agreement::AgreementView;
use consort_contract::mock::{address, MockChain};
use proptest::prelude::*;
use serde_json::{json, Value};

fn setup(bps: u64) -> (MockChain, String) {
    let mut chain = MockChain::new();
    for name in ["retailer", "j1", "j2", "j3", "olga", "carl", "cleo", "stranger"] {
        chain.fund(&address(name), 1_000_000_000_000);
    }
    let msg =
        json!({"title": "Trail shoe ideas", "royalty_bps": bps, "jury": [address("j1"), address("j2"), address("j3")]});
    let c = chain.instantiate(contract(), &address("retailer"), &msg, 0).unwrap();
    (chain, c)
}

fn run(chain: &mut MockChain, c: &str, who: &str, msg: Value) -> Result<consort_contract::Response, String> {
    chain.execute(c, &address(who), &msg, 0)
}

fn owed(chain: &MockChain, c: &str, who: &str) -> u128 {
    chain.query::<OwedView>(c, &json!({"owed": {"address": address(who)}})).unwrap().owed
}

/// olga proposes idea 1, carl and cleo improve it; weights 2:1:1.
fn idea_with_weights(chain: &mut MockChain, c: &str) -> u64 {
    let id = run(chain, c, "olga", json!({"propose": {"title": "Heel light", "summary": "A light in the heel"}}))
        .unwrap()
        .data
        .unwrap();
    let id = id.as_u64().unwrap();
    run(chain, c, "carl", json!({"contribute": {"idea": id, "summary": "Make it solar"}})).unwrap();
    run(chain, c, "cleo", json!({"contribute": {"idea": id, "summary": "Warm colour"}})).unwrap();
    let weights = json!([{"address": address("olga"), "weight": 2}, {"address": address("carl"), "weight": 1}, {"address": address("cleo"), "weight": 1}]);
    run(chain, c, "j1", json!({"set_weights": {"idea": id, "weights": weights}})).unwrap();
    id
}

#[test]
fn only_the_jury_weighs_and_a_majority_approves() {
    let (mut chain, c) = setup(500);
    let id = idea_with_weights(&mut chain, &c);
    let weights = json!([{"address": address("carl"), "weight": 5}]);
    let err = run(&mut chain, &c, "stranger", json!({"set_weights": {"idea": id, "weights": weights}})).unwrap_err();
    assert!(err.contains("is not on the jury"), "{err}");
    let err = run(&mut chain, &c, "j2", json!({"set_weights": {"idea": id, "weights": weights}})).unwrap_err();
    assert!(err.contains("originator must have a weight"), "{err}");
    let outsider = json!([{"address": address("olga"), "weight": 1}, {"address": address("stranger"), "weight": 1}]);
    assert!(run(&mut chain, &c, "j2", json!({"set_weights": {"idea": id, "weights": outsider}}))
        .unwrap_err()
        .contains("neither proposed nor improved"));
    assert!(run(&mut chain, &c, "olga", json!({"approve": {"idea": id}})).is_err());
    run(&mut chain, &c, "j1", json!({"approve": {"idea": id}})).unwrap();
    assert!(run(&mut chain, &c, "j1", json!({"approve": {"idea": id}})).unwrap_err().contains("already voted"));
    let sales = json!({"report_sales": {"idea": id, "sales": "1000"}});
    assert!(chain.execute(&c, &address("retailer"), &sales, 50).unwrap_err().contains("Proposed"));
    run(&mut chain, &c, "j3", json!({"approve": {"idea": id}})).unwrap();
    let idea: Idea = chain.query(&c, &json!({"idea": {"id": id}})).unwrap();
    assert_eq!(idea.status, Status::Approved);
}

#[test]
fn royalties_flow_to_co_creators_by_weight() {
    let (mut chain, c) = setup(500);
    let id = idea_with_weights(&mut chain, &c);
    run(&mut chain, &c, "j1", json!({"approve": {"idea": id}})).unwrap();
    run(&mut chain, &c, "j2", json!({"approve": {"idea": id}})).unwrap();
    let sales = json!({"report_sales": {"idea": id, "sales": "10000"}});
    let err = chain.execute(&c, &address("retailer"), &sales, 400).unwrap_err();
    assert_eq!(err, "the royalty due is 500; send exactly that (sent 400)");
    assert!(chain.execute(&c, &address("stranger"), &sales, 500).unwrap_err().contains("only the retailer"));
    chain.execute(&c, &address("retailer"), &sales, 500).unwrap();
    assert_eq!((owed(&chain, &c, "olga"), owed(&chain, &c, "carl"), owed(&chain, &c, "cleo")), (250, 125, 125));
    let before = chain.balance(&address("carl"));
    run(&mut chain, &c, "carl", json!({"withdraw": {}})).unwrap();
    assert_eq!(chain.balance(&address("carl")), before + 125);
    assert!(run(&mut chain, &c, "carl", json!({"withdraw": {}})).unwrap_err().contains("nothing is owed"));
    assert!(run(&mut chain, &c, "stranger", json!({"withdraw": {}})).is_err());
    let view: AgreementView = chain.query(&c, &json!({"agreement": {"party": address("olga")}})).unwrap();
    assert_eq!((view.parties[0].owed, view.totals.received), (250, 500));
}

#[test]
fn rejected_ideas_pay_nothing() {
    let (mut chain, c) = setup(500);
    let id = idea_with_weights(&mut chain, &c);
    run(&mut chain, &c, "j1", json!({"reject": {"idea": id}})).unwrap();
    run(&mut chain, &c, "j2", json!({"reject": {"idea": id}})).unwrap();
    let idea: Idea = chain.query(&c, &json!({"idea": {"id": id}})).unwrap();
    assert_eq!(idea.status, Status::Rejected);
    let sales = json!({"report_sales": {"idea": id, "sales": "10000"}});
    assert!(chain.execute(&c, &address("retailer"), &sales, 500).unwrap_err().contains("Rejected"));
    assert!(run(&mut chain, &c, "j3", json!({"approve": {"idea": id}})).is_err());
    assert_eq!(owed(&chain, &c, "olga"), 0);
}

#[derive(Clone, Debug)]
enum Op {
    Sales { idea: usize, sales: u128 },
    Withdraw { who: usize },
}

fn cases() -> u32 {
    std::env::var("CONSORT_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Withdrawals + held == royalties paid in, and each co-creator's take is exactly floor(royalties ×
    /// weight / total weight) per idea: never more.
    #[test]
    fn royalties_are_conserved_and_exact(
        bps in 0u64..=10_000,
        weights in prop::collection::vec((1u64..50, 1u64..50, 1u64..50), 1..3),
        ops in prop::collection::vec(prop_oneof![
            3 => (0usize..2, 0u128..10_000_000).prop_map(|(idea, sales)| Op::Sales { idea, sales }),
            2 => (0usize..3).prop_map(|who| Op::Withdraw { who }),
        ], 1..20),
    ) {
        let (mut chain, c) = setup(bps);
        let names = ["olga", "carl", "cleo"];
        let mut ids = Vec::new();
        for (w0, w1, w2) in &weights {
            let id = run(&mut chain, &c, "olga", json!({"propose": {"title": "t", "summary": "s"}})).unwrap().data.unwrap().as_u64().unwrap();
            run(&mut chain, &c, "carl", json!({"contribute": {"idea": id, "summary": "s"}})).unwrap();
            run(&mut chain, &c, "cleo", json!({"contribute": {"idea": id, "summary": "s"}})).unwrap();
            let ws = json!([{"address": address("olga"), "weight": w0}, {"address": address("carl"), "weight": w1}, {"address": address("cleo"), "weight": w2}]);
            run(&mut chain, &c, "j1", json!({"set_weights": {"idea": id, "weights": ws}})).unwrap();
            run(&mut chain, &c, "j1", json!({"approve": {"idea": id}})).unwrap();
            run(&mut chain, &c, "j2", json!({"approve": {"idea": id}})).unwrap();
            ids.push(id);
        }
        let supply = chain.total_supply();
        let mut royalties = vec![0u128; ids.len()];
        for op in ops {
            match op {
                Op::Sales { idea, sales } => {
                    let i = idea % ids.len();
                    let due = sales * u128::from(bps) / 10_000;
                    chain.execute(&c, &address("retailer"), &json!({"report_sales": {"idea": ids[i], "sales": sales.to_string()}}), due).unwrap();
                    royalties[i] += due;
                }
                Op::Withdraw { who } => { let _ = run(&mut chain, &c, names[who], json!({"withdraw": {}})); }
            }
            prop_assert_eq!(chain.total_supply(), supply);
            let view: AgreementView = chain.query(&c, &json!({"agreement": {}})).unwrap();
            prop_assert_eq!(view.totals.received, royalties.iter().sum::<u128>());
            prop_assert_eq!(view.totals.paid_out + chain.balance(&c), view.totals.received);
        }
        for (n, who) in names.iter().enumerate() {
            let exact: u128 = weights.iter().zip(&royalties).map(|(w, r)| {
                let ws = [w.0, w.1, w.2];
                r * u128::from(ws[n]) / u128::from(ws.iter().sum::<u64>())
            }).sum();
            let p: OwedView = chain.query(&c, &json!({"owed": {"address": address(who)}})).unwrap();
            prop_assert_eq!(p.owed + p.withdrawn, exact, "{} is owed exactly its weighted share", who);
        }
    }
}
