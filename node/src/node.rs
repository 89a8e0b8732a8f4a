//! The host loop: feeds the chain forward and carries out what consensus decides.
//!
//! Pipeline per height: reap the mempool into a proposal → consensus decides it with a commit certificate
//! → the certificate and the block are checked → execution → one synced WriteBatch → mempool pruned →
//! event published. With a single validator the decision is its own precommit; the multi-validator core
//! (issue #3) plugs in at `decide` and reuses everything after it.

use crate::block_check::check_block;
use crate::config::NodeConfig;
use crate::consensus::{Validator, ValidatorSet};
use crate::exec::{execute_block, Account, Overlay};
use crate::genesis::Genesis;
use crate::mempool::Mempool;
use crate::metrics::Metrics;
use crate::storage::{BlockRecord, ChainHead, Store, StoreError};
use anyhow::{bail, Context};
use consort_sdk::api::BlockEvent;
use consort_sdk::{Address, Block, BlockHeader, Commit, CommitSig, Keypair, TxOutcome, Vote, VoteKind};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};

/// State shared by the host loop and the RPC.
pub struct NodeState {
    pub chain_id: String,
    pub config: NodeConfig,
    pub store: Store,
    pub mempool: Mutex<Mempool>,
    pub metrics: Metrics,
    pub validators: ValidatorSet,
    pub validator_address: Address,
    /// Signalled when a tx enters the mempool, so a block is made without waiting.
    pub new_tx: Notify,
    pub events: broadcast::Sender<BlockEvent>,
    head: RwLock<ChainHead>,
}

impl NodeState {
    pub fn head(&self) -> ChainHead {
        self.head.read().expect("head lock poisoned").clone()
    }

    pub fn account(&self, address: &Address) -> Result<Option<Account>, StoreError> {
        Overlay::new(&self.store).account(address)
    }
}

/// Opens the database, writing genesis on first start and refusing a database of another chain.
pub fn open_state(
    config: NodeConfig,
    genesis: &Genesis,
    data_dir: &std::path::Path,
    me: &Keypair,
) -> anyhow::Result<NodeState> {
    let validators = ValidatorSet::new(
        genesis
            .validators
            .iter()
            .map(|v| Validator {
                name: v.name.clone(),
                public_key: v.public_key,
                address: Address::from_public_key(&v.public_key),
                power: v.power,
            })
            .collect(),
    );
    if validators.get(&me.public()).is_none() {
        bail!("this node's validator key {} is not a validator in genesis", me.public());
    }
    if validators.len() != 1 {
        bail!(
            "genesis lists {} validators; this release runs single-validator chains only (multi-validator BFT is issue #3)",
            validators.len()
        );
    }
    let store = Store::open(data_dir).with_context(|| {
        format!("cannot open the database at {} (is another consort-node using this home?)", data_dir.display())
    })?;
    let genesis_hash = genesis.hash();
    let head = match (store.genesis_hash()?, store.head()?) {
        (Some(stored), Some(head)) if stored == genesis_hash => head,
        (Some(_), _) => bail!(
            "the database at {} was created from a different genesis.json; restore the original genesis or move the data directory away",
            data_dir.display()
        ),
        (None, Some(_)) => bail!("the database at {} has blocks but no genesis record; it is corrupt", data_dir.display()),
        (None, None) => {
            let head = ChainHead {
                height: 0,
                block_hash: genesis_hash,
                block_time_ms: genesis.genesis_time_ms,
                app_hash: genesis.app_hash(),
            };
            store.init_genesis(genesis_hash, &genesis.state_writes(), head.clone())?;
            head
        }
    };
    let metrics = Metrics::new();
    metrics.height.set(head.height as i64);
    let (events, _) = broadcast::channel(config.rpc.events_buffer_max);
    Ok(NodeState {
        chain_id: genesis.chain_id.clone(),
        mempool: Mutex::new(Mempool::new(config.mempool.txs_max)),
        config,
        store,
        metrics,
        validators,
        validator_address: me.address(),
        new_tx: Notify::new(),
        events,
        head: RwLock::new(head),
    })
}

