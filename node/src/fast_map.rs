//! Hash maps for the per-tx hot paths (verified tx hashes, the mempool, the account cache), with foldhash
//! instead of std's SipHash: 2–6 % less CPU per committed tx (BENCHMARKS.md). Their keys are blake3 tx hashes,
//! addresses and state keys derived from them, which nobody can pick bit by bit; the hasher's seed is random
//! per process, so grinding keys into one bucket would also need that seed.

pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
