//! A fault schedule drawn from a seed. Every fault ends by `gst_ms` (global stabilisation time); after it
//! the network delivers every message within `SYNC_DELAY_MAX_MS`.

use super::rng::TestRng;

pub const SYNC_DELAY_MAX_MS: u64 = 50;

#[derive(Clone, Debug)]
pub struct Faults {
    pub gst_ms: u64,
    pub drop_percent: u64,
    pub duplicate_percent: u64,
    pub delay_max_ms: u64,
    /// During [start, end) nodes in different groups cannot hear each other.
    pub partition: Option<(u64, u64, Vec<usize>)>,
    /// (node, crash at, restart at)
    pub crashes: Vec<(usize, u64, u64)>,
    pub byzantine: Vec<usize>,
}

impl Faults {
    pub fn draw(rng: &mut TestRng, n: usize, byzantine_max: usize) -> Faults {
        let gst_ms = rng.range(0, 20_000);
        let byzantine_count = rng.range(0, byzantine_max as u64) as usize;
        let byzantine: Vec<usize> = (0..byzantine_count).map(|i| n - 1 - i).collect();
        let partition = rng.chance(40).then(|| {
            let start = rng.range(0, gst_ms);
            let end = rng.range(start, gst_ms);
            (start, end, (0..n).map(|_| rng.range(0, 1) as usize).collect())
        });
        let mut crashes = Vec::new();
        if rng.chance(50) {
            for _ in 0..rng.range(1, 3) {
                let node = rng.range(0, (n - 1) as u64) as usize;
                let at = rng.range(0, gst_ms);
                crashes.push((node, at, rng.range(at, gst_ms)));
            }
        }
        Faults {
            gst_ms,
            drop_percent: rng.range(0, 30),
            duplicate_percent: rng.range(0, 10),
            delay_max_ms: rng.range(1, 2_000),
            partition,
            crashes,
            byzantine,
        }
    }

    pub fn partitioned(&self, now: u64, a: usize, b: usize) -> bool {
        match &self.partition {
            Some((start, end, groups)) => now >= *start && now < *end && groups[a] != groups[b],
            None => false,
        }
    }
}
