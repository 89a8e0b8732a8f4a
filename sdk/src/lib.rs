//! consort-sdk: the protocol's shared vocabulary.
//!
//! Everything that crosses a process boundary — addresses, transactions, blocks, votes, receipts, their
//! canonical encoding and signatures, key files, and the JSON shapes of the RPC — is defined once here and
//! used by the node, the CLI and the tests alike.

pub mod api;
#[cfg(feature = "client")]
pub mod client;
pub mod encoding;
pub mod keys;
pub mod signing;
pub mod tx_signatures;
pub mod types;

#[cfg(feature = "client")]
pub use client::{Client, ClientError, Wallet};
pub use keys::{KeyFile, Keystore, KeystoreError};
pub use signing::{Keypair, SignatureError};
pub use types::*;
