//! A native stand-in for the chain, in the spirit of cw-multi-test: accounts with balances, contracts
//! with private storage, blocks, funds sent with calls, and all-or-nothing calls. Contract logic is tested
//! with plain `cargo test`, through the same boundary the node uses (JSON messages, borsh results).
//!
//! ```ignore
//! let mut chain = MockChain::new();
//! chain.fund("alice", 1_000);
//! let counter = chain.instantiate(my_contract::contract(), "alice", &json!({"start": 1}), 0).unwrap();
//! chain.execute(&counter, "alice", &json!({"increment": {}}), 10).unwrap();
//! let n: u64 = chain.query(&counter, &json!({"count": {}})).unwrap();
//! ```

use crate::abi::{CallResult, EncodedResponse};
use crate::context::Context;
use crate::dispatch::{ContractFns, MutEntry};
use crate::{Env, Host, Info, Response, StdError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

type Storage = BTreeMap<Vec<u8>, Vec<u8>>;

fn decoded_response(encoded: EncodedResponse) -> Result<Response, String> {
    let data = encoded.data.map(|d| serde_json::from_str(&d)).transpose();
    let data = data.map_err(|e| format!("the response's data is not JSON: {e}"))?;
    Ok(Response { data, events: encoded.events })
}

struct Instance {
    fns: ContractFns,
    admin: Option<String>,
    storage: Storage,
}

/// A valid consort address derived from a name, for tests: the same name always gives the same address.
pub fn address(name: &str) -> String {
    let mut bytes = [0u8; 20];
    for (i, b) in name.bytes().enumerate() {
        bytes[i % 20] = bytes[i % 20].wrapping_mul(31).wrapping_add(b);
    }
    crate::encode_address(&bytes)
}

/// The simulated chain.
pub struct MockChain {
    chain_id: String,
    height: u64,
    time_ms: u64,
    balances: BTreeMap<String, u128>,
    contracts: BTreeMap<String, Instance>,
    created: u64,
}

impl Default for MockChain {
    fn default() -> Self {
        MockChain::new()
    }
}

/// The host a call sees: its contract's storage and every balance.
struct MockHost<'a> {
    contract: &'a str,
    storage: &'a mut Storage,
    balances: &'a mut BTreeMap<String, u128>,
    /// What each change replaced, oldest first: a failed call is undone from it, so a call costs what it
    /// touches rather than a copy of all state.
    undo: Vec<Undo>,
}

enum Undo {
    Storage(Vec<u8>, Option<Vec<u8>>),
    Balance(String, Option<u128>),
}

impl MockHost<'_> {
    fn move_funds(&mut self, from: &str, to: &str, amount: u128) -> Result<(), StdError> {
        if to.is_empty() {
            return Err(StdError::InvalidAddress(to.into()));
        }
        let balance = self.balance(from);
        let Some(left) = balance.checked_sub(amount) else {
            return Err(StdError::InsufficientFunds { balance, amount });
        };
        self.set_balance(from, left);
        let dest = self.balance(to);
        let credited = dest.checked_add(amount).ok_or_else(|| StdError::msg("recipient balance would overflow"));
        match credited {
            Ok(credited) => {
                self.set_balance(to, credited);
                Ok(())
            }
            Err(e) => {
                self.set_balance(from, balance);
                Err(e)
            }
        }
    }

    fn set_balance(&mut self, address: &str, amount: u128) {
        let before = self.balances.insert(address.to_owned(), amount);
        self.undo.push(Undo::Balance(address.to_owned(), before));
    }

    fn rollback(self) {
        for change in self.undo.into_iter().rev() {
            match change {
                Undo::Storage(key, Some(v)) => {
                    self.storage.insert(key, v);
                }
                Undo::Storage(key, None) => {
                    self.storage.remove(&key);
                }
                Undo::Balance(address, Some(v)) => {
                    self.balances.insert(address, v);
                }
                Undo::Balance(address, None) => {
                    self.balances.remove(&address);
                }
            }
        }
    }
}

impl Host for MockHost<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.storage.get(key).cloned()
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        let before = self.storage.insert(key.to_vec(), value.to_vec());
        self.undo.push(Undo::Storage(key.to_vec(), before));
    }

    fn remove(&mut self, key: &[u8]) {
        let before = self.storage.remove(key);
        self.undo.push(Undo::Storage(key.to_vec(), before));
    }

    fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Option<(Vec<u8>, Vec<u8>)> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let start = match after {
            Some(a) => Excluded(a.to_vec()),
            None => Included(prefix.to_vec()),
        };
        let (k, v) = self.storage.range((start, Unbounded)).next()?;
        k.starts_with(prefix).then(|| (k.clone(), v.clone()))
    }

    fn balance(&self, address: &str) -> u128 {
        self.balances.get(address).copied().unwrap_or(0)
    }

    fn send(&mut self, to: &str, amount: u128) -> Result<(), StdError> {
        let contract = self.contract;
        self.move_funds(contract, to, amount)
    }
}

impl MockChain {
    pub fn new() -> MockChain {
        MockChain {
            chain_id: "mock-chain".into(),
            height: 1,
            time_ms: 1_700_000_000_000,
            balances: BTreeMap::new(),
            contracts: BTreeMap::new(),
            created: 0,
        }
    }

