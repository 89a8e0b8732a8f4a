//! Blocks and block-sync messages from arbitrary bytes, as a syncing node decodes a peer's answer: no
//! panic, and what decodes re-encodes to the same bytes.
#![no_main]

use consort_sdk::encoding::{decode, encode};
use consort_sdk::{Block, SyncRequest, SyncResponse};
use libfuzzer_sys::fuzz_target;

const BYTES_MAX: usize = 256 * 1024;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(block) = decode::<Block>(bytes, BYTES_MAX) {
        assert_eq!(encode(&block), bytes);
        let _ = block.hash();
    }
    if let Ok(response) = decode::<SyncResponse>(bytes, BYTES_MAX) {
        assert_eq!(encode(&response), bytes);
    }
    if let Ok(request) = decode::<SyncRequest>(bytes, BYTES_MAX) {
        assert_eq!(encode(&request), bytes);
    }
});
