//! Node state shared by the host loop and the RPC, and the two ends of the block pipeline the host drives:
//! building a proposal from the mempool, and committing a decided block (check → execute → one synced
//! WriteBatch → prune mempool → publish event).

use crate::block_check::check_block;
use crate::config::NodeConfig;
use crate::consensus::{Core, TimeoutParams, Validator, ValidatorSet};
use crate::contracts::ContractEngine;
use crate::exec::{execute_block, written_nonce, Account, CachedState, Overlay, SharedState, TxVerifier};
use crate::genesis::Genesis;
use crate::governance;
use crate::governance::records::{member_prefix, ChainLimits, ValidatorRecord, LIMITS_KEY, VALIDATORS_KEY};
use crate::hashed_block::HashedBlock;
use crate::host::HostEvent;
use crate::mempool::Mempool;
use crate::metrics::Metrics;
use crate::network::{NetCommand, NetworkHandle};
use crate::storage::{BlockRecord, ChainHead, Durability, Store, StoreError};
use anyhow::{bail, Context};
use consort_sdk::api::BlockEvent;
use consort_sdk::{Address, Block, BlockHeader, Commit, Keypair, TxOutcome};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use tokio::sync::broadcast;

/// State shared by the host loop and the RPC.
pub struct NodeState {
    pub chain_id: String,
    pub config: NodeConfig,
    pub store: Store,
    /// Committed state as admission, execution, queries and the RPC read it: the store with the accounts
    /// cached.
    committed: Arc<CachedState>,
    pub contracts: ContractEngine,
    /// Verifies tx signatures once per node: at admission, remembered for execution.
    pub verifier: TxVerifier,
    pub mempool: Mutex<Mempool>,
    pub metrics: Metrics,
    /// The validator set for the height in progress; shared with the gossip checks.
    pub validator_set: Arc<RwLock<ValidatorSet>>,
    /// Governed limits for the height in progress.
    limits: RwLock<ChainLimits>,
    pub validator_address: Address,
    /// Wakes the host loop (a tx entered the mempool, or shut down).
    pub host_events: SyncSender<HostEvent>,
    pub events: broadcast::Sender<BlockEvent>,
    /// Height the host is working on; read by the gossip checks.
    pub height_in_progress: Arc<AtomicU64>,
    /// Set once the network runs: where admitted txs are gossiped and member changes are sent.
    pub network: OnceLock<NetworkHandle>,
    head: RwLock<ChainHead>,
}

impl NodeState {
    pub fn validators(&self) -> ValidatorSet {
        self.validator_set.read().expect("validator set lock poisoned").clone()
    }

    pub fn limits(&self) -> ChainLimits {
        self.limits.read().expect("limits lock poisoned").clone()
    }

    /// Peer ids allowed to connect: every member's nodes, read from committed state.
    pub fn allowed_peers(&self) -> Result<Vec<libp2p::PeerId>, StoreError> {
        let overlay = Overlay::new(self.shared_state());
        let mut peers: Vec<libp2p::PeerId> = governance::members(&overlay)?
            .iter()
            .flat_map(|m| m.peer_ids.iter().filter_map(|p| p.parse().ok()))
            .collect();
        peers.sort();
        peers.dedup();
        Ok(peers)
    }

    /// Re-reads what governance may have changed in the block just committed: the validator set and the
    /// limits (both apply from the next height), and the peer allow-list (at once).
    fn apply_governance(&self, writes: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        let touched = |key: &[u8]| writes.iter().any(|(k, _)| k == key);
        let overlay = Overlay::new(self.shared_state());
        if touched(VALIDATORS_KEY) {
            let set = validator_set_of(&governance::validators(&overlay)?);
            tracing::info!(validators = set.len(), power = set.total_power(), "validator set changed");
            *self.validator_set.write().expect("validator set lock poisoned") = set;
        }
        if touched(LIMITS_KEY) {
            if let Some(limits) = governance::governed_limits(&overlay)? {
                self.contracts.set_limits(limits.contracts.clone());
                *self.limits.write().expect("limits lock poisoned") = limits;
            }
        }
        if writes.iter().any(|(k, _)| k.starts_with(member_prefix())) {
            let peers = self.allowed_peers()?;
            if let Some(net) = self.network.get() {
                if net.commands.try_send(NetCommand::SetAllowedPeers(peers)).is_err() {
                    tracing::error!("the network's queue is full: the new member set applies from the next change");
                }
            }
        }
        Ok(())
    }

