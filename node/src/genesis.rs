//! genesis.json: the chain id, the validators and the funded accounts at height 0.

use crate::contracts::records::deployer_key;
use crate::contracts::ContractLimits;
use crate::exec::{account_key, app_hash, Account, StateWrites};
use crate::governance::records::{
    admin_key, member_key, ChainLimits, GovParams, Member, ValidatorRecord, LIMITS_KEY, PARAMS_KEY, VALIDATORS_KEY,
};
use borsh::BorshSerialize;
use consort_sdk::encoding::encode;
use consort_sdk::{u128_string, Address, Hash, PublicKey, CHAIN_ID_BYTES_MAX};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

/// Largest genesis file read (a million funded accounts fit comfortably).
pub const GENESIS_BYTES_MAX: u64 = 512 * 1024 * 1024;

#[derive(Clone, Debug, Serialize, Deserialize, BorshSerialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    pub chain_id: String,
    pub genesis_time_ms: u64,
    pub validators: Vec<GenesisValidator>,
    pub accounts: Vec<GenesisAccount>,
    /// Accounts holding the deploy role (may store contract code): the member organisations.
    #[serde(default)]
    pub deployers: Vec<Address>,
    /// Contract limits every node applies.
    #[serde(default)]
    pub contracts: ContractLimits,
    /// Member organisations: admin keys (who may propose and approve) and node peer ids (who may connect).
    /// Left empty, each validator is a member of its own name with no admin keys.
    #[serde(default)]
    pub members: Vec<Member>,
    #[serde(default)]
    pub governance: GovParams,
    #[serde(default)]
    pub blocks: BlockLimits,
}

/// Block limits every node enforces; governance may change them later.
#[derive(Clone, Debug, Serialize, Deserialize, BorshSerialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlockLimits {
    pub txs_max: u64,
    pub bytes_max: u64,
}

impl Default for BlockLimits {
    fn default() -> Self {
        BlockLimits { txs_max: 5_000, bytes_max: 4 * 1024 * 1024 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, BorshSerialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    pub name: String,
    pub public_key: PublicKey,
    pub power: u64,
    /// libp2p peer id of the member's node: only listed peers may connect.
    pub peer_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, BorshSerialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    pub address: Address,
    #[serde(with = "u128_string")]
    pub balance: u128,
}

#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    #[error("cannot read genesis file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("genesis file {path} is {len} bytes, over the {GENESIS_BYTES_MAX}-byte limit")]
    TooLarge { path: String, len: u64 },
    #[error("genesis file {path} is not valid genesis JSON: {source}")]
    Parse { path: String, source: serde_json::Error },
    #[error("genesis is invalid: {0}")]
    Invalid(String),
}

pub fn valid_chain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= CHAIN_ID_BYTES_MAX
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

impl Genesis {
    pub fn load(path: &Path) -> Result<Genesis, GenesisError> {
        let shown = path.display().to_string();
        let io = |source| GenesisError::Io { path: shown.clone(), source };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > GENESIS_BYTES_MAX {
            return Err(GenesisError::TooLarge { path: shown, len });
        }
        // Parsed from a buffered reader, not a read of the whole file: a genesis of a million accounts is
        // over 100 MB of text that would sit in memory beside what it parses into.
        let file = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?.take(GENESIS_BYTES_MAX));
        let genesis: Genesis =
            serde_json::from_reader(file).map_err(|source| GenesisError::Parse { path: shown, source })?;
        genesis.validate()?;
        Ok(genesis)
    }

