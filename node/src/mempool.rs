//! The mempool: admitted txs waiting for a block. Bounded in total and per sender, deduplicated by hash,
//! kept in nonce order per sender, reaped round-robin across senders so one busy account cannot starve
//! the others.

use crate::fast_map::FastSet;
use consort_sdk::{Address, Hash, SignedTx};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolRejection {
    #[error("tx {0} is already in the mempool")]
    Duplicate(Hash),
    #[error("another tx from this sender with nonce {0} is already pending; wait for it or use the next nonce")]
    NonceTaken(u64),
    #[error("the mempool is full ({0} txs); retry shortly")]
    Full(usize),
}

impl MempoolRejection {
    pub fn code(&self) -> &'static str {
        match self {
            MempoolRejection::Duplicate(_) => "duplicate",
            MempoolRejection::NonceTaken(_) => "nonce_taken",
            MempoolRejection::Full(_) => "mempool_full",
        }
    }
}

struct Entry {
    tx: SignedTx,
    hash: Hash,
    bytes: usize,
}

/// One sender's pending txs by nonce, and what they may spend together (kept as they come and go: summing
/// a full nonce window on every admission cost more than the rest of the mempool).
#[derive(Default)]
struct Queue {
    txs: BTreeMap<u64, Entry>,
    /// Never saturates in practice: admission keeps it within the sender's balance, a u128.
    spend: u128,
}

/// Pending txs. Not thread-safe by itself: the node wraps it in a mutex.
pub struct Mempool {
    txs_max: usize,
    by_sender: BTreeMap<Address, Queue>,
    hashes: FastSet<Hash>,
}

fn spend_of(tx: &SignedTx) -> u128 {
    crate::exec::spend(&tx.tx.action)
}

