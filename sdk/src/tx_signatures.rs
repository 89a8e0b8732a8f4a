//! The rule for tx signatures, and its batch form.
//!
//! A tx signature is valid when the signer key is a curve point not of small order and the signature
//! verifies under ZIP-215: `s` canonical, `R` and `A` any encoding that decompresses, and the cofactored
//! equation `[8][s]B = [8]R + [8][k]A` with `k = SHA-512(R || A || message)`. ZIP-215 is chosen because
//! its batch form gives exactly the verdict of single verification for every input, so nodes may verify
//! many txs at once and still agree on every block. ed25519-dalek's `verify_batch` is cofactorless and can
//! accept a crafted signature that its `verify_strict` rejects; it must not decide consensus.
//! Votes and proposals keep `verify_strict` (see `signing`): they are few and never batched.
//!
//! Honest ed25519 signatures are valid under both rules; the difference lies only in crafted edge cases.
//! The batch equation takes signer keys already decompressed (`SignerKey`), so a node that caches them
//! pays one point decompression per signature (R) instead of two.

use crate::signing::{signing_bytes, SignatureError, TX_DOMAIN};
use crate::types::{PublicKey, SignedTx};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha512};

/// Most txs verified together in one batch equation. Past 190 points (95 txs) curve25519-dalek's
/// multiscalar multiplication switches from Straus to Pippenger, whose cost per point falls as the batch
/// grows: on one EPYC core it took 11 µs per signature in batches of 64, 7–8 µs in batches of 256, and about
/// 7 µs in batches of 512. A failing batch is re-checked tx by tx, so a bad signature costs its batch a second
/// pass: the cap bounds what an attacker's txs cost honest ones.
pub const TX_BATCH_VERIFY_MAX: usize = 256;

/// The length of each batch when `len` txs are verified: the fewest batches within the cap, all of the
/// same size, since a short last batch would cost more per signature than the others.
pub fn tx_batch_len(len: usize) -> usize {
    len.div_ceil(len.div_ceil(TX_BATCH_VERIFY_MAX).max(1)).max(1)
}

/// A signer key that passed the key check, decompressed: a curve point not of small order. (Anyone can
/// sign for a small-order key under a cofactored rule, so an account behind one would be open to all.)
#[derive(Clone, Copy, Debug)]
pub struct SignerKey(EdwardsPoint);

/// The key check. Costs about a third of a verification: callers that see a key often should remember
/// the answer.
pub fn signer_key(key: &PublicKey) -> Option<SignerKey> {
    let point = CompressedEdwardsY(key.0).decompress()?;
    (!point.is_small_order()).then_some(SignerKey(point))
}

impl SignedTx {
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        let key = signer_key(&self.tx.signer).ok_or(SignatureError::BadPublicKey)?;
        let parts = Parts::of(self, &signing_bytes(TX_DOMAIN, &self.tx)).ok_or(SignatureError::Invalid)?;
        // [8]([s]B - [k]A - R) == identity
        let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&parts.k, &-key.0, &parts.s);
        if (sb_minus_ka - parts.r).mul_by_cofactor().is_identity() {
            Ok(())
        } else {
            Err(SignatureError::Invalid)
        }
    }
}

