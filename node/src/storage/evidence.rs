//! Evidence of validator faults (column `evidence`), keyed by (height, validator, round, step) so one fault
//! is kept once and records list in height order.

use super::store::{Store, StoreError};
use super::Column;
use consort_sdk::encoding::{decode, encode};
use consort_sdk::{Evidence, VoteKind};
use rocksdb::{Direction, IteratorMode, WriteBatch};

/// Evidence records kept. Only validators can produce evidence (it carries their signatures), so this is
/// reached only by a validator set misbehaving at length; later faults are then counted but not stored.
pub const EVIDENCE_KEPT_MAX: usize = 10_000;
/// Largest evidence record decoded: two signed votes or proposals.
const EVIDENCE_BYTES_MAX: usize = 4096;

fn key(evidence: &Evidence) -> Vec<u8> {
    let step: u8 = match evidence {
        Evidence::ConflictingProposals { .. } => 0,
        Evidence::ConflictingVotes { first, .. } => match first.vote.kind {
            VoteKind::Prevote => 1,
            VoteKind::Precommit => 2,
        },
    };
    let mut k = evidence.height().to_be_bytes().to_vec();
    k.extend_from_slice(&evidence.validator().0);
    k.extend_from_slice(&evidence.round().to_be_bytes());
    k.push(step);
    k
}

impl Store {
    /// Stores `evidence` (already verified) unless that fault is stored already or the column is full.
    /// Returns whether it was added.
    pub fn evidence_add(&self, evidence: &Evidence) -> Result<bool, StoreError> {
        let cf = self.cf(Column::Evidence);
        let k = key(evidence);
        if self.db().get_pinned_cf(cf, &k)?.is_some() || self.evidence_count()? >= EVIDENCE_KEPT_MAX {
            return Ok(false);
        }
        let mut batch = WriteBatch::default();
        batch.put_cf(cf, k, encode(evidence));
        self.write_synced(batch)?;
        Ok(true)
    }

    /// Up to `limit` records from height `from` on, in height order.
    pub fn evidence_from(&self, from: u64, limit: usize) -> Result<Vec<Evidence>, StoreError> {
        let start = from.to_be_bytes();
        let iter = self.db().iterator_cf(self.cf(Column::Evidence), IteratorMode::From(&start, Direction::Forward));
        let mut out = Vec::new();
        for item in iter.take(limit) {
            let (_, v) = item?;
            out.push(decode(&v, EVIDENCE_BYTES_MAX).map_err(|e| StoreError::Corrupt(format!("evidence record: {e}")))?);
        }
        Ok(out)
    }

    fn evidence_count(&self) -> Result<usize, StoreError> {
        let iter = self.db().iterator_cf(self.cf(Column::Evidence), IteratorMode::Start);
        let mut n = 0;
        for item in iter.take(EVIDENCE_KEPT_MAX) {
            item?;
            n += 1;
        }
        Ok(n)
    }
}
