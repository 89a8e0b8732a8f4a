//! RocksDB storage: one column family per kind of record, one synced WriteBatch per committed block.

mod columns;
mod evidence;
mod keys;
mod store;
mod wal;

pub use columns::Column;
pub use evidence::EVIDENCE_KEPT_MAX;
pub use store::{BlockRecord, ChainHead, Durability, StateEntry, Store, StoreError};
pub use wal::LastSign;
