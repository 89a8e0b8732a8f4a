use super::{u128_string, Address, PublicKey};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// What a governance proposal changes once enough member organisations approve it. New kinds are
/// appended, never reordered: the borsh tag is the position.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// A new member organisation: its admin keys and the peer ids of its nodes (allowed to connect).
    AddMember {
        name: String,
        admins: Vec<Address>,
        peer_ids: Vec<String>,
    },
    /// Removes a member, its validators and its nodes' right to connect.
    RemoveMember {
        name: String,
    },
    /// Adds a validator for `member`, changes its power, or removes it with power 0.
    SetValidator {
        member: String,
        public_key: PublicKey,
        power: u64,
    },
    GrantDeployer {
        address: Address,
    },
    RevokeDeployer {
        address: Address,
    },
    /// Changes a named limit (see `consort-node`'s governed limits: block and contract limits).
    SetLimit {
        name: String,
        value: u64,
    },
    /// Creates new native units: the only way total supply grows after genesis.
    Mint {
        to: Address,
        #[serde(with = "u128_string")]
        amount: u128,
    },
    /// Moves a validator's power to a new key in one step (a lost or rotated key).
    RotateValidatorKey {
        member: String,
        old_key: PublicKey,
        new_key: PublicKey,
    },
}

/// Governance actions, signed by an admin key of a member organisation.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GovAction {
    /// Opens a proposal (the proposer's member approves it at once); it lapses after the voting period.
    Propose { kind: ProposalKind },
    /// The signer's member organisation approves proposal `id`.
    Approve { id: u64 },
}
