use super::{account_key, Account};
use crate::storage::{Store, StoreError};
use consort_sdk::encoding::{decode, encode};
use consort_sdk::Address;
use std::collections::BTreeMap;

/// Largest state value decoded (an account is 24 bytes; contract values come later with their own cap).
const STATE_VALUE_BYTES_MAX: usize = 1024 * 1024;

/// Sorted state writes; `None` deletes the key.
pub type StateWrites = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Read access to committed state.
pub trait StateReader {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
}

impl StateReader for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.state_get(key)
    }
}

impl StateReader for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(BTreeMap::get(self, key).cloned())
    }
}

/// Uncommitted writes layered over committed state. A BTreeMap keeps the writes in key order, which the
/// app hash depends on.
pub struct Overlay<'a, R: StateReader> {
    base: &'a R,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a, R: StateReader> Overlay<'a, R> {
    pub fn new(base: &'a R) -> Self {
        Overlay { base, writes: BTreeMap::new() }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }

    pub fn set(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    pub fn account(&self, address: &Address) -> Result<Option<Account>, StoreError> {
        match self.get(&account_key(address))? {
            None => Ok(None),
            Some(bytes) => decode(&bytes, STATE_VALUE_BYTES_MAX)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("account {address}: {e}"))),
        }
    }

    pub fn set_account(&mut self, address: &Address, account: &Account) {
        self.set(account_key(address), encode(account));
    }

    pub fn into_writes(self) -> StateWrites {
        self.writes.into_iter().collect()
    }
}
