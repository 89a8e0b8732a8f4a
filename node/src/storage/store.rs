use super::keys;
use super::Column;
use borsh::{BorshDeserialize, BorshSerialize};
use consort_sdk::encoding::{decode, encode};
use consort_sdk::{Block, Commit, Hash, Receipt};
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, MemtableFactory, Options, SliceTransform,
    WriteBatch, WriteOptions, DB,
};
use std::path::Path;
use std::sync::Arc;

/// Memtables of all columns together; past this RocksDB flushes them. RocksDB's default is 64 MiB per
/// column (two per column before a stall), several hundred MiB for our seven columns.
pub const MEMTABLES_BYTES_MAX: usize = 64 * 1024 * 1024;
/// One column's memtable before it is flushed.
pub const MEMTABLE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Block cache shared by all columns, index and filter blocks included (so they count against it too).
pub const BLOCK_CACHE_BYTES: usize = 32 * 1024 * 1024;
/// Hash buckets of the receipts column's memtable: about one per receipt a full memtable holds.
const RECEIPT_MEMTABLE_BUCKETS: usize = 131_072;
/// Bytes of a tx hash that pick its memtable bucket (the hash is uniform, so a few are plenty).
const RECEIPT_BUCKET_PREFIX: usize = 8;
/// Bloom filter bits per key: point lookups of absent keys (new accounts, unknown txs) skip the files.
const BLOOM_BITS_PER_KEY: f64 = 10.0;
/// State writes per batch while importing genesis.
const GENESIS_BATCH_WRITES_MAX: usize = 20_000;

/// Largest stored record we agree to decode (a block at the configured maximum plus headroom).
const RECORD_BYTES_MAX: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("database is corrupt: {0}; restore the data directory from a backup or resync the node")]
    Corrupt(String),
}

/// A state key and its value.
pub type StateEntry = (Vec<u8>, Vec<u8>);

/// Where the chain stands: the last committed block.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ChainHead {
    pub height: u64,
    pub block_hash: Hash,
    pub block_time_ms: u64,
    /// App hash after executing block `height` (the genesis state's hash at height 0).
    pub app_hash: Hash,
}

/// Whether a write waits for the disk. Blocks this node decided are `Synced`. Blocks fetched by sync may be
/// `Deferred`: a killed process loses nothing (RocksDB hands each write to the OS at once); a machine crash
/// may lose the unsynced tail, each block whole (one batch), and the node fetches those blocks again. It
/// cannot contradict itself: its votes' sign state and its journal are written synced on their own, and a
/// lost batch takes the clearing of its height's journal with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    Synced,
    Deferred,
}

/// Everything one committed block writes, applied atomically.
pub struct BlockRecord<'a> {
    pub block: &'a Block,
    pub commit: &'a Commit,
    pub receipts: &'a [Receipt],
    /// Sorted state writes; `None` deletes the key.
    pub state_writes: &'a [(Vec<u8>, Option<Vec<u8>>)],
    pub head: ChainHead,
}

/// The node's database. Cloning is cheap and shares the same RocksDB instance.
#[derive(Clone)]
pub struct Store {
    db: Arc<DB>,
}

fn get_decoded<T: BorshDeserialize>(db: &DB, col: Column, key: &[u8]) -> Result<Option<T>, StoreError> {
    let cf = db.cf_handle(col.name()).expect("every column family is opened");
    match db.get_pinned_cf(cf, key)? {
        None => Ok(None),
        Some(bytes) => decode(&bytes, RECORD_BYTES_MAX)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("record in column {}: {e}", col.name()))),
    }
}

