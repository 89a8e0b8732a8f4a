//! The host functions a contract may import (module `consort`, see `consort_contract::abi`). Each one
//! charges gas first, checks every pointer and length against the module's memory, and fails with a
//! [`HostError`] trap instead of ever panicking.

use super::call_state::{CallState, HostError};
use super::gas::{HOST_CALL_GAS, READ_BYTE_GAS, SEND_GAS, WRITE_BYTE_GAS};
use crate::exec::Account;
use consort_contract::abi::{self, SEND_BAD_ADDRESS, SEND_INSUFFICIENT_FUNDS, SEND_OK};
use consort_sdk::Address;
use wasmtime::{Caller, Extern, Linker};

type Host<'a> = Caller<'a, CallState>;
type HostResult<T> = wasmtime::Result<T>;

/// Longest abort message kept.
const ABORT_MESSAGE_BYTES_MAX: u32 = 1024;

fn trap(e: HostError) -> wasmtime::Error {
    wasmtime::Error::new(e)
}

/// Takes `gas` from the call's fuel, or stops the call when it runs out.
fn charge(caller: &mut Host<'_>, gas: u64) -> HostResult<()> {
    let fuel = caller.get_fuel()?;
    match fuel.checked_sub(gas) {
        Some(left) => caller.set_fuel(left),
        None => {
            caller.set_fuel(0)?;
            Err(trap(HostError::OutOfGas))
        }
    }
}

fn memory(caller: &mut Host<'_>) -> HostResult<wasmtime::Memory> {
    if let Some(m) = caller.data().memory {
        return Ok(m);
    }
    match caller.get_export(abi::EXPORT_MEMORY) {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(trap(HostError::OutOfBounds { what: "memory export" })),
    }
}

/// Copies `len` bytes at `ptr` out of the module's memory.
fn read(caller: &mut Host<'_>, ptr: u32, len: u32, what: &'static str) -> HostResult<Vec<u8>> {
    let mem = memory(caller)?;
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or_else(|| trap(HostError::OutOfBounds { what }))?;
    mem.data(&*caller).get(start..end).map(<[u8]>::to_vec).ok_or_else(|| trap(HostError::OutOfBounds { what }))
}

fn write(caller: &mut Host<'_>, ptr: u32, bytes: &[u8], what: &'static str) -> HostResult<()> {
    let mem = memory(caller)?;
    mem.write(&mut *caller, ptr as usize, bytes).map_err(|_| trap(HostError::OutOfBounds { what }))
}

/// Reads a storage key named by the contract and returns it scoped to the contract's own storage.
fn read_key(caller: &mut Host<'_>, ptr: u32, len: u32) -> HostResult<Vec<u8>> {
    let max = caller.data().limits.key_bytes_max;
    if len > max {
        return Err(trap(HostError::KeyTooLarge { len: len as usize, max }));
    }
    let key = read(caller, ptr, len, "storage key")?;
    Ok([caller.data().storage_prefix.as_slice(), &key].concat())
}

/// Puts bytes in the return buffer and gives the module their length.
fn give(caller: &mut Host<'_>, bytes: Vec<u8>) -> i64 {
    let len = bytes.len() as i64;
    caller.data_mut().returned = bytes;
    len
}

fn storage_err(e: crate::storage::StoreError) -> wasmtime::Error {
    trap(HostError::Storage(e.to_string()))
}

fn refuse_if_read_only(caller: &Host<'_>, action: &'static str) -> HostResult<()> {
    if caller.data().read_only {
        return Err(trap(HostError::ReadOnly(action)));
    }
    Ok(())
}

fn context(mut caller: Host<'_>) -> HostResult<i64> {
    let bytes = caller.data().context.clone();
    charge(&mut caller, HOST_CALL_GAS + READ_BYTE_GAS * bytes.len() as u64)?;
    Ok(give(&mut caller, bytes))
}

fn db_read(mut caller: Host<'_>, key_ptr: u32, key_len: u32) -> HostResult<i64> {
    charge(&mut caller, HOST_CALL_GAS + READ_BYTE_GAS * u64::from(key_len))?;
    let key = read_key(&mut caller, key_ptr, key_len)?;
    match caller.data().overlay.get(&key).map_err(storage_err)? {
        None => Ok(-1),
        Some(value) => {
            charge(&mut caller, READ_BYTE_GAS * value.len() as u64)?;
            Ok(give(&mut caller, value))
        }
    }
}

fn db_write(mut caller: Host<'_>, key_ptr: u32, key_len: u32, value_ptr: u32, value_len: u32) -> HostResult<()> {
    refuse_if_read_only(&caller, "write storage")?;
    let max = caller.data().limits.value_bytes_max;
    if value_len > max {
        return Err(trap(HostError::ValueTooLarge { len: value_len as usize, max }));
    }
    charge(&mut caller, HOST_CALL_GAS + WRITE_BYTE_GAS * (u64::from(key_len) + u64::from(value_len)))?;
    let key = read_key(&mut caller, key_ptr, key_len)?;
    let value = read(&mut caller, value_ptr, value_len, "storage value")?;
    caller.data_mut().overlay.set(key, value);
    Ok(())
}

