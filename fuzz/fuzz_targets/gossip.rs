//! Gossip from arbitrary bytes, decoded as a node decodes a peer's message (consensus gossip and tx gossip
//! batches): no panic, and what decodes re-encodes to the same bytes. A consensus message then goes
//! through the node's own `GossipCheck` twice: as a stranger's (empty validator set: never accepted) and
//! with its signers made validators on its chain near its height, so that the height window, block,
//! polka and signature checks all run; whatever is accepted must carry valid signatures.
#![no_main]

use consort_node::consensus::{Validator, ValidatorSet};
use consort_node::network::{GossipCheck, Verdict};
use consort_sdk::encoding::{decode, encode};
use consort_sdk::{Address, ConsensusGossip, ConsensusMessage, PublicKey, TxGossip};
use libfuzzer_sys::fuzz_target;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

const MESSAGE_BYTES_MAX: usize = 256 * 1024;

fn checker(chain_id: &str, height: u64, signers: &[PublicKey]) -> GossipCheck {
    let validators = signers
        .iter()
        .enumerate()
        .map(|(i, key)| Validator {
            name: format!("v{i}"),
            public_key: *key,
            address: Address::from_public_key(key),
            power: 1,
        })
        .collect();
    GossipCheck {
        chain_id: chain_id.into(),
        validators: Arc::new(RwLock::new(ValidatorSet::new(validators))),
        height: Arc::new(AtomicU64::new(height)),
        message_bytes_max: MESSAGE_BYTES_MAX,
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(batch) = decode::<TxGossip>(bytes, MESSAGE_BYTES_MAX) {
        assert_eq!(encode(&batch), bytes);
    }
    let Ok(gossip) = decode::<ConsensusGossip>(bytes, MESSAGE_BYTES_MAX) else {
        return;
    };
    assert_eq!(encode(&gossip), bytes);
    let (chain_id, height, mut signers) = match &gossip.msg {
        ConsensusMessage::Vote(v) => (&v.vote.chain_id, v.vote.height, vec![v.validator]),
        ConsensusMessage::Proposal { proposal, polka, .. } => {
            let mut signers = vec![proposal.proposer];
            signers.extend(polka.iter().map(|v| v.validator));
            (&proposal.proposal.chain_id, proposal.proposal.height, signers)
        }
    };
    let stranger = checker(chain_id, height, &[]).check(bytes);
    assert!(matches!(stranger, Verdict::Reject(_) | Verdict::Ignore(_)), "a stranger's message: {stranger:?}");
    signers.sort();
    signers.dedup();
    // The last byte picks how far behind the message our height is: 0–2 inside the window, 3 ahead.
    let behind = u64::from(bytes[bytes.len() - 1] % 4);
    match checker(chain_id, height.saturating_sub(behind), &signers).check(bytes) {
        Verdict::Accept(msg) => {
            assert_eq!(*msg, gossip.msg);
            match &gossip.msg {
                ConsensusMessage::Vote(v) => assert!(v.verify_signature().is_ok()),
                ConsensusMessage::Proposal { proposal, polka, .. } => {
                    assert!(proposal.verify_signature().is_ok());
                    assert!(polka.iter().all(|v| v.verify_signature().is_ok()));
                }
            }
        }
        Verdict::Ahead => assert!(behind > 2, "in the window but ahead"),
        Verdict::Reject(_) | Verdict::Ignore(_) => {}
    }
});