impl Store {
    /// Opens (creating if absent) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(DBCompressionType::Lz4);
        opts.set_db_write_buffer_size(MEMTABLES_BYTES_MAX);
        // Required by the receipts column's hash memtable; blocks are written from one thread anyway.
        opts.set_allow_concurrent_memtable_write(false);
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let cfs = Column::ALL.iter().map(|c| {
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            table.set_cache_index_and_filter_blocks(true);
            table.set_bloom_filter(BLOOM_BITS_PER_KEY, false);
            let mut cf_opts = Options::default();
            cf_opts.set_compression_type(DBCompressionType::Lz4);
            cf_opts.set_write_buffer_size(MEMTABLE_BYTES_MAX);
            cf_opts.set_block_based_table_factory(&table);
            if *c == Column::Receipts {
                // Receipts are keyed by random tx hashes and only ever read by key: a hash memtable inserts
                // them without the skip list's search (a tenth of a node's CPU went to that at load).
                cf_opts.set_prefix_extractor(SliceTransform::create_fixed_prefix(RECEIPT_BUCKET_PREFIX));
                cf_opts.set_memtable_factory(MemtableFactory::HashLinkList { bucket_count: RECEIPT_MEMTABLE_BUCKETS });
            }
            ColumnFamilyDescriptor::new(c.name(), cf_opts)
        });
        // RocksDB opens a database only with all of its columns. One written by an earlier version may hold
        // columns this one no longer uses (`txs`, from before receipts located their tx): opened, left alone.
        let retired = DB::list_cf(&opts, path)
            .unwrap_or_default()
            .into_iter()
            .filter(|name| name != "default" && !Column::ALL.iter().any(|c| c.name() == name))
            .map(|name| ColumnFamilyDescriptor::new(name, Options::default()));
        let db = DB::open_cf_descriptors(&opts, path, cfs.chain(retired))?;
        Ok(Store { db: Arc::new(db) })
    }

    pub(super) fn db(&self) -> &DB {
        &self.db
    }

    pub(super) fn cf(&self, col: Column) -> &rocksdb::ColumnFamily {
        self.db.cf_handle(col.name()).expect("every column family is opened")
    }

    pub fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        get_decoded(&self.db, Column::Meta, keys::HEAD)
    }

    pub fn genesis_hash(&self) -> Result<Option<Hash>, StoreError> {
        get_decoded(&self.db, Column::Meta, keys::GENESIS_HASH)
    }

    pub fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(Column::State), key)?)
    }

    /// The first state entry with `prefix` whose key sorts after `after` (or the first with the prefix).
    pub fn state_next(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<StateEntry>, StoreError> {
        // The smallest key strictly greater than `after` is `after ‖ 0x00`.
        let start = match after {
            Some(a) => [a, &[0]].concat(),
            None => prefix.to_vec(),
        };
        let mode = rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward);
        match self.db.iterator_cf(self.cf(Column::State), mode).next() {
            Some(Ok((k, v))) if k.starts_with(prefix) => Ok(Some((k.into_vec(), v.into_vec()))),
            Some(Err(e)) => Err(e.into()),
            _ => Ok(None),
        }
    }

    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        get_decoded(&self.db, Column::Blocks, &keys::height(height))
    }

    pub fn commit(&self, height: u64) -> Result<Option<Commit>, StoreError> {
        get_decoded(&self.db, Column::Commits, &keys::height(height))
    }

    pub fn app_hash_at(&self, height: u64) -> Result<Option<Hash>, StoreError> {
        get_decoded(&self.db, Column::Meta, &keys::app_hash_at(height))
    }

    /// A committed tx's receipt, which also says where the tx sits (height, index in block).
    pub fn receipt(&self, hash: &Hash) -> Result<Option<Receipt>, StoreError> {
        get_decoded(&self.db, Column::Receipts, hash.as_bytes())
    }

    pub(super) fn write_synced(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.write(batch, Durability::Synced)
    }

    pub(super) fn write(&self, batch: WriteBatch, durability: Durability) -> Result<(), StoreError> {
        let mut opts = WriteOptions::default();
        opts.set_sync(durability == Durability::Synced);
        Ok(self.db.write_opt(batch, &opts)?)
    }

    /// Makes every write so far durable (after a run of `Durability::Deferred` commits).
    pub fn sync(&self) -> Result<(), StoreError> {
        Ok(self.db.flush_wal(true)?)
    }

    fn put_state_writes(&self, batch: &mut WriteBatch, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
        let cf = self.cf(Column::State);
        for (k, v) in writes {
            match v {
                Some(v) => batch.put_cf(cf, k, v),
                None => batch.delete_cf(cf, k),
            }
        }
    }

    /// Writes the genesis state, in batches of at most `GENESIS_BATCH_WRITES_MAX` (one batch of a million
    /// accounts would sit in memory twice, as the batch and as the memtable), and syncs it. The genesis
    /// record comes after, from [`Store::finish_genesis`]: a crash during the import leaves a database
    /// without one, which the next start imports again from the beginning.
    pub fn import_genesis_state(&self, writes: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) -> Result<(), StoreError> {
        let cf = self.cf(Column::State);
        let mut batch = WriteBatch::default();
        for (key, value) in writes {
            batch.put_cf(cf, key, value);
            if batch.len() >= GENESIS_BATCH_WRITES_MAX {
                self.write(std::mem::take(&mut batch), Durability::Deferred)?;
            }
        }
        self.write(batch, Durability::Deferred)?;
        self.sync()
    }

    /// Records the genesis hash and the head at height 0, once the genesis state is imported.
    pub fn finish_genesis(&self, genesis_hash: Hash, head: &ChainHead) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        let meta = self.cf(Column::Meta);
        batch.put_cf(meta, keys::GENESIS_HASH, encode(&genesis_hash));
        batch.put_cf(meta, keys::app_hash_at(0), encode(&head.app_hash));
        batch.put_cf(meta, keys::HEAD, encode(head));
        self.write_synced(batch)
    }

    /// Stores a committed block with its commit, receipts, state writes and the new head, atomically: after
    /// a crash either all of it is there or none of it. `Durability::Synced` also waits until it is on disk.
    pub fn commit_block(&self, record: BlockRecord<'_>, durability: Durability) -> Result<(), StoreError> {
        let height = record.block.header.height;
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(Column::Blocks), keys::height(height), encode(record.block));
        batch.put_cf(self.cf(Column::Commits), keys::height(height), encode(record.commit));
        for receipt in record.receipts {
            batch.put_cf(self.cf(Column::Receipts), receipt.tx_hash.as_bytes(), encode(receipt));
        }
        self.put_state_writes(&mut batch, record.state_writes);
        let meta = self.cf(Column::Meta);
        batch.put_cf(meta, keys::app_hash_at(height), encode(&record.head.app_hash));
        batch.put_cf(meta, keys::HEAD, encode(&record.head));
        self.wal_clear_through(&mut batch, height);
        self.write(batch, durability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consort_sdk::{Address, BlockHeader, TxOutcome};

    fn block(height: u64) -> Block {
        Block {
            header: BlockHeader {
                chain_id: "t".into(),
                height,
                time_ms: height,
                prev_block_hash: Hash::ZERO,
                txs_hash: Block::txs_hash_of(&[]),
                last_app_hash: Hash::ZERO,
                proposer: Address([0; 20]),
            },
            txs: vec![],
        }
    }

    #[test]
    fn a_committed_block_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let b = block(1);
        let commit = Commit { height: 1, round: 0, block_hash: b.hash(), signatures: vec![] };
        let receipt = Receipt {
            tx_hash: Hash([5; 32]),
            height: 1,
            index: 0,
            outcome: TxOutcome::Success,
            gas_used: 1,
            events: vec![],
            data: None,
        };
        let head = ChainHead { height: 1, block_hash: b.hash(), block_time_ms: 1, app_hash: Hash([9; 32]) };
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.head().unwrap(), None);
            store
                .commit_block(
                    BlockRecord {
                        block: &b,
                        commit: &commit,
                        receipts: std::slice::from_ref(&receipt),
                        state_writes: &[(b"k".to_vec(), Some(b"v".to_vec()))],
                        head: head.clone(),
                    },
                    Durability::Synced,
                )
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.head().unwrap(), Some(head));
        assert_eq!(store.block(1).unwrap(), Some(b));
        assert_eq!(store.commit(1).unwrap(), Some(commit));
        assert_eq!(store.receipt(&Hash([5; 32])).unwrap(), Some(receipt));
        assert_eq!(store.state_get(b"k").unwrap(), Some(b"v".to_vec()));
        assert_eq!(store.app_hash_at(1).unwrap(), Some(Hash([9; 32])));
    }

    #[test]
    fn a_database_with_a_retired_column_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut opts = Options::default();
            opts.create_if_missing(true);
            opts.create_missing_column_families(true);
            let names = Column::ALL.iter().map(|c| c.name()).chain(["txs"]);
            DB::open_cf(&opts, dir.path(), names).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.head().unwrap(), None);
    }

    #[test]
    fn a_corrupt_record_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.db.put_cf(store.cf(Column::Meta), keys::HEAD, b"\x01\x02").unwrap();
        assert!(matches!(store.head(), Err(StoreError::Corrupt(_))));
    }
}
