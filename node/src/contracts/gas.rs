//! What gas costs. Gas = wasm fuel (one unit per instruction, wasmtime's default costs) + these prices for
//! host calls and bytes. Every price is a constant of the protocol: changing one changes consensus.

/// Any tx: a native transfer costs exactly this.
pub const TX_BASE_GAS: u64 = 1_000;
/// StoreCode, per byte of module (covers hashing, validation, compilation and storage).
pub const CODE_BYTE_GAS: u64 = 20;
/// Instantiate, Execute and Migrate: creating the instance, before any instruction runs.
pub const CALL_BASE_GAS: u64 = 50_000;
/// Per byte of the message handed to the contract.
pub const MSG_BYTE_GAS: u64 = 2;
/// UpdateAdmin: one record rewritten.
pub const UPDATE_ADMIN_GAS: u64 = 5_000;
/// A governance proposal or approval (it may execute the proposal).
pub const GOVERN_GAS: u64 = 10_000;
/// Every host call, on top of its byte prices.
pub const HOST_CALL_GAS: u64 = 200;
/// Per byte read from storage (key and value) or copied between host and module.
pub const READ_BYTE_GAS: u64 = 1;
/// Per byte written to storage (key and value): state grows on every node, forever.
pub const WRITE_BYTE_GAS: u64 = 30;
/// A native transfer from the contract's balance.
pub const SEND_GAS: u64 = 5_000;
/// Per byte of the call's result and events.
pub const RESULT_BYTE_GAS: u64 = 2;
