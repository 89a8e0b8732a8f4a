//! The boundary between a contract module and the node: what the module exports, what it may import, and
//! how the context and the result are encoded. The node validates modules against these names, so both
//! sides share this file.
//!
//! Exports: `memory`; `consort_alloc(len) -> ptr`, which the host calls to place the message (JSON); and
//! the entry points `instantiate`, `execute`, `query` (required) and `migrate` (optional), each
//! `(msg_ptr: i32, msg_len: i32) -> i64` returning `ptr << 32 | len` of a [`CallResult`].
//!
//! Two encodings of the context and the result exist ([`Abi`]). A module that exports the function
//! [`EXPORT_ABI_BORSH`] (`() -> ()`, never called) gets both in borsh: the context as a borsh
//! [`crate::Context`], the result as a borsh `CallResult<EncodedResponse>` (query: `CallResult<String>`
//! holding the answer as JSON text). Modules without it, built before the borsh ABI, get and return JSON
//! (`{"ok": …}` / `{"err": "…"}`), so contracts already on chain keep running unchanged.
//!
//! Imports (module `consort`). Calls that return bytes of variable length put them in the host's return
//! buffer and return its length (−1 for "none"); the module then copies them out with `take_return`.
//! - `context() -> i64`: the [`crate::Env`] and [`crate::Info`] of this call, encoded per [`Abi`].
//! - `db_read(key_ptr, key_len) -> i64`: the value stored under the key, or −1.
//! - `db_write(key_ptr, key_len, value_ptr, value_len)`, `db_remove(key_ptr, key_len)`.
//! - `db_next(prefix_ptr, prefix_len, after_ptr, after_len, has_after) -> i64`: the first entry whose key
//!   starts with the prefix and sorts after `after` (or from the start), encoded as
//!   `u32 LE key length ‖ key ‖ value`, or −1.
//! - `balance(addr_ptr, addr_len) -> i64`: the native balance of a bech32 address as a decimal string.
//! - `send(addr_ptr, addr_len, amount_ptr) -> i64`: sends the u128 (16 bytes LE) at `amount_ptr` from the
//!   contract's balance; 0 on success, [`SEND_INSUFFICIENT_FUNDS`] or [`SEND_BAD_ADDRESS`].
//! - `take_return(dst_ptr)`: copies the return buffer to `dst_ptr`.
//! - `abort(msg_ptr, msg_len)`: stops the call with a message (a Rust panic ends here).

use crate::response::{Event, Response};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

pub const IMPORT_MODULE: &str = "consort";
pub const EXPORT_MEMORY: &str = "memory";
pub const EXPORT_ALLOC: &str = "consort_alloc";
pub const ENTRY_INSTANTIATE: &str = "instantiate";
pub const ENTRY_EXECUTE: &str = "execute";
pub const ENTRY_QUERY: &str = "query";
pub const ENTRY_MIGRATE: &str = "migrate";
/// The marker export of the borsh ABI.
pub const EXPORT_ABI_BORSH: &str = "consort_abi_borsh";

/// How a module's context and results are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// The first ABI: JSON both ways.
    Json,
    /// Modules that export [`EXPORT_ABI_BORSH`]; what this crate builds.
    Borsh,
}

/// Every host function: (name, number of i32 parameters, whether it returns an i64).
pub const IMPORTS: [(&str, usize, bool); 9] = [
    ("context", 0, true),
    ("db_read", 2, true),
    ("db_write", 4, false),
    ("db_remove", 2, false),
    ("db_next", 5, true),
    ("balance", 2, true),
    ("send", 3, true),
    ("take_return", 1, false),
    ("abort", 2, false),
];

pub const SEND_OK: i64 = 0;
pub const SEND_INSUFFICIENT_FUNDS: i64 = 1;
pub const SEND_BAD_ADDRESS: i64 = 2;

/// What an entry point returns. In JSON, `{"ok": …}` or `{"err": "message"}`, where `ok` holds a
/// [`crate::Response`] for instantiate, execute and migrate, and the query's JSON answer for query. In
/// borsh, `ok` holds an [`EncodedResponse`], or for query the answer as JSON text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallResult<T> {
    Ok(T),
    Err(String),
}

impl<T> From<Result<T, String>> for CallResult<T> {
    fn from(result: Result<T, String>) -> Self {
        match result {
            Ok(v) => CallResult::Ok(v),
            Err(e) => CallResult::Err(e),
        }
    }
}

impl<T> CallResult<T> {
    pub fn into_result(self) -> Result<T, String> {
        match self {
            CallResult::Ok(v) => Ok(v),
            CallResult::Err(e) => Err(e),
        }
    }
}

/// A [`crate::Response`] in the borsh ABI: `data` is JSON text, so the receipt shows the same answer
/// either way.
#[derive(Clone, Debug, Default, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct EncodedResponse {
    pub data: Option<String>,
    pub events: Vec<Event>,
}

impl From<Response> for EncodedResponse {
    fn from(r: Response) -> Self {
        EncodedResponse { data: r.data.map(|d| d.to_string()), events: r.events }
    }
}

/// Packs a pointer and a length into an entry point's i64 result.
pub fn pack(ptr: u32, len: u32) -> u64 {
    (u64::from(ptr) << 32) | u64::from(len)
}

/// Splits an entry point's result into (pointer, length).
pub fn unpack(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, v as u32)
}
