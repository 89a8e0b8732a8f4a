//! The two contract ABIs against the real executor and wasmtime: a module exporting `consort_abi_borsh`
//! gets its context in borsh and returns borsh; a module without it (built before the borsh ABI) keeps
//! JSON both ways. Hand-written modules pin the bytes on each side.

mod contract_chain;

use consort_contract::abi::{CallResult, EncodedResponse};
use consort_contract::{Attribute, Context, Env, Event, Info};
use consort_node::contracts::query;
use consort_node::contracts::records::storage_prefix;
use consort_sdk::{Action, Address, Keypair, Receipt};
use contract_chain::*;
use std::collections::BTreeMap;
use std::sync::Arc;

const MARKER: &str = r#"(func (export "consort_abi_borsh"))"#;

fn wat_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// A module whose instantiate and execute store the context the host gave them under key "ctx" and
/// return `result`; its query returns `answer`. `marker` is extra WAT, normally [`MARKER`] or nothing.
fn module(marker: &str, result: &[u8], answer: &[u8]) -> Vec<u8> {
    let text = format!(
        r#"(module
  (import "consort" "context" (func $context (result i64)))
  (import "consort" "take_return" (func $take_return (param i32)))
  (import "consort" "db_write" (func $db_write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  {WAT_ALLOC}
  (data (i32.const 0) "{result}")
  (data (i32.const 2048) "{answer}")
  (data (i32.const 3000) "ctx")
  {marker}
  (func $run (result i64)
    (local $len i32)
    (local.set $len (i32.wrap_i64 (call $context)))
    (call $take_return (i32.const 4096))
    (call $db_write (i32.const 3000) (i32.const 3) (i32.const 4096) (local.get $len))
    (i64.const {result_len}))
  (func (export "instantiate") (param i32 i32) (result i64) (call $run))
  (func (export "execute") (param i32 i32) (result i64) (call $run))
  (func (export "query") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const {answer_len})))
)"#,
        result = wat_bytes(result),
        answer = wat_bytes(answer),
        result_len = result.len(),
        answer_len = answer.len(),
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("test WAT does not parse: {e}\n{text}"))
}

fn borsh_response(data: Option<&str>, events: Vec<Event>) -> Vec<u8> {
    borsh::to_vec(&CallResult::Ok(EncodedResponse { data: data.map(String::from), events })).unwrap()
}

fn borsh_answer(json: &str) -> Vec<u8> {
    borsh::to_vec(&CallResult::Ok(json.to_string())).unwrap()
}

fn ran_event() -> Event {
    Event::new("ran").attr("n", 7)
}

struct Deployed {
    chain: Chain,
    caller: Keypair,
    contract: Address,
}

fn deploy(code: &[u8]) -> Deployed {
    let admin = Keypair::generate();
    let caller = Keypair::generate();
    let mut chain = Chain::new(&[&admin], &[&admin, &caller]);
    let hash = chain.store(&admin, code);
    let contract = chain.instantiate(&admin, hash, "{}", 0);
    Deployed { chain, caller, contract }
}

fn stored_context(d: &Deployed) -> Vec<u8> {
    d.chain.state[&[storage_prefix(&d.contract), b"ctx".to_vec()].concat()].clone()
}

fn query_answer(d: &Deployed) -> Result<serde_json::Value, String> {
    let env = Env { chain_id: CHAIN.into(), height: d.chain.height, time_ms: 1, contract: d.contract.to_string() };
    let state = Arc::new(d.chain.state.clone());
    query(&d.chain.engine, state, &d.contract, b"{}", env, 1_000_000)
        .map(|(answer, _)| answer)
        .map_err(|e| e.to_string())
}

fn expected_info(d: &Deployed, funds: u128) -> Option<Info> {
    Some(Info { sender: d.caller.address().to_string(), funds })
}