    /// Credits `amount` to `address` out of thin air (the mock's genesis).
    pub fn fund(&mut self, address: &str, amount: u128) {
        *self.balances.entry(address.to_owned()).or_insert(0) += amount;
    }

    pub fn balance(&self, address: &str) -> u128 {
        self.balances.get(address).copied().unwrap_or(0)
    }

    /// Sum of every balance: what contract tests check for conservation.
    pub fn total_supply(&self) -> u128 {
        self.balances.values().sum()
    }

    pub fn height(&self) -> u64 {
        self.height
    }

    /// Moves to a later block, `ms_per_block` apart.
    pub fn advance_blocks(&mut self, blocks: u64, ms_per_block: u64) {
        self.height += blocks;
        self.time_ms += blocks * ms_per_block;
    }

    fn env(&self, contract: &str) -> Env {
        Env { chain_id: self.chain_id.clone(), height: self.height, time_ms: self.time_ms, contract: contract.into() }
    }

    /// Creates a contract with `sender` as its admin; returns its address.
    pub fn instantiate(
        &mut self,
        fns: ContractFns,
        sender: &str,
        msg: &impl Serialize,
        funds: u128,
    ) -> Result<String, String> {
        self.created += 1;
        let address = self::address(&format!("contract {}", self.created));
        self.contracts.insert(address.clone(), Instance { fns, admin: Some(sender.into()), storage: Storage::new() });
        match self.call(&address, sender, msg, funds, |i| Some(i.fns.instantiate)) {
            Ok(_) => Ok(address),
            Err(e) => {
                self.contracts.remove(&address);
                Err(e)
            }
        }
    }

    pub fn execute(
        &mut self,
        contract: &str,
        sender: &str,
        msg: &impl Serialize,
        funds: u128,
    ) -> Result<Response, String> {
        self.call(contract, sender, msg, funds, |i| Some(i.fns.execute))
    }

    /// Runs the contract's migrate entry point, optionally swapping its code first. Only the admin may.
    pub fn migrate(
        &mut self,
        contract: &str,
        sender: &str,
        new_code: Option<ContractFns>,
        msg: &impl Serialize,
    ) -> Result<Response, String> {
        let instance = self.contracts.get_mut(contract).ok_or_else(|| format!("no contract at {contract}"))?;
        if instance.admin.as_deref() != Some(sender) {
            return Err(format!("only the admin may migrate {contract}"));
        }
        let old = instance.fns;
        if let Some(fns) = new_code {
            instance.fns = fns;
        }
        let result = self.call(contract, sender, msg, 0, |i| i.fns.migrate);
        if result.is_err() {
            if let Some(instance) = self.contracts.get_mut(contract) {
                instance.fns = old;
            }
        }
        result
    }

    pub fn query<T: DeserializeOwned>(&self, contract: &str, msg: &impl Serialize) -> Result<T, String> {
        let instance = self.contracts.get(contract).ok_or_else(|| format!("no contract at {contract}"))?;
        let msg = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
        let mut balances = self.balances.clone();
        let mut storage = instance.storage.clone();
        let host = MockHost { contract, storage: &mut storage, balances: &mut balances, undo: Vec::new() };
        let context = Context { env: self.env(contract), info: None };
        let out = (instance.fns.query)(&host, context, &msg);
        let answer = borsh::from_slice::<CallResult<String>>(&out)
            .map_err(|e| format!("query result is not a borsh CallResult: {e}"))?
            .into_result()?;
        serde_json::from_str(&answer).map_err(|e| format!("query answer does not have the expected shape: {e}"))
    }

    /// Raw storage of a contract, for assertions.
    pub fn storage(&self, contract: &str) -> Option<&BTreeMap<Vec<u8>, Vec<u8>>> {
        self.contracts.get(contract).map(|i| &i.storage)
    }

    /// One all-or-nothing call: funds move first; any error restores balances and storage.
    fn call(
        &mut self,
        contract: &str,
        sender: &str,
        msg: &impl Serialize,
        funds: u128,
        entry: impl FnOnce(&Instance) -> Option<MutEntry>,
    ) -> Result<Response, String> {
        let msg = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
        let env = self.env(contract);
        let instance = self.contracts.get_mut(contract).ok_or_else(|| format!("no contract at {contract}"))?;
        let entry = entry(instance).ok_or_else(|| format!("contract {contract} has no such entry point"))?;
        let mut host =
            MockHost { contract, storage: &mut instance.storage, balances: &mut self.balances, undo: Vec::new() };
        host.move_funds(sender, contract, funds).map_err(|e| e.to_string())?;
        let context = Context { env, info: Some(Info { sender: sender.into(), funds }) };
        let out = entry(&mut host, context, &msg);
        let result = borsh::from_slice::<CallResult<EncodedResponse>>(&out)
            .map_err(|e| format!("contract result is not a borsh CallResult: {e}"))
            .and_then(CallResult::into_result)
            .and_then(decoded_response);
        if result.is_err() {
            host.rollback();
        }
        result
    }
}
