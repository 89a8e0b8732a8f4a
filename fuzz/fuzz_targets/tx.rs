//! A signed tx from arbitrary bytes, as admission decodes it: no panic; what decodes re-encodes to the
//! same bytes (one encoding per tx, so one hash); batch verification says what single verification says.
#![no_main]

use consort_sdk::encoding::{decode, encode};
use consort_sdk::tx_signatures::{signer_key, verify_tx_signatures};
use consort_sdk::SignedTx;
use libfuzzer_sys::fuzz_target;

/// The node's default `mempool.tx_bytes_max` is larger; this keeps each run fast.
const TX_BYTES_MAX: usize = 64 * 1024;

fuzz_target!(|bytes: &[u8]| {
    let Ok(tx) = decode::<SignedTx>(bytes, TX_BYTES_MAX) else { return };
    assert_eq!(encode(&tx), bytes, "a decoded tx re-encodes to other bytes");
    let single = tx.verify_signature().is_ok();
    assert_eq!(verify_tx_signatures(&[&tx], signer_key), vec![single], "batch and single disagree");
    let _ = tx.hash();
});
