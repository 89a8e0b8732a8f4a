//! Gossip from arbitrary bytes, decoded as a node decodes a peer's message (consensus gossip and tx gossip
//! batches), with the signature checks that follow: no panic, and what decodes re-encodes to the same
//! bytes. (The node's `GossipCheck` adds membership and height checks on top; it links RocksDB and
//! wasmtime, which would multiply the fuzz build's cost, so it is covered by `node/tests/network.rs`.)
#![no_main]

use consort_sdk::encoding::{decode, encode};
use consort_sdk::{ConsensusGossip, ConsensusMessage, TxGossip};
use libfuzzer_sys::fuzz_target;

const MESSAGE_BYTES_MAX: usize = 256 * 1024;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(gossip) = decode::<ConsensusGossip>(bytes, MESSAGE_BYTES_MAX) {
        assert_eq!(encode(&gossip), bytes);
        match &gossip.msg {
            ConsensusMessage::Vote(vote) => {
                let _ = vote.verify_signature();
            }
            ConsensusMessage::Proposal { proposal, block, polka } => {
                let _ = proposal.verify_signature();
                let _ = block.hash();
                polka.iter().for_each(|v| {
                    let _ = v.verify_signature();
                });
            }
        }
    }
    if let Ok(batch) = decode::<TxGossip>(bytes, MESSAGE_BYTES_MAX) {
        assert_eq!(encode(&batch), bytes);
    }
});
