use super::ContractLimits;
use crate::exec::Overlay;
use consort_sdk::Address;
use wasmtime::StoreLimits;

/// Why the host stopped a call. Raised from host functions as a trap and read back after the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("out of gas")]
    OutOfGas,
    #[error("the contract passed a {what} outside its memory")]
    OutOfBounds { what: &'static str },
    #[error("storage key of {len} bytes is over the {max}-byte limit")]
    KeyTooLarge { len: usize, max: u32 },
    #[error("storage value of {len} bytes is over the {max}-byte limit")]
    ValueTooLarge { len: usize, max: u32 },
    #[error("a query cannot {0}")]
    ReadOnly(&'static str),
    #[error("the contract aborted: {0}")]
    Aborted(String),
    #[error("state could not be read: {0}")]
    Storage(String),
}

/// Everything a running call owns (wasmtime requires the store's data to be `'static`, so the block's
/// overlay moves in for the call and back out after it).
pub struct CallState {
    pub overlay: Overlay,
    pub contract: Address,
    pub storage_prefix: Vec<u8>,
    /// JSON of the call's env and info, handed out by the `context` host call.
    pub context: Vec<u8>,
    pub read_only: bool,
    pub limits: ContractLimits,
    pub store_limits: StoreLimits,
    /// The return buffer of the last host call that produced bytes.
    pub returned: Vec<u8>,
    /// The instance's exported memory, set once it is instantiated: host calls then skip looking the
    /// export up by name.
    pub memory: Option<wasmtime::Memory>,
}