/// A signature's pieces: `R` decompressed, `s` canonical, and the challenge `k`.
struct Parts {
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

impl Parts {
    fn of(tx: &SignedTx, message: &[u8]) -> Option<Parts> {
        let (r_bytes, s_bytes) = tx.signature.0.split_at(32);
        let s = Scalar::from_canonical_bytes(s_bytes.try_into().expect("32 bytes")).into_option()?;
        let r = CompressedEdwardsY(r_bytes.try_into().expect("32 bytes")).decompress()?;
        // The challenge hashes the encodings as sent, not re-encoded points (ZIP-215).
        let hash = Sha512::new().chain_update(r_bytes).chain_update(tx.tx.signer.0).chain_update(message).finalize();
        Some(Parts { r, s, k: Scalar::from_bytes_mod_order_wide(&hash.into()) })
    }
}

/// Whether each tx's signature is valid, exactly as `SignedTx::verify_signature` would say, verified in
/// batches of [`tx_batch_len`]. `key` answers `signer_key` (perhaps from a cache).
pub fn verify_tx_signatures(txs: &[&SignedTx], key: impl Fn(&PublicKey) -> Option<SignerKey>) -> Vec<bool> {
    let mut verdicts = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(tx_batch_len(txs.len())) {
        let keys: Vec<Option<SignerKey>> = chunk.iter().map(|tx| key(&tx.tx.signer)).collect();
        let messages: Vec<Vec<u8>> = chunk.iter().map(|tx| signing_bytes(TX_DOMAIN, &tx.tx)).collect();
        if batch_holds(chunk, &keys, &messages) {
            verdicts.extend(keys.iter().map(Option::is_some));
        } else {
            verdicts.extend(chunk.iter().zip(&keys).map(|(tx, key)| key.is_some() && tx.verify_signature().is_ok()));
        }
    }
    verdicts
}

/// The batch equation over the txs whose key passed: `[8]([-Σ z·s]B + Σ [z]R + Σ [z·k]A) == identity` with
/// independent random 128-bit `z`. It holds for valid signatures, and fails (but for a 2^-128 chance) as
/// soon as one of them is invalid.
fn batch_holds(txs: &[&SignedTx], keys: &[Option<SignerKey>], messages: &[Vec<u8>]) -> bool {
    // One OS seed per batch; the z values stream from it (a syscall per signature would cost more).
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let mut z_stream = blake3::Hasher::new_keyed(&seed).finalize_xof();
    let mut b_coefficient = Scalar::ZERO;
    let mut scalars = Vec::with_capacity(2 * txs.len() + 1);
    let mut points = Vec::with_capacity(2 * txs.len() + 1);
    for ((tx, key), message) in txs.iter().zip(keys).zip(messages) {
        let Some(key) = key else { continue };
        let Some(parts) = Parts::of(tx, message) else { return false };
        let mut z = [0u8; 32];
        z_stream.fill(&mut z[..16]);
        let z = Scalar::from_bytes_mod_order(z);
        b_coefficient -= z * parts.s;
        scalars.extend([z, z * parts.k]);
        points.extend([parts.r, key.0]);
    }
    scalars.push(b_coefficient);
    points.push(ED25519_BASEPOINT_POINT);
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).mul_by_cofactor().is_identity()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Action, Address, Signature, Tx};
    use crate::Keypair;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use curve25519_dalek::scalar::clamp_integer;

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

    /// ed25519-zebra's ZIP-215 verdict plus the small-order key check: an independent implementation of
    /// the same rule.
    fn zebra_verdict(tx: &SignedTx) -> bool {
        let Ok(key) = ed25519_zebra::VerificationKey::try_from(tx.tx.signer.0) else { return false };
        let signature = ed25519_zebra::Signature::from_bytes(&tx.signature.0);
        signer_key(&tx.tx.signer).is_some() && key.verify(&signature, &signing_bytes(TX_DOMAIN, &tx.tx)).is_ok()
    }

    /// A signature by `key` whose R carries a point of order 8: valid under the cofactored equation that
    /// ZIP-215 uses, invalid under the cofactorless one (and under `verify_strict`).
    fn torsion_signed(key: &Keypair, nonce: u64) -> SignedTx {
        let mut signed = tx(key, nonce);
        let expanded = Sha512::digest(key.secret_bytes());
        let a = Scalar::from_bytes_mod_order(clamp_integer(expanded[..32].try_into().unwrap()));
        assert_eq!(EdwardsPoint::mul_base(&a).compress().0, key.public().0, "secret scalar derived right");
        let r = Scalar::from(nonce + 12_345);
        let big_r = (EdwardsPoint::mul_base(&r) + EIGHT_TORSION[1]).compress().0;
        let message = signing_bytes(TX_DOMAIN, &signed.tx);
        let hash = Sha512::new().chain_update(big_r).chain_update(key.public().0).chain_update(&message).finalize();
        let s = r + Scalar::from_bytes_mod_order_wide(&hash.into()) * a;
        signed.signature.0[..32].copy_from_slice(&big_r);
        signed.signature.0[32..].copy_from_slice(s.as_bytes());
        signed
    }

    fn all_keys(txs: &[&SignedTx]) -> Vec<bool> {
        verify_tx_signatures(txs, signer_key)
    }

    #[test]
    fn batches_agree_with_single_verification_and_with_zebra() {
        let key = Keypair::generate();
        let mut txs: Vec<SignedTx> = (0..200).map(|n| tx(&key, n)).collect();
        txs[3].signature = Signature([9; 64]);
        txs[70].tx.nonce = 1_000; // signed bytes changed after signing
        txs[100].tx.signer = PublicKey([0xff; 32]); // not a curve point
        let mut high_s = txs[120].signature.0;
        high_s[63] |= 0xf0; // s not reduced: not canonical
        txs[120].signature = Signature(high_s);
        txs[130] = torsion_signed(&key, 130);
        let mut not_a_point_r = txs[140].signature.0;
        not_a_point_r[..32].copy_from_slice(&[0xff; 32]);
        txs[140].signature = Signature(not_a_point_r);
        let single: Vec<bool> = txs.iter().map(|t| t.verify_signature().is_ok()).collect();
        let invalid: Vec<usize> = (0..txs.len()).filter(|&i| !single[i]).collect();
        assert_eq!(invalid, vec![3, 70, 100, 120, 140]);
        assert_eq!(txs.iter().map(zebra_verdict).collect::<Vec<_>>(), single);
        let refs: Vec<&SignedTx> = txs.iter().collect();
        assert_eq!(all_keys(&refs), single);
        let all_good: Vec<&SignedTx> = refs.iter().copied().filter(|t| t.verify_signature().is_ok()).collect();
        assert!(all_keys(&all_good).iter().all(|ok| *ok));
    }

    #[test]
    fn txs_split_into_the_fewest_equal_batches_within_the_cap() {
        assert_eq!(tx_batch_len(0), 1);
        assert_eq!(tx_batch_len(1), 1);
        assert_eq!(tx_batch_len(TX_BATCH_VERIFY_MAX), TX_BATCH_VERIFY_MAX);
        // One over the cap: two batches of half, not a full one and a batch of one.
        assert_eq!(tx_batch_len(TX_BATCH_VERIFY_MAX + 1), TX_BATCH_VERIFY_MAX / 2 + 1);
        for len in 1..3 * TX_BATCH_VERIFY_MAX {
            let batch = tx_batch_len(len);
            assert!(batch <= TX_BATCH_VERIFY_MAX, "{len} txs: batches of {batch}");
            assert_eq!(len.div_ceil(batch), len.div_ceil(TX_BATCH_VERIFY_MAX), "{len} txs: too many batches");
        }
    }

    /// Invalid txs in several batches, the first and the last included: each batch that fails is re-checked
    /// on its own, and the verdicts keep their order across batches.
    #[test]
    fn verdicts_keep_their_order_across_batches() {
        let key = Keypair::generate();
        let len = 2 * TX_BATCH_VERIFY_MAX + 10;
        let mut txs: Vec<SignedTx> = (0..len as u64).map(|n| tx(&key, n)).collect();
        let bad = [0, TX_BATCH_VERIFY_MAX - 1, TX_BATCH_VERIFY_MAX + 5, len - 1];
        for i in bad {
            txs[i].tx.nonce += 1_000_000;
        }
        let verdicts = all_keys(&txs.iter().collect::<Vec<_>>());
        let invalid: Vec<usize> = (0..len).filter(|&i| !verdicts[i]).collect();
        assert_eq!(invalid, bad);
    }

    #[test]
    fn the_batch_equation_holds_for_valid_signatures_only() {
        let key = Keypair::generate();
        let mut txs: Vec<SignedTx> = (0..64).map(|n| tx(&key, n)).collect();
        txs[9] = torsion_signed(&key, 9);
        let holds = |txs: &[SignedTx]| {
            let refs: Vec<&SignedTx> = txs.iter().collect();
            let keys: Vec<Option<SignerKey>> = txs.iter().map(|t| signer_key(&t.tx.signer)).collect();
            let messages: Vec<Vec<u8>> = txs.iter().map(|t| signing_bytes(TX_DOMAIN, &t.tx)).collect();
            batch_holds(&refs, &keys, &messages)
        };
        assert!(holds(&txs));
        let mut one_bad = txs.clone();
        one_bad[40].tx.nonce += 1;
        assert!(!holds(&one_bad));
        // Two wrong signatures cannot cancel out: the z factors are secret and random.
        let mut swapped = txs.clone();
        let (a, b) = (swapped[1].signature, swapped[2].signature);
        swapped[1].signature = b;
        swapped[2].signature = a;
        assert!(!holds(&swapped));
    }

    #[test]
    fn a_torsion_component_in_r_is_accepted_alone_and_in_a_batch_but_not_by_verify_strict() {
        let key = Keypair::generate();
        let signed = torsion_signed(&key, 1);
        assert!(signed.verify_signature().is_ok());
        assert!(zebra_verdict(&signed));
        let mut batch: Vec<SignedTx> = (2..64).map(|n| tx(&key, n)).collect();
        batch.push(signed.clone());
        assert!(all_keys(&batch.iter().collect::<Vec<_>>()).iter().all(|ok| *ok));
        let strict = crate::signing::verify(TX_DOMAIN, &signed.tx, &signed.tx.signer, &signed.signature);
        assert!(strict.is_err(), "the cofactorless rule differs here, which is why it may not be batched");
    }

    #[test]
    fn small_order_signer_keys_are_refused_even_with_a_verifying_signature() {
        // The identity point (y = 1): every signature with R = identity and s = 0 verifies for it under a
        // cofactored rule, so it must be refused by the key check.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut forged = tx(&Keypair::generate(), 0);
        forged.tx.signer = PublicKey(identity);
        let mut sig = [0u8; 64];
        sig[0] = 1; // R = identity, s = 0
        forged.signature = Signature(sig);
        assert!(signer_key(&forged.tx.signer).is_none());
        assert_eq!(forged.verify_signature(), Err(SignatureError::BadPublicKey));
        assert_eq!(all_keys(&[&forged]), vec![false]);
        // Without the key check the forgery would pass: the check is what stops it.
        let key = ed25519_zebra::VerificationKey::try_from(identity).unwrap();
        let message = signing_bytes(TX_DOMAIN, &forged.tx);
        assert!(key.verify(&ed25519_zebra::Signature::from_bytes(&sig), &message).is_ok());
    }
}
