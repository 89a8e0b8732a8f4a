//! One contract call: a fresh instance from the module's `InstancePre`, the message placed in its memory,
//! the entry point run under a fuel budget, the result read back (borsh or, for modules built before the
//! borsh ABI, JSON) and checked against the limits.

use super::call_state::{CallState, HostError};
use super::engine::{Prepared, TABLES_PER_MODULE_MAX};
use super::gas::RESULT_BYTE_GAS;
use super::instance_slots::QUERY_SLOT_WAIT;
use super::{records, ContractEngine};
use crate::exec::Overlay;
use consort_contract::abi::{self, Abi, CallResult, EncodedResponse};
use consort_contract::{Context, Env, Info};
use consort_sdk::{Address, Attribute, Event};
use wasmtime::{Store, StoreLimitsBuilder, Trap};

/// Why a call failed. `code()` is what the receipt or the API reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("out of gas")]
    OutOfGas,
    /// The contract ran and returned an error of its own.
    #[error("{0}")]
    Contract(String),
    #[error("contract trapped: {0}")]
    Trap(String),
    #[error("contract result is invalid: {0}")]
    BadResult(String),
    #[error("contract has no `{0}` entry point")]
    NoEntry(&'static str),
    #[error("state could not be read: {0}")]
    Storage(String),
    /// Only queries: every instance slot stayed taken for the whole wait. Retrying later helps.
    #[error("the node is running too many contract queries at once; retry shortly")]
    Busy,
}

impl CallError {
    pub fn code(&self) -> &'static str {
        match self {
            CallError::OutOfGas => "out_of_gas",
            CallError::Contract(_) => "contract_error",
            CallError::Trap(_) => "contract_trap",
            CallError::BadResult(_) => "contract_bad_result",
            CallError::NoEntry(_) => "no_entry_point",
            CallError::Storage(_) => "internal",
            CallError::Busy => "busy",
        }
    }
}

/// What to run.
pub struct CallRequest<'a> {
    pub entry: &'static str,
    pub contract: Address,
    pub env: Env,
    /// Absent for queries, which are read-only.
    pub info: Option<Info>,
    pub msg: &'a [u8],
    pub gas_limit: u64,
}

/// A successful mutating call.
#[derive(Debug, Default)]
pub struct CallSuccess {
    pub data: Option<String>,
    pub events: Vec<Event>,
}

pub struct CallOutcome<T> {
    pub result: Result<T, CallError>,
    pub gas_used: u64,
}

fn classify(e: wasmtime::Error) -> CallError {
    if let Some(host) = e.downcast_ref::<HostError>() {
        return match host {
            HostError::OutOfGas => CallError::OutOfGas,
            HostError::Storage(m) => CallError::Storage(m.clone()),
            other => CallError::Trap(other.to_string()),
        };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => CallError::OutOfGas,
        Some(Trap::StackOverflow) => CallError::Trap("stack overflow (recursion too deep)".into()),
        Some(t) => CallError::Trap(t.to_string()),
        // Limits hit while growing memory or tables, and instantiation failures, arrive as plain errors.
        None => CallError::Trap(format!("{e:#}")),
    }
}

/// Runs one entry point. The overlay moves into the call and back; the caller takes a checkpoint first
/// and rolls back when the result is an error. Gas used is deterministic: fuel is counted per instruction.
fn run_raw(
    engine: &ContractEngine,
    module: &Prepared,
    overlay: &mut Overlay,
    req: &CallRequest<'_>,
) -> (Result<Vec<u8>, CallError>, u64) {
    // Declared before the store so that it is freed after the store has returned the instance's slot.
    let _slot = match req.info {
        Some(_) => engine.slots().for_block(),
        None => match engine.slots().for_query(QUERY_SLOT_WAIT) {
            Some(slot) => slot,
            None => return (Err(CallError::Busy), 0),
        },
    };
    let limits = engine.limits();
    let context = Context { env: req.env.clone(), info: req.info.clone() };
    let context = match module.abi {
        Abi::Borsh => borsh::to_vec(&context),
        Abi::Json => serde_json::to_vec(&context).map_err(std::io::Error::other),
    };
    let context = context.unwrap_or_default();
    let state = CallState {
        overlay: std::mem::replace(overlay, Overlay::new(overlay.base().clone())),
        contract: req.contract,
        storage_prefix: records::storage_prefix(&req.contract),
        context,
        read_only: req.info.is_none(),
        store_limits: StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes_max as usize)
            .table_elements(limits.table_elements_max as usize)
            .instances(1)
            .memories(1)
            .tables(TABLES_PER_MODULE_MAX as usize)
            .trap_on_grow_failure(true)
            .build(),
        limits,
        returned: Vec::new(),
        memory: None,
    };
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|s| &mut s.store_limits);
    let result = store.set_fuel(req.gas_limit).map_err(classify).and_then(|()| call_entry(&mut store, module, req));
    let gas_used = match (&result, store.get_fuel()) {
        (Err(CallError::OutOfGas), _) | (_, Err(_)) => req.gas_limit,
        (_, Ok(left)) => req.gas_limit - left,
    };
    *overlay = store.into_data().overlay;
    (result, gas_used)
}

