//! Tx signature checks, done once per node, in batches and on every core: a tx verified when it was
//! admitted is not verified again when its block executes, each signer key is checked once, and the txs of
//! a block or a gossiped batch are batch-verified in parallel. A block's txs not seen before are checked
//! while the block executes ([`TxVerifier::verify_while`]).
//!
//! Only successes are remembered, keyed by the tx hash. The hash covers every signed byte and the
//! signature, so a remembered hash stands for exactly the bytes that verified: the verdict is the same
//! whichever path a node took, as consensus requires (and batch verification agrees with single
//! verification, see `consort_sdk::tx_signatures`).

use super::ordered_verdicts::OrderedVerdicts;
use crate::fast_map::{FastMap, FastSet};
use consort_sdk::tx_signatures::{signer_key, verify_tx_signatures, SignerKey, TX_BATCH_VERIFY_MAX};
use consort_sdk::{Hash, PublicKey, SignedTx};
use prometheus_client::metrics::counter::Counter;
use std::hash::Hash as StdHash;
use std::sync::{Condvar, Mutex};

/// Verified tx hashes remembered per generation (two generations are kept): enough for a full mempool
/// (`mempool.txs_max` defaults to 50,000) between admission and execution. About 5 MiB per generation.
pub const VERIFIED_TXS_MAX: usize = 100_000;
/// Signer keys remembered per generation (two are kept), checked and decompressed. About 4 MiB per
/// generation.
pub const SIGNER_KEYS_MAX: usize = 16_384;

/// A bounded map that forgets its least recently touched half: when the current generation is full it
/// becomes the previous one and the old previous one is dropped. A hit in the previous generation moves
/// the entry forward, so entries in use survive.
struct Generations<K, V> {
    current: FastMap<K, V>,
    previous: FastMap<K, V>,
    max: usize,
}

impl<K: Eq + StdHash + Copy, V: Clone> Generations<K, V> {
    fn new(max: usize) -> Self {
        Generations { current: FastMap::default(), previous: FastMap::default(), max }
    }

    fn get(&mut self, key: &K) -> Option<V> {
        if let Some(v) = self.current.get(key) {
            return Some(v.clone());
        }
        let v = self.previous.remove(key)?;
        self.insert(*key, v.clone());
        Some(v)
    }

    fn insert(&mut self, key: K, value: V) {
        if self.current.len() >= self.max {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, value);
    }
}

/// Fewest txs a thread is given to check: below this, batches get so short that a second thread saves
/// little time, and each of its batches costs more per signature than one twice as long.
const THREAD_SHARE_MIN: usize = 64;

/// Signatures the executor checks itself before its first tx: few, so that execution starts soon, while
/// helper threads go on with full batches.
const FIRST_BATCH_WHILE_EXECUTING: usize = 16;

pub struct TxVerifier {
    known: Mutex<Known>,
    /// Signalled whenever a call gives up its claims.
    released: Condvar,
    keys: Mutex<Generations<PublicKey, Option<SignerKey>>>,
    threads: usize,
    checked: SignatureCounts,
}

/// Signatures actually checked (not answered from the remembered ones), by where: ahead of execution
/// (admission) or by the executor, for txs of a block this node had not verified yet. Their sum over the
/// txs committed is how often a node verifies each tx.
#[derive(Clone, Default)]
pub struct SignatureCounts {
    pub ahead: Counter,
    pub executing: Counter,
}

/// What the verifier knows of tx hashes: verified ones, and those some call is checking right now.
struct Known {
    verified: Generations<Hash, ()>,
    /// Claimed by a call that is checking them. Another call that needs one waits for that verdict instead
    /// of checking the signature a second time: admission of a gossiped batch and the execution of a block
    /// holding the same txs often overlap, and each node checked 1.3 signatures per tx at saturation.
    /// Bounded by the txs of the calls in progress.
    in_flight: FastSet<Hash>,
}

/// Gives up a call's claims when it ends, however it ends, and wakes the calls waiting for them.
struct Release<'a> {
    verifier: &'a TxVerifier,
    hashes: Vec<Hash>,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let mut known = self.verifier.known();
        for hash in &self.hashes {
            known.in_flight.remove(hash);
        }
        drop(known);
        self.verifier.released.notify_all();
    }
}