    /// Most txs and encoded tx bytes in a block this node proposes: its own preference, within what the
    /// chain allows.
    pub fn proposal_limits(&self) -> (usize, usize) {
        let (local, chain) = (&self.config.consensus, self.limits());
        (
            local.block_txs_max.min(chain.block_txs_max as usize),
            local.block_bytes_max.min(chain.block_bytes_max as usize),
        )
    }

    pub fn head(&self) -> ChainHead {
        self.head.read().expect("head lock poisoned").clone()
    }

    /// Committed state as execution and queries read it.
    pub fn shared_state(&self) -> SharedState {
        self.committed.clone()
    }

    /// Runs a read-only contract query on the latest committed state, with the configured gas cap.
    pub fn query_contract(
        &self,
        contract: &Address,
        msg: &[u8],
    ) -> Result<(serde_json::Value, u64), crate::contracts::QueryError> {
        let head = self.head();
        let env = consort_contract::Env {
            chain_id: self.chain_id.clone(),
            height: head.height,
            time_ms: head.block_time_ms,
            contract: contract.to_string(),
        };
        let gas = self.config.contracts.query_gas_max;
        crate::contracts::query(&self.contracts, self.shared_state(), contract, msg, env, gas)
    }

    pub fn account(&self, address: &Address) -> Result<Option<Account>, StoreError> {
        self.committed.account(address)
    }

    /// The nonce `sender`'s next tx must carry (0 for an unknown or unreadable account).
    pub fn next_nonce(&self, sender: &Address) -> u64 {
        self.account(sender).ok().flatten().map_or(0, |a| a.nonce)
    }

    /// Gossips admitted txs to the other members (when there is a network).
    pub fn gossip_txs(&self, txs: Vec<Vec<u8>>) {
        if let Some(net) = self.network.get() {
            let count = txs.len() as u64;
            if count > 0 && net.txs.try_send(txs).is_err() {
                self.metrics.network.dropped("txs", count);
            }
        }
    }

    /// A consensus core for `height`, with this node as validator `me` (or following when `None`).
    pub fn new_core(&self, height: u64, me: Option<usize>) -> Core {
        let c = &self.config.consensus;
        let timeouts = TimeoutParams {
            propose_ms: c.timeout_propose_ms,
            prevote_ms: c.timeout_prevote_ms,
            precommit_ms: c.timeout_precommit_ms,
            delta_ms: c.timeout_delta_ms,
        };
        Core::new(&self.chain_id, height, self.validators(), me, timeouts)
    }
}

/// Opens the database, writing genesis on first start and refusing a database of another chain. Returns
/// the state and the receiving end of the host loop's inbox.
pub fn open_state(
    config: NodeConfig,
    genesis: &Genesis,
    data_dir: &std::path::Path,
    me: &Keypair,
) -> anyhow::Result<(NodeState, Receiver<HostEvent>)> {
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
        (None, None) => genesis.import_into(&store, genesis_hash)?,
    };
    let metrics = Metrics::new();
    metrics.height.set(head.height as i64);
    let (events, _) = broadcast::channel(config.rpc.events_buffer_max);
    let (host_events, inbox) = std::sync::mpsc::sync_channel(crate::host::HOST_INBOX_MAX);
    // Validators, limits and members are state: genesis wrote them, governance may have changed them.
    let overlay = Overlay::new(Arc::new(store.clone()));
    let validators = validator_set_of(&governance::validators(&overlay)?);
    let limits = governance::governed_limits(&overlay)?.unwrap_or_else(|| genesis.limits());
    if validators.get(&me.public()).is_none() {
        tracing::info!("this node's validator key is not in the validator set: following the chain without voting");
    }
    let contracts =
        ContractEngine::new(&limits.contracts, genesis.contracts.stack_bytes_max, config.contracts.module_cache_max)?;
    if config.mempool.tx_bytes_max < genesis.contracts.code_bytes_max as usize {
        tracing::warn!(
            "mempool.tx_bytes_max ({}) is below genesis contracts.code_bytes_max ({}): large modules cannot be submitted here",
            config.mempool.tx_bytes_max,
            genesis.contracts.code_bytes_max
        );
    }
    let committed = Arc::new(CachedState::new(store.clone(), config.storage.account_cache_max));
    let state = NodeState {
        chain_id: genesis.chain_id.clone(),
        contracts,
        verifier: TxVerifier::default().counting_into(metrics.signatures_checked.clone()),
        mempool: Mutex::new(Mempool::new(config.mempool.txs_max)),
        config,
        committed,
        store,
        metrics,
        validator_set: Arc::new(RwLock::new(validators)),
        limits: RwLock::new(limits),
        validator_address: me.address(),
        host_events,
        events,
        height_in_progress: Arc::new(AtomicU64::new(head.height + 1)),
        network: OnceLock::new(),
        head: RwLock::new(head),
    };
    Ok((state, inbox))
}

