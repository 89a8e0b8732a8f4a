//! Votes and proposals from arbitrary bytes: no panic in decoding or signature checks, and what decodes
//! re-encodes to the same bytes.
#![no_main]

use consort_sdk::encoding::{decode, encode};
use consort_sdk::{SignedProposal, SignedVote};
use libfuzzer_sys::fuzz_target;

const BYTES_MAX: usize = 64 * 1024;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(vote) = decode::<SignedVote>(bytes, BYTES_MAX) {
        assert_eq!(encode(&vote), bytes);
        let _ = vote.verify_signature();
    }
    if let Ok(proposal) = decode::<SignedProposal>(bytes, BYTES_MAX) {
        assert_eq!(encode(&proposal), bytes);
        let _ = proposal.verify_signature();
    }
});