impl Default for TxVerifier {
    fn default() -> Self {
        TxVerifier::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl TxVerifier {
    /// A verifier that uses at most `threads` threads per call.
    pub fn new(threads: usize) -> Self {
        TxVerifier {
            known: Mutex::new(Known { verified: Generations::new(VERIFIED_TXS_MAX), in_flight: FastSet::default() }),
            released: Condvar::new(),
            keys: Mutex::new(Generations::new(SIGNER_KEYS_MAX)),
            threads: threads.max(1),
            checked: SignatureCounts::default(),
        }
    }

    /// This verifier, counting the signatures it checks into `checked` (the node's metrics).
    pub fn counting_into(self, checked: SignatureCounts) -> Self {
        TxVerifier { checked, ..self }
    }

    /// Whether each tx's signature verifies for its signer (`hashes[i]` is `txs[i].hash()`).
    pub fn verify(&self, txs: &[&SignedTx], hashes: &[Hash]) -> Vec<bool> {
        let (unknown, _release) = self.claim(hashes);
        let mut verdicts = vec![true; txs.len()];
        self.check_into(txs, hashes, &unknown, &mut verdicts, &self.checked.ahead);
        verdicts
    }

    /// Checks the txs at `indices`, writes their verdicts and remembers the successes.
    fn check_into(
        &self,
        txs: &[&SignedTx],
        hashes: &[Hash],
        indices: &[usize],
        verdicts: &mut [bool],
        count: &Counter,
    ) {
        count.inc_by(indices.len() as u64);
        let checked = self.verify_all(&indices.iter().map(|&i| txs[i]).collect::<Vec<_>>());
        for (&i, ok) in indices.iter().zip(&checked) {
            verdicts[i] = *ok;
        }
        self.remember(indices, hashes, checked.into_iter().map(Some));
    }

    /// Runs `execute` while the signatures are checked: `execute` gets a function that gives tx `i`'s
    /// verdict, waiting only for the batch that holds it (see [`OrderedVerdicts`]). For a block whose
    /// txs were not verified at admission (sync, or txs this node never received), execution then
    /// overlaps verification instead of following it.
    pub fn verify_while<R>(
        &self,
        txs: &[&SignedTx],
        hashes: &[Hash],
        execute: impl FnOnce(&dyn Fn(usize) -> bool) -> R,
    ) -> R {
        assert_eq!(txs.len(), hashes.len(), "one hash per tx");
        let (unknown, _release) = self.claim(hashes);
        // A helper thread costs tens of microseconds to start: worth it once there is more than the first
        // batch to check.
        if unknown.len() <= FIRST_BATCH_WHILE_EXECUTING || self.threads == 1 {
            let mut verdicts = vec![true; txs.len()];
            self.check_into(txs, hashes, &unknown, &mut verdicts, &self.checked.executing);
            return execute(&|i| verdicts[i]);
        }
        self.checked.executing.inc_by(unknown.len() as u64);
        let mut position = vec![None; txs.len()];
        for (j, &i) in unknown.iter().enumerate() {
            position[i] = Some(j);
        }
        let pending: Vec<&SignedTx> = unknown.iter().map(|&i| txs[i]).collect();
        let helpers = self.threads - 1;
        let verdicts =
            OrderedVerdicts::new(&pending, FIRST_BATCH_WHILE_EXECUTING, TX_BATCH_VERIFY_MAX, helpers, |chunk| {
                self.check(chunk)
            });
        let result = std::thread::scope(|scope| {
            let first = verdicts.claim_first();
            for _ in 0..helpers {
                scope.spawn(|| verdicts.help());
            }
            verdicts.check_claimed(first);
            let result = execute(&|i| position[i].is_none_or(|j| verdicts.get(j)));
            verdicts.abandon();
            result
        });
        self.remember(&unknown, hashes, verdicts.into_checked());
        result
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().expect("verified-tx cache lock poisoned")
    }

    /// Claims the txs not remembered as verified and returns their indices, in order; the claim ends when
    /// the `Release` is dropped. If another call is checking any of them, this waits until it is done first
    /// (and claims only what it left unverified). A call never waits while it holds a claim, so two calls
    /// never wait on each other.
    fn claim(&self, hashes: &[Hash]) -> (Vec<usize>, Release<'_>) {
        let mut known = self.known();
        loop {
            let unknown: Vec<usize> = (0..hashes.len()).filter(|&i| known.verified.get(&hashes[i]).is_none()).collect();
            if unknown.iter().all(|&i| !known.in_flight.contains(&hashes[i])) {
                let claimed: Vec<Hash> = unknown.iter().map(|&i| hashes[i]).collect();
                known.in_flight.extend(claimed.iter().copied());
                return (unknown, Release { verifier: self, hashes: claimed });
            }
            known = self.released.wait(known).expect("verified-tx cache lock poisoned");
        }
    }

    /// Remembers the successes among the verdicts of `unknown` (None: never checked).
    fn remember(&self, unknown: &[usize], hashes: &[Hash], verdicts: impl IntoIterator<Item = Option<bool>>) {
        let mut known = self.known();
        for (&i, ok) in unknown.iter().zip(verdicts) {
            if ok == Some(true) {
                known.verified.insert(hashes[i], ());
            }
        }
    }

    /// Batch-verifies `txs` on this thread, signer keys from the cache.
    fn check(&self, txs: &[&SignedTx]) -> Vec<bool> {
        verify_tx_signatures(txs, |key| self.signer_key(key))
    }

    fn verify_all(&self, txs: &[&SignedTx]) -> Vec<bool> {
        if txs.len() < 2 * THREAD_SHARE_MIN || self.threads == 1 {
            return self.check(txs);
        }
        let chunk = txs.len().div_ceil(self.threads).max(THREAD_SHARE_MIN);
        std::thread::scope(|scope| {
            let workers: Vec<_> = txs.chunks(chunk).map(|part| scope.spawn(move || self.check(part))).collect();
            // A verification never panics (a bad key or signature is a `false`), so neither does a worker.
            workers.into_iter().flat_map(|w| w.join().expect("signature worker panicked")).collect()
        })
    }

    fn signer_key(&self, key: &PublicKey) -> Option<SignerKey> {
        if let Some(checked) = self.keys.lock().expect("signer key cache lock poisoned").get(key) {
            return checked;
        }
        let checked = signer_key(key);
        self.keys.lock().expect("signer key cache lock poisoned").insert(*key, checked);
        checked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consort_sdk::{Action, Address, Keypair, Signature, Tx};

    fn tx(key: &Keypair, nonce: u64) -> SignedTx {
        let tx = Tx {
            chain_id: "c".into(),
            signer: key.public(),
            nonce,
            gas_limit: 1_000,
            action: Action::Transfer { to: Address([7; 20]), amount: 1 },
        };
        key.sign_tx(tx)
    }

    fn verdicts(verifier: &TxVerifier, txs: &[SignedTx]) -> Vec<bool> {
        let hashes: Vec<Hash> = txs.iter().map(SignedTx::hash).collect();
        verifier.verify(&txs.iter().collect::<Vec<_>>(), &hashes)
    }

    #[test]
    fn verdicts_match_single_verification_in_order_on_any_thread_count() {
        let key = Keypair::generate();
        let mut txs: Vec<SignedTx> = (0..300).map(|n| tx(&key, n)).collect();
        for i in [3, 40, 41, 299] {
            txs[i].signature = Signature([9; 64]);
        }
        txs[50].tx.signer = PublicKey([0xff; 32]); // not a curve point
        let expected: Vec<bool> = txs.iter().map(|t| t.verify_signature().is_ok()).collect();
        assert_eq!(expected.iter().filter(|ok| !**ok).count(), 5);
        for threads in [1, 2, 3, 8] {
            let verifier = TxVerifier::new(threads);
            assert_eq!(verdicts(&verifier, &txs), expected, "{threads} threads");
            assert_eq!(verdicts(&verifier, &txs), expected, "{threads} threads, second time, from the cache");
        }
    }

    #[test]
    fn verdicts_while_executing_match_verdicts_up_front() {
        let key = Keypair::generate();
        let mut txs: Vec<SignedTx> = (0..700).map(|n| tx(&key, n)).collect();
        for i in [0, 63, 64, 200, 699] {
            txs[i].signature = Signature([9; 64]);
        }
        let expected: Vec<bool> = txs.iter().map(|t| t.verify_signature().is_ok()).collect();
        let hashes: Vec<Hash> = txs.iter().map(SignedTx::hash).collect();
        let refs: Vec<&SignedTx> = txs.iter().collect();
        for threads in [1, 2, 3] {
            let verifier = TxVerifier::new(threads);
            // Some txs already known, as after admission: the rest are checked while "executing".
            verifier.verify(&refs[100..150], &hashes[100..150]);
            let got = verifier.verify_while(&refs, &hashes, |ok| (0..refs.len()).map(ok).collect::<Vec<_>>());
            assert_eq!(got, expected, "{threads} threads");
            let again = verifier.verify_while(&refs, &hashes, |ok| (0..refs.len()).map(ok).collect::<Vec<_>>());
            assert_eq!(again, expected, "{threads} threads, from the cache");
        }
    }

    /// A call that needs txs another call is checking waits for those verdicts instead of checking the
    /// signatures again; what the other call leaves unverified it checks itself.
    #[test]
    fn txs_another_call_is_checking_are_waited_for_not_checked_twice() {
        let key = Keypair::generate();
        let mut txs: Vec<SignedTx> = (0..200).map(|n| tx(&key, n)).collect();
        txs[7].signature = Signature([9; 64]);
        let expected: Vec<bool> = txs.iter().map(|t| t.verify_signature().is_ok()).collect();
        let hashes: Vec<Hash> = txs.iter().map(SignedTx::hash).collect();
        let refs: Vec<&SignedTx> = txs.iter().collect();
        for abandoned in [false, true] {
            let verifier = TxVerifier::new(2);
            // Another call has claimed the first 100 txs.
            let (first, release) = verifier.claim(&hashes[..100]);
            assert_eq!(first, (0..100).collect::<Vec<_>>());
            std::thread::scope(|scope| {
                let admission = scope.spawn(|| verifier.verify(&refs, &hashes));
                let executing =
                    scope.spawn(|| verifier.verify_while(&refs, &hashes, |ok| (0..200).map(ok).collect::<Vec<_>>()));
                if !abandoned {
                    let mut verdicts = vec![true; 100];
                    verifier.check_into(&refs[..100], &hashes[..100], &first, &mut verdicts, &Counter::default());
                }
                drop(release);
                assert_eq!(admission.join().unwrap(), expected);
                assert_eq!(executing.join().unwrap(), expected);
            });
            // The first of the two calls checks every tx still unverified, the second only the failing tx 7
            // (failures are not remembered). Without the wait both would have checked the last 100.
            let checked = verifier.checked.ahead.get() + verifier.checked.executing.get();
            assert_eq!(checked, if abandoned { 201 } else { 102 }, "abandoned: {abandoned}");
        }
    }

    #[test]
    fn only_successes_are_remembered_and_a_changed_byte_is_a_new_tx() {
        let key = Keypair::generate();
        let good = tx(&key, 0);
        let verifier = TxVerifier::new(1);
        assert_eq!(verdicts(&verifier, std::slice::from_ref(&good)), vec![true]);
        let mut forged = good.clone();
        forged.tx.nonce = 1; // same signature, other bytes: another hash, verified afresh
        assert_eq!(verdicts(&verifier, &[forged.clone(), good]), vec![false, true]);
        assert_eq!(verdicts(&verifier, &[forged]), vec![false]);
    }

    #[test]
    fn generations_stay_bounded_and_keep_what_is_used() {
        let mut g: Generations<u32, ()> = Generations::new(4);
        for k in 0..4 {
            g.insert(k, ());
        }
        g.insert(4, ()); // 0..4 become the previous generation
        assert!(g.get(&0).is_some()); // used: moved forward
        for k in 5..8 {
            g.insert(k, ());
        }
        g.insert(8, ()); // the previous generation (1, 2, 3) is dropped
        assert!(g.get(&1).is_none());
        assert!(g.get(&0).is_some());
        assert!(g.current.len() <= 4 && g.previous.len() <= 4);
    }
}
