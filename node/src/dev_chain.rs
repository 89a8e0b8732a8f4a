//! `consort-node dev`: a one-validator chain with ten funded accounts whose keys sit in the home's
//! keystore, so `consort --home DIR …` can sign with them at once (like Foundry's anvil).

use crate::genesis::GenesisAccount;
use crate::home::Home;
use consort_sdk::{KeyFile, Keypair};
use std::net::SocketAddr;

pub const DEV_CHAIN_ID: &str = "consort-dev";
pub const DEV_ACCOUNTS: usize = 10;
/// Each dev account starts with 10^24 units.
pub const DEV_BALANCE: u128 = 1_000_000_000_000_000_000_000_000;

/// Creates the dev home if it is new; returns the dev accounts in order.
pub fn prepare(home: &Home, rpc_listen: SocketAddr) -> anyhow::Result<Vec<KeyFile>> {
    if !home.is_initialised() {
        let keystore = home.keystore();
        let mut accounts = Vec::with_capacity(DEV_ACCOUNTS);
        for i in 0..DEV_ACCOUNTS {
            let name = format!("dev{i}");
            let file = match keystore.get(&name) {
                Ok((file, _)) => file,
                Err(consort_sdk::KeystoreError::NotFound { .. }) => keystore.add(&name, &Keypair::generate())?,
                Err(e) => return Err(e.into()),
            };
            accounts.push(GenesisAccount { address: file.address, balance: DEV_BALANCE });
        }
        // A dev chain has no peers; its p2p port is picked freely so several dev chains can run side by side.
        home.init(DEV_CHAIN_ID, accounts, rpc_listen, "/ip4/127.0.0.1/tcp/0")?;
    }
    let mut dev: Vec<KeyFile> = home
        .keystore()
        .list()?
        .into_iter()
        .filter(|k| k.name.strip_prefix("dev").is_some_and(|n| n.parse::<usize>().is_ok()))
        .collect();
    dev.sort_by_key(|k| k.name[3..].parse::<usize>().unwrap_or(usize::MAX));
    Ok(dev)
}
