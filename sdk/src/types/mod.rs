//! Protocol types. Borsh is the canonical (hashed, signed, stored) form; serde gives the JSON views.

mod address;
mod amount;
mod block;
mod bytes;
mod event;
mod evidence;
mod governance;
mod hash;
mod keys;
mod receipt;
mod tx;
mod vote;
mod wire;

pub use address::{Address, AddressError, ADDRESS_HRP};
pub use amount::u128_string;
pub use block::{Block, BlockHeader};
pub use bytes::hex_bytes;
pub use event::{Attribute, Event};
pub use evidence::{Evidence, EvidenceError};
pub use governance::{GovAction, ProposalKind};
pub use hash::{Hash, HashParseError};
pub use keys::{PublicKey, Signature};
pub use receipt::{Receipt, TxOutcome};
pub use tx::{Action, SignedTx, Tx, CHAIN_ID_BYTES_MAX};
pub use vote::{Commit, CommitSig, Proposal, SignedProposal, SignedVote, Vote, VoteKind};
pub use wire::{ConsensusGossip, ConsensusMessage, SyncRequest, SyncResponse, TxGossip};
