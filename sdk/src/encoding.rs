//! Canonical binary encoding: borsh, decoded only with an explicit byte limit and no trailing bytes.

use borsh::{BorshDeserialize, BorshSerialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("input is {len} bytes, over the limit of {limit} bytes")]
    TooLarge { len: usize, limit: usize },
    #[error("malformed encoding: {0}")]
    Malformed(String),
    #[error("{0} trailing bytes after a complete value")]
    TrailingBytes(usize),
}

pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    // Not `borsh::to_vec`: it reserves 1 KiB for every value, so a million encoded 24-byte accounts (a
    // genesis import) held a gigabyte. A growing Vec wastes at most half.
    let mut out = Vec::new();
    value.serialize(&mut out).expect("borsh encoding into a Vec cannot fail");
    out
}

/// Decodes exactly one `T` from `bytes`, refusing inputs over `limit` bytes or with bytes left over.
/// The limit is checked before any parsing, so a hostile length prefix cannot make us allocate past it.
pub fn decode<T: BorshDeserialize>(bytes: &[u8], limit: usize) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge { len: bytes.len(), limit });
    }
    let mut rest = bytes;
    let value = T::deserialize(&mut rest).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    Ok(value)
}
