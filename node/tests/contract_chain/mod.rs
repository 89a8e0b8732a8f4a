// Shared by several test crates, each using a part of it.
#![allow(dead_code)]

//! An in-process chain for contract tests: real executor, real wasmtime, state in a BTreeMap (the same
//! `StateReader` contract as RocksDB), blocks applied one after another.

use consort_node::contracts::records::deployer_key;
use consort_node::contracts::{ContractEngine, ContractLimits};
use consort_node::exec::{account_key, execute_block, Account, TxVerifier};
use consort_node::hashed_block::HashedBlock;
use consort_sdk::encoding::{decode, encode};
use consort_sdk::{Action, Address, Block, BlockHeader, Hash, Keypair, Receipt, SignedTx, Tx, TxOutcome};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const CHAIN: &str = "contract-test";
pub const FUNDS: u128 = 1_000_000_000;
pub const GAS: u64 = 20_000_000;

pub struct Chain {
    pub state: BTreeMap<Vec<u8>, Vec<u8>>,
    pub engine: ContractEngine,
    pub verifier: TxVerifier,
    pub height: u64,
    pub app_hash: Hash,
    nonces: BTreeMap<Address, u64>,
}

impl Chain {
    /// A chain where `deployers` hold the deploy role and every key in `funded` has [`FUNDS`].
    pub fn new(deployers: &[&Keypair], funded: &[&Keypair]) -> Chain {
        Chain::with_limits(ContractLimits::default(), deployers, funded)
    }

    pub fn with_limits(limits: ContractLimits, deployers: &[&Keypair], funded: &[&Keypair]) -> Chain {
        let mut state = BTreeMap::new();
        for k in funded {
            state.insert(account_key(&k.address()), encode(&Account { balance: FUNDS, nonce: 0 }));
        }
        for k in deployers {
            state.insert(deployer_key(&k.address()), Vec::new());
        }
        let engine = ContractEngine::new(&limits, limits.stack_bytes_max, 16).unwrap();
        Chain {
            state,
            engine,
            verifier: TxVerifier::default(),
            height: 0,
            app_hash: Hash::ZERO,
            nonces: BTreeMap::new(),
        }
    }

    /// A chain whose state is `genesis`'s (members, validators, limits, accounts, deployers).
    pub fn from_genesis(genesis: &consort_node::genesis::Genesis) -> Chain {
        let mut chain = Chain::with_limits(genesis.contracts.clone(), &[], &[]);
        chain.state.extend(genesis.state_writes());
        chain
    }

    pub fn sign(&mut self, key: &Keypair, action: Action, gas_limit: u64) -> SignedTx {
        let nonce = self.nonces.entry(key.address()).or_insert(0);
        let tx = Tx { chain_id: CHAIN.into(), signer: key.public(), nonce: *nonce, gas_limit, action };
        *nonce += 1;
        key.sign_tx(tx)
    }

    /// Executes one block of `txs` and applies its writes.
    pub fn block(&mut self, txs: Vec<SignedTx>) -> Vec<Receipt> {
        self.height += 1;
        let block = Block {
            header: BlockHeader {
                chain_id: CHAIN.into(),
                height: self.height,
                time_ms: 1_700_000_000_000 + self.height * 1000,
                prev_block_hash: Hash::ZERO,
                txs_hash: Block::txs_hash_of(&txs),
                last_app_hash: self.app_hash,
                proposer: Address([0; 20]),
            },
            txs,
        };
        let block = HashedBlock::new(block);
        let executed =
            execute_block(&self.engine, &self.verifier, Arc::new(self.state.clone()), &block, CHAIN, &self.app_hash)
                .unwrap();
        for (k, v) in executed.state_writes {
            match v {
                Some(v) => self.state.insert(k, v),
                None => self.state.remove(&k),
            };
        }
        self.app_hash = executed.app_hash;
        executed.receipts
    }

    pub fn run(&mut self, key: &Keypair, action: Action, gas_limit: u64) -> Receipt {
        let tx = self.sign(key, action, gas_limit);
        self.block(vec![tx]).remove(0)
    }

