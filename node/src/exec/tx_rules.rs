//! The rules a tx must pass: checked when it enters the mempool and again when it executes.

use super::Account;
use crate::contracts::gas::{CALL_BASE_GAS, CODE_BYTE_GAS, GOVERN_GAS, MSG_BYTE_GAS, TX_BASE_GAS, UPDATE_ADMIN_GAS};
use crate::contracts::{CallError, CodeError, ContractLimits};
use consort_sdk::{Action, Address, Hash, SignedTx, CHAIN_ID_BYTES_MAX};

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
    #[error("account {0} does not hold the deploy role; a member organisation must grant it")]
    NotDeployer(String),
    #[error(transparent)]
    InvalidCode(#[from] CodeError),
    #[error("no code with hash {0} is stored; deploy it first")]
    UnknownCode(Hash),
    #[error("no contract at {0}")]
    UnknownContract(Address),
    #[error("only the admin of contract {0} may do this")]
    NotAdmin(Address),
    #[error("{what} is {len} bytes, over the {max}-byte limit")]
    TooLarge { what: &'static str, len: usize, max: u32 },
    #[error("message is not JSON: {0}")]
    MsgNotJson(String),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("{0} is not an admin key of any member organisation")]
    NotMember(String),
    #[error("proposal refused: {0}")]
    BadProposal(String),
    #[error("no proposal {0}")]
    UnknownProposal(u64),
    #[error("proposal {0} is no longer open")]
    ProposalClosed(u64),
    #[error("proposal {id} expired at height {deadline}")]
    ProposalExpired { id: u64, deadline: u64 },
    #[error("member {member} already approved proposal {id}")]
    AlreadyApproved { id: u64, member: String },
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
            TxRejection::NotDeployer(_) => "not_deployer",
            TxRejection::InvalidCode(_) => "invalid_code",
            TxRejection::UnknownCode(_) => "unknown_code",
            TxRejection::UnknownContract(_) => "unknown_contract",
            TxRejection::NotAdmin(_) => "not_admin",
            TxRejection::TooLarge { .. } => "too_large",
            TxRejection::MsgNotJson(_) => "msg_not_json",
            TxRejection::Call(e) => e.code(),
            TxRejection::NotMember(_) => "not_member",
            TxRejection::BadProposal(_) => "bad_proposal",
            TxRejection::UnknownProposal(_) => "unknown_proposal",
            TxRejection::ProposalClosed(_) => "proposal_closed",
            TxRejection::ProposalExpired { .. } => "proposal_expired",
            TxRejection::AlreadyApproved { .. } => "already_approved",
        }
    }
}

/// The gas an action costs before any contract code runs: what its gas limit must at least cover.
pub fn gas_cost(action: &Action) -> u64 {
    let call = |msg: &str| TX_BASE_GAS + CALL_BASE_GAS + MSG_BYTE_GAS * msg.len() as u64;
    match action {
        Action::Transfer { .. } => TX_BASE_GAS,
        Action::StoreCode { code } => TX_BASE_GAS.saturating_add(CODE_BYTE_GAS.saturating_mul(code.len() as u64)),
        Action::Instantiate { msg, .. } | Action::Execute { msg, .. } | Action::Migrate { msg, .. } => call(msg),
        Action::UpdateAdmin { .. } => TX_BASE_GAS + UPDATE_ADMIN_GAS,
        Action::Govern(_) => TX_BASE_GAS + GOVERN_GAS,
    }
}

/// Native funds the action moves out of the signer's balance.
pub fn spend(action: &Action) -> u128 {
    match action {
        Action::Transfer { amount, .. } => *amount,
        Action::Instantiate { funds, .. } | Action::Execute { funds, .. } => *funds,
        Action::StoreCode { .. } | Action::Migrate { .. } | Action::UpdateAdmin { .. } | Action::Govern(_) => 0,
    }
}

/// Is the tx really from its signer, for this chain? `signature_ok` is the `TxVerifier`'s verdict on it.
/// Txs that fail this must have no effect at all.
pub fn check_authorised(tx: &SignedTx, chain_id: &str, signature_ok: bool) -> Result<(), TxRejection> {
    check_chain(tx, chain_id)?;
    match signature_ok {
        true => Ok(()),
        false => Err(TxRejection::BadSignature),
    }
}

pub fn check_chain(tx: &SignedTx, chain_id: &str) -> Result<(), TxRejection> {
    if tx.tx.chain_id != chain_id {
        let got = tx.tx.chain_id.chars().take(CHAIN_ID_BYTES_MAX).collect();
        return Err(TxRejection::WrongChainId { expected: chain_id.to_owned(), got });
    }
    Ok(())
}

fn check_size(what: &'static str, len: usize, max: u32) -> Result<(), TxRejection> {
    match len > max as usize {
        true => Err(TxRejection::TooLarge { what, len, max }),
        false => Ok(()),
    }
}

fn check_msg(msg: &str, limits: &ContractLimits) -> Result<(), TxRejection> {
    check_size("message", msg.len(), limits.msg_bytes_max)?;
    serde_json::from_str::<serde::de::IgnoredAny>(msg).map_err(|e| TxRejection::MsgNotJson(e.to_string()))?;
    Ok(())
}

/// Are the gas limit and the action's parameters acceptable?
pub fn check_well_formed(tx: &SignedTx, limits: &ContractLimits) -> Result<(), TxRejection> {
    if tx.tx.gas_limit > limits.gas_per_tx_max {
        return Err(TxRejection::GasLimitTooHigh { max: limits.gas_per_tx_max, got: tx.tx.gas_limit });
    }
    let needed = gas_cost(&tx.tx.action);
    if tx.tx.gas_limit < needed {
        return Err(TxRejection::GasLimitTooLow { needed, got: tx.tx.gas_limit });
    }
    match &tx.tx.action {
        Action::Transfer { amount: 0, .. } => Err(TxRejection::ZeroAmount),
        Action::Transfer { .. } | Action::UpdateAdmin { .. } | Action::Govern(_) => Ok(()),
        Action::StoreCode { code } => check_size("code", code.len(), limits.code_bytes_max),
        Action::Instantiate { label, msg, .. } => {
            check_size("label", label.len(), limits.label_bytes_max)?;
            check_msg(msg, limits)
        }
        Action::Execute { msg, .. } | Action::Migrate { msg, .. } => check_msg(msg, limits),
    }
}

/// Checks that need no state, the cheap ones before the signature.
/// The checks that need neither state nor the signature: the signature is verified afterwards, for many txs
/// at once (see `TxVerifier`).
pub fn check_stateless(tx: &SignedTx, chain_id: &str, limits: &ContractLimits) -> Result<(), TxRejection> {
    check_well_formed(tx, limits)?;
    check_chain(tx, chain_id)
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
    let amount = spend(&tx.tx.action);
    let covered = pending_spend.checked_add(amount).is_some_and(|total| total <= account.balance);
    if !covered {
        return Err(TxRejection::InsufficientFunds { balance: account.balance, pending: pending_spend, amount });
    }
    Ok(())
}
