//! The wasmtime engine, configured for determinism, and the cache of validated, linked modules.

use super::call_state::CallState;
use super::instance_slots::{InstanceSlots, INSTANCE_SLOTS_MAX, SLOTS_RESERVED_FOR_BLOCKS};
use super::{host_api, records, ContractLimits};
use crate::exec::Overlay;
use crate::storage::StoreError;
use consort_contract::abi::{self, Abi};
use consort_sdk::Hash;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use wasmtime::{
    Config, Enabled, Engine, ExternType, InstanceAllocationStrategy, InstancePre, Linker, Module, ModuleExport,
    PoolingAllocationConfig, ValType,
};

/// Why a module was refused at StoreCode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("module is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: u32 },
    #[error("not a valid wasm module for this chain: {0}")]
    Invalid(String),
    #[error("module imports {module}::{name}, which is not part of the host API (module `consort`: {allowed})")]
    ForbiddenImport { module: String, name: String, allowed: String },
    #[error("module must export {0}")]
    MissingExport(String),
    #[error("module asks for {what} of {asked}, over the limit of {max}")]
    OverLimit { what: &'static str, asked: u64, max: u64 },
}

/// Elements one table may hold: the pool reserves this much per table, so governance cannot go above it.
pub const TABLE_ELEMENTS_CAP: u32 = 65_536;
/// Tables one module may define (the store's limit too).
pub const TABLES_PER_MODULE_MAX: u32 = 4;
/// Dirty linear memory reset in place when an instance ends, rather than handed back to the kernel:
/// a contract's stack and heap are then warm for the next call, with no page faults or TLB shootdowns.
const MEMORY_KEEP_RESIDENT: usize = 2 * 1024 * 1024;
const TABLE_KEEP_RESIDENT: usize = 64 * 1024;
/// Slots kept warm for modules not in use; each keeps up to MEMORY_KEEP_RESIDENT resident.
const UNUSED_WARM_SLOTS_MAX: u32 = 4;

/// Set (to anything) to have wasmtime write /tmp/perf-<pid>.map for `perf`.
const PERFMAP_ENV: &str = "CONSORT_WASM_PERFMAP";

