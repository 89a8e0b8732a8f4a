//! The rule for tx signatures, and its batch form.
//!
//! A tx signature is valid when the signer key is not of small order and the signature verifies under
//! ZIP-215 (the cofactored equation, canonical `s`). ZIP-215 is chosen because its batch verification gives
//! exactly the verdict of single verification for every input, so nodes may verify many txs at once (about
//! twice as fast) and still agree on every block. ed25519-dalek's `verify_batch` is cofactorless and can
//! accept a crafted signature that its `verify_strict` rejects; it must not decide consensus.
//! Votes and proposals keep `verify_strict` (see `signing`): they are few and never batched.
//!
//! Honest ed25519 signatures are valid under both rules; the difference lies only in crafted edge cases.

use crate::signing::{signing_bytes, SignatureError, TX_DOMAIN};
use crate::types::{PublicKey, SignedTx};
use ed25519_zebra::{batch, VerificationKey, VerificationKeyBytes};

/// Txs verified together in one batch equation. A failing batch is re-checked tx by tx, so a bad signature
/// costs its batch a second pass: small batches bound what an attacker's txs cost honest ones.
pub const TX_BATCH_VERIFY_MAX: usize = 64;

/// Is `key` acceptable as a tx signer: a curve point not of small order? (Anyone can sign for a
/// small-order key under a cofactored rule, so an account behind one would be open to all.) Costs about a
/// third of a verification: callers that see a key often should remember the answer.
pub fn signer_key_ok(key: &PublicKey) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(&key.0).is_ok_and(|k| !k.is_weak())
}

impl SignedTx {
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        if !signer_key_ok(&self.tx.signer) {
            return Err(SignatureError::BadPublicKey);
        }
        verify_single(self, &signing_bytes(TX_DOMAIN, &self.tx))
    }
}

fn verify_single(tx: &SignedTx, message: &[u8]) -> Result<(), SignatureError> {
    let key = VerificationKey::try_from(tx.tx.signer.0).map_err(|_| SignatureError::BadPublicKey)?;
    let signature = ed25519_zebra::Signature::from_bytes(&tx.signature.0);
    key.verify(&signature, message).map_err(|_| SignatureError::Invalid)
}

/// Whether each tx's signature is valid, exactly as `SignedTx::verify_signature` would say, verified in
/// batches of `TX_BATCH_VERIFY_MAX`. `key_ok` answers `signer_key_ok` (perhaps from a cache).
pub fn verify_tx_signatures(txs: &[&SignedTx], key_ok: impl Fn(&PublicKey) -> bool) -> Vec<bool> {
    let mut verdicts = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(TX_BATCH_VERIFY_MAX) {
        let messages: Vec<Vec<u8>> = chunk.iter().map(|tx| signing_bytes(TX_DOMAIN, &tx.tx)).collect();
        let keys_ok: Vec<bool> = chunk.iter().map(|tx| key_ok(&tx.tx.signer)).collect();
        let mut verifier = batch::Verifier::new();
        for ((tx, message), _) in chunk.iter().zip(&messages).zip(&keys_ok).filter(|(_, ok)| **ok) {
            let signature = ed25519_zebra::Signature::from_bytes(&tx.signature.0);
            verifier.queue((VerificationKeyBytes::from(tx.tx.signer.0), signature, message.as_slice()));
        }
        if verifier.verify(rand_core::OsRng).is_ok() {
            verdicts.extend(keys_ok);
        } else {
            let single = chunk.iter().zip(&messages).zip(&keys_ok);
            verdicts.extend(single.map(|((tx, message), ok)| *ok && verify_single(tx, message).is_ok()));
        }
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Action, Address, Signature, Tx};
    use crate::Keypair;

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

    #[test]
    fn batches_agree_with_single_verification() {
        let key = Keypair::generate();
        let mut txs: Vec<SignedTx> = (0..150).map(|n| tx(&key, n)).collect();
        txs[3].signature = Signature([9; 64]);
        txs[70].tx.nonce = 1_000; // signed bytes changed after signing
        txs[100].tx.signer = PublicKey([0xff; 32]); // not a curve point
        let mut high_s = txs[120].signature.0;
        high_s[63] |= 0xf0; // s not reduced: not canonical
        txs[120].signature = Signature(high_s);
        let single: Vec<bool> = txs.iter().map(|t| t.verify_signature().is_ok()).collect();
        let invalid: Vec<usize> = (0..txs.len()).filter(|&i| !single[i]).collect();
        assert_eq!(invalid, vec![3, 70, 100, 120]);
        let refs: Vec<&SignedTx> = txs.iter().collect();
        assert_eq!(verify_tx_signatures(&refs, signer_key_ok), single);
        let all_good: Vec<&SignedTx> = refs.iter().copied().filter(|t| t.verify_signature().is_ok()).collect();
        assert!(verify_tx_signatures(&all_good, signer_key_ok).iter().all(|ok| *ok));
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
        assert!(!signer_key_ok(&forged.tx.signer));
        assert_eq!(forged.verify_signature(), Err(SignatureError::BadPublicKey));
        assert_eq!(verify_tx_signatures(&[&forged], signer_key_ok), vec![false]);
        // Without the key check the forgery would pass: the check is what stops it.
        assert!(verify_single(&forged, &signing_bytes(TX_DOMAIN, &forged.tx)).is_ok());
    }
}
