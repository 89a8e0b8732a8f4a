//! The rules a tx must pass: checked when it enters the mempool and again when it executes.

use super::Account;
use consort_sdk::{Action, SignedTx, CHAIN_ID_BYTES_MAX};

/// Fixed gas cost of a native transfer.
pub const TRANSFER_GAS: u64 = 1_000;
/// Most gas a single tx may ask for.
pub const GAS_LIMIT_MAX: u64 = 100_000_000;

/// Why a tx was refused. `code()` is the stable machine-readable name used in the API and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxRejection {
    #[error("tx is for chain {got:?} but this node runs chain {expected:?}")]
    WrongChainId { expected: String, got: String },
    #[error("signature does not verify for the signer's public key")]
    BadSignature,
    #[error("nonce {got} was already used; the account's next nonce is {expected}")]
    NonceTooLow { expected: u64, got: u64 },
    #[error(
        "nonce {got} is too far ahead: the account's next nonce is {expected} and at most {window} may be pending"
    )]
    NonceTooHigh { expected: u64, got: u64, window: u64 },
    #[error("nonce {got} does not match the account's next nonce {expected}")]
    NonceMismatch { expected: u64, got: u64 },
    #[error("sender {0} has no account on this chain; fund it first")]
    UnknownAccount(String),
    #[error("sender balance {balance} (less {pending} pending) cannot cover {amount}")]
    InsufficientFunds { balance: u128, pending: u128, amount: u128 },
    #[error("transfer amount must be greater than zero")]
    ZeroAmount,
    #[error("gas limit {got} is below the {needed} this action costs")]
    GasLimitTooLow { needed: u64, got: u64 },
    #[error("gas limit {got} is above the maximum {max}")]
    GasLimitTooHigh { max: u64, got: u64 },
    #[error("recipient balance would overflow")]
    BalanceOverflow,
}

impl TxRejection {
    pub fn code(&self) -> &'static str {
        match self {
            TxRejection::WrongChainId { .. } => "wrong_chain_id",
            TxRejection::BadSignature => "bad_signature",
            TxRejection::NonceTooLow { .. } => "nonce_too_low",
            TxRejection::NonceTooHigh { .. } => "nonce_too_high",
            TxRejection::NonceMismatch { .. } => "nonce_mismatch",
            TxRejection::UnknownAccount(_) => "unknown_account",
            TxRejection::InsufficientFunds { .. } => "insufficient_funds",
            TxRejection::ZeroAmount => "zero_amount",
            TxRejection::GasLimitTooLow { .. } => "gas_limit_too_low",
            TxRejection::GasLimitTooHigh { .. } => "gas_limit_too_high",
            TxRejection::BalanceOverflow => "balance_overflow",
        }
    }
}

pub fn gas_cost(action: &Action) -> u64 {
    match action {
        Action::Transfer { .. } => TRANSFER_GAS,
    }
}

/// Is the tx really from its signer, for this chain? Txs that fail this must have no effect at all.
pub fn check_authorised(tx: &SignedTx, chain_id: &str) -> Result<(), TxRejection> {
    if tx.tx.chain_id != chain_id {
        let got = tx.tx.chain_id.chars().take(CHAIN_ID_BYTES_MAX).collect();
        return Err(TxRejection::WrongChainId { expected: chain_id.to_owned(), got });
    }
    tx.verify_signature().map_err(|_| TxRejection::BadSignature)
}

/// Are the gas limit and the action's parameters acceptable?
pub fn check_well_formed(tx: &SignedTx) -> Result<(), TxRejection> {
    if tx.tx.gas_limit > GAS_LIMIT_MAX {
        return Err(TxRejection::GasLimitTooHigh { max: GAS_LIMIT_MAX, got: tx.tx.gas_limit });
    }
    let needed = gas_cost(&tx.tx.action);
    if tx.tx.gas_limit < needed {
        return Err(TxRejection::GasLimitTooLow { needed, got: tx.tx.gas_limit });
    }
    match tx.tx.action {
        Action::Transfer { amount: 0, .. } => Err(TxRejection::ZeroAmount),
        Action::Transfer { .. } => Ok(()),
    }
}

/// Checks that need no state, the cheap ones before the signature.
pub fn check_stateless(tx: &SignedTx, chain_id: &str) -> Result<(), TxRejection> {
    check_well_formed(tx)?;
    check_authorised(tx, chain_id)
}

/// Checks against the sender's committed account before a tx enters the mempool. `pending_spend` is what
/// the sender's txs already in the pool may spend; the nonce may run ahead by at most `nonce_window`.
pub fn check_admission(
    tx: &SignedTx,
    account: Option<Account>,
    pending_spend: u128,
    nonce_window: u64,
) -> Result<(), TxRejection> {
    let Some(account) = account else {
        return Err(TxRejection::UnknownAccount(tx.sender().to_string()));
    };
    if tx.tx.nonce < account.nonce {
        return Err(TxRejection::NonceTooLow { expected: account.nonce, got: tx.tx.nonce });
    }
    if tx.tx.nonce - account.nonce >= nonce_window {
        return Err(TxRejection::NonceTooHigh { expected: account.nonce, got: tx.tx.nonce, window: nonce_window });
    }
    let Action::Transfer { amount, .. } = tx.tx.action;
    let covered = pending_spend.checked_add(amount).is_some_and(|total| total <= account.balance);
    if !covered {
        return Err(TxRejection::InsufficientFunds { balance: account.balance, pending: pending_spend, amount });
    }
    Ok(())
}
