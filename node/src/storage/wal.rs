//! The consensus write-ahead log (column `wal`): the inputs of the height in progress, and the last step
//! this validator signed. The last-sign state is written synced before a signature exists; a journaled
//! input is synced or left to the next synced write (see `wal_append`).

use super::store::{Store, StoreError};
use super::Column;
use super::Durability;
use borsh::{BorshDeserialize, BorshSerialize};
use consort_sdk::encoding::{decode, encode};
use consort_sdk::Hash;
use rocksdb::{Direction, IteratorMode, WriteBatch};

/// Largest WAL record decoded (a journaled block at the configured maximum plus headroom).
const WAL_RECORD_BYTES_MAX: usize = 64 * 1024 * 1024;
const LAST_SIGN_KEY: &[u8] = b"last_sign";
const ENTRY_PREFIX: u8 = b'e';

/// The last (height, round, step) this validator signed, and what: CometBFT's "last sign state". A node
/// never signs anything for an earlier step, nor something different for the same step.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LastSign {
    pub height: u64,
    pub round: u32,
    /// 0 proposal, 1 prevote, 2 precommit
    pub step: u8,
    pub value: Option<Hash>,
}

/// The height of a journal entry's key; `None` for any other key of the column.
fn entry_height(key: &[u8]) -> Option<u64> {
    let key: &[u8; 17] = key.try_into().ok()?;
    (key[0] == ENTRY_PREFIX).then(|| u64::from_be_bytes(key[1..9].try_into().expect("8 bytes")))
}

fn entry_key(height: u64, seq: u64) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = ENTRY_PREFIX;
    k[1..9].copy_from_slice(&height.to_be_bytes());
    k[9..].copy_from_slice(&seq.to_be_bytes());
    k
}

impl Store {
    pub fn last_sign(&self) -> Result<Option<LastSign>, StoreError> {
        match self.db().get_cf(self.cf(Column::Wal), LAST_SIGN_KEY)? {
            None => Ok(None),
            Some(b) => decode(&b, 1024).map(Some).map_err(|e| StoreError::Corrupt(format!("last sign state: {e}"))),
        }
    }

    pub fn set_last_sign(&self, last: &LastSign) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(Column::Wal), LAST_SIGN_KEY, encode(last));
        self.write_synced(batch)
    }

    /// Appends one journaled record for `height`. `Deferred` is enough for a record that nothing signed
    /// depends on yet: RocksDB's log is sequential, so the next synced write (the last-sign state before any
    /// signature, a synced record, a block's commit) makes it durable with everything before it. One disk
    /// sync per received vote cost more than the vote.
    pub fn wal_append<T: BorshSerialize>(
        &self,
        height: u64,
        seq: u64,
        record: &T,
        durability: Durability,
    ) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(Column::Wal), entry_key(height, seq), encode(record));
        self.write(batch, durability)
    }

    /// The highest height with journaled records: the height a previous run had in progress, if any.
    pub fn wal_last_height(&self) -> Result<Option<u64>, StoreError> {
        // Entry keys start with `e`; the last-sign key sorts after `f`.
        let above_entries = [ENTRY_PREFIX + 1];
        let mut iter =
            self.db().iterator_cf(self.cf(Column::Wal), IteratorMode::From(&above_entries, Direction::Reverse));
        let Some(item) = iter.next() else { return Ok(None) };
        let (k, _) = item?;
        Ok(entry_height(&k))
    }

    /// The journaled records of `height`, in order.
    pub fn wal_records<T: BorshDeserialize>(&self, height: u64) -> Result<Vec<T>, StoreError> {
        let start = entry_key(height, 0);
        let iter = self.db().iterator_cf(self.cf(Column::Wal), IteratorMode::From(&start, Direction::Forward));
        let mut out = Vec::new();
        for item in iter {
            let (k, v) = item?;
            if entry_height(&k) != Some(height) {
                break;
            }
            out.push(decode(&v, WAL_RECORD_BYTES_MAX).map_err(|e| StoreError::Corrupt(format!("WAL record: {e}")))?);
        }
        Ok(out)
    }

    /// Adds "forget the journal of `height` and below" to a block's commit batch.
    pub(super) fn wal_clear_through(&self, batch: &mut WriteBatch, height: u64) {
        batch.delete_range_cf(self.cf(Column::Wal), entry_key(0, 0), entry_key(height + 1, 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_journaled_height_is_found_beside_the_last_sign_state_and_forgotten_once_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.wal_last_height().unwrap(), None);
        store.set_last_sign(&LastSign { height: 9, round: 0, step: 2, value: None }).unwrap();
        assert_eq!(store.wal_last_height().unwrap(), None, "the last-sign state is not a journal record");
        for (height, seq) in [(3, 0), (5, 0), (5, 1)] {
            store.wal_append(height, seq, &7u32, Durability::Deferred).unwrap();
        }
        assert_eq!(store.wal_last_height().unwrap(), Some(5));
        assert_eq!(store.wal_records::<u32>(5).unwrap(), vec![7, 7]);
        let mut batch = WriteBatch::default();
        store.wal_clear_through(&mut batch, 5);
        store.write_synced(batch).unwrap();
        assert_eq!(store.wal_last_height().unwrap(), None);
    }
}
