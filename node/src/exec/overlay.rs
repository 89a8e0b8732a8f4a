use super::account::is_account_key;
use super::{account_key, Account};
use crate::storage::{StateEntry as Entry, Store, StoreError};
use consort_sdk::encoding::{decode, encode};
use consort_sdk::Address;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::sync::{Arc, Mutex};

/// Largest state value decoded as a native record (accounts, contract records).
const STATE_VALUE_BYTES_MAX: usize = 1024 * 1024;
/// Answers of committed state one overlay keeps, at most (reads and iteration steps, and their bytes).
/// Past either, reads go to the store every time; the first keys read, a contract's record and config
/// that every call of a block reads, are the ones kept. Small, because each of the concurrent queries has
/// an overlay too.
const READ_CACHE_ENTRIES_MAX: usize = 4096;
const READ_CACHE_BYTES_MAX: usize = 1024 * 1024;

/// Sorted state writes; `None` deletes the key.
pub type StateWrites = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// A write as it was before a checkpointed change: the key and what `writes` held for it (if anything).
type Undo = (Vec<u8>, Option<Option<Vec<u8>>>);

/// Decodes the borsh record `value` read under `key`.
pub fn decode_record<T: borsh::BorshDeserialize>(key: &[u8], value: Option<Vec<u8>>) -> Result<Option<T>, StoreError> {
    match value {
        None => Ok(None),
        Some(bytes) => decode(&bytes, STATE_VALUE_BYTES_MAX)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("state record {}: {e}", String::from_utf8_lossy(key)))),
    }
}

/// Read access to committed state.
pub trait StateReader {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The first entry whose key starts with `prefix` and sorts strictly after `after` (from the first
    /// key with the prefix when `after` is `None`).
    fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StoreError>;
}

/// Committed state as execution holds it: shared and owned, so a contract call (whose wasmtime store
/// must own its data) can carry it.
pub type SharedState = Arc<dyn StateReader + Send + Sync>;

impl StateReader for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.state_get(key)
    }

    fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StoreError> {
        self.state_next(prefix, after)
    }
}

impl StateReader for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(BTreeMap::get(self, key).cloned())
    }

    fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StoreError> {
        let start = after.map_or(Included(prefix), Excluded);
        let found = self.range::<[u8], _>((start, Unbounded)).next();
        Ok(found.filter(|(k, _)| k.starts_with(prefix)).map(|(k, v)| (k.clone(), v.clone())))
    }
}

/// A point to roll back to (see [`Overlay::checkpoint`]).
#[must_use]
pub struct Checkpoint(usize);

/// Uncommitted writes layered over committed state. A BTreeMap keeps the writes in key order, which the
/// app hash depends on. While a checkpoint is open every write is journaled so it can be undone: that is
/// how a failed contract call reverts exactly its own writes.
pub struct Overlay {
    base: SharedState,
    /// What `base` answered so far, to reads (present or absent) and to iteration steps: committed state
    /// does not change while an overlay lives (a block executes on the state its predecessor committed),
    /// so the same record read or walked by every tx of a block costs RocksDB once. A mutex, not a cell,
    /// so an overlay stays `Sync`.
    read_cache: Mutex<ReadCache>,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Every write since the oldest open checkpoint, oldest first.
    journal: Vec<Undo>,
    open_checkpoints: usize,
}

/// An iteration step asked of committed state: (prefix, after).
type NextQuery = (Vec<u8>, Option<Vec<u8>>);

/// Answers of committed state to `get` and `next`, within one bound for both.
#[derive(Default)]
struct ReadCache {
    gets: HashMap<Vec<u8>, Option<Vec<u8>>>,
    nexts: HashMap<NextQuery, Option<Entry>>,
    bytes: usize,
}

impl ReadCache {
    /// Whether `bytes` more fit, counting them in if so.
    fn room_for(&mut self, bytes: usize) -> bool {
        let fits =
            self.gets.len() + self.nexts.len() < READ_CACHE_ENTRIES_MAX && self.bytes + bytes <= READ_CACHE_BYTES_MAX;
        if fits {
            self.bytes += bytes;
        }
        fits
    }

    fn get(&mut self, base: &SharedState, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = self.gets.get(key) {
            return Ok(v.clone());
        }
        let value = base.get(key)?;
        if self.room_for(key.len() + value.as_ref().map_or(0, Vec::len)) {
            self.gets.insert(key.to_vec(), value.clone());
        }
        Ok(value)
    }