impl Mempool {
    pub fn new(txs_max: usize) -> Mempool {
        Mempool { txs_max, by_sender: BTreeMap::new(), hashes: FastSet::default() }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Why `insert` would refuse a tx with this hash for reasons that need no signature check (the pool
    /// holds it, or is full), so admission can refuse it before paying for one.
    pub fn would_refuse(&self, hash: &Hash) -> Option<MempoolRejection> {
        if self.hashes.contains(hash) {
            Some(MempoolRejection::Duplicate(*hash))
        } else if self.hashes.len() >= self.txs_max {
            Some(MempoolRejection::Full(self.txs_max))
        } else {
            None
        }
    }

    /// What `sender`'s pending txs may spend in total (saturating: the admission check refuses past it).
    pub fn pending_spend(&self, sender: &Address) -> u128 {
        self.by_sender.get(sender).map_or(0, |q| q.spend)
    }

    /// Adds a tx that already passed the stateless and admission checks; `sender` is `tx.sender()` and
    /// `bytes` its encoded length.
    pub fn insert(&mut self, tx: SignedTx, sender: Address, hash: Hash, bytes: usize) -> Result<(), MempoolRejection> {
        debug_assert_eq!(sender, tx.sender());
        if let Some(refusal) = self.would_refuse(&hash) {
            return Err(refusal);
        }
        let queue = self.by_sender.entry(sender).or_default();
        if queue.txs.contains_key(&tx.tx.nonce) {
            return Err(MempoolRejection::NonceTaken(tx.tx.nonce));
        }
        queue.spend = queue.spend.saturating_add(spend_of(&tx));
        queue.txs.insert(tx.tx.nonce, Entry { tx, hash, bytes });
        self.hashes.insert(hash);
        Ok(())
    }

    /// Picks txs for a block, with their hashes: for each sender only a gapless run starting at its account
    /// nonce (`next_nonce`), taken one per sender per pass, until `txs_max` or `bytes_max` is reached.
    pub fn reap(
        &self,
        txs_max: usize,
        bytes_max: usize,
        next_nonce: impl Fn(&Address) -> u64,
    ) -> (Vec<SignedTx>, Vec<Hash>) {
        let mut cursors: Vec<(u64, &BTreeMap<u64, Entry>)> =
            self.by_sender.iter().map(|(sender, queue)| (next_nonce(sender), &queue.txs)).collect();
        let (mut txs, mut hashes) = (Vec::new(), Vec::new());
        let mut bytes = 0usize;
        loop {
            let mut progressed = false;
            for (nonce, queue) in cursors.iter_mut() {
                let Some(entry) = queue.get(&*nonce) else { continue };
                if txs.len() >= txs_max || bytes + entry.bytes > bytes_max {
                    return (txs, hashes);
                }
                bytes += entry.bytes;
                txs.push(entry.tx.clone());
                hashes.push(entry.hash);
                *nonce += 1;
                progressed = true;
            }
            if !progressed {
                return (txs, hashes);
            }
        }
    }

    /// After a block: drops every tx whose nonce its sender has used up, given the next nonce of each account
    /// the block wrote (only those can have used one up).
    pub fn prune(&mut self, next_nonces: impl IntoIterator<Item = (Address, u64)>) {
        for (sender, next) in next_nonces {
            let Some(queue) = self.by_sender.get_mut(&sender) else { continue };
            // Usually a few txs leave from the front of a long queue: popped, not split off.
            while let Some(first) = queue.txs.first_entry() {
                if *first.key() >= next {
                    break;
                }
                let entry = first.remove();
                queue.spend = queue.spend.saturating_sub(spend_of(&entry.tx));
                self.hashes.remove(&entry.hash);
            }
            if queue.txs.is_empty() {
                self.by_sender.remove(&sender);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consort_sdk::Action;
    use consort_sdk::{Keypair, Tx};

    fn tx(key: &Keypair, nonce: u64, amount: u128) -> SignedTx {
        key.sign_tx(Tx {
            chain_id: "c".into(),
            signer: key.public(),
            nonce,
            gas_limit: 10_000,
            action: Action::Transfer { to: Address([1; 20]), amount },
        })
    }

    fn add(pool: &mut Mempool, t: SignedTx) -> Result<(), MempoolRejection> {
        let (h, bytes) = (t.hash(), consort_sdk::encoding::encode(&t).len());
        pool.insert(t.clone(), t.sender(), h, bytes)
    }

    #[test]
    fn dedups_refuses_taken_nonces_and_respects_the_bound() {
        let a = Keypair::generate();
        let mut pool = Mempool::new(2);
        add(&mut pool, tx(&a, 0, 5)).unwrap();
        assert_eq!(add(&mut pool, tx(&a, 0, 5)).unwrap_err().code(), "duplicate");
        assert_eq!(add(&mut pool, tx(&a, 0, 6)).unwrap_err().code(), "nonce_taken");
        add(&mut pool, tx(&a, 1, 7)).unwrap();
        assert_eq!(add(&mut pool, tx(&Keypair::generate(), 0, 1)).unwrap_err().code(), "mempool_full");
        assert_eq!(pool.len(), 2);
        assert_eq!(pool.pending_spend(&a.address()), 12);
        let held = tx(&a, 0, 5).hash();
        assert_eq!(pool.would_refuse(&held).map(|r| r.code()), Some("duplicate"));
        assert_eq!(pool.would_refuse(&Hash([1; 32])).map(|r| r.code()), Some("mempool_full"));
        assert_eq!(Mempool::new(3).would_refuse(&held), None);
    }

    #[test]
    fn reaps_gapless_runs_round_robin_and_prunes_used_nonces() {
        let a = Keypair::generate();
        let b = Keypair::generate();
        let mut pool = Mempool::new(100);
        for n in [0, 1, 2, 4] {
            add(&mut pool, tx(&a, n, 1)).unwrap();
        }
        add(&mut pool, tx(&b, 3, 1)).unwrap();
        add(&mut pool, tx(&b, 4, 1)).unwrap();
        let nonce_of = |addr: &Address| if *addr == b.address() { 3 } else { 0 };
        let (picked, hashes) = pool.reap(100, usize::MAX, nonce_of);
        assert_eq!(hashes, picked.iter().map(SignedTx::hash).collect::<Vec<_>>());
        let order: Vec<(bool, u64)> = picked.iter().map(|t| (t.sender() == a.address(), t.tx.nonce)).collect();
        let mut expected_a: Vec<u64> = order.iter().filter(|(is_a, _)| *is_a).map(|(_, n)| *n).collect();
        assert_eq!(picked.len(), 5, "a's nonce 4 waits behind the gap at 3");
        expected_a.dedup();
        assert_eq!(expected_a, vec![0, 1, 2]);
        assert!(!order[0].0 || !order[1].0, "senders alternate");
        assert_eq!(pool.reap(2, usize::MAX, nonce_of).0.len(), 2);

        pool.prune([(a.address(), 3), (b.address(), 5)]);
        assert_eq!(pool.len(), 1, "only a's nonce 4 is left");
        assert_eq!(pool.pending_spend(&a.address()), 1, "the pruned txs no longer count against a's funds");
        assert_eq!(pool.pending_spend(&b.address()), 0);
    }
}
