use crate::host::Host;
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// The block and contract a call runs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Env {
    pub chain_id: String,
    pub height: u64,
    /// The block's time in milliseconds since the Unix epoch (agreed by consensus, not a local clock).
    pub time_ms: u64,
    /// This contract's address.
    pub contract: String,
}

/// Who called and what they sent along.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Info {
    pub sender: String,
    /// Native funds moved from the sender to the contract before the call (returned if it fails).
    #[serde(with = "crate::u128_string")]
    pub funds: u128,
}

/// What the host hands a call: `info` is absent for queries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Context {
    pub env: Env,
    pub info: Option<Info>,
}

/// Context of instantiate, execute and migrate: may write storage and send funds.
pub struct Ctx<'a> {
    pub env: Env,
    pub info: Info,
    pub host: &'a mut dyn Host,
}

/// Context of a query: read-only.
pub struct QueryCtx<'a> {
    pub env: Env,
    pub host: &'a dyn Host,
}
