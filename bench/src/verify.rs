//! The machine's limit: every validator verifies every tx signature, so committed transfers per second can
//! never exceed (batch verification rate on all cores) ÷ (validators on the machine).

use consort_sdk::signing::signing_bytes;
use consort_sdk::tx_signatures::SignerKey;
use consort_sdk::tx_signatures::{signer_key, verify_tx_signatures, TX_BATCH_VERIFY_MAX};
use consort_sdk::{Action, Address, Keypair, PublicKey, SignedTx, Tx};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Signatures per batch, as the reference figure uses.
pub const BATCH: usize = 64;

struct Batch {
    txs: Vec<SignedTx>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<Signature>,
    keys: Vec<VerifyingKey>,
}

fn batch(len: usize) -> Batch {
    let mut b = Batch { txs: Vec::new(), messages: Vec::new(), signatures: Vec::new(), keys: Vec::new() };
    for i in 0..len {
        let key = Keypair::derived(99, i as u64);
        let tx = Tx {
            chain_id: "bench".into(),
            signer: key.public(),
            nonce: i as u64,
            gas_limit: 100_000,
            action: Action::Transfer { to: Address([7; 20]), amount: 1 },
        };
        let signed = key.sign_tx(tx.clone());
        b.messages.push(signing_bytes(b"consort/tx/v1", &tx));
        b.signatures.push(Signature::from_bytes(&signed.signature.0));
        b.keys.push(VerifyingKey::from_bytes(&key.public().0).expect("valid key"));
        b.txs.push(signed);
    }
    b
}

#[derive(Clone, Copy)]
enum Method {
    /// ed25519-dalek `verify_batch`: the reference for the machine's limit.
    DalekBatch,
    /// ed25519-dalek `verify_strict`, one signature at a time.
    DalekSingle,
    /// What a node runs on txs: the ZIP-215 batch rule of `consort_sdk::tx_signatures`, in batches of 64 as
    /// the reference, and in the node's own batches of `TX_BATCH_VERIFY_MAX`.
    NodeBatch(usize),
}

/// Verifications per second with `threads` threads, each verifying batches for `secs` seconds.
fn rate(threads: usize, secs: f64, method: Method) -> f64 {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let b = batch(match method {
                        Method::NodeBatch(len) => len,
                        _ => BATCH,
                    });
                    let messages: Vec<&[u8]> = b.messages.iter().map(Vec::as_slice).collect();
                    let txs: Vec<&SignedTx> = b.txs.iter().collect();
                    let keys: HashMap<PublicKey, Option<SignerKey>> =
                        b.txs.iter().map(|t| (t.tx.signer, signer_key(&t.tx.signer))).collect();
                    let mut n = 0u64;
                    while Instant::now() < until {
                        match method {
                            Method::DalekBatch => {
                                ed25519_dalek::verify_batch(&messages, &b.signatures, &b.keys).expect("valid batch")
                            }
                            Method::DalekSingle => {
                                for ((key, message), signature) in b.keys.iter().zip(&messages).zip(&b.signatures) {
                                    key.verify_strict(message, signature).expect("valid signature");
                                }
                            }
                            // Keys come checked and decompressed, as the node's key cache holds them for known
                            // signers.
                            Method::NodeBatch(_) => {
                                assert!(verify_tx_signatures(&txs, |k| keys[k]).iter().all(|ok| *ok))
                            }
                        }
                        n += b.txs.len() as u64;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("verifier thread")).collect()
    });
    counts.iter().sum::<u64>() as f64 / secs
}

pub fn run(secs: f64) -> serde_json::Value {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let batched = rate(cores, secs, Method::DalekBatch);
    let single = rate(cores, secs / 2.0, Method::DalekSingle);
    let node = rate(cores, secs / 2.0, Method::NodeBatch(BATCH));
    let node_max = rate(cores, secs / 2.0, Method::NodeBatch(TX_BATCH_VERIFY_MAX));
    println!("ed25519 verification on {cores} cores");
    let rows = [
        (format!("dalek, batches of {BATCH}:"), batched),
        ("dalek, one at a time (strict):".to_owned(), single),
        (format!("node tx rule, ZIP-215 batches of {BATCH}:"), node),
        (format!("node tx rule, ZIP-215 batches of {TX_BATCH_VERIFY_MAX}:"), node_max),
    ];
    for (what, rate) in rows {
        println!("  {what:<40}{rate:>10.0} signatures/s");
    }
    json!({
        "cores": cores,
        "batch": BATCH,
        "batch_verify_per_sec": batched,
        "single_verify_per_sec": single,
        "node_batch_verify_per_sec": node,
        "node_batch_len": TX_BATCH_VERIFY_MAX,
        "node_batch_len_verify_per_sec": node_max,
    })
}
