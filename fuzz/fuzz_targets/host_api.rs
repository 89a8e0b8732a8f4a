//! The contract host-API boundary, driven from inside a real wasmtime instance on the node's own engine,
//! linker, limits and gas. A driver contract (WAT below) reads the fuzz input as a list of host calls with
//! arbitrary arguments — pointers and lengths anywhere in or beyond its memory, keys and values over the
//! limits, bad addresses, memory growth, forged results — and makes them. Checked on every input: no
//! panic; gas used within the limit; the same input gives the same outcome, gas and writes twice (every
//! node must agree); a query writes nothing; a failed call rolled back leaves nothing; writes stay in the
//! contract's own storage and in accounts, and move funds without creating or destroying any.
//!
//! Input: byte 0 chooses the entry (even: execute, odd: query); bytes 1–2 (u16 LE) set the gas limit;
//! the rest is the message, read by the driver as 21-byte ops: an opcode, then five u32 LE arguments.
//! Opcode bit 7 masks the arguments into the driver's memory (pointers < 128 KiB, lengths < 1 KiB).
#![no_main]

use consort_fuzz::{call, engine, Module, Outcome, SENDER};
use consort_node::contracts::records::storage_prefix;
use consort_node::contracts::ContractEngine;
use consort_node::exec::{account_key, Account, StateWrites};
use consort_sdk::encoding::{decode, encode};
use consort_sdk::Address;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

const CONTRACT: Address = Address([0xc0; 20]);
/// A funded account the driver's memory names, so `send` and `balance` can succeed (the calls' sender).
const FRIEND: Address = SENDER;
/// Another contract whose storage the driver must never reach.
const OTHER: Address = Address([0x07; 20]);
const START_BALANCE: u128 = 1_000_000;
/// Where `consort_alloc` places the message: above the driver's fixed data, inside its 3 pages.
const MSG_AT: u32 = 65_536;
const MSG_BYTES_MAX: usize = 65_536;
/// Gas per unit of the input's u16: up to ~131M, past the default per-tx maximum.
const GAS_STEP: u64 = 2_000;
/// A successful call's result, at offset 0 of the driver's memory.
const OK_RESULT: &str = r#"{"ok":{"events":[]}}"#;

/// The driver: an interpreter of host calls. Ops (opcode mod 11): 0 context, 1 db_read, 2 db_write,
/// 3 db_remove, 4 db_next, 5 balance, 6 send, 7 take_return, 8 abort, 9 memory.grow(a0 & 255 pages),
/// 10 stop and return (a0, a1) as the result instead of OK_RESULT. Data: OK_RESULT at 0, FRIEND's address at 64,
/// the contract's at 128, the amount 1 at 192.
fn driver_wat() -> String {
    let escape = |s: &str| s.replace('"', "\\\"");
    format!(
        r#"(module
  (import "consort" "context" (func $context (result i64)))
  (import "consort" "db_read" (func $db_read (param i32 i32) (result i64)))
  (import "consort" "db_write" (func $db_write (param i32 i32 i32 i32)))
  (import "consort" "db_remove" (func $db_remove (param i32 i32)))
  (import "consort" "db_next" (func $db_next (param i32 i32 i32 i32 i32) (result i64)))
  (import "consort" "balance" (func $balance (param i32 i32) (result i64)))
  (import "consort" "send" (func $send (param i32 i32 i32) (result i64)))
  (import "consort" "take_return" (func $take_return (param i32)))
  (import "consort" "abort" (func $abort (param i32 i32)))
  (memory (export "memory") 3)
  (data (i32.const 0) "{ok}")
  (data (i32.const 64) "{friend}")
  (data (i32.const 128) "{contract}")
  (data (i32.const 192) "\01")
  (func (export "consort_alloc") (param i32) (result i32) (i32.const {msg_at}))
  (func $run (param $ptr i32) (param $len i32) (result i64)
    (local $pos i32) (local $end i32) (local $op i32) (local $result i64)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $a4 i32)
    (local.set $result (i64.const {ok_len}))
    (local.set $pos (local.get $ptr))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $pos) (i32.const 21)) (local.get $end)))
        (local.set $op (i32.load8_u (local.get $pos)))
        (local.set $a0 (i32.load offset=1 align=1 (local.get $pos)))
        (local.set $a1 (i32.load offset=5 align=1 (local.get $pos)))
        (local.set $a2 (i32.load offset=9 align=1 (local.get $pos)))
        (local.set $a3 (i32.load offset=13 align=1 (local.get $pos)))
        (local.set $a4 (i32.load offset=17 align=1 (local.get $pos)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 21)))
        (if (i32.and (local.get $op) (i32.const 128))
          (then
            (local.set $a0 (i32.and (local.get $a0) (i32.const 0x1ffff)))
            (local.set $a1 (i32.and (local.get $a1) (i32.const 0x3ff)))
            (local.set $a2 (i32.and (local.get $a2) (i32.const 0x1ffff)))
            (local.set $a3 (i32.and (local.get $a3) (i32.const 0x3ff)))
            (local.set $a4 (i32.and (local.get $a4) (i32.const 1)))))
        (block $b10 (block $b9 (block $b8 (block $b7 (block $b6 (block $b5 (block $b4 (block $b3 (block $b2
        (block $b1 (block $b0
          (br_table $b0 $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 $b9 $b10
            (i32.rem_u (i32.and (local.get $op) (i32.const 127)) (i32.const 11))))
          (drop (call $context)) (br $next))
          (drop (call $db_read (local.get $a0) (local.get $a1))) (br $next))
          (call $db_write (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)) (br $next))
          (call $db_remove (local.get $a0) (local.get $a1)) (br $next))
          (drop (call $db_next (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4)))
          (br $next))
          (drop (call $balance (local.get $a0) (local.get $a1))) (br $next))
          (drop (call $send (local.get $a0) (local.get $a1) (local.get $a2))) (br $next))
          (call $take_return (local.get $a0)) (br $next))
          (call $abort (local.get $a0) (local.get $a1)) (br $next))
          (drop (memory.grow (i32.and (local.get $a0) (i32.const 255)))) (br $next))
        (local.set $result
          (i64.or (i64.shl (i64.extend_i32_u (local.get $a0)) (i64.const 32)) (i64.extend_i32_u (local.get $a1))))))
    (local.get $result))
  (export "instantiate" (func $run))
  (export "execute" (func $run))
  (export "query" (func $run)))"#,
        ok = escape(OK_RESULT),
        ok_len = OK_RESULT.len(),
        friend = FRIEND,
        contract = CONTRACT,
        msg_at = MSG_AT,
    )
}

