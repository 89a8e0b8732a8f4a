//! Admission of submitted and gossiped txs into the mempool: size, decoding, chain, signature, nonce window,
//! funds.

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
    admit_many(state, &[bytes]).pop().expect("one result per tx")
}

/// `admit` for many txs, one result each, in order. Their signatures are verified together, on all cores.
pub fn admit_many(state: &NodeState, txs: &[&[u8]]) -> Vec<Result<Hash, AdmissionError>> {
    let limits = state.contracts.limits();
    let mut results: Vec<Result<(SignedTx, Hash), AdmissionError>> =
        txs.iter().map(|bytes| decode_checked(state, bytes, &limits)).collect();
    // A tx the pool would refuse anyway costs no signature check: under load, resubmissions into a full
    // pool would otherwise take the CPU from the txs it can hold.
    {
        let pool = state.mempool.lock().expect("mempool lock poisoned");
        for result in results.iter_mut() {
            if let Some(refusal) = result.as_ref().ok().and_then(|(_, hash)| pool.would_refuse(hash)) {
                *result = Err(refusal.into());
            }
        }
    }
    let (decoded, hashes): (Vec<&SignedTx>, Vec<Hash>) =
        results.iter().filter_map(|r| r.as_ref().ok()).map(|(tx, hash)| (tx, *hash)).unzip();
    let mut signatures_ok = state.verifier.verify(&decoded, &hashes).into_iter();
    for result in results.iter_mut().filter(|r| r.is_ok()) {
        if signatures_ok.next() != Some(true) {
            *result = Err(TxRejection::BadSignature.into());
        }
    }
    let results: Vec<Result<Hash, AdmissionError>> = results
        .into_iter()
        .zip(txs)
        .map(|(r, bytes)| r.and_then(|(tx, hash)| admit_verified(state, tx, hash, bytes.len())))
        .collect();
    let admitted = results.iter().filter(|r| r.is_ok()).count();
    if admitted > 0 {
        state.metrics.txs_admitted.inc_by(admitted as u64);
        state.metrics.mempool_txs.set(state.mempool.lock().expect("mempool lock poisoned").len() as i64);
        // One wake-up per batch; a full inbox already holds one, and the host reads the mempool itself.
        let _ = state.host_events.try_send(crate::host::HostEvent::TxAdded);
    }
    results
}

fn decode_checked(
    state: &NodeState,
    bytes: &[u8],
    limits: &crate::contracts::ContractLimits,
) -> Result<(SignedTx, Hash), AdmissionError> {
    let limit = state.config.mempool.tx_bytes_max;
    if bytes.len() > limit {
        return Err(AdmissionError::TooLarge { len: bytes.len(), limit });
    }
    let tx: SignedTx = decode(bytes, limit).map_err(AdmissionError::Malformed)?;
    check_stateless(&tx, &state.chain_id, limits)?;
    // The bytes are the tx's canonical encoding (borsh has one per value; the `tx` fuzz target checks that
    // they re-encode to themselves), so their hash is `tx.hash()` without encoding the tx again.
    Ok((tx, Hash::digest(bytes)))
}

/// The stateful checks and the mempool, for a tx whose signature verified. `admit_many` counts the
/// admitted txs and wakes the host once per batch.
fn admit_verified(state: &NodeState, tx: SignedTx, hash: Hash, bytes: usize) -> Result<Hash, AdmissionError> {
    let sender = tx.sender();
    // Hold the pool while reading the account so a concurrent commit-and-prune cannot slip between.
    let mut pool = state.mempool.lock().expect("mempool lock poisoned");
    let account = state.account(&sender)?;
    check_admission(&tx, account, pool.pending_spend(&sender), state.config.mempool.nonce_window)?;
    if matches!(tx.tx.action, Action::StoreCode { .. }) && !is_deployer(&Overlay::new(state.shared_state()), &sender)? {
        return Err(TxRejection::NotDeployer(sender.to_string()).into());
    }
    pool.insert(tx, sender, hash, bytes)?;
    Ok(hash)
}
