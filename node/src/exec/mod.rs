//! Block execution: applies a block's txs to state in order and produces receipts, the state writes and
//! the new app hash. Deterministic: the same state and block give the same result on every node.

mod account;
mod app_hash;
mod block_executor;
mod cached_state;
mod contract_actions;
mod ordered_verdicts;
mod overlay;
mod tx_rules;
mod tx_verifier;

pub use account::{account_key, written_nonce, Account};
pub use app_hash::{app_hash, AppHasher};
pub use block_executor::{execute_block, Executed};
pub use cached_state::CachedState;
pub use contract_actions::is_deployer;
pub use overlay::{Checkpoint, Overlay, SharedState, StateReader, StateWrites};
pub use tx_rules::{
    check_admission, check_authorised, check_stateless, check_well_formed, gas_cost, spend, TxRejection,
};
pub use tx_verifier::{SignatureCounts, TxVerifier};
