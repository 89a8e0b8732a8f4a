//! Hostile and faulty contracts against the real executor and wasmtime: each is refused or stopped with a
//! clear receipt, and leaves every other piece of state as it was.

mod contract_chain;

use consort_node::contracts::records::{contract_key, storage_prefix, ContractInfo};
use consort_node::contracts::{query, ContractLimits};
use consort_sdk::encoding::decode;
use consort_sdk::{Action, Address, Hash, Keypair};
use contract_chain::*;
use std::sync::Arc;

/// Execute body: store the message under key "k" (at 3000), then succeed.
const WRITE_MSG: &str = "(call $db_write (i32.const 3000) (i32.const 1) (local.get $ptr) (local.get $len)) (call $ok)";
const KEY_K: &str = r#"(data (i32.const 3000) "k")"#;

fn writer() -> Vec<u8> {
    wat_contract(IMPORT_DB_WRITE, KEY_K, WRITE_MSG)
}

struct Setup {
    chain: Chain,
    admin: Keypair,
    stranger: Keypair,
}

fn setup() -> Setup {
    let admin = Keypair::generate();
    let stranger = Keypair::generate();
    let chain = Chain::new(&[&admin], &[&admin, &stranger]);
    Setup { chain, admin, stranger }
}

fn code_of(r: &consort_sdk::Receipt) -> String {
    failure(r).0
}

#[test]
fn bytes_that_are_not_wasm_are_refused() {
    let Setup { mut chain, admin, .. } = setup();
    let before = chain.state_without_accounts();
    let r = chain.run(&admin, Action::StoreCode { code: b"this is not a wasm module".to_vec() }, GAS);
    let (code, message) = failure(&r);
    assert_eq!(code, "invalid_code");
    assert!(message.contains("not a valid wasm module"), "{message}");
    assert_eq!(chain.state_without_accounts(), before);
}