fn db_remove(mut caller: Host<'_>, key_ptr: u32, key_len: u32) -> HostResult<()> {
    refuse_if_read_only(&caller, "remove storage")?;
    charge(&mut caller, HOST_CALL_GAS + WRITE_BYTE_GAS * u64::from(key_len))?;
    let key = read_key(&mut caller, key_ptr, key_len)?;
    caller.data_mut().overlay.remove(key);
    Ok(())
}

fn db_next(
    mut caller: Host<'_>,
    prefix_ptr: u32,
    prefix_len: u32,
    after_ptr: u32,
    after_len: u32,
    has_after: u32,
) -> HostResult<i64> {
    charge(&mut caller, HOST_CALL_GAS + READ_BYTE_GAS * (u64::from(prefix_len) + u64::from(after_len)))?;
    let prefix = read_key(&mut caller, prefix_ptr, prefix_len)?;
    let after = if has_after != 0 { Some(read_key(&mut caller, after_ptr, after_len)?) } else { None };
    let found = caller.data().overlay.next(&prefix, after.as_deref()).map_err(storage_err)?;
    let Some((key, value)) = found else { return Ok(-1) };
    let own = &key[caller.data().storage_prefix.len()..];
    charge(&mut caller, READ_BYTE_GAS * (own.len() + value.len()) as u64)?;
    let entry = [&(own.len() as u32).to_le_bytes()[..], own, &value].concat();
    Ok(give(&mut caller, entry))
}

fn parse_address(caller: &mut Host<'_>, ptr: u32, len: u32) -> HostResult<Option<Address>> {
    // A bech32 address is 46 characters; anything much longer is not one.
    if len > 128 {
        return Ok(None);
    }
    let text = read(caller, ptr, len, "address")?;
    Ok(std::str::from_utf8(&text).ok().and_then(|s| s.parse().ok()))
}

fn balance(mut caller: Host<'_>, addr_ptr: u32, addr_len: u32) -> HostResult<i64> {
    charge(&mut caller, HOST_CALL_GAS + READ_BYTE_GAS * u64::from(addr_len))?;
    let Some(address) = parse_address(&mut caller, addr_ptr, addr_len)? else { return Ok(-1) };
    let account = caller.data().overlay.account(&address).map_err(storage_err)?;
    let text = account.unwrap_or_default().balance.to_string().into_bytes();
    Ok(give(&mut caller, text))
}

fn send(mut caller: Host<'_>, addr_ptr: u32, addr_len: u32, amount_ptr: u32) -> HostResult<i64> {
    refuse_if_read_only(&caller, "send funds")?;
    charge(&mut caller, HOST_CALL_GAS + SEND_GAS)?;
    let Some(to) = parse_address(&mut caller, addr_ptr, addr_len)? else { return Ok(SEND_BAD_ADDRESS) };
    let raw: [u8; 16] = read(&mut caller, amount_ptr, 16, "amount")?.try_into().expect("read returned 16 bytes");
    let amount = u128::from_le_bytes(raw);
    let state = caller.data_mut();
    let from_address = state.contract;
    let mut from = state.overlay.account(&from_address).map_err(storage_err)?.unwrap_or_default();
    let Some(left) = from.balance.checked_sub(amount) else { return Ok(SEND_INSUFFICIENT_FUNDS) };
    if amount == 0 || to == from_address {
        return Ok(SEND_OK);
    }
    let mut dest: Account = state.overlay.account(&to).map_err(storage_err)?.unwrap_or_default();
    // Total supply fits in u128, so a credit cannot overflow; checked anyway.
    let Some(credited) = dest.balance.checked_add(amount) else { return Ok(SEND_INSUFFICIENT_FUNDS) };
    from.balance = left;
    dest.balance = credited;
    state.overlay.set_account(&from_address, &from);
    state.overlay.set_account(&to, &dest);
    Ok(SEND_OK)
}

fn take_return(mut caller: Host<'_>, dst_ptr: u32) -> HostResult<()> {
    let bytes = std::mem::take(&mut caller.data_mut().returned);
    charge(&mut caller, HOST_CALL_GAS + READ_BYTE_GAS * bytes.len() as u64)?;
    write(&mut caller, dst_ptr, &bytes, "return buffer")
}

fn abort(mut caller: Host<'_>, msg_ptr: u32, msg_len: u32) -> HostResult<()> {
    let len = msg_len.min(ABORT_MESSAGE_BYTES_MAX);
    let bytes = read(&mut caller, msg_ptr, len, "abort message")?;
    Err(trap(HostError::Aborted(String::from_utf8_lossy(&bytes).into_owned())))
}

/// The linker with every host function of `consort_contract::abi::IMPORTS`.
pub fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut l = Linker::new(engine);
    let m = abi::IMPORT_MODULE;
    l.func_wrap(m, "context", context)?;
    l.func_wrap(m, "db_read", db_read)?;
    l.func_wrap(m, "db_write", db_write)?;
    l.func_wrap(m, "db_remove", db_remove)?;
    l.func_wrap(m, "db_next", db_next)?;
    l.func_wrap(m, "balance", balance)?;
    l.func_wrap(m, "send", send)?;
    l.func_wrap(m, "take_return", take_return)?;
    l.func_wrap(m, "abort", abort)?;
    Ok(l)
}