    pub fn validate(&self) -> Result<(), GenesisError> {
        let bad = |m: String| Err(GenesisError::Invalid(m));
        if !valid_chain_id(&self.chain_id) {
            return bad(format!(
                "chain_id {:?} must be 1–{CHAIN_ID_BYTES_MAX} characters of a-z, 0-9, '-', '_', '.'",
                self.chain_id
            ));
        }
        if self.validators.is_empty() {
            return bad("at least one validator is required".into());
        }
        let mut keys = BTreeSet::new();
        let mut power: u64 = 0;
        for v in &self.validators {
            if v.power == 0 {
                return bad(format!("validator {:?} has zero power", v.name));
            }
            if !keys.insert(v.public_key) {
                return bad(format!("validator key {} is listed twice", v.public_key));
            }
            if v.peer_id.parse::<libp2p::PeerId>().is_err() {
                return bad(format!("validator {:?} has an invalid peer_id {:?}", v.name, v.peer_id));
            }
            // Bounded so that 3 × total power cannot overflow in quorum arithmetic.
            power = match power.checked_add(v.power) {
                Some(p) if p <= u64::MAX / 4 => p,
                _ => return bad("total validator power is too large".into()),
            };
        }
        let mut addresses = BTreeSet::new();
        let mut supply: u128 = 0;
        for a in &self.accounts {
            if !addresses.insert(a.address) {
                return bad(format!("account {} is listed twice", a.address));
            }
            supply = match supply.checked_add(a.balance) {
                Some(s) => s,
                None => return bad("total supply overflows u128".into()),
            };
        }
        let members = self.effective_members();
        let mut names = BTreeSet::new();
        let mut admins = BTreeSet::new();
        for m in &members {
            if !names.insert(m.name.as_str()) {
                return bad(format!("member {:?} is listed twice", m.name));
            }
            if let Some(a) = m.admins.iter().find(|a| !admins.insert(**a)) {
                return bad(format!("admin key {a} is listed for two members"));
            }
            if let Some(p) = m.peer_ids.iter().find(|p| p.parse::<libp2p::PeerId>().is_err()) {
                return bad(format!("member {:?} has an invalid peer id {p:?}", m.name));
            }
        }
        if let Some(v) = self.validators.iter().find(|v| !names.contains(v.name.as_str())) {
            return bad(format!("validator {:?} does not belong to a member of that name", v.name));
        }
        self.governance.validate().map_err(GenesisError::Invalid)?;
        if self.blocks.txs_max == 0 || self.blocks.bytes_max == 0 {
            return bad("block limits must be greater than zero".into());
        }
        let mut deployers = BTreeSet::new();
        if let Some(d) = self.deployers.iter().find(|d| !deployers.insert(**d)) {
            return bad(format!("deployer {d} is listed twice"));
        }
        self.contracts.validate().map_err(GenesisError::Invalid)
    }

    /// The members as genesis lists them, or one per validator when it lists none.
    pub fn effective_members(&self) -> Vec<Member> {
        if !self.members.is_empty() {
            return self.members.clone();
        }
        let mut members: Vec<Member> = Vec::new();
        for v in &self.validators {
            match members.iter_mut().find(|m| m.name == v.name) {
                Some(m) => m.peer_ids.push(v.peer_id.clone()),
                None => {
                    members.push(Member { name: v.name.clone(), admins: Vec::new(), peer_ids: vec![v.peer_id.clone()] })
                }
            }
        }
        members
    }

    /// Every peer id allowed to connect at genesis: the members' nodes and the validators'.
    pub fn peer_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.effective_members().into_iter().flat_map(|m| m.peer_ids).collect();
        ids.extend(self.validators.iter().map(|v| v.peer_id.clone()));
        ids.sort();
        ids.dedup();
        ids
    }

    pub fn limits(&self) -> ChainLimits {
        ChainLimits {
            block_txs_max: self.blocks.txs_max,
            block_bytes_max: self.blocks.bytes_max,
            contracts: self.contracts.clone(),
        }
    }

    /// Identifies this genesis: nodes refuse to reopen a database made from a different one.
    pub fn hash(&self) -> Hash {
        Hash::digest(&encode(self))
    }

    pub fn state_writes(&self) -> StateWrites {
        let mut writes: StateWrites = self
            .accounts
            .iter()
            .map(|a| (account_key(&a.address), Some(encode(&Account { balance: a.balance, nonce: 0 }))))
            .chain(self.deployers.iter().map(|d| (deployer_key(d), Some(Vec::new()))))
            .collect();
        for m in self.effective_members() {
            for admin in &m.admins {
                writes.push((admin_key(admin), Some(m.name.as_bytes().to_vec())));
            }
            writes.push((member_key(&m.name), Some(encode(&m))));
        }
        let set: Vec<ValidatorRecord> = self
            .validators
            .iter()
            .map(|v| ValidatorRecord { member: v.name.clone(), public_key: v.public_key, power: v.power })
            .collect();
        writes.push((VALIDATORS_KEY.to_vec(), Some(encode(&set))));
        writes.push((PARAMS_KEY.to_vec(), Some(encode(&self.governance))));
        writes.push((LIMITS_KEY.to_vec(), Some(encode(&self.limits()))));
        writes.sort();
        writes
    }

    /// App hash of the genesis state (height 0).
    pub fn app_hash(&self) -> Hash {
        self.app_hash_of(&self.hash(), &self.state_writes())
    }

    /// App hash of the genesis state given its `hash()` and `state_writes()`, for callers that need them
    /// too (each is a pass over every account).
    pub fn app_hash_of(&self, genesis_hash: &Hash, state_writes: &StateWrites) -> Hash {
        app_hash(&Hash::ZERO, 0, genesis_hash, state_writes, &[])
    }
}