/// A module ready to run: linked, with its exports resolved once so that a call skips the name lookups.
#[derive(Clone)]
pub struct Prepared {
    pub(super) pre: InstancePre<CallState>,
    pub(super) alloc: ModuleExport,
    pub(super) memory: ModuleExport,
    pub(super) abi: Abi,
    entries: [(&'static str, Option<ModuleExport>); 4],
}

impl Prepared {
    fn new(pre: InstancePre<CallState>) -> Result<Prepared, CodeError> {
        let module = pre.module();
        let export = |name: &str| module.get_export_index(name);
        let required = |name: &str| export(name).ok_or_else(|| CodeError::MissingExport(name.into()));
        let entries = [abi::ENTRY_INSTANTIATE, abi::ENTRY_EXECUTE, abi::ENTRY_QUERY, abi::ENTRY_MIGRATE]
            .map(|name| (name, export(name)));
        let abi = if export(abi::EXPORT_ABI_BORSH).is_some() { Abi::Borsh } else { Abi::Json };
        Ok(Prepared { alloc: required(abi::EXPORT_ALLOC)?, memory: required(abi::EXPORT_MEMORY)?, abi, entries, pre })
    }

    /// The entry point `name`, if the module exports it.
    pub(super) fn entry(&self, name: &str) -> Option<ModuleExport> {
        self.entries.iter().find(|(n, _)| *n == name).and_then(|(_, e)| *e)
    }
}

/// Validated and linked modules, compiled once per code hash.
struct ModuleCache {
    entries: HashMap<Hash, (Prepared, u64)>,
    /// Logical clock for least-recently-used eviction.
    tick: u64,
    max: usize,
}

pub struct ContractEngine {
    engine: Engine,
    linker: Linker<CallState>,
    /// Governance may change them between blocks.
    limits: RwLock<ContractLimits>,
    cache: Mutex<ModuleCache>,
    slots: InstanceSlots,
}

/// The deterministic configuration DESIGN §7 asks for: fuel metering, canonical NaNs, and no proposal
/// whose results could differ between machines (threads, SIMD, relaxed SIMD, memory64, multi-memory).
fn config(stack_bytes_max: u32) -> Config {
    let mut c = Config::new();
    c.consume_fuel(true)
        .cranelift_nan_canonicalization(true)
        .wasm_relaxed_simd(false)
        .wasm_simd(false)
        .wasm_memory64(false)
        .wasm_multi_memory(false)
        .wasm_gc(false)
        .wasm_tail_call(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        .wasm_backtrace_max_frames(None)
        .max_wasm_stack(stack_bytes_max as usize)
        // Bounds checks in the compiled code instead of guard pages and signal handlers: a pooled slot
        // then stays read/write up to the most any call used, and instantiating never changes page
        // protections. With guard pages every call whose heap grew cost two mprotects and a TLB shootdown,
        // more than the contract's own code for a small call.
        .signals_based_traps(false)
        .memory_guard_size(0);
    // For profiling only: `perf report` then names the functions of contracts (built with symbols, e.g.
    // CARGO_PROFILE_CONTRACT_STRIP=debuginfo) instead of lumping them as [JIT]. Output is unaffected.
    if std::env::var_os(PERFMAP_ENV).is_some() {
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    c
}

/// Instances come from a pool of slots reused call after call: fresh mappings per call (mmap, page
/// faults, munmap) cost more than the contract itself. With PAGEMAP_SCAN (Linux 6.7+) only the pages a
/// call dirtied are reset; without it resetting the resident part would mean memset of all of it, so
/// memory goes back to the kernel instead.
fn pool(pagemap_scan: bool) -> PoolingAllocationConfig {
    let mut p = PoolingAllocationConfig::new();
    p.total_core_instances(INSTANCE_SLOTS_MAX)
        .total_memories(INSTANCE_SLOTS_MAX)
        .total_tables(INSTANCE_SLOTS_MAX * TABLES_PER_MODULE_MAX)
        .total_component_instances(0)
        .max_memories_per_module(1)
        .max_tables_per_module(TABLES_PER_MODULE_MAX)
        .table_elements(TABLE_ELEMENTS_CAP as usize)
        .max_unused_warm_slots(UNUSED_WARM_SLOTS_MAX);
    if pagemap_scan {
        p.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT)
            .table_keep_resident(TABLE_KEEP_RESIDENT);
    }
    p
}

/// No fallback to on-demand allocation: the pool refuses some modules at StoreCode (too many tables, a
/// too large instance) that on-demand allocation would accept, and every node must give the same verdict.
fn pooled_engine(stack_bytes_max: u32) -> wasmtime::Result<Engine> {
    let with = |pagemap_scan| {
        let mut c = config(stack_bytes_max);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(pagemap_scan)));
        Engine::new(&c)
    };
    with(true).or_else(|_| with(false))
}

fn all_i32(params: impl ExactSizeIterator<Item = ValType>, count: usize) -> bool {
    params.len() == count && params.into_iter().all(|p| matches!(p, ValType::I32))
}

fn returns(results: impl ExactSizeIterator<Item = ValType>, i64_result: bool) -> bool {
    let results: Vec<ValType> = results.collect();
    match i64_result {
        true => matches!(results.as_slice(), [ValType::I64]),
        false => results.is_empty(),
    }
}

impl ContractEngine {
    /// `stack_bytes_max` is fixed for the engine's life (genesis); the other limits may change.
    pub fn new(limits: &ContractLimits, stack_bytes_max: u32, cache_max: usize) -> anyhow::Result<ContractEngine> {
        let engine = pooled_engine(stack_bytes_max).map_err(|e| anyhow::anyhow!("cannot set up wasmtime: {e}"))?;
        let linker = host_api::linker(&engine).map_err(|e| anyhow::anyhow!("cannot link the host API: {e}"))?;
        let cache = Mutex::new(ModuleCache { entries: HashMap::new(), tick: 0, max: cache_max.max(1) });
        let slots = InstanceSlots::new(INSTANCE_SLOTS_MAX, SLOTS_RESERVED_FOR_BLOCKS);
        Ok(ContractEngine { engine, linker, limits: RwLock::new(limits.clone()), cache, slots })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn slots(&self) -> &InstanceSlots {
        &self.slots
    }

    pub fn limits(&self) -> ContractLimits {
        self.limits.read().expect("limits lock poisoned").clone()
    }

    /// New limits from the next block on. Cached modules stay valid: they passed the rules of their time.
    pub fn set_limits(&self, limits: ContractLimits) {
        *self.limits.write().expect("limits lock poisoned") = limits;
    }

    /// A module from the cache, or `None` if it has not been prepared on this node yet.
    pub fn cached(&self, code_hash: &Hash) -> Option<Prepared> {
        let mut cache = self.cache.lock().expect("module cache lock poisoned");
        cache.tick += 1;
        let tick = cache.tick;
        cache.entries.get_mut(code_hash).map(|(pre, used)| {
            *used = tick;
            pre.clone()
        })
    }

    /// Validates `code` against the chain's rules, compiles and links it, and caches the result. The same
    /// bytes give the same verdict on every node: validation depends only on the bytes and the config.
    pub fn prepare(&self, code_hash: &Hash, code: &[u8]) -> Result<Prepared, CodeError> {
        if let Some(pre) = self.cached(code_hash) {
            return Ok(pre);
        }
        let limits = self.limits();
        let max = limits.code_bytes_max;
        if code.len() > max as usize {
            return Err(CodeError::TooLarge { len: code.len(), max });
        }
        let module = Module::from_binary(&self.engine, code).map_err(|e| CodeError::Invalid(format!("{e:#}")))?;
        self.check_imports(&module)?;
        self.check_exports(&module, &limits)?;
        let pre = self.linker.instantiate_pre(&module).map_err(|e| CodeError::Invalid(format!("{e:#}")))?;
        let prepared = Prepared::new(pre)?;
        let mut cache = self.cache.lock().expect("module cache lock poisoned");
        if cache.entries.len() >= cache.max {
            let oldest = cache.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(h, _)| *h);
            if let Some(h) = oldest {
                cache.entries.remove(&h);
            }
        }
        cache.tick += 1;
        let tick = cache.tick;
        cache.entries.insert(*code_hash, (prepared.clone(), tick));
        Ok(prepared)
    }

