//! Signature verdicts handed out in block order while the checking goes on: helper threads check the
//! block's txs chunk by chunk, front to back, and the executor asks for verdict `i` just before it runs tx
//! `i`. Execution then overlaps verification instead of waiting for the whole block's signatures. The
//! executor checks the first chunk itself, a short one so that it starts soon, while the helpers go on
//! from the second. When the executor catches up with the helpers it either waits for the chunk it needs
//! or checks a later one itself: it checks when, at the costs measured so far in the block, the helpers
//! alone would finish checking after it finishes executing. So a block of plain transfers is verified on
//! every core, and a block of contract calls leaves the executor to execute.
//!
//! The verdicts are what checking every tx up front would give: each chunk is checked by one thread with
//! the same function, only the order in time changes.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// The chunk work of one block: which chunks are claimed, and the verdicts of those already checked.
struct Progress {
    next_unclaimed: usize,
    checked: Vec<Option<Vec<bool>>>,
    /// Set when the executor is done (perhaps early, on a storage error): helpers stop claiming.
    abandoned: bool,
    /// Items in checked chunks, and the time their checks took (every thread).
    checked_items: usize,
    checking: Duration,
    /// Time the executor spent checking or waiting rather than executing.
    executor_not_executing: Duration,
}

pub struct OrderedVerdicts<'a, T, F> {
    items: &'a [T],
    first_len: usize,
    chunk_len: usize,
    check: F,
    helpers: usize,
    started: Instant,
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl<'a, T: Sync, F: Fn(&[T]) -> Vec<bool> + Sync> OrderedVerdicts<'a, T, F> {
    /// `check` gives one verdict per item of the chunk it is handed: the first `first_len` items, then
    /// chunks of `chunk_len` (the last one shorter). `helpers` threads will call [`OrderedVerdicts::help`].
    pub fn new(items: &'a [T], first_len: usize, chunk_len: usize, helpers: usize, check: F) -> Self {
        let (first_len, chunk_len) = (first_len.max(1), chunk_len.max(1));
        let chunks = match items.len() {
            0 => 0,
            n => 1 + n.saturating_sub(first_len).div_ceil(chunk_len),
        };
        OrderedVerdicts {
            items,
            first_len,
            chunk_len,
            check,
            helpers: helpers.max(1),
            started: Instant::now(),
            progress: Mutex::new(Progress {
                next_unclaimed: 0,
                checked: vec![None; chunks],
                abandoned: false,
                checked_items: 0,
                checking: Duration::ZERO,
                executor_not_executing: Duration::ZERO,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        // Only this module's code holds the lock and it never panics while holding it.
        self.progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn chunk_of(&self, i: usize) -> usize {
        match i.checked_sub(self.first_len) {
            None => 0,
            Some(after_first) => 1 + after_first / self.chunk_len,
        }
    }

    fn range_of(&self, chunk: usize) -> std::ops::Range<usize> {
        let start = match chunk {
            0 => 0,
            c => self.first_len + (c - 1) * self.chunk_len,
        };
        let len = if chunk == 0 { self.first_len } else { self.chunk_len };
        start.min(self.items.len())..(start + len).min(self.items.len())
    }

    /// Claims the next unchecked chunk: none when all are claimed (for a helper, also once the run is
    /// abandoned).
    fn claim(&self, helper: bool) -> Option<usize> {
        let mut progress = self.lock();
        if (helper && progress.abandoned) || progress.next_unclaimed == progress.checked.len() {
            return None;
        }
        progress.next_unclaimed += 1;
        Some(progress.next_unclaimed - 1)
    }

    /// Checks a claimed chunk; returns how long it took.
    fn check(&self, chunk: usize) -> Duration {
        let range = self.range_of(chunk);
        let len = range.len();
        let start = Instant::now();
        let verdicts = (self.check)(&self.items[range]);
        let took = start.elapsed();
        debug_assert_eq!(verdicts.len(), len, "one verdict per item");
        let mut progress = self.lock();
        progress.checked[chunk] = Some(verdicts);
        progress.checked_items += len;
        progress.checking += took;
        drop(progress);
        self.changed.notify_all();
        took
    }

    /// Whether the helpers alone would finish checking after the executor, now at item `i`, finishes
    /// executing, at this block's costs so far. Only speed depends on it, never a verdict.
    fn checking_is_behind(&self, progress: &Progress, i: usize) -> bool {
        if progress.checked_items == 0 || i == 0 {
            return true;
        }
        let per_check = progress.checking.as_secs_f64() / progress.checked_items as f64;
        let executing = self.started.elapsed().saturating_sub(progress.executor_not_executing);
        let per_execute = executing.as_secs_f64() / i as f64;
        let unclaimed = self.items.len() - self.range_of(progress.next_unclaimed).start;
        let helpers_finish = unclaimed as f64 * per_check / self.helpers as f64;
        helpers_finish > (self.items.len() - i) as f64 * per_execute
    }

    /// Claims the first chunk for the executor, before any helper starts.
    pub fn claim_first(&self) -> Option<usize> {
        self.claim(false)
    }

    /// Checks a chunk claimed with [`OrderedVerdicts::claim_first`].
    pub fn check_claimed(&self, chunk: Option<usize>) {
        if let Some(chunk) = chunk {
            let took = self.check(chunk);
            self.lock().executor_not_executing += took;
        }
    }

    /// A helper thread's whole job: check chunks until none is left or the executor is done.
    pub fn help(&self) {
        while let Some(chunk) = self.claim(true) {
            self.check(chunk);
        }
    }

    /// The verdict of item `i`, once its chunk is checked. Called by the executor only, in order. While
    /// another thread checks that chunk, the executor checks a later one if checking is behind (see the
    /// module comment), and otherwise waits.
    pub fn get(&self, i: usize) -> bool {
        let chunk = self.chunk_of(i);
        let offset = i - self.range_of(chunk).start;
        loop {
            let mut progress = self.lock();
            if let Some(verdicts) = &progress.checked[chunk] {
                return verdicts.get(offset).copied().unwrap_or(false);
            }
            // Every earlier chunk is checked, so an unclaimed chunk of ours has no helper coming for it.
            let ours_claimed = progress.next_unclaimed > chunk;
            let all_claimed = progress.next_unclaimed == progress.checked.len();
            if ours_claimed && (all_claimed || !self.checking_is_behind(&progress, i)) {
                let waiting = Instant::now();
                while progress.checked[chunk].is_none() {
                    progress = self.changed.wait(progress).unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                progress.executor_not_executing += waiting.elapsed();
                continue;
            }
            drop(progress);
            self.check_claimed(self.claim(false));
        }
    }

    /// Stops the helpers from starting more chunks.
    pub fn abandon(&self) {
        self.lock().abandoned = true;
    }

    /// Every verdict checked so far, by item index (None for items of chunks never checked).
    pub fn into_checked(self) -> Vec<Option<bool>> {
        let checked = std::mem::take(&mut self.lock().checked);
        let mut all = Vec::with_capacity(self.items.len());
        for (chunk, verdicts) in checked.into_iter().enumerate() {
            let len = self.range_of(chunk).len();
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
        for (first_len, chunk_len, helpers) in [(1, 1, 0), (16, 64, 1), (64, 64, 3), (3, 7, 2), (5000, 10, 1)] {
            let verdicts = OrderedVerdicts::new(&items, first_len, chunk_len, helpers, odd);
            let got: Vec<bool> = std::thread::scope(|s| {
                let first = verdicts.claim_first();
                for _ in 0..helpers {
                    s.spawn(|| verdicts.help());
                }
                verdicts.check_claimed(first);
                (0..items.len()).map(|i| verdicts.get(i)).collect()
            });
            assert_eq!(got, expected, "first {first_len}, chunks of {chunk_len}, {helpers} helpers");
            let checked = verdicts.into_checked();
            assert_eq!(checked, expected.iter().map(|v| Some(*v)).collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_abandoned_run_checks_no_new_chunk() {
        let items: Vec<u32> = (0..100).collect();
        let verdicts = OrderedVerdicts::new(&items, 10, 10, 1, odd);
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
