//! Agreement contract calls through the node's executor alone: no consensus, but real RocksDB (one synced
//! write batch per block), real wasmtime, real signatures. Then the same calls through the same executor
//! over state in memory with every signature checked ahead (what wasmtime and the executor cost on their
//! own), and the same logic natively on the mock host. Last, the engine alone without the executor: a
//! `pay` call, and a call the module refuses at once, which costs what every call costs whatever it does.

use consort_contract::mock::MockChain;
use consort_contract::{Env, Info};
use consort_node::config::StorageConfig;
use consort_node::contracts::{run_mut, run_query, CallRequest, ContractEngine, ContractLimits};
use consort_node::exec::{execute_block, CachedState, Executed, Overlay, SharedState, TxVerifier};
use consort_node::genesis::{Genesis, GenesisAccount, GenesisValidator};
use consort_node::hashed_block::HashedBlock;
use consort_node::storage::{BlockRecord, ChainHead, Durability, Store};
use consort_sdk::{Action, Address, Block, BlockHeader, Commit, Hash, Keypair, SignedTx, Tx};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const CHAIN: &str = "bench";
const GAS: u64 = 50_000_000;
/// Txs per block in the timed runs.
const BLOCK_TXS: usize = 500;
/// Parties of the revenue split (its maximum): every withdrawal block is one round of them.
const PARTIES: u64 = 50;
/// Wearers whose data every purchase buys.
const WEARERS: u64 = 20;
const FUNDS: u128 = 1_000_000_000_000_000;
const PEER: &str = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

/// Where a bench chain keeps its state.
enum Backing {
    /// RocksDB on disk, read through the node's account cache, as in the node; each block is committed
    /// with one synced write batch.
    Disk { store: Store, state: Arc<CachedState>, _dir: tempfile::TempDir },
    /// A map in memory; only execution is timed (signatures are checked ahead, untimed). Shared with the
    /// executor for a block and updated in place once it is done (cloned only if something still holds it).
    Memory(Arc<BTreeMap<Vec<u8>, Vec<u8>>>),
}

struct Chain {
    backing: Backing,
    engine: ContractEngine,
    verifier: TxVerifier,
    head: ChainHead,
    nonces: std::collections::HashMap<Address, u64>,
}