/// Builds the next block from the mempool.
fn propose(state: &NodeState, me: &Keypair, now_ms: u64) -> Result<Block, StoreError> {
    let head = state.head();
    let txs = {
        let pool = state.mempool.lock().expect("mempool lock poisoned");
        let limits = &state.config.consensus;
        pool.reap(limits.block_txs_max, limits.block_bytes_max, |sender| {
            state.account(sender).ok().flatten().map_or(0, |a| a.nonce)
        })
    };
    Ok(Block {
        header: BlockHeader {
            chain_id: state.chain_id.clone(),
            height: head.height + 1,
            time_ms: now_ms.max(head.block_time_ms + 1),
            prev_block_hash: head.block_hash,
            txs_hash: Block::txs_hash_of(&txs),
            last_app_hash: head.app_hash,
            proposer: me.address(),
        },
        txs,
    })
}

/// Decides `block`: the sole validator's precommit is more than 2/3 of the power.
fn decide(state: &NodeState, me: &Keypair, block: &Block) -> Commit {
    let vote = Vote {
        chain_id: state.chain_id.clone(),
        height: block.header.height,
        round: 0,
        kind: VoteKind::Precommit,
        block_hash: Some(block.hash()),
    };
    let signature = me.sign_vote(&vote);
    Commit {
        height: vote.height,
        round: vote.round,
        block_hash: block.hash(),
        signatures: vec![CommitSig { validator: me.public(), signature }],
    }
}

/// Checks, executes and durably stores a decided block, then updates head, mempool, metrics and events.
pub fn commit_decided(state: &NodeState, block: &Block, commit: &Commit) -> anyhow::Result<ChainHead> {
    let head = state.head();
    check_block(block, &head, &state.chain_id, &state.validators, state.config.consensus.block_txs_max)?;
    state.validators.verify_commit(&state.chain_id, block.header.height, &block.hash(), commit)?;
    let executed = execute_block(&state.store, block, &state.chain_id, &head.app_hash)?;
    let new_head = ChainHead {
        height: block.header.height,
        block_hash: block.hash(),
        block_time_ms: block.header.time_ms,
        app_hash: executed.app_hash,
    };
    state.store.commit_block(BlockRecord {
        block,
        commit,
        receipts: &executed.receipts,
        state_writes: &executed.state_writes,
        head: new_head.clone(),
    })?;
    *state.head.write().expect("head lock poisoned") = new_head.clone();
    {
        let mut pool = state.mempool.lock().expect("mempool lock poisoned");
        pool.prune(block.txs.iter().map(|t| t.sender()), |sender| {
            state.account(sender).ok().flatten().map_or(0, |a| a.nonce)
        });
        state.metrics.mempool_txs.set(pool.len() as i64);
    }
    let failed = executed.receipts.iter().filter(|r| matches!(r.outcome, TxOutcome::Failed { .. })).count();
    state.metrics.height.set(new_head.height as i64);
    state.metrics.blocks_committed.inc();
    state.metrics.txs_committed.inc_by(block.txs.len() as u64);
    state.metrics.txs_failed.inc_by(failed as u64);
    // No subscriber is fine: events are best effort, the chain is the record.
    let _ = state.events.send(BlockEvent {
        height: new_head.height,
        hash: new_head.block_hash,
        app_hash: new_head.app_hash,
        tx_hashes: block.txs.iter().map(|t| t.hash()).collect(),
    });
    Ok(new_head)
}

fn produce_one(state: &NodeState, me: &Keypair) -> anyhow::Result<ChainHead> {
    let block = propose(state, me, crate::clock::now_ms())?;
    let commit = decide(state, me, &block);
    commit_decided(state, &block, &commit)
}

/// Produces blocks until `shutdown` flips: at once while txs wait, otherwise every empty-block interval.
pub async fn run_block_loop(
    state: Arc<NodeState>,
    me: Keypair,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let idle = Duration::from_millis(state.config.consensus.empty_block_interval_ms);
    while !*shutdown.borrow() {
        let (st, key) = (state.clone(), me.clone());
        let head = tokio::task::spawn_blocking(move || produce_one(&st, &key)).await??;
        tracing::debug!(height = head.height, "committed block");
        if !state.mempool.lock().expect("mempool lock poisoned").is_empty() {
            continue;
        }
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = state.new_tx.notified() => {}
            _ = tokio::time::sleep(idle) => {}
        }
    }
    Ok(())
}