    pub fn balance(&self, address: &Address) -> u128 {
        self.state.get(&account_key(address)).map_or(0, |v| decode::<Account>(v, 64).unwrap().balance)
    }

    /// Stores `code` as `key` and returns its hash, asserting success.
    pub fn store(&mut self, key: &Keypair, code: &[u8]) -> Hash {
        let r = self.run(key, Action::StoreCode { code: code.to_vec() }, GAS);
        assert_ok(&r);
        Hash::digest(code)
    }

    /// Instantiates `code_hash` with `key` as admin; returns the contract address.
    pub fn instantiate(&mut self, key: &Keypair, code_hash: Hash, msg: &str, funds: u128) -> Address {
        let action =
            Action::Instantiate { code_hash, admin: Some(key.address()), label: "test".into(), msg: msg.into(), funds };
        let r = self.run(key, action, GAS);
        assert_ok(&r);
        r.event("instantiate").and_then(|e| e.get("contract")).unwrap().parse().unwrap()
    }

    pub fn execute(&mut self, key: &Keypair, contract: Address, msg: &str, funds: u128, gas: u64) -> Receipt {
        self.run(key, Action::Execute { contract, msg: msg.into(), funds }, gas)
    }

    /// Everything in state except account records (which change with every nonce).
    pub fn state_without_accounts(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        self.state.iter().filter(|(k, _)| !k.starts_with(b"acct/")).map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

pub fn assert_ok(r: &Receipt) {
    assert!(r.is_success(), "expected success, got {:?}", r.outcome);
}

/// The failure code and message of a receipt, asserting it failed.
pub fn failure(r: &Receipt) -> (String, String) {
    match &r.outcome {
        TxOutcome::Failed { code, message } => (code.clone(), message.clone()),
        TxOutcome::Success => panic!("expected a failure, got success with events {:?}", r.events),
    }
}

const MUT_OK: &str = r#"{"ok":{"data":null,"events":[{"kind":"ran","attributes":[]}]}}"#;
const QUERY_OK: &str = r#"{"ok":42}"#;
const MUT_ERR: &str = r#"{"err":"refused by the contract"}"#;

fn wat_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `consort_alloc` for hand-written modules: a bump allocator from 16 KiB up, never freeing (each call
/// gets a fresh instance).
pub const WAT_ALLOC: &str = r#"(global $heap (mut i32) (i32.const 16384))
  (func (export "consort_alloc") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $len)))
    (local.get $p))"#;

/// A hand-written contract module. `imports` and `funcs` are extra WAT; `execute` is the body of the
/// execute entry point (params `$ptr $len`), which must leave an i64 result, for example `(call $ok)`.
pub fn wat_contract(imports: &str, funcs: &str, execute: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  {WAT_ALLOC}
  (data (i32.const 0) "{mut_ok}")
  (data (i32.const 1024) "{query_ok}")
  (data (i32.const 2048) "{mut_err}")
  (func $ok (result i64) (i64.const {mut_ok_len}))
  (func $err (result i64) (i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const {mut_err_len})))
  (func (export "instantiate") (param i32 i32) (result i64) (call $ok))
  (func (export "execute") (param $ptr i32) (param $len i32) (result i64) {execute})
  (func (export "query") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const {query_ok_len})))
  (func (export "migrate") (param i32 i32) (result i64) (call $ok))
  {funcs}
)"#,
        mut_ok = wat_string(MUT_OK),
        query_ok = wat_string(QUERY_OK),
        mut_err = wat_string(MUT_ERR),
        mut_ok_len = MUT_OK.len(),
        query_ok_len = QUERY_OK.len(),
        mut_err_len = MUT_ERR.len(),
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("test WAT does not parse: {e}\n{text}"))
}

pub const IMPORT_DB_WRITE: &str = r#"(import "consort" "db_write" (func $db_write (param i32 i32 i32 i32)))"#;
pub const IMPORT_SEND: &str = r#"(import "consort" "send" (func $send (param i32 i32 i32) (result i64)))"#;
