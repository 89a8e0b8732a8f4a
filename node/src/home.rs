//! The node's home directory: config.toml, genesis.json, key files, the database and (for dev chains)
//! a keystore the CLI can sign with.

use crate::config::NodeConfig;
use crate::genesis::{Genesis, GenesisAccount, GenesisValidator};
use crate::governance::records::Member;
use crate::governance::MEMBER_KEYS_MAX;
use anyhow::{bail, Context};
use consort_sdk::{KeyFile, Keypair, Keystore};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Voting power the sole validator of a fresh home gets.
const INIT_VALIDATOR_POWER: u64 = 10;

#[derive(Clone, Debug)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    pub fn genesis_path(&self) -> PathBuf {
        self.root.join("genesis.json")
    }
    pub fn node_key_path(&self) -> PathBuf {
        self.root.join("node_key.json")
    }
    pub fn validator_key_path(&self) -> PathBuf {
        self.root.join("validator_key.json")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }
    pub fn keystore(&self) -> Keystore {
        Keystore::new(self.root.join("keystore"))
    }

    pub fn is_initialised(&self) -> bool {
        self.config_path().exists()
    }

    /// Creates a home for a one-validator chain whose genesis funds `accounts`. They belong to the one
    /// member organisation, so they hold the deploy role and (the first 16) its admin keys.
    pub fn init(
        &self,
        chain_id: &str,
        accounts: Vec<GenesisAccount>,
        rpc_listen: SocketAddr,
        p2p_listen: &str,
    ) -> anyhow::Result<()> {
        let validator = Keypair::generate();
        let node_key = Keypair::generate();
        let genesis = Genesis {
            chain_id: chain_id.to_owned(),
            genesis_time_ms: crate::clock::now_ms(),
            validators: vec![GenesisValidator {
                name: "validator0".into(),
                public_key: validator.public(),
                power: INIT_VALIDATOR_POWER,
                peer_id: peer_id_of(&node_key).to_string(),
            }],
            deployers: accounts.iter().map(|a| a.address).collect(),
            members: vec![Member {
                name: "validator0".into(),
                admins: accounts.iter().take(MEMBER_KEYS_MAX).map(|a| a.address).collect(),
                peer_ids: vec![peer_id_of(&node_key).to_string()],
            }],
            accounts,
            contracts: Default::default(),
            governance: Default::default(),
            blocks: Default::default(),
        };
        self.write(&genesis, &validator, &node_key, rpc_listen, p2p_listen, &[])
    }

    /// Creates a home for a new member's node on an existing chain. It follows the chain until governance
    /// admits its organisation and makes its key a validator. Returns (validator public key, peer id).
    pub fn join(
        &self,
        genesis: &Genesis,
        rpc_listen: SocketAddr,
        p2p_listen: &str,
        peers: &[String],
    ) -> anyhow::Result<(consort_sdk::PublicKey, String)> {
        let validator = Keypair::generate();
        let node_key = Keypair::generate();
        self.write(genesis, &validator, &node_key, rpc_listen, p2p_listen, peers)?;
        Ok((validator.public(), peer_id_of(&node_key).to_string()))
    }

    /// Writes a complete home: config, genesis and both keys. Refuses to touch an initialised home.
    pub fn write(
        &self,
        genesis: &Genesis,
        validator: &Keypair,
        node_key: &Keypair,
        rpc_listen: SocketAddr,
        p2p_listen: &str,
        peers: &[String],
    ) -> anyhow::Result<()> {
        for existing in [self.config_path(), self.genesis_path()] {
            if existing.exists() {
                bail!("{} already exists; this home is initialised already", existing.display());
            }
        }
        genesis.validate()?;
        std::fs::create_dir_all(&self.root).with_context(|| format!("cannot create {}", self.root.display()))?;
        KeyFile::new("node", node_key).write_new(&self.node_key_path())?;
        KeyFile::new("validator", validator).write_new(&self.validator_key_path())?;
        let json = serde_json::to_string_pretty(genesis).expect("genesis always serialises");
        write_new_file(&self.genesis_path(), &json)?;
        write_new_file(&self.config_path(), &NodeConfig::documented_toml(rpc_listen, p2p_listen, peers))?;
        Ok(())
    }

    /// Reads and checks everything a node needs to start, with messages that say what to fix.
    pub fn load(&self) -> anyhow::Result<(NodeConfig, Genesis, Keypair, Keypair)> {
        if !self.root.is_dir() {
            bail!(
                "no node home at {0}: create one with `consort-node init --home {0}` or run `consort-node dev --home {0}`",
                self.root.display()
            );
        }
        if !self.is_initialised() {
            bail!(
                "{} has no config.toml, so it is not an initialised node home; run `consort-node init --home {}`",
                self.root.display(),
                self.root.display()
            );
        }
        let config = NodeConfig::load(&self.config_path())?;
        let genesis = Genesis::load(&self.genesis_path())?;
        let (_, validator) = KeyFile::read(&self.validator_key_path())?;
        let (_, node_key) = KeyFile::read(&self.node_key_path())?;
        Ok((config, genesis, validator, node_key))
    }
}

fn write_new_file(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    f.sync_all().with_context(|| format!("cannot sync {}", path.display()))
}

/// The libp2p peer id of a node key.
pub fn peer_id_of(node_key: &Keypair) -> libp2p::PeerId {
    crate::network::identity_of(node_key.secret_bytes()).public().to_peer_id()
}
