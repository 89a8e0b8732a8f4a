//! The library through a tiny ledger contract on the mock chain: entry points, typed storage, ordered
//! iteration, funds, events, errors that revert, and migrate.

use consort_contract::mock::MockChain;
use consort_contract::prelude::*;
use serde_json::json;

const OWNER: Item<String> = Item::new("owner");
const NOTES: Map<u64> = Map::new("notes");

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ExecuteMsg {
    Note { name: String, value: u64 },
    Pay { to: String, amount: String },
    Fail {},
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum QueryMsg {
    Notes { after: Option<String>, limit: usize },
    Owner {},
}

fn instantiate(ctx: &mut Ctx, _msg: serde_json::Value) -> Result<Response, StdError> {
    OWNER.save(ctx.host, &ctx.info.sender)?;
    Ok(Response::new())
}

fn execute(ctx: &mut Ctx, msg: ExecuteMsg) -> Result<Response, StdError> {
    match msg {
        ExecuteMsg::Note { name, value } => {
            NOTES.save(ctx.host, &name, &value)?;
            Ok(Response::new().add_event(Event::new("noted").attr("name", name).attr("value", value)))
        }
        ExecuteMsg::Pay { to, amount } => {
            ctx.host.send(&to, amount.parse().map_err(|_| StdError::msg("bad amount"))?)?;
            Ok(Response::new())
        }
        ExecuteMsg::Fail {} => {
            NOTES.save(ctx.host, "written-before-failing", &1)?;
            Err(StdError::msg("deliberate failure"))
        }
    }
}

fn query(ctx: &QueryCtx, msg: QueryMsg) -> Result<serde_json::Value, StdError> {
    match msg {
        QueryMsg::Notes { after, limit } => Ok(json!(NOTES.page(ctx.host, after.as_deref(), limit)?)),
        QueryMsg::Owner {} => Ok(json!(OWNER.load(ctx.host)?)),
    }
}

fn migrate(ctx: &mut Ctx, _msg: serde_json::Value) -> Result<Response, StdError> {
    OWNER.save(ctx.host, &"migrated".to_string())?;
    Ok(Response::new())
}

consort_contract::entry_points!(instantiate: instantiate, execute: execute, query: query, migrate: migrate);

#[test]
fn storage_iterates_in_order_and_pages() {
    let mut chain = MockChain::new();
    let c = chain.instantiate(contract(), "alice", &json!({}), 0).unwrap();
    for (name, value) in [("b", 2), ("a", 1), ("d", 4), ("c", 3)] {
        let r = chain.execute(&c, "alice", &json!({"note": {"name": name, "value": value}}), 0).unwrap();
        assert_eq!(r.events[0].get("name"), Some(name));
    }
    let all: Vec<(String, u64)> = chain.query(&c, &json!({"notes": {"after": null, "limit": 10}})).unwrap();
    assert_eq!(all, vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 3), ("d".into(), 4)]);
    let page: Vec<(String, u64)> = chain.query(&c, &json!({"notes": {"after": "b", "limit": 1}})).unwrap();
    assert_eq!(page, vec![("c".into(), 3)]);
}

#[test]
fn errors_revert_writes_and_funds() {
    let mut chain = MockChain::new();
    chain.fund("alice", 100);
    let c = chain.instantiate(contract(), "alice", &json!({}), 10).unwrap();
    let before = chain.storage(&c).unwrap().clone();
    assert_eq!(chain.execute(&c, "alice", &json!({"fail": {}}), 50).unwrap_err(), "deliberate failure");
    assert_eq!(chain.storage(&c).unwrap(), &before);
    assert_eq!((chain.balance("alice"), chain.balance(&c)), (90, 10));
    let overspend = chain.execute(&c, "alice", &json!({"pay": {"to": "bob", "amount": "11"}}), 0).unwrap_err();
    assert!(overspend.contains("cannot cover"), "{overspend}");
    chain.execute(&c, "alice", &json!({"pay": {"to": "bob", "amount": "10"}}), 0).unwrap();
    assert_eq!((chain.balance("bob"), chain.total_supply()), (10, 100));
    assert!(chain.execute(&c, "alice", &json!({"unknown": {}}), 0).unwrap_err().starts_with("invalid message"));
    assert!(chain.instantiate(contract(), "broke", &json!({}), 1).is_err(), "cannot send funds it lacks");
}

#[test]
fn only_the_admin_migrates() {
    let mut chain = MockChain::new();
    let c = chain.instantiate(contract(), "alice", &json!({}), 0).unwrap();
    assert!(chain.migrate(&c, "mallory", None, &json!({})).is_err());
    chain.migrate(&c, "alice", Some(contract()), &json!({})).unwrap();
    assert_eq!(chain.query::<String>(&c, &json!({"owner": {}})).unwrap(), "migrated");
}
