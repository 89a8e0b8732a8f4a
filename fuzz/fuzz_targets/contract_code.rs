//! Hostile contract modules: arbitrary bytes go through the node's StoreCode checks (wasmtime validation
//! under the chain's deterministic config, the import and export rules, the size, memory and table
//! limits). Whatever passes is then run as `execute` and as `query` with a small gas budget on empty
//! state, twice each: no panic, gas within the limit, a query writes nothing, a failed call leaves
//! nothing, and both runs agree.
#![no_main]

use consort_fuzz::{call, engine, Module};
use consort_node::contracts::ContractEngine;
use consort_node::exec::SharedState;
use consort_sdk::Address;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// Enough for real work (a revenue-split payment uses ~300k) while keeping each input fast.
const GAS_LIMIT: u64 = 1_000_000;
const CONTRACT: Address = Address([0xc0; 20]);
const MSG: &[u8] = br#"{"pay":{}}"#;

fn shared_engine() -> &'static ContractEngine {
    static ENGINE: OnceLock<ContractEngine> = OnceLock::new();
    ENGINE.get_or_init(engine)
}

fuzz_target!(|code: &[u8]| {
    let engine = shared_engine();
    let module = Module::new(code.to_vec());
    if engine.prepare(&module.hash, &module.code).is_err() {
        return;
    }
    let empty: SharedState = Arc::new(BTreeMap::<Vec<u8>, Vec<u8>>::new());
    for query in [false, true] {
        let first = call(engine, &module, empty.clone(), CONTRACT, query, GAS_LIMIT, MSG);
        let second = call(engine, &module, empty.clone(), CONTRACT, query, GAS_LIMIT, MSG);
        assert_eq!(first, second, "the same call gave two outcomes");
    }
});
