//! Admission of submitted txs into the mempool: size, decoding, chain, signature, nonce window, funds.

use crate::exec::{check_admission, check_stateless, is_deployer, Overlay, TxRejection};
use crate::mempool::MempoolRejection;
use crate::node::NodeState;
use crate::storage::StoreError;
use consort_sdk::encoding::{decode, DecodeError};
use consort_sdk::{Action, Hash, SignedTx};

#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error("tx is {len} bytes; the limit is {limit}")]
    TooLarge { len: usize, limit: usize },
    #[error("tx bytes do not decode: {0}")]
    Malformed(DecodeError),
    #[error(transparent)]
    Rule(#[from] TxRejection),
    #[error(transparent)]
    Mempool(#[from] MempoolRejection),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AdmissionError {
    pub fn code(&self) -> &'static str {
        match self {
            AdmissionError::TooLarge { .. } => "tx_too_large",
            AdmissionError::Malformed(_) => "malformed_tx",
            AdmissionError::Rule(r) => r.code(),
            AdmissionError::Mempool(m) => m.code(),
            AdmissionError::Store(_) => "internal",
        }
    }
}

/// Checks `bytes` as a signed tx and, if it passes every rule, adds it to the mempool.
pub fn admit(state: &NodeState, bytes: &[u8]) -> Result<Hash, AdmissionError> {
    let limit = state.config.mempool.tx_bytes_max;
    if bytes.len() > limit {
        return Err(AdmissionError::TooLarge { len: bytes.len(), limit });
    }
    let tx: SignedTx = decode(bytes, limit).map_err(AdmissionError::Malformed)?;
    check_stateless(&tx, &state.chain_id, &state.contracts.limits())?;
    let hash = tx.hash();
    let sender = tx.sender();
    // Hold the pool while reading the account so a concurrent commit-and-prune cannot slip between.
    let mut pool = state.mempool.lock().expect("mempool lock poisoned");
    let account = state.account(&sender)?;
    check_admission(&tx, account, pool.pending_spend(&sender), state.config.mempool.nonce_window)?;
    if matches!(tx.tx.action, Action::StoreCode { .. }) && !is_deployer(&Overlay::new(state.shared_state()), &sender)? {
        return Err(TxRejection::NotDeployer(sender.to_string()).into());
    }
    pool.insert(tx, hash)?;
    state.metrics.mempool_txs.set(pool.len() as i64);
    drop(pool);
    state.metrics.txs_admitted.inc();
    // A full inbox already holds a wake-up; the host reads the mempool itself.
    let _ = state.host_events.try_send(crate::host::HostEvent::TxAdded);
    Ok(hash)
}