#[test]
fn a_module_with_the_marker_gets_a_borsh_context_and_returns_borsh() {
    let code = module(MARKER, &borsh_response(Some(r#"{"n":7}"#), vec![ran_event()]), &borsh_answer("42"));
    let mut d = deploy(&code);
    let r = d.chain.execute(&d.caller, d.contract, "{}", 5, GAS);
    assert_ok(&r);
    assert_eq!(r.data.as_deref(), Some(r#"{"n":7}"#));
    let ran = r.event("ran").expect("the contract's event is in the receipt");
    assert_eq!(ran.get("n"), Some("7"));
    assert_eq!(ran.get("contract"), Some(d.contract.to_string().as_str()));

    let context: Context = borsh::from_slice(&stored_context(&d)).expect("the context is borsh");
    assert_eq!(context.info, expected_info(&d, 5));
    assert_eq!(context.env.contract, d.contract.to_string());
    assert_eq!(context.env.chain_id, CHAIN);
    assert_eq!(query_answer(&d), Ok(serde_json::json!(42)));
}

#[test]
fn a_module_without_the_marker_keeps_the_json_abi() {
    let result = br#"{"ok":{"data":{"n":7},"events":[{"kind":"ran","attributes":[{"key":"n","value":"7"}]}]}}"#;
    let mut d = deploy(&module("", result, br#"{"ok":42}"#));
    let r = d.chain.execute(&d.caller, d.contract, "{}", 5, GAS);
    assert_ok(&r);
    assert_eq!(r.data.as_deref(), Some(r#"{"n":7}"#));
    assert_eq!(r.event("ran").and_then(|e| e.get("n")), Some("7"));

    let context: Context = serde_json::from_slice(&stored_context(&d)).expect("the context is JSON");
    assert_eq!(context.info, expected_info(&d, 5));
    assert_eq!(query_answer(&d), Ok(serde_json::json!(42)));
}

/// Stores `result`'s module on a fresh chain and instantiates it: (receipt, state before instantiating).
fn instantiate_returning(result: &[u8]) -> (Receipt, Chain, BTreeMap<Vec<u8>, Vec<u8>>) {
    let admin = Keypair::generate();
    let mut chain = Chain::new(&[&admin], &[&admin]);
    let hash = chain.store(&admin, &module(MARKER, result, &borsh_answer("1")));
    let before = chain.state_without_accounts();
    let instantiate =
        Action::Instantiate { code_hash: hash, admin: None, label: "abi".into(), msg: "{}".into(), funds: 0 };
    (chain.run(&admin, instantiate, GAS), chain, before)
}

#[test]
fn the_borsh_abi_reports_a_contract_error_with_its_message() {
    let refused = borsh::to_vec(&CallResult::<EncodedResponse>::Err("refused by the contract".into())).unwrap();
    let (r, chain, before) = instantiate_returning(&refused);
    assert_eq!(failure(&r), ("contract_error".into(), "refused by the contract".into()));
    assert_eq!(chain.state_without_accounts(), before, "an error reverts the call's writes");
}

#[test]
fn borsh_results_that_break_the_abi_are_bad_results() {
    let not_json = borsh_response(Some("not json"), vec![]);
    let truncated = borsh_response(None, vec![ran_event()])[..10].to_vec();
    let trailing = [borsh_response(None, vec![]), vec![0]].concat();
    let json_instead = br#"{"ok":{"data":null,"events":[]}}"#.to_vec();
    for result in [not_json, truncated, trailing, json_instead] {
        let (r, chain, before) = instantiate_returning(&result);
        assert_eq!(failure(&r).0, "contract_bad_result", "result {result:?}");
        assert_eq!(chain.state_without_accounts(), before, "a bad result reverts the call's writes");
    }
}

#[test]
fn a_borsh_answer_that_is_not_json_is_refused() {
    let d = deploy(&module(MARKER, &borsh_response(None, vec![]), &borsh_answer("{not json")));
    let err = query_answer(&d).unwrap_err();
    assert!(err.contains("not JSON"), "{err}");
}

#[test]
fn a_marker_that_is_not_a_plain_function_is_refused() {
    let result = borsh_response(None, vec![]);
    for marker in [
        r#"(func (export "consort_abi_borsh") (param i32))"#,
        r#"(func (export "consort_abi_borsh") (result i32) (i32.const 2))"#,
        r#"(global (export "consort_abi_borsh") i32 (i32.const 2))"#,
    ] {
        let admin = Keypair::generate();
        let mut chain = Chain::new(&[&admin], &[&admin]);
        let r = chain.run(&admin, Action::StoreCode { code: module(marker, &result, &borsh_answer("1")) }, GAS);
        let (code, message) = failure(&r);
        assert_eq!(code, "invalid_code", "{marker}");
        assert!(message.contains("consort_abi_borsh"), "{message}");
    }
}

#[test]
fn events_decode_into_the_receipt_in_order() {
    let events = vec![
        Event { kind: "first".into(), attributes: vec![Attribute { key: "a".into(), value: "1".into() }] },
        Event { kind: "second".into(), attributes: vec![] },
    ];
    let mut d = deploy(&module(MARKER, &borsh_response(None, events), &borsh_answer("1")));
    let r = d.chain.execute(&d.caller, d.contract, "{}", 0, GAS);
    assert_ok(&r);
    let kinds: Vec<&str> = r.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["first", "second"]);
    assert_eq!(r.data, None);
}