    /// The module of stored code `code_hash`, from the cache or compiled from state. Stored code passed
    /// validation when it was stored, so failing here means the state is damaged.
    pub fn load(&self, code_hash: &Hash, overlay: &Overlay) -> Result<Prepared, StoreError> {
        if let Some(pre) = self.cached(code_hash) {
            return Ok(pre);
        }
        let code = overlay
            .get(&records::code_key(code_hash))?
            .ok_or_else(|| StoreError::Corrupt(format!("code {code_hash} is referenced but not stored")))?;
        self.prepare(code_hash, &code).map_err(|e| StoreError::Corrupt(format!("stored code {code_hash}: {e}")))
    }

    fn check_imports(&self, module: &Module) -> Result<(), CodeError> {
        for import in module.imports() {
            let known = abi::IMPORTS.iter().find(|(name, _, _)| *name == import.name());
            let fits = match (import.module() == abi::IMPORT_MODULE, known, import.ty()) {
                (true, Some((_, params, i64_result)), ExternType::Func(f)) => {
                    all_i32(f.params(), *params) && returns(f.results(), *i64_result)
                }
                _ => false,
            };
            if !fits {
                let allowed = abi::IMPORTS.iter().map(|(n, _, _)| *n).collect::<Vec<_>>().join(", ");
                return Err(CodeError::ForbiddenImport {
                    module: import.module().into(),
                    name: import.name().into(),
                    allowed,
                });
            }
        }
        Ok(())
    }

    fn check_exports(&self, module: &Module, limits: &ContractLimits) -> Result<(), CodeError> {
        let func = |name: &str, params: usize, i64_result: bool| match module.get_export(name) {
            Some(ExternType::Func(f)) if all_i32(f.params(), params) && returns(f.results(), i64_result) => Ok(()),
            _ => Err(CodeError::MissingExport(format!(
                "function `{name}` taking {params} i32 and returning {}",
                if i64_result { "i64" } else { "nothing" }
            ))),
        };
        for entry in [abi::ENTRY_INSTANTIATE, abi::ENTRY_EXECUTE, abi::ENTRY_QUERY] {
            func(entry, 2, true)?;
        }
        if module.get_export(abi::ENTRY_MIGRATE).is_some() {
            func(abi::ENTRY_MIGRATE, 2, true)?;
        }
        if module.get_export(abi::EXPORT_ABI_BORSH).is_some() {
            func(abi::EXPORT_ABI_BORSH, 0, false)?;
        }
        match module.get_export(abi::EXPORT_ALLOC) {
            Some(ExternType::Func(f))
                if all_i32(f.params(), 1) && matches!(f.results().collect::<Vec<_>>().as_slice(), [ValType::I32]) => {}
            _ => {
                return Err(CodeError::MissingExport(format!(
                    "function `{}` taking i32 and returning i32",
                    abi::EXPORT_ALLOC
                )))
            }
        }
        let Some(ExternType::Memory(memory)) = module.get_export(abi::EXPORT_MEMORY) else {
            return Err(CodeError::MissingExport("memory `memory`".into()));
        };
        let asked = memory.minimum().saturating_mul(64 * 1024);
        let max = u64::from(limits.memory_bytes_max);
        if asked > max {
            return Err(CodeError::OverLimit { what: "initial memory (bytes)", asked, max });
        }
        for ty in module.exports().map(|e| e.ty()).chain(module.imports().map(|i| i.ty())) {
            if let ExternType::Table(t) = ty {
                let max = u64::from(limits.table_elements_max);
                if t.minimum() > max {
                    return Err(CodeError::OverLimit { what: "table elements", asked: t.minimum(), max });
                }
            }
        }
        Ok(())
    }
}
