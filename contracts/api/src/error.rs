/// Errors the library itself raises. A contract's own error type usually wraps it (`#[from] StdError`);
/// any `Display` error works, its message is what the receipt shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StdError {
    #[error("nothing stored under {0:?}")]
    NotFound(String),
    #[error("cannot serialize {what}: {message}")]
    Serialize { what: String, message: String },
    #[error("cannot parse {what}: {message}")]
    Parse { what: String, message: String },
    #[error("the contract's balance {balance} cannot cover sending {amount}")]
    InsufficientFunds { balance: u128, amount: u128 },
    #[error("{0:?} is not a valid address")]
    InvalidAddress(String),
    #[error("{0}")]
    Generic(String),
}

impl StdError {
    pub fn msg(message: impl Into<String>) -> StdError {
        StdError::Generic(message.into())
    }
}