/// Builds the next block from the mempool: for each sender a gapless nonce run, within the block limits.
pub fn build_block(state: &NodeState, proposer: &Address, now_ms: u64) -> Result<HashedBlock, StoreError> {
    let head = state.head();
    let (txs, tx_hashes) = {
        let (txs_max, bytes_max) = state.proposal_limits();
        let pool = state.mempool.lock().expect("mempool lock poisoned");
        pool.reap(txs_max, bytes_max, |sender| state.next_nonce(sender))
    };
    let header = BlockHeader {
        chain_id: state.chain_id.clone(),
        height: head.height + 1,
        time_ms: now_ms.max(head.block_time_ms + 1),
        prev_block_hash: head.block_hash,
        txs_hash: Block::txs_hash_from(&tx_hashes),
        last_app_hash: head.app_hash,
        proposer: *proposer,
    };
    Ok(HashedBlock::with_hashes(Block { header, txs }, tx_hashes))
}

/// Where a decided block's commit certificate comes from, which says whether committing checks its signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitOrigin {
    /// Formed by this node's consensus core from precommits whose signatures were checked as they arrived
    /// (or that it signed itself): checking them again would only repeat that (a tenth of an empty
    /// height's CPU).
    OwnCore,
    /// Sent by a peer (sync): every signature is checked against the validator set.
    Peer,
}

/// Checks, executes and stores a decided block (as durably as asked), then updates head, mempool, metrics
/// and events.
pub fn commit_decided(
    state: &NodeState,
    hashed: &HashedBlock,
    commit: &Commit,
    origin: CommitOrigin,
    durability: Durability,
) -> anyhow::Result<ChainHead> {
    let block = &hashed.block;
    let head = state.head();
    let validators = state.validators();
    check_block(hashed, &head, &state.chain_id, &validators, state.limits().block_txs_max as usize)?;
    let block_hash = block.hash();
    match origin {
        CommitOrigin::Peer => validators.verify_commit(&state.chain_id, block.header.height, &block_hash, commit)?,
        // The core decided on these votes; still, a certificate for another block or height is a bug here.
        CommitOrigin::OwnCore => crate::consensus::commit_names(block.header.height, &block_hash, commit)?,
    }
    let executed = execute_block(
        &state.contracts,
        &state.verifier,
        state.shared_state(),
        hashed,
        &state.chain_id,
        &head.app_hash,
    )?;
    let new_head = ChainHead {
        height: block.header.height,
        block_hash,
        block_time_ms: block.header.time_ms,
        app_hash: executed.app_hash,
    };
    state.store.commit_block(
        BlockRecord {
            block,
            commit,
            receipts: &executed.receipts,
            state_writes: &executed.state_writes,
            head: new_head.clone(),
        },
        durability,
    )?;
    state.committed.apply(&executed.state_writes);
    state.apply_governance(&executed.state_writes)?;
    *state.head.write().expect("head lock poisoned") = new_head.clone();
    {
        let mut pool = state.mempool.lock().expect("mempool lock poisoned");
        pool.prune(executed.state_writes.iter().filter_map(written_nonce));
        state.metrics.mempool_txs.set(pool.len() as i64);
    }
    let failed = executed.receipts.iter().filter(|r| matches!(r.outcome, TxOutcome::Failed { .. })).count();
    state.metrics.height.set(new_head.height as i64);
    state.metrics.blocks_committed.inc();
    if commit.round > 0 {
        state.metrics.blocks_past_round_zero.inc();
    }
    state.metrics.txs_committed.inc_by(block.txs.len() as u64);
    state.metrics.txs_failed.inc_by(failed as u64);
    // No subscriber is fine: events are best effort, the chain is the record.
    let _ = state.events.send(BlockEvent {
        height: new_head.height,
        hash: new_head.block_hash,
        app_hash: new_head.app_hash,
        // The receipts already carry each tx's hash, in block order.
        tx_hashes: executed.receipts.iter().map(|r| r.tx_hash).collect(),
    });
    Ok(new_head)
}

/// The consensus view of the governed validator records.
pub fn validator_set_of(records: &[ValidatorRecord]) -> ValidatorSet {
    ValidatorSet::new(
        records
            .iter()
            .map(|v| Validator {
                name: v.member.clone(),
                public_key: v.public_key,
                address: Address::from_public_key(&v.public_key),
                power: v.power,
            })
            .collect(),
    )
}