    fn next(&mut self, base: &SharedState, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StoreError> {
        let query: NextQuery = (prefix.to_vec(), after.map(<[u8]>::to_vec));
        if let Some(found) = self.nexts.get(&query) {
            return Ok(found.clone());
        }
        let found = base.next(prefix, after)?;
        let query_bytes = prefix.len() + after.map_or(0, <[u8]>::len);
        if self.room_for(query_bytes + found.as_ref().map_or(0, |(k, v)| k.len() + v.len())) {
            self.nexts.insert(query, found.clone());
        }
        Ok(found)
    }
}

impl Overlay {
    pub fn new(base: SharedState) -> Self {
        Overlay {
            base,
            read_cache: Mutex::default(),
            writes: BTreeMap::new(),
            journal: Vec::new(),
            open_checkpoints: 0,
        }
    }

    pub fn base(&self) -> &SharedState {
        &self.base
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = self.writes.get(key) {
            return Ok(v.clone());
        }
        // Committed accounts are cached once per node (`CachedState`); keeping them here as well only cost
        // a second lookup and two copies per account a block reads.
        if is_account_key(key) {
            return self.base.get(key);
        }
        self.read_cache().get(&self.base, key)
    }

    fn read_cache(&self) -> std::sync::MutexGuard<'_, ReadCache> {
        self.read_cache.lock().expect("read cache lock poisoned")
    }

    fn write(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let before = self.writes.insert(key.clone(), value);
        if self.open_checkpoints > 0 {
            self.journal.push((key, before));
        }
    }

    pub fn set(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.write(key, Some(value));
    }

    pub fn remove(&mut self, key: Vec<u8>) {
        self.write(key, None);
    }

    /// Ordered iteration over committed state and the writes on top, skipping deleted keys.
    pub fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StoreError> {
        let mut cursor = after.map(<[u8]>::to_vec);
        // Each pass skips one deleted key, and there are only as many of those as writes.
        loop {
            let from_base = self.read_cache().next(&self.base, prefix, cursor.as_deref())?;
            let start = cursor.as_deref().map_or(Included(prefix), Excluded);
            let from_writes =
                self.writes.range::<[u8], _>((start, Unbounded)).next().filter(|(k, _)| k.starts_with(prefix));
            match (from_base, from_writes) {
                (base, Some((key, value))) if base.as_ref().is_none_or(|(b, _)| key <= b) => match value {
                    Some(v) => return Ok(Some((key.clone(), v.clone()))),
                    None => cursor = Some(key.clone()),
                },
                (base, _) => return Ok(base),
            }
        }
    }

    /// Starts recording writes so they can be undone with [`Overlay::rollback`]. Checkpoints nest.
    pub fn checkpoint(&mut self) -> Checkpoint {
        self.open_checkpoints += 1;
        Checkpoint(self.journal.len())
    }

    /// Keeps every write made since `checkpoint` (an enclosing checkpoint may still undo them).
    pub fn commit(&mut self, _checkpoint: Checkpoint) {
        self.close();
    }

    /// Undoes every write made since `checkpoint`.
    pub fn rollback(&mut self, checkpoint: Checkpoint) {
        for (key, before) in self.journal.drain(checkpoint.0..).rev() {
            match before {
                Some(v) => self.writes.insert(key, v),
                None => self.writes.remove(&key),
            };
        }
        self.close();
    }

    fn close(&mut self) {
        self.open_checkpoints -= 1;
        if self.open_checkpoints == 0 {
            self.journal.clear();
        }
    }

