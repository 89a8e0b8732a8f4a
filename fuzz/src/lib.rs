//! What the contract fuzz targets share: the node's contract engine as a validator runs it, and a call on
//! a fresh overlay made the way the executor makes it.

use consort_contract::{Env, Info};
use consort_node::contracts::{run_mut, run_query, CallRequest, ContractEngine, ContractLimits};
use consort_node::exec::{Overlay, SharedState, StateWrites};
use consort_sdk::{Address, Hash};

/// The sender of every mutating call.
pub const SENDER: Address = Address([0xf0; 20]);

/// Compiled modules kept: the targets use one or a few at a time.
const MODULES_CACHED: usize = 4;

/// The engine with genesis' default limits.
pub fn engine() -> ContractEngine {
    let limits = ContractLimits::default();
    ContractEngine::new(&limits, limits.stack_bytes_max, MODULES_CACHED).expect("wasmtime starts")
}

/// A module's bytes and their hash, which names it in the engine's cache.
pub struct Module {
    pub code: Vec<u8>,
    pub hash: Hash,
}

impl Module {
    pub fn new(code: Vec<u8>) -> Module {
        Module { hash: Hash::digest(&code), code }
    }
}

/// What one call did: its result (as text, to compare runs), the gas it used, and the writes it left.
pub type Outcome = (String, u64, StateWrites);

/// Runs `execute` (or `query`) of a prepared module as the executor does: a checkpoint,
/// the call, a rollback when it failed. Panics when the node broke a rule every call must keep: gas used
/// within the limit, nothing written by a query (even a failed one), nothing left by a failed call.
pub fn call(
    engine: &ContractEngine,
    module: &Module,
    base: SharedState,
    contract: Address,
    query: bool,
    gas_limit: u64,
    msg: &[u8],
) -> Outcome {
    let pre = engine.prepare(&module.hash, &module.code).expect("the module was prepared before");
    let mut overlay = Overlay::new(base);
    let req = CallRequest {
        entry: if query { "query" } else { "execute" },
        contract,
        env: Env { chain_id: "fuzz".into(), height: 1, time_ms: 0, contract: contract.to_string() },
        info: (!query).then(|| Info { sender: SENDER.to_string(), funds: 0 }),
        msg,
        gas_limit,
    };
    if query {
        // No checkpoint: whatever a query did, even one that failed, must have written nothing.
        let out = run_query(engine, &pre, &mut overlay, &req);
        assert!(out.gas_used <= gas_limit, "gas used {} over the limit {gas_limit}", out.gas_used);
        let writes = overlay.into_writes();
        assert!(writes.is_empty(), "a query wrote state: {writes:?}");
        return (format!("{:?}", out.result), out.gas_used, writes);
    }
    let checkpoint = overlay.checkpoint();
    let out = run_mut(engine, &pre, &mut overlay, &req);
    assert!(out.gas_used <= gas_limit, "gas used {} over the limit {gas_limit}", out.gas_used);
    let failed = out.result.is_err();
    if failed {
        overlay.rollback(checkpoint);
    } else {
        overlay.commit(checkpoint);
    }
    let writes = overlay.into_writes();
    assert!(!failed || writes.is_empty(), "a failed call left writes after rollback: {:?}", out.result);
    (format!("{:?}", out.result), out.gas_used, writes)
}
