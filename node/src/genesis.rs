//! genesis.json: the chain id, the validators and the funded accounts at height 0.

use crate::contracts::records::deployer_key;
use crate::contracts::ContractLimits;
use crate::exec::{account_key, Account, AppHasher};
use crate::governance::records::{
    admin_key, member_key, ChainLimits, GovParams, Member, ValidatorRecord, LIMITS_KEY, PARAMS_KEY, VALIDATORS_KEY,
};
use crate::storage::{ChainHead, Store, StoreError};
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
        // A sorted list, not a set: 20 bytes an account rather than twice that in tree nodes.
        let mut addresses: Vec<Address> = self.accounts.iter().map(|a| a.address).collect();
        addresses.sort_unstable();
        if let Some(twice) = addresses.windows(2).find(|w| w[0] == w[1]) {
            return bad(format!("account {} is listed twice", twice[0]));
        }
        drop(addresses);
        let mut supply: u128 = 0;
        for a in &self.accounts {
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
        // Hashed as it is encoded: a million accounts encode to ~36 MB that need not sit in memory.
        let mut hasher = blake3::Hasher::new();
        BorshSerialize::serialize(self, &mut hasher).expect("borsh encoding into a hasher cannot fail");
        Hash(*hasher.finalize().as_bytes())
    }

    /// The genesis state as (key, value) writes in key order, built one at a time: a million accounts as
    /// one list of writes took ~130 MB beside the parsed genesis, the node's peak memory.
    pub fn state_writes(&self) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
        let mut records: Vec<(Vec<u8>, Vec<u8>)> =
            self.deployers.iter().map(|d| (deployer_key(d), Vec::new())).collect();
        for m in self.effective_members() {
            for admin in &m.admins {
                records.push((admin_key(admin), m.name.as_bytes().to_vec()));
            }
            records.push((member_key(&m.name), encode(&m)));
        }
        let set: Vec<ValidatorRecord> = self
            .validators
            .iter()
            .map(|v| ValidatorRecord { member: v.name.clone(), public_key: v.public_key, power: v.power })
            .collect();
        records.push((VALIDATORS_KEY.to_vec(), encode(&set)));
        records.push((PARAMS_KEY.to_vec(), encode(&self.governance)));
        records.push((LIMITS_KEY.to_vec(), encode(&self.limits())));
        records.sort();
        // Account keys share one prefix and have a fixed length, so address order is key order.
        let mut by_address: Vec<&GenesisAccount> = self.accounts.iter().collect();
        by_address.sort_unstable_by_key(|a| a.address);
        let mut accounts = by_address
            .into_iter()
            .map(|a| (account_key(&a.address), encode(&Account { balance: a.balance, nonce: 0 })))
            .peekable();
        let mut records = records.into_iter().peekable();
        std::iter::from_fn(move || match (accounts.peek(), records.peek()) {
            (Some((account, _)), Some((record, _))) if record < account => records.next(),
            (Some(_), _) => accounts.next(),
            (None, _) => records.next(),
        })
    }

    /// App hash of the genesis state (height 0).
    pub fn app_hash(&self) -> Hash {
        let mut hasher = AppHasher::new(&Hash::ZERO, 0, &self.hash());
        for (key, value) in self.state_writes() {
            hasher.write(&key, Some(&value));
        }
        hasher.finish(&[])
    }

    /// Writes the genesis state into an empty `store` as it is built, hashing it on the way, and returns
    /// the head at height 0. `hash` is [`Genesis::hash`], which the caller has taken already to check the
    /// database (a pass over every account, not repeated here).
    pub fn import_into(&self, store: &Store, hash: Hash) -> Result<ChainHead, StoreError> {
        let mut hasher = AppHasher::new(&Hash::ZERO, 0, &hash);
        store.import_genesis_state(self.state_writes().inspect(|(key, value)| hasher.write(key, Some(value))))?;
        let head = ChainHead {
            height: 0,
            block_hash: hash,
            block_time_ms: self.genesis_time_ms,
            app_hash: hasher.finish(&[]),
        };
        store.finish_genesis(hash, &head)?;
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consort_sdk::Keypair;

    /// A fixed genesis: accounts listed out of address order, deployers, a member with admin keys.
    fn sample() -> Genesis {
        let keys: Vec<Keypair> = (0..40).map(|i| Keypair::derived(9, i)).collect();
        let mut accounts: Vec<GenesisAccount> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisAccount { address: k.address(), balance: 1_000 + i as u128 })
            .collect();
        accounts.reverse();
        Genesis {
            chain_id: "golden".into(),
            genesis_time_ms: 1_700_000_000_000,
            validators: vec![GenesisValidator {
                name: "m0".into(),
                public_key: keys[0].public(),
                power: 10,
                peer_id: "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA".into(),
            }],
            accounts,
            deployers: keys[..3].iter().map(|k| k.address()).collect(),
            contracts: Default::default(),
            members: vec![Member {
                name: "m0".into(),
                admins: keys[3..5].iter().map(|k| k.address()).collect(),
                peer_ids: vec!["12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA".into()],
            }],
            governance: Default::default(),
            blocks: Default::default(),
        }
    }

    #[test]
    fn state_writes_come_in_key_order_and_hold_every_record() {
        let genesis = sample();
        genesis.validate().unwrap();
        let writes: Vec<(Vec<u8>, Vec<u8>)> = genesis.state_writes().collect();
        assert!(writes.windows(2).all(|w| w[0].0 < w[1].0), "keys out of order or repeated");
        let mut expected: Vec<Vec<u8>> = genesis.accounts.iter().map(|a| account_key(&a.address)).collect();
        expected.extend(genesis.deployers.iter().map(deployer_key));
        expected.extend(genesis.members[0].admins.iter().map(admin_key));
        expected.push(member_key("m0"));
        expected.extend([VALIDATORS_KEY, PARAMS_KEY, LIMITS_KEY].map(<[u8]>::to_vec));
        expected.sort();
        assert_eq!(writes.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), expected);
        let first = &genesis.accounts[0];
        let value = writes.iter().find(|(k, _)| *k == account_key(&first.address)).map(|(_, v)| v.clone());
        assert_eq!(value, Some(encode(&Account { balance: first.balance, nonce: 0 })));
    }

    /// The genesis app hash is the first link of every chain's app hash: a change to how genesis state is
    /// built or hashed must not move it. The value is what the release before streamed imports computed.
    #[test]
    fn app_hash_is_pinned() {
        assert_eq!(sample().app_hash().to_string(), "9667d458e2f3823fcc1ff66ad24af88645a7f9ab69a6f55e2f0cc4e655bda438");
    }

    #[test]
    fn an_account_listed_twice_is_refused() {
        let mut genesis = sample();
        let again = genesis.accounts[7].clone();
        genesis.accounts.push(GenesisAccount { balance: 1, ..again });
        let err = genesis.validate().unwrap_err().to_string();
        assert!(err.contains(&format!("account {} is listed twice", again.address)), "{err}");
    }

    #[test]
    fn import_stores_every_write_and_the_head() {
        let genesis = sample();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let head = genesis.import_into(&store, genesis.hash()).unwrap();
        assert_eq!(head.app_hash, genesis.app_hash());
        assert_eq!((head.height, head.block_hash, head.block_time_ms), (0, genesis.hash(), genesis.genesis_time_ms));
        assert_eq!(store.head().unwrap(), Some(head));
        assert_eq!(store.genesis_hash().unwrap(), Some(genesis.hash()));
        for (key, value) in genesis.state_writes() {
            assert_eq!(store.state_get(&key).unwrap(), Some(value), "{}", String::from_utf8_lossy(&key));
        }
    }
}
