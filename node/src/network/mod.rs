//! The libp2p network: TCP + noise + yamux with ed25519 node identities; gossipsub topics for txs and
//! consensus messages, each checked by us before it is relayed; request-response block sync; identify;
//! and an allow-list that refuses any peer that is not a consortium member at connection time.

mod gossip_check;
mod swarm;
mod sync_codec;

pub use gossip_check::{GossipCheck, Verdict, FUTURE_HEIGHTS_MAX};
pub use swarm::{spawn, NetCommand, NetEvent, NetworkConfig, NetworkHandle, NetworkMetrics, TX_GOSSIP_QUEUE_BATCHES};
pub use sync_codec::SYNC_RESPONSE_BYTES_MAX;

/// The libp2p identity of a node key (the same ed25519 seed as in node_key.json).
pub fn identity_of(secret: [u8; 32]) -> libp2p::identity::Keypair {
    let mut seed = secret;
    libp2p::identity::Keypair::ed25519_from_bytes(&mut seed).expect("a 32-byte seed is a valid ed25519 key")
}
