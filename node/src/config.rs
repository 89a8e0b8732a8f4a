//! config.toml: every setting has a documented default; `CONSORT__SECTION__KEY` environment variables
//! override the file (for example `CONSORT__RPC__LISTEN=127.0.0.1:9000`).

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    pub rpc: RpcConfig,
    pub p2p: P2pConfig,
    pub mempool: MempoolConfig,
    pub consensus: ConsensusConfig,
    pub contracts: ContractsConfig,
    pub storage: StorageConfig,
}

/// Node-local storage settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Accounts kept in memory in front of the database (0: none); see `exec::CachedState`.
    pub account_cache_max: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { account_cache_max: 100_000 }
    }
}

/// Node-local contract settings. The limits all nodes must share are in genesis (`contracts`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContractsConfig {
    /// Most gas one contract query over the RPC may use.
    pub query_gas_max: u64,
    /// Compiled modules kept in memory (least recently used evicted).
    pub module_cache_max: usize,
}

impl Default for ContractsConfig {
    fn default() -> Self {
        ContractsConfig { query_gas_max: 10_000_000, module_cache_max: 64 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// libp2p listen address; port 0 picks a free port.
    pub listen: String,
    /// Member nodes to dial, as `/ip4/ADDR/tcp/PORT/p2p/PEER_ID`.
    pub peers: Vec<String>,
    /// Largest gossip message (a proposal carries its whole block).
    pub message_bytes_max: usize,
    /// Future-height consensus messages kept until this node catches up.
    pub future_messages_max: usize,
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            listen: "/ip4/127.0.0.1/tcp/26656".into(),
            peers: Vec::new(),
            message_bytes_max: 8 * 1024 * 1024,
            future_messages_max: 1024,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcConfig {
    pub listen: SocketAddr,
    pub body_bytes_max: usize,
    /// Server-sent event subscribers that may lag this many blocks before they are dropped.
    pub events_buffer_max: usize,
    /// Requests per second each client IP address may make, on average.
    pub requests_per_sec: u32,
    /// Requests a client may make at once before its rate applies.
    pub requests_burst: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    pub txs_max: usize,
    pub tx_bytes_max: usize,
    /// How far ahead of its account nonce a sender's txs may run; also caps each sender's pending txs.
    pub nonce_window: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    pub block_txs_max: usize,
    pub block_bytes_max: usize,
    /// With nothing to include, a block is still made this often so time and height advance.
    pub empty_block_interval_ms: u64,
    /// A proposer whose mempool holds txs but less than a full block waits until this long after the
    /// previous block before proposing: under load blocks then carry more txs, and every block costs each
    /// node a fixed amount of work. It adds up to this much latency at any load, so it is off (0) by default.
    pub block_interval_min_ms: u64,
    /// Round timeouts: each is `base + round × timeout_delta_ms`.
    pub timeout_propose_ms: u64,
    pub timeout_prevote_ms: u64,
    pub timeout_precommit_ms: u64,
    pub timeout_delta_ms: u64,
}

/// Default `consensus.block_interval_min_ms`: off. 300 ms raised throughput at saturation by a fifth on the
/// development machine but tripled the median latency at half load (BENCHMARKS.md).
pub const BLOCK_INTERVAL_MIN_MS: u64 = 0;

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            listen: "127.0.0.1:26657".parse().expect("valid default"),
            body_bytes_max: 2 * 1024 * 1024,
            events_buffer_max: 256,
            requests_per_sec: 1_000,
            requests_burst: 2_000,
        }
    }
}

impl Default for MempoolConfig {
    fn default() -> Self {
        // A tx may carry a whole contract module (genesis caps those at 512 KiB by default).
        MempoolConfig { txs_max: 50_000, tx_bytes_max: 640 * 1024, nonce_window: 64 }
    }
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            block_txs_max: 5_000,
            block_bytes_max: 4 * 1024 * 1024,
            empty_block_interval_ms: 1_000,
            block_interval_min_ms: BLOCK_INTERVAL_MIN_MS,
            timeout_propose_ms: 3_000,
            timeout_prevote_ms: 1_000,
            timeout_precommit_ms: 1_000,
            timeout_delta_ms: 500,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration (from {path} and CONSORT__* environment variables): {source}")]
    Invalid { path: String, source: Box<figment::Error> },
    #[error("invalid configuration: {0}")]
    Limit(String),
}

