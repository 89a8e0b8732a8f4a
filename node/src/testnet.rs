//! `consort-node testnet`: one home per validator (loopback RPC and P2P ports, keys, one shared genesis),
//! a CLI keystore with funded accounts `dev0`…`dev9`, and `testnet.json` describing the nodes.

use crate::dev_chain::{DEV_ACCOUNTS, DEV_BALANCE};
use crate::genesis::{Genesis, GenesisAccount, GenesisValidator};
use crate::governance::records::Member;
use crate::home::{peer_id_of, Home};
use anyhow::{bail, Context};
use consort_sdk::{Keypair, Keystore};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;

pub const TESTNET_CHAIN_ID: &str = "consort-testnet";
pub const TESTNET_VALIDATORS_MAX: usize = 64;
const VALIDATOR_POWER: u64 = 10;

/// One node of a generated testnet, as listed in `testnet.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TestnetNode {
    pub name: String,
    pub home: String,
    pub rpc: String,
    pub p2p: String,
}

fn port(base: u16, offset: u16) -> anyhow::Result<u16> {
    if base == 0 {
        // Ask the OS for a free loopback port.
        return Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port());
    }
    base.checked_add(offset).context("port numbers overflow; choose a lower --base-port")
}

/// Extra funded accounts whose keys are `Keypair::derived(seed, 0..count)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DerivedAccounts {
    pub count: u64,
    pub seed: u64,
}

/// Balance of each derived account.
pub const DERIVED_BALANCE: u128 = 1_000_000_000_000;

pub fn generate(
    out: &Path,
    validators: usize,
    base_port: u16,
    extra: DerivedAccounts,
) -> anyhow::Result<Vec<TestnetNode>> {
    if validators == 0 || validators > TESTNET_VALIDATORS_MAX {
        bail!("--validators must be between 1 and {TESTNET_VALIDATORS_MAX}");
    }
    if out.join("testnet.json").exists() {
        bail!("{} already holds a testnet; remove it or choose another --out", out.display());
    }
    let validator_keys: Vec<Keypair> = (0..validators).map(|_| Keypair::generate()).collect();
    let node_keys: Vec<Keypair> = (0..validators).map(|_| Keypair::generate()).collect();
    let keystore = Keystore::new(out.join("keystore"));
    let mut accounts = Vec::new();
    for i in 0..DEV_ACCOUNTS {
        let file = keystore.add(&format!("dev{i}"), &Keypair::generate())?;
        accounts.push(GenesisAccount { address: file.address, balance: DEV_BALANCE });
    }
    let members_admins: Vec<_> = accounts.iter().map(|a| a.address).collect();
    accounts.extend(
        (0..extra.count)
            .map(|i| GenesisAccount { address: Keypair::derived(extra.seed, i).address(), balance: DERIVED_BALANCE }),
    );
    let genesis = Genesis {
        chain_id: TESTNET_CHAIN_ID.into(),
        genesis_time_ms: crate::clock::now_ms(),
        validators: (0..validators)
            .map(|i| GenesisValidator {
                name: format!("node{i}"),
                public_key: validator_keys[i].public(),
                power: VALIDATOR_POWER,
                peer_id: peer_id_of(&node_keys[i]).to_string(),
            })
            .collect(),
        // The dev accounts stand for the member organisations: they may deploy contracts, and dev<i> is
        // the admin key of node<i>'s organisation.
        deployers: members_admins.clone(),
        members: (0..validators)
            .map(|i| Member {
                name: format!("node{i}"),
                admins: members_admins.get(i).copied().into_iter().collect(),
                peer_ids: vec![peer_id_of(&node_keys[i]).to_string()],
            })
            .collect(),
        accounts,
        contracts: Default::default(),
        governance: Default::default(),
        blocks: Default::default(),
    };
    let mut nodes = Vec::new();
    for i in 0..validators {
        let offset = 10 * i as u16;
        let rpc: SocketAddr = format!("127.0.0.1:{}", port(base_port, offset)?).parse()?;
        let p2p_port = port(base_port, offset + 1)?;
        nodes.push((rpc, p2p_port));
    }
    let addr_of = |i: usize| format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", nodes[i].1, peer_id_of(&node_keys[i]));
    let mut listed = Vec::new();
    for (i, (rpc, p2p_port)) in nodes.iter().enumerate() {
        let home = Home::new(out.join(format!("node{i}")));
        let peers: Vec<String> = (0..validators).filter(|&j| j != i).map(addr_of).collect();
        let listen = format!("/ip4/127.0.0.1/tcp/{p2p_port}");
        home.write(&genesis, &validator_keys[i], &node_keys[i], *rpc, &listen, &peers)?;
        listed.push(TestnetNode {
            name: format!("node{i}"),
            home: home.root().display().to_string(),
            rpc: format!("http://{rpc}"),
            p2p: addr_of(i),
        });
    }
    let json = serde_json::to_string_pretty(&listed).expect("testnet listing serialises");
    std::fs::write(out.join("testnet.json"), json).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(listed)
}
