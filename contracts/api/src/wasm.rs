//! The wasm side of the ABI (see [`crate::abi`]): host imports wrapped as [`Host`], and the export glue
//! the [`crate::entry_points!`] macro calls.

use crate::abi::{pack, SEND_BAD_ADDRESS, SEND_INSUFFICIENT_FUNDS, SEND_OK};
use crate::context::Context;
use crate::{Ctx, Host, QueryCtx, Response, StdError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Display;

#[link(wasm_import_module = "consort")]
extern "C" {
    fn context() -> i64;
    fn db_read(key_ptr: u32, key_len: u32) -> i64;
    fn db_write(key_ptr: u32, key_len: u32, value_ptr: u32, value_len: u32);
    fn db_remove(key_ptr: u32, key_len: u32);
    fn db_next(prefix_ptr: u32, prefix_len: u32, after_ptr: u32, after_len: u32, has_after: u32) -> i64;
    fn balance(addr_ptr: u32, addr_len: u32) -> i64;
    fn send(addr_ptr: u32, addr_len: u32, amount_ptr: u32) -> i64;
    fn take_return(dst_ptr: u32);
    fn abort(msg_ptr: u32, msg_len: u32);
}

/// Tells the host that this module speaks the borsh ABI (see [`crate::abi::Abi`]). Never called.
#[no_mangle]
pub extern "C" fn consort_abi_borsh() {}

/// The host calls this to place a message in the module's memory. The buffer lives until the call ends
/// (every call gets a fresh instance, so nothing leaks across calls).
#[no_mangle]
pub extern "C" fn consort_alloc(len: u32) -> u32 {
    let buf = Vec::<u8>::with_capacity(len as usize);
    let ptr = buf.as_ptr() as u32;
    std::mem::forget(buf);
    ptr
}

/// Copies the host's return buffer when the call reported a length, `None` for −1.
fn returned(len: i64) -> Option<Vec<u8>> {
    if len < 0 {
        return None;
    }
    let mut buf = vec![0u8; len as usize];
    // SAFETY: the host writes exactly `len` bytes, the length it just returned, into `buf`.
    unsafe { take_return(buf.as_mut_ptr() as u32) };
    Some(buf)
}

fn ptr(bytes: &[u8]) -> (u32, u32) {
    (bytes.as_ptr() as u32, bytes.len() as u32)
}

struct WasmHost;

impl Host for WasmHost {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (kp, kl) = ptr(key);
        returned(unsafe { db_read(kp, kl) })
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        let ((kp, kl), (vp, vl)) = (ptr(key), ptr(value));
        unsafe { db_write(kp, kl, vp, vl) }
    }

    fn remove(&mut self, key: &[u8]) {
        let (kp, kl) = ptr(key);
        unsafe { db_remove(kp, kl) }
    }

    fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Option<(Vec<u8>, Vec<u8>)> {
        let (pp, pl) = ptr(prefix);
        let (ap, al) = ptr(after.unwrap_or_default());
        let entry = returned(unsafe { db_next(pp, pl, ap, al, after.is_some() as u32) })?;
        let key_len = u32::from_le_bytes(entry.get(..4)?.try_into().ok()?) as usize;
        let key = entry.get(4..4 + key_len)?.to_vec();
        let value = entry.get(4 + key_len..)?.to_vec();
        Some((key, value))
    }

    fn balance(&self, address: &str) -> u128 {
        let (ap, al) = ptr(address.as_bytes());
        returned(unsafe { balance(ap, al) })
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn send(&mut self, to: &str, amount: u128) -> Result<(), StdError> {
        let (ap, al) = ptr(to.as_bytes());
        let amount_bytes = amount.to_le_bytes();
        match unsafe { send(ap, al, amount_bytes.as_ptr() as u32) } {
            SEND_OK => Ok(()),
            SEND_INSUFFICIENT_FUNDS => {
                Err(StdError::InsufficientFunds { balance: self.balance(&contract_address()), amount })
            }
            SEND_BAD_ADDRESS => Err(StdError::InvalidAddress(to.into())),
            other => Err(StdError::msg(format!("send failed with host code {other}"))),
        }
    }
}

fn load_context() -> Context {
    let bytes = returned(unsafe { context() }).unwrap_or_default();
    match borsh::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => fail(&format!("the host's context is not a borsh Context: {e}")),
    }
}

fn contract_address() -> String {
    load_context().env.contract
}

fn fail(message: &str) -> ! {
    unsafe { abort(message.as_ptr() as u32, message.len() as u32) };
    unreachable!("abort returned")
}

/// Routes panics to `abort` so their message reaches the receipt instead of a bare trap.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| fail(&format!("contract panicked: {info}"))));
}

fn message<'a>(ptr: u32, len: u32) -> &'a [u8] {
    // SAFETY: the host placed `len` bytes at `ptr`, inside a buffer it got from `consort_alloc`.
    unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) }
}

fn leak(result: Vec<u8>) -> u64 {
    let packed = pack(result.as_ptr() as u32, result.len() as u32);
    std::mem::forget(result);
    packed
}

pub fn export_mut<M, E, F>(ptr: u32, len: u32, f: F) -> u64
where
    M: DeserializeOwned,
    E: Display,
    F: FnOnce(&mut Ctx, M) -> Result<Response, E>,
{
    install_panic_hook();
    let context = load_context();
    leak(crate::run_mut(&mut WasmHost, context, message(ptr, len), f))
}

pub fn export_query<M, T, E, F>(ptr: u32, len: u32, f: F) -> u64
where
    M: DeserializeOwned,
    T: Serialize,
    E: Display,
    F: FnOnce(&QueryCtx, M) -> Result<T, E>,
{
    install_panic_hook();
    let context = load_context();
    leak(crate::run_query(&WasmHost, context, message(ptr, len), f))
}