impl Chain {
    fn new(funded: &[Keypair], deployer: &Keypair, in_memory: bool) -> anyhow::Result<Chain> {
        let genesis = Genesis {
            chain_id: CHAIN.into(),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator {
                name: "v".into(),
                public_key: deployer.public(),
                power: 1,
                peer_id: PEER.into(),
            }],
            accounts: funded.iter().map(|k| GenesisAccount { address: k.address(), balance: FUNDS }).collect(),
            deployers: vec![deployer.address()],
            contracts: ContractLimits::default(),
            members: vec![],
            governance: Default::default(),
            blocks: Default::default(),
        };
        let (backing, head) = if in_memory {
            let head =
                ChainHead { height: 0, block_hash: genesis.hash(), block_time_ms: 0, app_hash: genesis.app_hash() };
            (Backing::Memory(Arc::new(genesis.state_writes().collect())), head)
        } else {
            let dir = tempfile::tempdir()?;
            let store = Store::open(dir.path())?;
            let head = genesis.import_into(&store, genesis.hash())?;
            let state = Arc::new(CachedState::new(store.clone(), StorageConfig::default().account_cache_max));
            (Backing::Disk { store, state, _dir: dir }, head)
        };
        Ok(Chain {
            backing,
            engine: bench_engine()?,
            verifier: TxVerifier::default(),
            head,
            nonces: Default::default(),
        })
    }

    fn sign(&mut self, key: &Keypair, action: Action) -> SignedTx {
        let nonce = self.nonces.entry(key.address()).or_insert(0);
        let tx = Tx { chain_id: CHAIN.into(), signer: key.public(), nonce: *nonce, gas_limit: GAS, action };
        *nonce += 1;
        key.sign_tx(tx)
    }

    /// Executes and commits one block, as a node does after consensus.
    fn block(&mut self, txs: Vec<SignedTx>) -> anyhow::Result<Executed> {
        self.measured_block(txs, &mut Span::default())
    }

    /// `block`, timed into `span`: on disk everything a node does with a decided block; in memory only
    /// its execution.
    fn measured_block(&mut self, txs: Vec<SignedTx>, span: &mut Span) -> anyhow::Result<Executed> {
        let (calls, height) = (txs.len(), self.head.height + 1);
        let header = BlockHeader {
            chain_id: CHAIN.into(),
            height,
            time_ms: height * 1000,
            prev_block_hash: self.head.block_hash,
            txs_hash: Hash::ZERO,
            last_app_hash: self.head.app_hash,
            proposer: Address([0; 20]),
        };
        let build = move |txs: Vec<SignedTx>| {
            HashedBlock::new(Block { header: BlockHeader { txs_hash: Block::txs_hash_of(&txs), ..header }, txs })
        };
        let prev_app_hash = self.head.app_hash;
        let (engine, verifier) = (&self.engine, &self.verifier);
        let (block_hash, executed) = match &mut self.backing {
            Backing::Disk { store, state, .. } => span.measure(calls, || -> anyhow::Result<_> {
                let block = build(txs);
                let executed = execute_block(engine, verifier, state.clone(), &block, CHAIN, &prev_app_hash)?;
                let block_hash = block.block.hash();
                let commit = Commit { height, round: 0, block_hash, signatures: vec![] };
                let head = ChainHead { height, block_hash, block_time_ms: height * 1000, app_hash: executed.app_hash };
                store.commit_block(
                    BlockRecord {
                        block: &block.block,
                        commit: &commit,
                        receipts: &executed.receipts,
                        state_writes: &executed.state_writes,
                        head,
                    },
                    Durability::Synced,
                )?;
                state.apply(&executed.state_writes);
                Ok((block_hash, executed))
            })?,
            Backing::Memory(map) => {
                let block = build(txs);
                let signed: Vec<&SignedTx> = block.block.txs.iter().collect();
                anyhow::ensure!(
                    verifier.verify(&signed, &block.tx_hashes).iter().all(|ok| *ok),
                    "a benchmark tx is badly signed"
                );
                let state: SharedState = map.clone();
                let executed =
                    span.measure(calls, || execute_block(engine, verifier, state, &block, CHAIN, &prev_app_hash))?;
                let map = Arc::make_mut(map);
                for (key, value) in &executed.state_writes {
                    match value {
                        Some(value) => map.insert(key.clone(), value.clone()),
                        None => map.remove(key),
                    };
                }
                (block.block.hash(), executed)
            }
        };
        self.head = ChainHead { height, block_hash, block_time_ms: height * 1000, app_hash: executed.app_hash };
        if let Some(failed) = executed.receipts.iter().find(|r| !r.is_success()) {
            anyhow::bail!("a benchmark tx failed: {:?}", failed.outcome);
        }
        Ok(executed)
    }

    fn call(&mut self, key: &Keypair, contract: Address, msg: Value, funds: u128) -> SignedTx {
        self.sign(key, Action::Execute { contract, msg: msg.to_string(), funds })
    }

    /// Runs `txs` in blocks of BLOCK_TXS, measured.
    fn timed(&mut self, txs: Vec<SignedTx>) -> anyhow::Result<Span> {
        let mut span = Span::default();
        let mut rest = txs;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(BLOCK_TXS));
            self.measured_block(rest, &mut span)?;
            rest = tail;
        }
        Ok(span)
    }
}

/// CPU time of the whole process (every thread) so far, in seconds.
fn process_cpu_secs() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// Calls measured so far: wall-clock seconds and process CPU seconds. CPU per call moves less than the
/// rate when the machine drifts, so the table shows both.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    calls: usize,
    wall: f64,
    cpu: f64,
}

impl Span {
    fn measure<T>(&mut self, calls: usize, f: impl FnOnce() -> T) -> T {
        let (start, cpu) = (Instant::now(), process_cpu_secs());
        let out = f();
        self.wall += start.elapsed().as_secs_f64();
        self.cpu += process_cpu_secs() - cpu;
        self.calls += calls;
        out
    }

    fn per_sec(&self) -> f64 {
        self.calls as f64 / self.wall
    }

    fn cpu_us_per_call(&self) -> f64 {
        self.cpu * 1e6 / self.calls as f64
    }
}

/// The engine every wasm run uses: the default limits, a cache of 16 modules.
fn bench_engine() -> anyhow::Result<ContractEngine> {
    let limits = ContractLimits::default();
    ContractEngine::new(&limits, limits.stack_bytes_max, 16)
}

