//! Gossip from arbitrary bytes through the node's own checks, exactly as a peer's message meets them
//! before gossipsub may forward it (`GossipCheck::check`), and tx gossip batches as they are decoded.
#![no_main]

use consort_node::consensus::{Validator, ValidatorSet};
use consort_node::network::GossipCheck;
use consort_sdk::encoding::decode;
use consort_sdk::{Keypair, TxGossip};
use libfuzzer_sys::fuzz_target;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, RwLock};

const MESSAGE_BYTES_MAX: usize = 256 * 1024;

fn check() -> &'static GossipCheck {
    static CHECK: OnceLock<GossipCheck> = OnceLock::new();
    CHECK.get_or_init(|| {
        let validators = (0..4)
            .map(|i| {
                let key = Keypair::derived(1, i);
                Validator { name: format!("v{i}"), public_key: key.public(), address: key.address(), power: 1 }
            })
            .collect();
        GossipCheck {
            chain_id: "fuzz".into(),
            validators: Arc::new(RwLock::new(ValidatorSet::new(validators))),
            height: Arc::new(AtomicU64::new(5)),
            message_bytes_max: MESSAGE_BYTES_MAX,
        }
    })
}

fuzz_target!(|bytes: &[u8]| {
    let _ = check().check(bytes);
    let _ = decode::<TxGossip>(bytes, MESSAGE_BYTES_MAX);
});
