//! RPC request bodies from arbitrary bytes, through the parsing the handlers do: JSON of the submit and
//! batch requests, the hex inside, the tx inside that; and a contract query body as JSON.
#![no_main]

use consort_sdk::api::{SubmitBatchRequest, SubmitTxRequest};
use consort_sdk::encoding::decode;
use consort_sdk::SignedTx;
use libfuzzer_sys::fuzz_target;

const TX_BYTES_MAX: usize = 64 * 1024;

fn tx_from_hex(text: &str) {
    // As the handlers do: an optional 0x prefix, then hex.
    if let Ok(bytes) = hex::decode(text.trim_start_matches("0x")) {
        let _ = decode::<SignedTx>(&bytes, TX_BYTES_MAX);
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<SubmitTxRequest>(bytes) {
        tx_from_hex(&request.tx);
    }
    if let Ok(batch) = serde_json::from_slice::<SubmitBatchRequest>(bytes) {
        batch.txs.iter().for_each(|t| tx_from_hex(t));
    }
    let _ = serde_json::from_slice::<serde_json::Value>(bytes);
});
