use super::records::{contract_key, ContractInfo};
use super::{run_query, CallError, CallRequest, ContractEngine};
use crate::exec::{Overlay, SharedState};
use crate::storage::StoreError;
use consort_contract::abi;
use consort_contract::Env;
use consort_sdk::Address;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("no contract at {0}")]
    UnknownContract(Address),
    #[error("query message is {len} bytes, over the {max}-byte limit")]
    TooLarge { len: usize, max: u32 },
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs a contract's `query` entry point on committed state, read-only, with at most `gas_limit` gas.
/// Returns the answer and the gas it used.
pub fn query(
    engine: &ContractEngine,
    state: SharedState,
    contract: &Address,
    msg: &[u8],
    env: Env,
    gas_limit: u64,
) -> Result<(serde_json::Value, u64), QueryError> {
    let max = engine.limits().msg_bytes_max;
    if msg.len() > max as usize {
        return Err(QueryError::TooLarge { len: msg.len(), max });
    }
    let mut overlay = Overlay::new(state);
    let info: ContractInfo = overlay.record(&contract_key(contract))?.ok_or(QueryError::UnknownContract(*contract))?;
    let module = engine.load(&info.code_hash, &overlay)?;
    let req = CallRequest { entry: abi::ENTRY_QUERY, contract: *contract, env, info: None, msg, gas_limit };
    let outcome = run_query(engine, &module, &mut overlay, &req);
    Ok((outcome.result?, outcome.gas_used))
}