/// Revenue-split terms: `parties` in equal shares.
fn split_terms(parties: impl IntoIterator<Item = String>) -> Value {
    let shares: Vec<Value> = parties.into_iter().map(|a| json!({"address": a, "share": 1})).collect();
    json!({"title": "bench", "parties": shares})
}

fn keys(family: u64, n: u64) -> Vec<Keypair> {
    (0..n).map(|i| Keypair::derived(family, i)).collect()
}

fn instantiate(chain: &mut Chain, admin: &Keypair, code: &[u8], msg: Value) -> anyhow::Result<Address> {
    let hash = Hash::digest(code);
    let tx = chain.sign(
        admin,
        Action::Instantiate { code_hash: hash, admin: None, label: "bench".into(), msg: msg.to_string(), funds: 0 },
    );
    let executed = chain.block(vec![tx])?;
    executed.receipts[0].instantiated_contract().ok_or_else(|| anyhow::anyhow!("no contract instantiated"))
}

struct Rates {
    /// Native transfers through the same executor (wasm runs only); empty on the mock host.
    transfer: Span,
    pay: Span,
    withdraw: Span,
    purchase: Span,
}

fn wasm_rates(wasm_dir: &Path, calls: usize, in_memory: bool) -> anyhow::Result<Rates> {
    let admin = Keypair::derived(1, 0);
    let payers = keys(2, calls as u64);
    let parties = keys(3, PARTIES);
    let wearers = keys(4, WEARERS);
    let buyers = keys(5, calls as u64);
    let funded: Vec<Keypair> =
        [vec![admin.clone()], payers.clone(), parties.clone(), wearers.clone(), buyers.clone()].concat();
    let mut chain = Chain::new(&funded, &admin, in_memory)?;
    let split_code = std::fs::read(wasm_dir.join("revenue_split.wasm"))?;
    let shoe_code = std::fs::read(wasm_dir.join("shoe_data.wasm"))?;
    let store = vec![
        chain.sign(&admin, Action::StoreCode { code: split_code.clone() }),
        chain.sign(&admin, Action::StoreCode { code: shoe_code.clone() }),
    ];
    chain.block(store)?;

    let terms = split_terms(parties.iter().map(|p| p.address().to_string()));
    let split = instantiate(&mut chain, &admin, &split_code, terms)?;
    let pays: Vec<SignedTx> = payers.iter().map(|p| chain.call(p, split, json!({"pay": {}}), 1_000_003)).collect();
    let pay = chain.timed(pays)?;
    // The executor's floor for any tx: a native transfer (signature, nonce, balances, receipt, commit).
    let transfers: Vec<SignedTx> =
        payers.iter().map(|p| chain.sign(p, Action::Transfer { to: admin.address(), amount: 1 })).collect();
    let transfer = chain.timed(transfers)?;

    let withdrawals: Vec<Vec<SignedTx>> = (0..(calls as u64).div_ceil(PARTIES))
        .map(|_| parties.iter().map(|p| chain.call(p, split, json!({"withdraw": {}}), 0)).collect())
        .collect();
    // Every party must be owed something before each round: an untimed payment, then the timed round.
    let mut withdraw = Span::default();
    for round in withdrawals {
        let refill = chain.call(&admin, split, json!({"pay": {}}), 5_000_000);
        chain.block(vec![refill])?;
        chain.measured_block(round, &mut withdraw)?;
    }

    let terms = json!({"brand": "Bench", "wearer_share_bps": 7000, "categories": ["steps"], "units_per_pair": 1, "sync_bonus_units": 0});
    let shoe = instantiate(&mut chain, &admin, &shoe_code, terms)?;
    let mut setup = Vec::new();
    for (i, w) in wearers.iter().enumerate() {
        setup.push(chain.call(
            w,
            shoe,
            json!({"activate": {"shoe_id": format!("S{i}"), "consent": ["steps"], "device_key": null}}),
            0,
        ));
    }
    chain.block(setup)?;
    let commits: Vec<SignedTx> = wearers
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let msg = json!({"commit": {"wearer": null, "category": "steps", "hash": format!("{i:064x}"), "from_ms": 10, "to_ms": 20, "records": 100 + i}});
            chain.call(w, shoe, msg, 0)
        })
        .collect();
    chain.block(commits)?;
    let buys: Vec<SignedTx> = buyers
        .iter()
        .map(|b| chain.call(b, shoe, json!({"purchase": {"category": "steps", "from_ms": 0, "to_ms": 100}}), 1_000_000))
        .collect();
    let purchase = chain.timed(buys)?;
    Ok(Rates { transfer, pay, withdraw, purchase })
}