    /// Decodes a borsh record stored under `key`.
    pub fn record<T: borsh::BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        decode_record(key, self.get(key)?)
    }

    pub fn account(&self, address: &Address) -> Result<Option<Account>, StoreError> {
        self.record(&account_key(address))
    }

    pub fn set_account(&mut self, address: &Address, account: &Account) {
        self.set(account_key(address), encode(account));
    }

    pub fn into_writes(self) -> StateWrites {
        self.writes.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(entries: &[(&str, &str)]) -> SharedState {
        Arc::new(
            entries.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())).collect::<BTreeMap<_, _>>(),
        )
    }

    fn keys(o: &Overlay, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        while let Some((k, _)) = o.next(prefix.as_bytes(), after.as_deref()).unwrap() {
            out.push(String::from_utf8(k.clone()).unwrap());
            after = Some(k);
        }
        out
    }

    #[test]
    fn iteration_merges_writes_and_skips_deletions_in_order() {
        let mut o = Overlay::new(base(&[("a/1", "x"), ("a/3", "x"), ("a/5", "x"), ("b/1", "x")]));
        o.set(b"a/2".to_vec(), b"y".to_vec());
        o.remove(b"a/3".to_vec());
        o.remove(b"a/5".to_vec());
        o.set(b"a/6".to_vec(), b"y".to_vec());
        assert_eq!(keys(&o, "a/"), ["a/1", "a/2", "a/6"]);
        assert_eq!(keys(&o, "b/"), ["b/1"]);
        assert!(keys(&o, "c/").is_empty());
    }

    #[test]
    fn rollback_restores_exactly_the_state_at_the_checkpoint() {
        let mut o = Overlay::new(base(&[("k", "committed")]));
        o.set(b"k".to_vec(), b"block".to_vec());
        let outer = o.checkpoint();
        o.set(b"k".to_vec(), b"tx".to_vec());
        o.set(b"new".to_vec(), b"tx".to_vec());
        let inner = o.checkpoint();
        o.remove(b"k".to_vec());
        o.rollback(inner);
        assert_eq!(o.get(b"k").unwrap(), Some(b"tx".to_vec()));
        o.rollback(outer);
        assert_eq!(o.get(b"k").unwrap(), Some(b"block".to_vec()));
        assert_eq!(o.get(b"new").unwrap(), None);
        let cp = o.checkpoint();
        o.set(b"kept".to_vec(), b"1".to_vec());
        o.commit(cp);
        assert_eq!(
            o.into_writes(),
            vec![(b"k".to_vec(), Some(b"block".to_vec())), (b"kept".to_vec(), Some(b"1".to_vec()))]
        );
    }

    /// Committed state that counts the reads it serves.
    struct Counting(BTreeMap<Vec<u8>, Vec<u8>>, std::sync::atomic::AtomicUsize);

    impl StateReader for Counting {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            StateReader::get(&self.0, key)
        }
        fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StoreError> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.0.next(prefix, after)
        }
    }

    fn counting(entries: &[(&str, &str)]) -> Arc<Counting> {
        let map = entries.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())).collect();
        Arc::new(Counting(map, Default::default()))
    }

    fn reads(state: &Counting) -> usize {
        state.1.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn a_committed_key_is_read_from_the_store_once_and_writes_still_win() {
        let state = counting(&[("config", "c")]);
        let mut o = Overlay::new(state.clone());
        for _ in 0..3 {
            assert_eq!(o.get(b"config").unwrap(), Some(b"c".to_vec()));
            assert_eq!(o.get(b"absent").unwrap(), None);
        }
        assert_eq!(reads(&state), 2, "one read per key, present or absent");
        let cp = o.checkpoint();
        o.set(b"config".to_vec(), b"new".to_vec());
        assert_eq!(o.get(b"config").unwrap(), Some(b"new".to_vec()));
        o.rollback(cp);
        assert_eq!(o.get(b"config").unwrap(), Some(b"c".to_vec()), "a rolled back write leaves the committed value");
        assert_eq!(reads(&state), 2);
    }

    #[test]
    fn a_walk_over_committed_keys_reads_the_store_once_per_step_and_sees_later_writes() {
        let state = counting(&[("a/1", "x"), ("a/2", "x"), ("b/1", "x")]);
        let mut o = Overlay::new(state.clone());
        assert_eq!(keys(&o, "a/"), ["a/1", "a/2"]);
        let steps = reads(&state);
        assert_eq!(keys(&o, "a/"), ["a/1", "a/2"]);
        assert_eq!(reads(&state), steps, "the second walk is served from the cache");
        o.set(b"a/15".to_vec(), b"y".to_vec());
        o.remove(b"a/2".to_vec());
        assert_eq!(keys(&o, "a/"), ["a/1", "a/15"]);
    }

    #[test]
    fn the_read_cache_stops_growing_at_its_entry_limit() {
        let state = counting(&[]);
        let o = Overlay::new(state.clone());
        for i in 0..READ_CACHE_ENTRIES_MAX {
            o.get(format!("k{i}").as_bytes()).unwrap();
        }
        let over = b"one too many";
        o.get(over).unwrap();
        o.get(over).unwrap();
        assert_eq!(reads(&state), READ_CACHE_ENTRIES_MAX + 2, "the key past the limit is read each time");
        o.get(b"k0").unwrap();
        assert_eq!(reads(&state), READ_CACHE_ENTRIES_MAX + 2, "keys cached before the limit stay cached");
    }
}
