//! `consort-contract`: write consort smart contracts in Rust.
//!
//! A contract is a crate compiled to `wasm32-unknown-unknown`. It declares four entry points (instantiate,
//! execute, query and, optionally, migrate) that take JSON messages, and registers them with
//! [`entry_points!`]. Inside them it reads and writes its own storage ([`Item`], [`Map`] or the raw
//! [`Host`] calls), sees the block and caller ([`Env`], [`Info`]), sends native funds from its balance,
//! and returns a [`Response`] with events. An `Err` reverts everything the call wrote and its message
//! reaches the tx receipt.
//!
//! The same code runs natively against [`mock::MockChain`], so contract logic is unit-tested with plain
//! `cargo test`.
//!
//! ```ignore
//! use consort_contract::prelude::*;
//!
//! const COUNT: Item<u64> = Item::new("count");
//!
//! fn instantiate(ctx: &mut Ctx, start: u64) -> Result<Response, StdError> {
//!     COUNT.save(ctx.host, &start)?;
//!     Ok(Response::new())
//! }
//! fn execute(ctx: &mut Ctx, _msg: serde_json::Value) -> Result<Response, StdError> {
//!     let n = COUNT.load(ctx.host)? + 1;
//!     COUNT.save(ctx.host, &n)?;
//!     Ok(Response::new().add_event(Event::new("incremented").attr("count", n)))
//! }
//! fn query(ctx: &QueryCtx, _msg: serde_json::Value) -> Result<u64, StdError> {
//!     COUNT.load(ctx.host)
//! }
//! consort_contract::entry_points!(instantiate: instantiate, execute: execute, query: query);
//! ```

pub mod abi;
mod address;
pub mod agreement;
mod context;
mod dispatch;
mod error;
mod host;
pub mod math;
pub mod mock;
mod response;
pub mod split;
pub mod split_store;
mod storage;
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wasm;

pub use address::{encode_address, validate_address};
pub use context::{Context, Ctx, Env, Info, QueryCtx};
#[doc(hidden)]
pub use dispatch::{run_mut, run_query, ContractFns};
pub use error::StdError;
pub use host::Host;
pub use response::{Attribute, Event, Response};
pub use storage::{Item, Map};
pub use {serde, serde_json};

/// What a contract file usually imports.
pub mod prelude {
    pub use crate::{Ctx, Env, Event, Host, Info, Item, Map, QueryCtx, Response, StdError};
    pub use serde::{Deserialize, Serialize};
}

/// u128 amounts travel through JSON as decimal strings: JSON numbers lose precision past 2^53.
/// Use as `#[serde(with = "consort_contract::u128_string")]`.
pub mod u128_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|_| serde::de::Error::custom(format!("amount must be a decimal u128 string, got {s:?}")))
    }
}

/// Registers a contract's entry points: exports them from the wasm module, and provides `contract()`,
/// the dispatch table that [`mock::MockChain`] runs natively.
///
/// Each function takes its context and a deserialized message:
/// `instantiate`, `execute` and `migrate`: `fn(&mut Ctx, Msg) -> Result<Response, E>`;
/// `query`: `fn(&QueryCtx, Msg) -> Result<T, E>` where `T: Serialize` and `E: Display`.
#[macro_export]
macro_rules! entry_points {
    (instantiate: $i:path, execute: $e:path, query: $q:path $(,)?) => {
        $crate::entry_points!(@emit $i, $e, $q, None);
    };
    (instantiate: $i:path, execute: $e:path, query: $q:path, migrate: $m:path $(,)?) => {
        $crate::entry_points!(@emit $i, $e, $q, Some(|host, context, msg| $crate::run_mut(host, context, msg, $m)));
        #[cfg(target_arch = "wasm32")]
        #[export_name = "migrate"]
        pub extern "C" fn __consort_migrate(ptr: u32, len: u32) -> u64 {
            $crate::wasm::export_mut(ptr, len, $m)
        }
    };
    (@emit $i:path, $e:path, $q:path, $migrate:expr) => {
        /// This contract's entry points, for running it natively on [`consort_contract::mock::MockChain`].
        pub fn contract() -> $crate::ContractFns {
            $crate::ContractFns {
                instantiate: |host, context, msg| $crate::run_mut(host, context, msg, $i),
                execute: |host, context, msg| $crate::run_mut(host, context, msg, $e),
                query: |host, context, msg| $crate::run_query(host, context, msg, $q),
                migrate: $migrate,
            }
        }
        #[cfg(target_arch = "wasm32")]
        #[export_name = "instantiate"]
        pub extern "C" fn __consort_instantiate(ptr: u32, len: u32) -> u64 {
            $crate::wasm::export_mut(ptr, len, $i)
        }
        #[cfg(target_arch = "wasm32")]
        #[export_name = "execute"]
        pub extern "C" fn __consort_execute(ptr: u32, len: u32) -> u64 {
            $crate::wasm::export_mut(ptr, len, $e)
        }
        #[cfg(target_arch = "wasm32")]
        #[export_name = "query"]
        pub extern "C" fn __consort_query(ptr: u32, len: u32) -> u64 {
            $crate::wasm::export_query(ptr, len, $q)
        }
    };
}
