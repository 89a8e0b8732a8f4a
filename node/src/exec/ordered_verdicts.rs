//! Signature verdicts handed out in block order while the checking goes on: helper threads check the
//! block's txs chunk by chunk, front to back, and the executor asks for verdict `i` just before it runs tx
//! `i`. Execution then overlaps verification instead of waiting for the whole block's signatures. When
//! the executor gets ahead it checks the next unclaimed chunk itself rather than sit idle, so on two cores
//! a block of plain transfers is still verified on both.
//!
//! The verdicts are what checking every tx up front would give: each chunk is checked by one thread with
//! the same function, only the order in time changes.

use std::sync::{Condvar, Mutex};

/// The chunk work of one block: which chunks are claimed, and the verdicts of those already checked.
struct Progress {
    next_unclaimed: usize,
    checked: Vec<Option<Vec<bool>>>,
    /// Set when the executor is done (perhaps early, on a storage error): helpers stop claiming.
    abandoned: bool,
}

pub struct OrderedVerdicts<'a, T, F> {
    items: &'a [T],
    chunk_len: usize,
    check: F,
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl<'a, T: Sync, F: Fn(&[T]) -> Vec<bool> + Sync> OrderedVerdicts<'a, T, F> {
    /// `check` gives one verdict per item of the chunk it is handed (chunks of `chunk_len`, the last one
    /// shorter).
    pub fn new(items: &'a [T], chunk_len: usize, check: F) -> Self {
        let chunk_len = chunk_len.max(1);
        let chunks = items.len().div_ceil(chunk_len);
        OrderedVerdicts {
            items,
            chunk_len,
            check,
            progress: Mutex::new(Progress { next_unclaimed: 0, checked: vec![None; chunks], abandoned: false }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        // Only this module's code holds the lock and it never panics while holding it.
        self.progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Claims the next unchecked chunk, checks it and records its verdicts; false when none is left (for
    /// a helper, also once the run is abandoned).
    fn check_next(&self, helper: bool) -> bool {
        let chunk = {
            let mut progress = self.lock();
            if (helper && progress.abandoned) || progress.next_unclaimed == progress.checked.len() {
                return false;
            }
            progress.next_unclaimed += 1;
            progress.next_unclaimed - 1
        };
        let start = chunk * self.chunk_len;
        let end = (start + self.chunk_len).min(self.items.len());
        let verdicts = (self.check)(&self.items[start..end]);
        debug_assert_eq!(verdicts.len(), end - start, "one verdict per item");
        self.lock().checked[chunk] = Some(verdicts);
        self.changed.notify_all();
        true
    }

    /// A helper thread's whole job: check chunks until none is left or the executor is done.
    pub fn help(&self) {
        while self.check_next(true) {}
    }

    /// The verdict of item `i`, once its chunk is checked. Checks later chunks meanwhile if any is
    /// unclaimed, and waits only when every chunk is taken.
    pub fn get(&self, i: usize) -> bool {
        let chunk = i / self.chunk_len;
        loop {
            {
                let mut progress = self.lock();
                if let Some(verdicts) = &progress.checked[chunk] {
                    return verdicts.get(i % self.chunk_len).copied().unwrap_or(false);
                }
                if progress.next_unclaimed == progress.checked.len() {
                    // Someone is checking our chunk: wait for it.
                    while progress.checked[chunk].is_none() {
                        progress = self.changed.wait(progress).unwrap_or_else(|poisoned| poisoned.into_inner());
                    }
                    continue;
                }
            }
            self.check_next(false);
        }
    }

    /// Stops the helpers from starting more chunks.
    pub fn abandon(&self) {
        self.lock().abandoned = true;
    }

    /// Every verdict checked so far, by item index (None for items of chunks never checked).
    pub fn into_checked(self) -> Vec<Option<bool>> {
        let progress = self.progress.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut all = Vec::with_capacity(self.items.len());
        for (chunk, verdicts) in progress.checked.into_iter().enumerate() {
            let len = self.chunk_len.min(self.items.len() - chunk * self.chunk_len);
            match verdicts {
                Some(v) => all.extend(v.into_iter().map(Some)),
                None => all.extend(std::iter::repeat_n(None, len)),
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn odd(chunk: &[u32]) -> Vec<bool> {
        chunk.iter().map(|n| n % 2 == 1).collect()
    }

    #[test]
    fn verdicts_in_order_equal_checking_everything_first() {
        let items: Vec<u32> = (0..1000).map(|n| n * 7 % 13).collect();
        let expected = odd(&items);
        for (chunk_len, helpers) in [(1, 0), (64, 1), (64, 3), (7, 2), (5000, 1)] {
            let verdicts = OrderedVerdicts::new(&items, chunk_len, odd);
            let got: Vec<bool> = std::thread::scope(|s| {
                for _ in 0..helpers {
                    s.spawn(|| verdicts.help());
                }
                (0..items.len()).map(|i| verdicts.get(i)).collect()
            });
            assert_eq!(got, expected, "chunks of {chunk_len}, {helpers} helpers");
            let checked = verdicts.into_checked();
            assert_eq!(checked, expected.iter().map(|v| Some(*v)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_abandoned_run_checks_no_new_chunk() {
        let items: Vec<u32> = (0..100).collect();
        let verdicts = OrderedVerdicts::new(&items, 10, odd);
        assert!(verdicts.get(15));
        verdicts.abandon();
        verdicts.help();
        let checked = verdicts.into_checked();
        // Asking for item 15 checked chunk 0, then chunk 1 (checked in order); nothing after.
        assert_eq!(checked.iter().filter(|v| v.is_some()).count(), 20);
        assert_eq!(checked[15], Some(true));
        assert_eq!(checked[25], None);
    }
}
