//! Committed state with the native accounts kept in memory (`[storage] account_cache_max`). Admission reads the sender's account for every
//! tx and execution reads it again, plus the recipient's: at saturation those RocksDB reads were a sixth of
//! a validator's CPU. The cache is exact, not a guess: the commit path hands it every block's writes once
//! they are stored ([`CachedState::apply`]), and a read that raced with a commit does not fill it.

use super::account::{account_key, is_account_key, Account};
use super::overlay::{decode_record, StateReader};
use crate::fast_map::FastMap;
use crate::storage::{StateEntry, Store, StoreError};
use consort_sdk::Address;
use std::sync::RwLock;

pub struct CachedState {
    store: Store,
    accounts: RwLock<Accounts>,
}

struct Accounts {
    /// Accounts (present or absent) kept at most; when full the cache starts over. 0: no cache.
    entries_max: usize,
    entries: FastMap<Vec<u8>, Option<Vec<u8>>>,
    /// Bumped by every [`CachedState::apply`]. A read that missed notes it before reading the disk and
    /// caches what it read only if no block was applied meanwhile: else it might cache the value from
    /// before that block.
    generation: u64,
}

impl Accounts {
    fn insert(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        if self.entries_max == 0 {
            return;
        }
        if self.entries.len() >= self.entries_max && !self.entries.contains_key(&key) {
            self.entries.clear();
        }
        self.entries.insert(key, value);
    }
}

impl CachedState {
    /// The store with up to `entries_max` accounts cached (0: reads go straight to the store).
    pub fn new(store: Store, entries_max: usize) -> CachedState {
        let accounts = Accounts { entries_max, entries: FastMap::default(), generation: 0 };
        CachedState { store, accounts: RwLock::new(accounts) }
    }

    /// Brings the cache up to date with a committed block's state writes; call once they are stored.
    pub fn apply(&self, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
        let mut accounts = self.accounts.write().expect("account cache lock poisoned");
        accounts.generation += 1;
        for (key, value) in writes.iter().filter(|(k, _)| is_account_key(k)) {
            accounts.insert(key.clone(), value.clone());
        }
    }

    /// A committed account, from the cache when it holds it.
    pub fn account(&self, address: &Address) -> Result<Option<Account>, StoreError> {
        let key = account_key(address);
        decode_record(&key, self.get(&key)?)
    }

    #[cfg(test)]
    fn cached(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.accounts.read().expect("account cache lock poisoned").entries.get(key).cloned()
    }

    /// The cached value, or on a miss the generation to hand to [`CachedState::fill`].
    fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, u64> {
        let accounts = self.accounts.read().expect("account cache lock poisoned");
        accounts.entries.get(key).cloned().ok_or(accounts.generation)
    }

    /// Caches `value`, read from disk after a miss at `generation`, unless a block was applied since.
    fn fill(&self, key: &[u8], generation: u64, value: &Option<Vec<u8>>) {
        let mut accounts = self.accounts.write().expect("account cache lock poisoned");
        if accounts.generation == generation {
            accounts.insert(key.to_vec(), value.clone());
        }
    }
}

impl StateReader for CachedState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if !is_account_key(key) {
            return self.store.state_get(key);
        }
        let generation = match self.lookup(key) {
            Ok(value) => return Ok(value),
            Err(generation) => generation,
        };
        let value = self.store.state_get(key)?;
        self.fill(key, generation, &value);
        Ok(value)
    }

    fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<StateEntry>, StoreError> {
        self.store.state_next(prefix, after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::account_key;
    use crate::storage::ChainHead;
    use consort_sdk::{Address, Hash};

    fn store_with(writes: &[(Vec<u8>, Vec<u8>)]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let head = ChainHead { height: 0, block_hash: Hash::ZERO, block_time_ms: 0, app_hash: Hash::ZERO };
        store.import_genesis_state(writes.iter().cloned()).unwrap();
        store.finish_genesis(Hash::ZERO, &head).unwrap();
        (dir, store)
    }

    #[test]
    fn reads_fill_the_cache_and_applied_writes_replace_them() {
        let alice = account_key(&Address([1; 20]));
        let bob = account_key(&Address([2; 20]));
        let (_dir, store) = store_with(&[(alice.clone(), b"a0".to_vec()), (b"other".to_vec(), b"x".to_vec())]);
        let state = CachedState::new(store, 100);
        assert_eq!(state.get(&alice).unwrap(), Some(b"a0".to_vec()));
        assert_eq!(state.get(&bob).unwrap(), None);
        assert_eq!(state.cached(&alice), Some(Some(b"a0".to_vec())));
        assert_eq!(state.cached(&bob), Some(None), "an absent account is cached as absent");
        assert_eq!(state.get(b"other").unwrap(), Some(b"x".to_vec()));
        assert_eq!(state.cached(b"other"), None, "only accounts are cached");
        state.apply(&[(alice.clone(), None), (bob.clone(), Some(b"b1".to_vec()))]);
        assert_eq!(state.get(&alice).unwrap(), None);
        assert_eq!(state.get(&bob).unwrap(), Some(b"b1".to_vec()));
    }

    #[test]
    fn a_read_that_raced_with_a_commit_is_not_cached() {
        let alice = account_key(&Address([1; 20]));
        let (_dir, store) = store_with(&[(alice.clone(), b"old".to_vec())]);
        let state = CachedState::new(store, 100);
        // A reader misses and reads the disk; a block is applied before it fills the cache.
        let generation = state.lookup(&alice).unwrap_err();
        let read = state.store.state_get(&alice).unwrap();
        state.apply(&[(alice.clone(), Some(b"new".to_vec()))]);
        state.fill(&alice, generation, &read);
        assert_eq!(state.get(&alice).unwrap(), Some(b"new".to_vec()));
        let (_dir2, store2) = store_with(&[(alice.clone(), b"old".to_vec())]);
        let state = CachedState::new(store2, 100);
        let generation = state.lookup(&alice).unwrap_err();
        state.apply(&[]);
        state.fill(&alice, generation, &Some(b"old".to_vec()));
        assert_eq!(state.cached(&alice), None);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let (_dir, store) = store_with(&[]);
        let state = CachedState::new(store, 100);
        for i in 0..=100u32 {
            let mut a = [0u8; 20];
            a[..4].copy_from_slice(&i.to_be_bytes());
            state.apply(&[(account_key(&Address(a)), None)]);
        }
        assert_eq!(state.accounts.read().unwrap().entries.len(), 1);
    }

    #[test]
    fn a_cache_of_size_zero_keeps_nothing() {
        let alice = account_key(&Address([1; 20]));
        let (_dir, store) = store_with(&[(alice.clone(), b"a0".to_vec())]);
        let state = CachedState::new(store, 0);
        assert_eq!(state.get(&alice).unwrap(), Some(b"a0".to_vec()));
        state.apply(&[(alice.clone(), None)]);
        assert_eq!(state.cached(&alice), None);
    }
}