fn call_entry(store: &mut Store<CallState>, module: &Prepared, req: &CallRequest<'_>) -> Result<Vec<u8>, CallError> {
    let instance = module.pre.instantiate(&mut *store).map_err(classify)?;
    let entry = module
        .entry(req.entry)
        .and_then(|e| instance.get_module_export(&mut *store, &e))
        .and_then(|e| e.into_func())
        .ok_or(CallError::NoEntry(req.entry))?
        .typed::<(u32, u32), u64>(&*store)
        .map_err(|_| CallError::NoEntry(req.entry))?;
    let alloc = instance
        .get_module_export(&mut *store, &module.alloc)
        .and_then(|e| e.into_func())
        .ok_or_else(|| CallError::Trap(format!("module exports no {}", abi::EXPORT_ALLOC)))?
        .typed::<u32, u32>(&*store)
        .map_err(classify)?;
    let memory = instance
        .get_module_export(&mut *store, &module.memory)
        .and_then(|e| e.into_memory())
        .ok_or_else(|| CallError::Trap("module exports no memory".into()))?;
    store.data_mut().memory = Some(memory);
    let ptr = alloc.call(&mut *store, req.msg.len() as u32).map_err(classify)?;
    memory
        .write(&mut *store, ptr as usize, req.msg)
        .map_err(|_| CallError::Trap("consort_alloc returned a buffer outside memory".into()))?;
    let (ptr, len) = abi::unpack(entry.call(&mut *store, (ptr, req.msg.len() as u32)).map_err(classify)?);
    let max = store.data().limits.result_bytes_max;
    if len > max {
        return Err(CallError::BadResult(format!("{len} bytes, over the {max}-byte limit")));
    }
    let fuel = store.get_fuel().map_err(classify)?;
    let cost = RESULT_BYTE_GAS * u64::from(len);
    if fuel < cost {
        return Err(CallError::OutOfGas);
    }
    store.set_fuel(fuel - cost).map_err(classify)?;
    memory
        .data(&*store)
        .get(ptr as usize..ptr as usize + len as usize)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| CallError::BadResult("points outside the module's memory".into()))
}

/// Bytes of `value` as JSON, counted without building the document.
fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).map_or(usize::MAX, |()| count.0)
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CallError> {
    serde_json::from_slice::<CallResult<T>>(bytes)
        .map_err(|e| CallError::BadResult(e.to_string()))?
        .into_result()
        .map_err(CallError::Contract)
}

fn parse_borsh<T: borsh::BorshDeserialize>(bytes: &[u8]) -> Result<T, CallError> {
    borsh::from_slice::<CallResult<T>>(bytes)
        .map_err(|e| CallError::BadResult(format!("not a borsh CallResult: {e}")))?
        .into_result()
        .map_err(CallError::Contract)
}

/// A mutating call's response, decoded per the module's ABI, with its data as JSON text.
fn parse_response(abi: Abi, bytes: &[u8]) -> Result<EncodedResponse, CallError> {
    match abi {
        Abi::Json => parse_json::<consort_contract::Response>(bytes).map(EncodedResponse::from),
        Abi::Borsh => {
            let response = parse_borsh::<EncodedResponse>(bytes)?;
            if let Some(data) = &response.data {
                // The receipt promises JSON; the JSON ABI guaranteed it by parsing.
                serde_json::from_str::<serde::de::IgnoredAny>(data)
                    .map_err(|e| CallError::BadResult(format!("the response's data is not JSON: {e}")))?;
            }
            Ok(response)
        }
    }
}

fn parse_answer(abi: Abi, bytes: &[u8]) -> Result<serde_json::Value, CallError> {
    match abi {
        Abi::Json => parse_json(bytes),
        Abi::Borsh => serde_json::from_str(&parse_borsh::<String>(bytes)?)
            .map_err(|e| CallError::BadResult(format!("the answer is not JSON: {e}"))),
    }
}

/// Runs instantiate, execute or migrate and checks the response's events against the limits. Each
/// contract event gets a `contract` attribute naming its emitter.
pub fn run_mut(
    engine: &ContractEngine,
    module: &Prepared,
    overlay: &mut Overlay,
    req: &CallRequest<'_>,
) -> CallOutcome<CallSuccess> {
    let (raw, gas_used) = run_raw(engine, module, overlay, req);
    let result = raw.and_then(|bytes| {
        let response = parse_response(module.abi, &bytes)?;
        let limits = engine.limits();
        if response.events.len() > limits.events_max as usize {
            return Err(CallError::BadResult(format!(
                "{} events, over the limit of {}",
                response.events.len(),
                limits.events_max
            )));
        }
        let mut events = Vec::with_capacity(response.events.len());
        for e in response.events {
            let size = json_len(&e);
            if size > limits.event_bytes_max as usize {
                return Err(CallError::BadResult(format!(
                    "event {:?} is {size} bytes, over the {}-byte limit",
                    e.kind, limits.event_bytes_max
                )));
            }
            let mut attributes = vec![Attribute { key: "contract".into(), value: req.env.contract.clone() }];
            attributes.extend(e.attributes.into_iter().map(|a| Attribute { key: a.key, value: a.value }));
            events.push(Event { kind: e.kind, attributes });
        }
        Ok(CallSuccess { data: response.data, events })
    });
    CallOutcome { result, gas_used }
}

/// Runs a query; its answer is any JSON value.
pub fn run_query(
    engine: &ContractEngine,
    module: &Prepared,
    overlay: &mut Overlay,
    req: &CallRequest<'_>,
) -> CallOutcome<serde_json::Value> {
    let (raw, gas_used) = run_raw(engine, module, overlay, req);
    CallOutcome { result: raw.and_then(|bytes| parse_answer(module.abi, &bytes)), gas_used }
}