#[test]
fn modules_using_forbidden_features_are_refused() {
    let Setup { mut chain, admin, .. } = setup();
    let simd = wat_contract("", "(func (result v128) (v128.const i32x4 0 0 0 0))", "(call $ok)");
    let threads = wat::parse_str(
        r#"(module (memory (export "memory") 1 1 shared)
            (func (export "consort_alloc") (param i32) (result i32) (i32.const 0)))"#,
    )
    .unwrap();
    let multi_memory =
        wat::parse_str(r#"(module (memory (export "memory") 1) (memory $second 1) (func (export "x")))"#).unwrap();
    let memory64 = wat::parse_str(r#"(module (memory (export "memory") i64 1))"#).unwrap();
    for (name, module) in [("simd", simd), ("threads", threads), ("multi-memory", multi_memory), ("memory64", memory64)]
    {
        let before = chain.state_without_accounts();
        let r = chain.run(&admin, Action::StoreCode { code: module }, GAS);
        assert_eq!(code_of(&r), "invalid_code", "{name}: {:?}", r.outcome);
        assert_eq!(chain.state_without_accounts(), before, "{name}");
    }
}

#[test]
fn imports_outside_the_host_api_are_refused() {
    let Setup { mut chain, admin, .. } = setup();
    for (import, shown) in [
        (r#"(import "env" "now" (func (result i64)))"#, "env::now"),
        (r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#, "fd_write"),
        (r#"(import "consort" "db_read" (func (param i32) (result i64)))"#, "consort::db_read"),
        (r#"(import "consort" "random" (func (result i64)))"#, "consort::random"),
    ] {
        let r = chain.run(&admin, Action::StoreCode { code: wat_contract(import, "", "(call $ok)") }, GAS);
        let (code, message) = failure(&r);
        assert_eq!(code, "invalid_code");
        assert!(message.contains(shown), "{message}");
    }
}

#[test]
fn modules_over_the_size_or_memory_cap_are_refused() {
    let Setup { mut chain, admin, .. } = setup();
    let limit = ContractLimits::default().code_bytes_max as usize;
    let padding = "\\00".repeat(limit);
    let big = wat_contract("", &format!(r#"(data (i32.const 9000) "{padding}")"#), "(call $ok)");
    assert!(big.len() > limit);
    let r = chain.run(&admin, Action::StoreCode { code: big }, GAS.max(limit as u64 * 30));
    assert_eq!(code_of(&r), "too_large");

    let r = chain.run(&admin, Action::StoreCode { code: module_with_huge_memory() }, GAS);
    let (code, message) = failure(&r);
    assert_eq!(code, "invalid_code");
    assert!(message.contains("initial memory"), "{message}");
}

/// The same contract shape but asking for 1000 initial pages (64 MB), over the 16 MiB default cap.
fn module_with_huge_memory() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (memory (export "memory") 1000)
          (func (export "consort_alloc") (param i32) (result i32) (i32.const 0))
          (func (export "instantiate") (param i32 i32) (result i64) (i64.const 0))
          (func (export "execute") (param i32 i32) (result i64) (i64.const 0))
          (func (export "query") (param i32 i32) (result i64) (i64.const 0)))"#,
    )
    .unwrap()
}

/// Deploys `code`, instantiates it, and runs execute with `gas`; returns the receipt and the contract.
fn deploy_and_execute(s: &mut Setup, code: &[u8], msg: &str, funds: u128, gas: u64) -> (consort_sdk::Receipt, Address) {
    let hash = s.chain.store(&s.admin, code);
    let contract = s.chain.instantiate(&s.admin, hash, "{}", 0);
    let r = s.chain.execute(&s.stranger, contract, msg, funds, gas);
    (r, contract)
}

#[test]
fn an_infinite_loop_runs_out_of_gas_and_keeps_the_charge() {
    let mut s = setup();
    let hash = s.chain.store(&s.admin, &wat_contract("", "", "(loop $forever (br $forever)) (call $ok)"));
    let contract = s.chain.instantiate(&s.admin, hash, "{}", 0);
    let before = s.chain.state_without_accounts();
    let sender_before = s.chain.balance(&s.stranger.address());
    let gas = 2_000_000;
    let r = s.chain.execute(&s.stranger, contract, "{}", 10, gas);
    assert_eq!(code_of(&r), "out_of_gas");
    assert_eq!(r.gas_used, gas, "all gas is charged");
    assert_eq!(s.chain.state_without_accounts(), before);
    assert_eq!(s.chain.balance(&s.stranger.address()), sender_before, "funds come back");
    assert_eq!(s.chain.balance(&contract), 0);
}

#[test]
fn memory_growth_past_the_cap_traps() {
    let mut s = setup();
    let (r, _) = deploy_and_execute(
        &mut s,
        &wat_contract("", "", "(drop (memory.grow (i32.const 1000))) (call $ok)"),
        "{}",
        0,
        GAS,
    );
    let (code, message) = failure(&r);
    assert_eq!(code, "contract_trap");
    assert!(message.contains("memory"), "{message}");
}

#[test]
fn unbounded_recursion_traps_without_hurting_the_node() {
    let mut s = setup();
    let code = wat_contract("", "(func $deeper (call $deeper))", "(call $deeper) (call $ok)");
    let (r, contract) = deploy_and_execute(&mut s, &code, "{}", 0, GAS);
    let (code, message) = failure(&r);
    assert_eq!(code, "contract_trap");
    assert!(message.contains("stack overflow"), "{message}");
    // The runtime is still fine: a query against the same contract answers.
    let env = consort_contract::Env { chain_id: CHAIN.into(), height: 1, time_ms: 1, contract: contract.to_string() };
    let state = Arc::new(s.chain.state.clone());
    let (answer, _) = query(&s.chain.engine, state, &contract, b"{}", env, 1_000_000).unwrap();
    assert_eq!(answer, serde_json::json!(42));
}

#[test]
fn host_calls_with_pointers_outside_memory_trap() {
    let mut s = setup();
    for body in [
        "(call $db_write (i32.const 0xFFFFFF00) (i32.const 1) (i32.const 0) (i32.const 1)) (call $ok)",
        "(call $db_write (i32.const 3000) (i32.const 1) (i32.const 65000) (i32.const 1000)) (call $ok)",
    ] {
        let (r, contract) = deploy_and_execute(&mut s, &wat_contract(IMPORT_DB_WRITE, KEY_K, body), "{}", 0, GAS);
        let (code, message) = failure(&r);
        assert_eq!(code, "contract_trap");
        assert!(message.contains("outside its memory"), "{message}");
        assert!(!s.chain.state.keys().any(|k| k.starts_with(&storage_prefix(&contract))));
    }
    let body = "(call $db_write (i32.const 3000) (i32.const 1) (i32.const 0) (i32.const 0x7FFFFFFF)) (call $ok)";
    let (r, _) = deploy_and_execute(&mut s, &wat_contract(IMPORT_DB_WRITE, KEY_K, body), "{}", 0, GAS);
    let (code, message) = failure(&r);
    assert_eq!(code, "contract_trap");
    assert!(message.contains("over the 65536-byte limit"), "{message}");
}

#[test]
fn a_contract_error_reverts_its_writes_and_returns_the_funds() {
    let mut s = setup();
    let body = "(call $db_write (i32.const 3000) (i32.const 1) (local.get $ptr) (local.get $len)) (call $err)";
    let hash = s.chain.store(&s.admin, &wat_contract(IMPORT_DB_WRITE, KEY_K, body));
    let contract = s.chain.instantiate(&s.admin, hash, "{}", 0);
    let before = s.chain.state_without_accounts();
    let sender_before = s.chain.balance(&s.stranger.address());
    let r = s.chain.execute(&s.stranger, contract, r#""hello""#, 500, GAS);
    let (code, message) = failure(&r);
    assert_eq!((code.as_str(), message.as_str()), ("contract_error", "refused by the contract"));
    assert!(r.gas_used > 0);
    assert_eq!(s.chain.state_without_accounts(), before);
    assert_eq!(s.chain.balance(&s.stranger.address()), sender_before);
    assert_eq!(s.chain.balance(&contract), 0);
}

#[test]
fn contracts_cannot_reach_each_others_storage() {
    let mut s = setup();
    let hash = s.chain.store(&s.admin, &writer());
    let a = s.chain.instantiate(&s.admin, hash, "{}", 0);
    let b = s.chain.instantiate(&s.admin, hash, "{}", 0);
    assert_ne!(a, b);
    assert_ok(&s.chain.execute(&s.stranger, a, r#""from a""#, 0, GAS));
    assert_ok(&s.chain.execute(&s.stranger, b, r#""from b""#, 0, GAS));
    let key = |c: &Address| [storage_prefix(c), b"k".to_vec()].concat();
    assert_eq!(s.chain.state[&key(&a)], br#""from a""#.to_vec());
    assert_eq!(s.chain.state[&key(&b)], br#""from b""#.to_vec());
    // Whatever key a contract names lands under its own prefix: each has exactly its one entry.
    let storage_entries = |c: &Address| s.chain.state.keys().filter(|k| k.starts_with(&storage_prefix(c))).count();
    assert_eq!((storage_entries(&a), storage_entries(&b)), (1, 1));
}

fn send_body(recipient: &Address, amount: u128) -> (String, String) {
    let escaped: String = amount.to_le_bytes().iter().map(|b| format!("\\{b:02x}")).collect();
    let data = format!(r#"(data (i32.const 4000) "{recipient}") (data (i32.const 4100) "{escaped}")"#);
    let body = format!(
        "(if (i64.ne (call $send (i32.const 4000) (i32.const {}) (i32.const 4100)) (i64.const 0)) (then (return (call $err)))) (call $ok)",
        recipient.to_string().len()
    );
    (data, body)
}

#[test]
fn a_contract_cannot_spend_more_than_its_balance() {
    let mut s = setup();
    let recipient = Keypair::generate().address();
    let (data, body) = send_body(&recipient, 101);
    let hash = s.chain.store(&s.admin, &wat_contract(IMPORT_SEND, &data, &body));
    let contract = s.chain.instantiate(&s.admin, hash, "{}", 100);
    assert_eq!(s.chain.balance(&contract), 100);
    let r = s.chain.execute(&s.stranger, contract, "{}", 0, GAS);
    assert_eq!(code_of(&r), "contract_error");
    assert_eq!((s.chain.balance(&contract), s.chain.balance(&recipient)), (100, 0));
    // With one more unit sent along, the same call can pay.
    let r = s.chain.execute(&s.stranger, contract, "{}", 1, GAS);
    assert_ok(&r);
    assert_eq!((s.chain.balance(&contract), s.chain.balance(&recipient)), (0, 101));
}

#[test]
fn only_the_admin_migrates_or_hands_over_the_contract() {
    let mut s = setup();
    let v1 = s.chain.store(&s.admin, &writer());
    let v2 = s.chain.store(&s.admin, &wat_contract("", "", "(call $ok)"));
    let contract = s.chain.instantiate(&s.admin, v1, "{}", 0);
    let info = |c: &Chain| decode::<ContractInfo>(&c.state[&contract_key(&contract)], 4096).unwrap();
    let migrate = Action::Migrate { contract, code_hash: v2, msg: "{}".into() };
    assert_eq!(code_of(&s.chain.run(&s.stranger, migrate.clone(), GAS)), "not_admin");
    assert_eq!(info(&s.chain).code_hash, v1);
    let hand_over = Action::UpdateAdmin { contract, admin: Some(s.stranger.address()) };
    assert_eq!(code_of(&s.chain.run(&s.stranger, hand_over.clone(), GAS)), "not_admin");
    let unknown = Action::Migrate { contract, code_hash: Hash([9; 32]), msg: "{}".into() };
    assert_eq!(code_of(&s.chain.run(&s.admin, unknown, GAS)), "unknown_code");
    let r = s.chain.run(&s.admin, migrate.clone(), GAS);
    assert_ok(&r);
    assert_eq!(r.event("migrate").and_then(|e| e.get("to_code")), Some(v2.to_string().as_str()));
    assert_eq!(info(&s.chain).code_hash, v2);
    assert_ok(&s.chain.run(&s.admin, hand_over, GAS));
    assert_eq!(code_of(&s.chain.run(&s.admin, migrate, GAS)), "not_admin");
    assert_eq!(info(&s.chain).admin, Some(s.stranger.address()));
}

#[test]
fn only_deployers_store_code() {
    let Setup { mut chain, stranger, .. } = setup();
    let before = chain.state_without_accounts();
    let r = chain.run(&stranger, Action::StoreCode { code: writer() }, GAS);
    assert_eq!(code_of(&r), "not_deployer");
    assert_eq!(chain.state_without_accounts(), before);
}

#[test]
fn gas_and_app_hash_are_identical_on_every_engine_and_run() {
    let admin = Keypair::generate();
    let user = Keypair::generate();
    let history = |chain: &mut Chain| {
        let code = writer();
        let hash = chain.store(&admin, &code);
        let contract = chain.instantiate(&admin, hash, "{}", 7);
        let txs = (0..5)
            .map(|i| chain.sign(&user, Action::Execute { contract, msg: format!(r#""message {i}""#), funds: i }, GAS))
            .collect();
        let receipts = chain.block(txs);
        (receipts, chain.app_hash)
    };
    let (first, first_hash) = history(&mut Chain::new(&[&admin], &[&admin, &user]));
    for _ in 0..3 {
        let (again, again_hash) = history(&mut Chain::new(&[&admin], &[&admin, &user]));
        assert_eq!(again, first);
        assert_eq!(again_hash, first_hash);
    }
    assert!(first.iter().all(|r| r.is_success() && r.gas_used > 50_000), "{first:?}");
}

/// More queries at once than the engine has instance slots, while a block runs: the queries wait their
/// turn and all answer, and the block's calls never see the pool run out.
#[test]
fn more_queries_than_instance_slots_all_answer_while_a_block_runs() {
    let mut s = setup();
    // A start function counting down 3 million times makes each query last milliseconds, so they overlap.
    let burn = r#"(func $burn (local $i i32) (local.set $i (i32.const 3000000))
        (loop $l (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i))))
        (start $burn)"#;
    let slow_hash = s.chain.store(&s.admin, &wat_contract("", burn, "(call $ok)"));
    let slow = s.chain.instantiate(&s.admin, slow_hash, "{}", 0);
    let writer_hash = s.chain.store(&s.admin, &writer());
    let writer = s.chain.instantiate(&s.admin, writer_hash, "{}", 0);
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let action = Action::Execute { contract: writer, msg: format!("\"{i}\""), funds: 0 };
            s.chain.sign(&s.stranger, action, GAS)
        })
        .collect();
    let block = consort_node::hashed_block::HashedBlock::new(consort_sdk::Block {
        header: consort_sdk::BlockHeader {
            chain_id: CHAIN.into(),
            height: s.chain.height + 1,
            time_ms: 1_700_000_000_000,
            prev_block_hash: Hash::ZERO,
            txs_hash: consort_sdk::Block::txs_hash_of(&calls),
            last_app_hash: s.chain.app_hash,
            proposer: Address([0; 20]),
        },
        txs: calls,
    });
    let env = consort_contract::Env { chain_id: CHAIN.into(), height: 1, time_ms: 1, contract: slow.to_string() };
    let state = Arc::new(s.chain.state.clone());
    let chain = &s.chain;
    std::thread::scope(|scope| {
        let queries: Vec<_> = (0..64)
            .map(|_| {
                let (state, env) = (state.clone(), env.clone());
                scope.spawn(move || query(&chain.engine, state, &slow, b"{}", env, 100_000_000))
            })
            .collect();
        let executed = consort_node::exec::execute_block(
            &chain.engine,
            &chain.verifier,
            state.clone(),
            &block,
            CHAIN,
            &chain.app_hash,
        )
        .unwrap();
        assert_eq!(executed.receipts.len(), 20);
        executed.receipts.iter().for_each(assert_ok);
        for q in queries {
            let (answer, _) = q.join().unwrap().expect("a query failed");
            assert_eq!(answer, serde_json::json!(42));
        }
    });
}

/// The instance pool holds four tables per instance: a fifth is refused at deploy, not at the first call.
#[test]
fn a_module_with_more_tables_than_the_pool_holds_is_refused() {
    let Setup { mut chain, admin, .. } = setup();
    let four = "(table 1 funcref) ".repeat(4);
    let r = chain.run(&admin, Action::StoreCode { code: wat_contract("", &four, "(call $ok)") }, GAS);
    assert_ok(&r);
    let five = "(table 1 funcref) ".repeat(5);
    let before = chain.state_without_accounts();
    let r = chain.run(&admin, Action::StoreCode { code: wat_contract("", &five, "(call $ok)") }, GAS);
    let (code, message) = failure(&r);
    assert_eq!(code, "invalid_code");
    assert!(message.contains("table"), "{message}");
    assert_eq!(chain.state_without_accounts(), before);
}