impl NodeConfig {
    /// Reads `path` over the defaults, then the environment over both.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let config: NodeConfig = Figment::from(Serialized::defaults(NodeConfig::default()))
            .merge(Toml::file_exact(path))
            .merge(Env::prefixed("CONSORT__").split("__"))
            .extract()
            .map_err(|e| ConfigError::Invalid { path: path.display().to_string(), source: Box::new(e) })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let positive = [
            ("rpc.body_bytes_max", self.rpc.body_bytes_max as u64),
            ("rpc.events_buffer_max", self.rpc.events_buffer_max as u64),
            ("rpc.requests_per_sec", self.rpc.requests_per_sec as u64),
            ("rpc.requests_burst", self.rpc.requests_burst as u64),
            ("mempool.txs_max", self.mempool.txs_max as u64),
            ("mempool.tx_bytes_max", self.mempool.tx_bytes_max as u64),
            ("mempool.nonce_window", self.mempool.nonce_window),
            ("consensus.block_txs_max", self.consensus.block_txs_max as u64),
            ("consensus.block_bytes_max", self.consensus.block_bytes_max as u64),
            ("consensus.empty_block_interval_ms", self.consensus.empty_block_interval_ms),
            ("consensus.timeout_propose_ms", self.consensus.timeout_propose_ms),
            ("consensus.timeout_prevote_ms", self.consensus.timeout_prevote_ms),
            ("consensus.timeout_precommit_ms", self.consensus.timeout_precommit_ms),
            ("p2p.message_bytes_max", self.p2p.message_bytes_max as u64),
            ("p2p.future_messages_max", self.p2p.future_messages_max as u64),
            ("contracts.query_gas_max", self.contracts.query_gas_max),
            ("contracts.module_cache_max", self.contracts.module_cache_max as u64),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Limit(format!("{name} must be greater than zero")));
        }
        if self.consensus.empty_block_interval_ms >= self.consensus.timeout_propose_ms {
            // Otherwise an idle proposer would make the others time out waiting for its empty block.
            return Err(ConfigError::Limit(
                "consensus.empty_block_interval_ms must be below consensus.timeout_propose_ms".into(),
            ));
        }
        if self.consensus.block_interval_min_ms >= self.consensus.timeout_propose_ms {
            // Otherwise the others would time out waiting for a proposer that waits to fill its block.
            return Err(ConfigError::Limit(
                "consensus.block_interval_min_ms must be below consensus.timeout_propose_ms".into(),
            ));
        }
        if self.p2p.message_bytes_max <= self.consensus.block_bytes_max {
            return Err(ConfigError::Limit("p2p.message_bytes_max must exceed consensus.block_bytes_max".into()));
        }
        if self.consensus.block_bytes_max < self.mempool.tx_bytes_max {
            return Err(ConfigError::Limit("consensus.block_bytes_max must be at least mempool.tx_bytes_max".into()));
        }
        Ok(())
    }

    /// The config.toml written by `init`: every key with its default and what it does.
    pub fn documented_toml(rpc_listen: SocketAddr, p2p_listen: &str, peers: &[String]) -> String {
        let d = NodeConfig::default();
        let peers = peers.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ");
        format!(
            r#"# consort-node configuration. Every key may be overridden by an environment variable
# CONSORT__SECTION__KEY, for example CONSORT__RPC__LISTEN=127.0.0.1:9000.

[p2p]
# libp2p listen address (TCP, noise, yamux); port 0 picks a free port.
listen = "{p2p_listen}"
# Member nodes to dial: /ip4/ADDR/tcp/PORT/p2p/PEER_ID. Only peers whose node key is listed in
# genesis.json may connect; all others are refused.
peers = [{peers}]
# Largest gossip message in bytes (a proposal carries its block).
message_bytes_max = {}
# Consensus messages from future heights kept until this node catches up.
future_messages_max = {}

[rpc]
# Address of the HTTP API (/v1/...) and /metrics.
listen = "{rpc_listen}"
# Largest request body accepted, in bytes (a StoreCode tx travels as hex).
body_bytes_max = {}
# Blocks an event-stream subscriber may fall behind before it is disconnected.
events_buffer_max = {}
# Requests per second each client IP address may make on average, and at once; over it: 429 rate_limited.
requests_per_sec = {}
requests_burst = {}

[mempool]
# Most txs waiting for a block; further submissions get 503 mempool_full.
txs_max = {}
# Largest encoded tx accepted, in bytes (must fit genesis contracts.code_bytes_max plus the envelope).
tx_bytes_max = {}
# A sender's nonce may run at most this far ahead of its committed nonce.
nonce_window = {}

[consensus]
# Most txs in one block.
block_txs_max = {}
# Most encoded tx bytes in one block.
block_bytes_max = {}
# With an empty mempool a block is still produced this often, in milliseconds
# (must stay below timeout_propose_ms).
empty_block_interval_ms = {}
# With txs waiting but less than a full block, the proposer waits until this long after the previous
# block, in milliseconds: fuller blocks and more throughput under load, but up to this much added latency
# at any load (0: propose at once; see BENCHMARKS.md).
block_interval_min_ms = {}
# Round timeouts in milliseconds; round r waits base + r × timeout_delta_ms.
timeout_propose_ms = {}
timeout_prevote_ms = {}
timeout_precommit_ms = {}
timeout_delta_ms = {}

[contracts]
# Most gas one contract query (POST /v1/contracts/ADDR/query) may use.
query_gas_max = {}
# Compiled contract modules kept in memory.
module_cache_max = {}

[storage]
# Accounts kept in memory in front of the database, about 100 bytes each (0 turns the cache off).
account_cache_max = {}
"#,
            d.p2p.message_bytes_max,
            d.p2p.future_messages_max,
            d.rpc.body_bytes_max,
            d.rpc.events_buffer_max,
            d.rpc.requests_per_sec,
            d.rpc.requests_burst,
            d.mempool.txs_max,
            d.mempool.tx_bytes_max,
            d.mempool.nonce_window,
            d.consensus.block_txs_max,
            d.consensus.block_bytes_max,
            d.consensus.empty_block_interval_ms,
            d.consensus.block_interval_min_ms,
            d.consensus.timeout_propose_ms,
            d.consensus.timeout_prevote_ms,
            d.consensus.timeout_precommit_ms,
            d.consensus.timeout_delta_ms,
            d.contracts.query_gas_max,
            d.contracts.module_cache_max,
            d.storage.account_cache_max,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn documented_file_round_trips_and_env_overrides_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            NodeConfig::documented_toml("127.0.0.1:4000".parse().unwrap(), "/ip4/127.0.0.1/tcp/0", &[]),
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            let c = NodeConfig::load(&path).unwrap();
            assert_eq!(c.rpc.listen.port(), 4000);
            assert_eq!(c.mempool.txs_max, MempoolConfig::default().txs_max);
            jail.set_env("CONSORT__MEMPOOL__TXS_MAX", "7");
            jail.set_env("CONSORT__RPC__LISTEN", "127.0.0.1:4001");
            let c = NodeConfig::load(&path).unwrap();
            assert_eq!(c.mempool.txs_max, 7);
            assert_eq!(c.rpc.listen.port(), 4001);
            jail.set_env("CONSORT__MEMPOOL__TXS_MAX", "0");
            assert!(matches!(NodeConfig::load(&path), Err(ConfigError::Limit(_))));
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        // In a jail too: the environment is the process's, and the test above sets CONSORT__ variables in
        // its own jail (which holds a lock), so running beside it this one saw mempool.txs_max = 0.
        figment::Jail::expect_with(|_| {
            std::fs::write(&path, "[rpc]\nlisten = \"nope\"\n").unwrap();
            assert!(NodeConfig::load(&path).is_err());
            std::fs::write(&path, "[mempool]\ntxs_maxx = 3\n").unwrap();
            assert!(NodeConfig::load(&path).is_err());
            std::fs::write(&path, "[consensus]\nblock_interval_min_ms = 3000\ntimeout_propose_ms = 3000\n").unwrap();
            let e = NodeConfig::load(&path).unwrap_err().to_string();
            assert!(e.contains("block_interval_min_ms must be below"), "{e}");
            Ok(())
        });
    }
}