fn native_rates(calls: usize) -> anyhow::Result<Rates> {
    let mut chain = MockChain::new();
    let admin = consort_contract::mock::address("admin");
    chain.fund(&admin, u128::MAX / 4);
    let parties: Vec<String> = (0..PARTIES).map(|i| consort_contract::mock::address(&format!("party{i}"))).collect();
    let split = chain
        .instantiate(revenue_split::contract(), &admin, &split_terms(parties.iter().cloned()), 0)
        .map_err(anyhow::Error::msg)?;
    let mut pay = Span::default();
    pay.measure(calls, || -> anyhow::Result<()> {
        for _ in 0..calls {
            chain.execute(&split, &admin, &json!({"pay": {}}), 1_000_003).map_err(anyhow::Error::msg)?;
        }
        Ok(())
    })?;
    let mut withdraw = Span::default();
    for _ in 0..(calls as u64).div_ceil(PARTIES) {
        chain.execute(&split, &admin, &json!({"pay": {}}), 5_000_000).map_err(anyhow::Error::msg)?;
        withdraw.measure(parties.len(), || -> anyhow::Result<()> {
            for p in &parties {
                chain.execute(&split, p, &json!({"withdraw": {}}), 0).map_err(anyhow::Error::msg)?;
            }
            Ok(())
        })?;
    }
    let terms = json!({"brand": "Bench", "wearer_share_bps": 7000, "categories": ["steps"], "units_per_pair": 1, "sync_bonus_units": 0});
    let shoe = chain.instantiate(shoe_data::contract(), &admin, &terms, 0).map_err(anyhow::Error::msg)?;
    for i in 0..WEARERS {
        let w = consort_contract::mock::address(&format!("wearer{i}"));
        chain
            .execute(
                &shoe,
                &w,
                &json!({"activate": {"shoe_id": format!("S{i}"), "consent": ["steps"], "device_key": null}}),
                0,
            )
            .map_err(anyhow::Error::msg)?;
        let msg = json!({"commit": {"wearer": null, "category": "steps", "hash": format!("{i:064x}"), "from_ms": 10, "to_ms": 20, "records": 100 + i}});
        chain.execute(&shoe, &w, &msg, 0).map_err(anyhow::Error::msg)?;
    }
    let mut purchase = Span::default();
    purchase.measure(calls, || -> anyhow::Result<()> {
        for _ in 0..calls {
            let msg = json!({"purchase": {"category": "steps", "from_ms": 0, "to_ms": 100}});
            chain.execute(&shoe, &admin, &msg, 1_000_000).map_err(anyhow::Error::msg)?;
        }
        Ok(())
    })?;
    Ok(Rates { transfer: Span::default(), pay, withdraw, purchase })
}

