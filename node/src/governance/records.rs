//! Membership and governance state: members, the validator set, governed limits, proposals.

use crate::contracts::ContractLimits;
use borsh::{BorshDeserialize, BorshSerialize};
use consort_sdk::{Address, ProposalKind, PublicKey};
use serde::{Deserialize, Serialize};

/// `gov/member/` + name → Member.
const MEMBER_PREFIX: &[u8] = b"gov/member/";
/// `gov/admin/` + address → member name: which organisation an admin key speaks for.
const ADMIN_PREFIX: &[u8] = b"gov/admin/";
/// The validator set, as a list: read by consensus from the height after each change.
pub const VALIDATORS_KEY: &[u8] = b"gov/validators";
/// The governed limits.
pub const LIMITS_KEY: &[u8] = b"gov/limits";
pub const PARAMS_KEY: &[u8] = b"gov/params";
const NEXT_PROPOSAL_KEY: &[u8] = b"gov/next_proposal";
/// `gov/proposal/` + id (8 bytes big-endian) → Proposal.
const PROPOSAL_PREFIX: &[u8] = b"gov/proposal/";

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub admins: Vec<Address>,
    pub peer_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ValidatorRecord {
    /// The member organisation that runs it.
    pub member: String,
    pub public_key: PublicKey,
    pub power: u64,
}

/// How the consortium decides.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GovParams {
    /// A proposal passes with at least `threshold_num / threshold_den` of the members approving.
    pub threshold_num: u64,
    pub threshold_den: u64,
    /// Blocks a proposal stays open.
    pub voting_period_blocks: u64,
}

impl Default for GovParams {
    fn default() -> Self {
        GovParams { threshold_num: 2, threshold_den: 3, voting_period_blocks: 1_000 }
    }
}

impl GovParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.threshold_den == 0 || self.threshold_num == 0 || self.threshold_num > self.threshold_den {
            return Err("governance threshold must be a fraction in (0, 1]".into());
        }
        if self.voting_period_blocks == 0 {
            return Err("governance voting_period_blocks must be at least 1".into());
        }
        Ok(())
    }

    /// Approvals needed with `members` members: the threshold fraction, rounded up.
    pub fn approvals_needed(&self, members: u64) -> u64 {
        (members * self.threshold_num).div_ceil(self.threshold_den).max(1)
    }
}

/// Limits the consortium may change by proposal; every node applies the same ones from the height after
/// a change.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ChainLimits {
    pub block_txs_max: u64,
    pub block_bytes_max: u64,
    pub contracts: ContractLimits,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Open,
    Executed,
    /// Passed, but could not be carried out (the state changed since it was proposed).
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Proposal {
    pub id: u64,
    pub kind: ProposalKind,
    pub proposer: Address,
    pub created_height: u64,
    /// Last height at which an approval counts.
    pub deadline_height: u64,
    /// Member organisations that approved, in order.
    pub approvals: Vec<String>,
    pub status: ProposalStatus,
}

pub fn member_key(name: &str) -> Vec<u8> {
    [MEMBER_PREFIX, name.as_bytes()].concat()
}

pub fn member_prefix() -> &'static [u8] {
    MEMBER_PREFIX
}

pub fn admin_key(address: &Address) -> Vec<u8> {
    [ADMIN_PREFIX, &address.0].concat()
}

pub fn proposal_key(id: u64) -> Vec<u8> {
    [PROPOSAL_PREFIX, &id.to_be_bytes()].concat()
}

pub fn proposal_prefix() -> &'static [u8] {
    PROPOSAL_PREFIX
}

pub fn next_proposal_key() -> &'static [u8] {
    NEXT_PROPOSAL_KEY
}
