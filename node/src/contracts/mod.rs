//! The contract runtime: wasmtime behind the host API of `consort_contract::abi`, with deterministic
//! configuration, gas metering, limits and a module cache (DESIGN §7). The executor drives it for
//! StoreCode, Instantiate, Execute and Migrate; the RPC for queries.

mod call;
mod call_state;
mod engine;
pub mod gas;
mod host_api;
mod instance_slots;
mod limits;
mod query;
pub mod records;

pub use call::{run_mut, run_query, CallError, CallOutcome, CallRequest, CallSuccess};
pub use engine::{CodeError, ContractEngine, Prepared, TABLE_ELEMENTS_CAP};
pub use limits::ContractLimits;
pub use query::{query, QueryError};