/// Contract calls straight through the engine (no tx, executor or block): `pay`, then a query the module
/// refuses as soon as it has parsed the message, its context and the result being all it handles.
fn engine_rates(wasm_dir: &Path, calls: usize) -> anyhow::Result<(Span, Span)> {
    let code = std::fs::read(wasm_dir.join("revenue_split.wasm"))?;
    let engine = bench_engine()?;
    let module = engine.prepare(&Hash::digest(&code), &code)?;
    let state: SharedState = Arc::new(BTreeMap::<Vec<u8>, Vec<u8>>::new());
    let mut overlay = Overlay::new(state);
    let contract = Address([7; 20]);
    let instantiate_msg = split_terms(keys(3, PARTIES).iter().map(|p| p.address().to_string())).to_string();
    let env = Env { chain_id: CHAIN.into(), height: 1, time_ms: 1000, contract: contract.to_string() };
    let info = Info { sender: Keypair::derived(2, 0).address().to_string(), funds: 1_000_003 };
    let request = |entry, msg, info| CallRequest { entry, contract, env: env.clone(), info, msg, gas_limit: GAS };
    let instantiate = request("instantiate", instantiate_msg.as_bytes(), Some(info.clone()));
    run_mut(&engine, &module, &mut overlay, &instantiate).result.map_err(anyhow::Error::msg)?;
    let (mut pay, mut refused) = (Span::default(), Span::default());
    let pay_request = request("execute", br#"{"pay":{}}"#, Some(info));
    pay.measure(calls, || -> anyhow::Result<()> {
        for _ in 0..calls {
            run_mut(&engine, &module, &mut overlay, &pay_request).result.map_err(anyhow::Error::msg)?;
        }
        Ok(())
    })?;
    let refused_request = request("query", br#"{"no_such_query":{}}"#, None);
    refused.measure(calls, || -> anyhow::Result<()> {
        for _ in 0..calls {
            let outcome = run_query(&engine, &module, &mut overlay, &refused_request);
            anyhow::ensure!(outcome.result.is_err(), "the module answered a query it does not have");
        }
        Ok(())
    })?;
    Ok((pay, refused))
}

pub fn run(wasm_dir: &Path, calls: usize) -> anyhow::Result<Value> {
    let wasm = wasm_rates(wasm_dir, calls, false)?;
    let memory = wasm_rates(wasm_dir, calls, true)?;
    let native = native_rates(calls)?;
    let (engine_pay, refused) = engine_rates(wasm_dir, calls)?;
    println!("contract calls/s ({calls} per kind; executor = signature check + wasmtime + RocksDB commit per block of {BLOCK_TXS})");
    println!(
        "  in memory = the same executor and wasmtime over a map, signatures checked ahead: what the VM costs alone"
    );
    println!(
        "  {:<32} {:>10} {:>12} {:>10} {:>12} {:>10} {:>12} {:>10}",
        "call", "executor", "CPU µs/call", "in memory", "CPU µs/call", "native", "wasm/native", "mem/native"
    );
    let mut rows = Vec::new();
    for (name, w, m, n) in [
        ("revenue-split pay", wasm.pay, memory.pay, native.pay),
        ("revenue-split withdraw (50)", wasm.withdraw, memory.withdraw, native.withdraw),
        ("shoe-data purchase (20 wearers)", wasm.purchase, memory.purchase, native.purchase),
    ] {
        let (w_rate, m_rate, n_rate) = (w.per_sec(), m.per_sec(), n.per_sec());
        let (w_cpu, m_cpu) = (w.cpu_us_per_call(), m.cpu_us_per_call());
        println!(
            "  {name:<32} {w_rate:>10.0} {w_cpu:>12.1} {m_rate:>10.0} {m_cpu:>12.1} {n_rate:>10.0} {:>12.1} {:>10.1}",
            n_rate / w_rate,
            n_rate / m_rate
        );
        rows.push(json!({"call": name, "executor_per_sec": w_rate, "executor_cpu_us_per_call": w_cpu,
            "memory_per_sec": m_rate, "memory_cpu_us_per_call": m_cpu,
            "native_per_sec": n_rate, "wasm_over_native": n_rate / w_rate, "memory_over_native": n_rate / m_rate}));
    }
    let (t_rate, t_cpu) = (wasm.transfer.per_sec(), wasm.transfer.cpu_us_per_call());
    let (tm_rate, tm_cpu) = (memory.transfer.per_sec(), memory.transfer.cpu_us_per_call());
    println!(
        "  {:<32} {t_rate:>10.0} {t_cpu:>12.1} {tm_rate:>10.0} {tm_cpu:>12.1}   (the executor's floor: no contract)",
        "native transfer"
    );
    println!("  the engine alone (no tx, no executor), CPU µs/call:");
    let (pay_cpu, refused_cpu) = (engine_pay.cpu_us_per_call(), refused.cpu_us_per_call());
    println!("  {:<32} {pay_cpu:>10.1}", "revenue-split pay");
    println!(
        "  {:<32} {refused_cpu:>10.1}   (instance, context, message, result: every call's floor)",
        "a query refused at once"
    );
    Ok(json!({ "calls": calls, "block_txs": BLOCK_TXS, "transfer_per_sec": t_rate, "transfer_cpu_us_per_call": t_cpu,
        "memory_transfer_per_sec": tm_rate, "memory_transfer_cpu_us_per_call": tm_cpu, "rows": rows,
        "engine_pay_cpu_us_per_call": pay_cpu, "engine_refused_query_cpu_us_per_call": refused_cpu }))
}