struct World {
    engine: ContractEngine,
    driver: Module,
    base: Arc<BTreeMap<Vec<u8>, Vec<u8>>>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let driver = Module::new(wat::parse_str(driver_wat()).expect("the driver is valid WAT"));
        let engine = engine();
        engine.prepare(&driver.hash, &driver.code).expect("the driver passes the node's module checks");
        let funded = Account { balance: START_BALANCE, nonce: 0 };
        let mut base = BTreeMap::new();
        for who in [CONTRACT, FRIEND] {
            base.insert(account_key(&who), encode(&funded));
        }
        for (owner, key) in [(CONTRACT, &b"k"[..]), (CONTRACT, b"kk"), (OTHER, b"k"), (OTHER, b"secret")] {
            base.insert([storage_prefix(&owner).as_slice(), key].concat(), b"v".to_vec());
        }
        World { engine, driver, base: Arc::new(base) }
    })
}

fn balance_of(bytes: Option<&Vec<u8>>) -> u128 {
    bytes.map_or(0, |b| decode::<Account>(b, 1024).expect("accounts the host wrote decode").balance)
}

fn check_writes(world: &World, writes: &StateWrites) {
    let own = storage_prefix(&CONTRACT);
    let (mut before, mut after) = (0u128, 0u128);
    for (key, value) in writes {
        if key.starts_with(&own) {
            continue;
        }
        assert!(key.starts_with(b"acct/"), "the call wrote outside its storage: {key:?}");
        let value = value.as_ref().expect("the host never deletes an account");
        before += balance_of(world.base.get(key));
        after += balance_of(Some(value));
    }
    assert_eq!(before, after, "funds were created or destroyed");
}

fuzz_target!(|bytes: &[u8]| {
    let [mode, gas_lo, gas_hi, msg @ ..] = bytes else { return };
    if msg.len() > MSG_BYTES_MAX {
        return;
    }
    let world = world();
    let query = mode & 1 == 1;
    let gas_limit = (u64::from(u16::from_le_bytes([*gas_lo, *gas_hi])) + 1) * GAS_STEP;
    let run = || -> Outcome { call(&world.engine, &world.driver, world.base.clone(), CONTRACT, query, gas_limit, msg) };
    let (first, second) = (run(), run());
    assert_eq!(first, second, "the same call gave two outcomes");
    check_writes(world, &first.2);
});
