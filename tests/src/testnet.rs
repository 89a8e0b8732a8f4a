//! Helpers for tests with several validators: a testnet's homes, consensus settings that keep the tests
//! quick, and heights and chain checks across nodes.

use crate::{bin, wait_until, DevNode};
use consort_sdk::Client;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Faster rounds than production defaults, so tests spend their time on behaviour, not waiting.
pub const FAST: &[(&str, &str)] = &[
    ("CONSORT__CONSENSUS__EMPTY_BLOCK_INTERVAL_MS", "200"),
    ("CONSORT__CONSENSUS__TIMEOUT_PROPOSE_MS", "1000"),
    ("CONSORT__CONSENSUS__TIMEOUT_PREVOTE_MS", "500"),
    ("CONSORT__CONSENSUS__TIMEOUT_PRECOMMIT_MS", "500"),
    ("CONSORT__CONSENSUS__TIMEOUT_DELTA_MS", "250"),
];
/// Generous: a loaded 2-core machine with several nodes may be slow to move on.
pub const PROGRESS_DEADLINE: Duration = Duration::from_secs(180);

/// `consort-node testnet --validators N` into `dir/net` (homes `node0`…, `keystore`, `testnet.json`).
pub fn create(dir: &Path, validators: usize) -> anyhow::Result<PathBuf> {
    let out = dir.join("net");
    let made = std::process::Command::new(bin("consort-node")?)
        .args(["testnet", "--validators", &validators.to_string(), "--base-port", "0", "--out"])
        .arg(&out)
        .output()?;
    anyhow::ensure!(made.status.success(), "testnet failed: {}", String::from_utf8_lossy(&made.stderr));
    Ok(out)
}

/// Starts every validator of the testnet in `out` with `FAST` settings and waits until all commit;
/// returns the nodes (as options, so a test can take one out to kill it) and their clients.
pub async fn start_all(out: &Path, validators: usize) -> anyhow::Result<(Vec<Option<DevNode>>, Vec<Client>)> {
    let mut nodes = Vec::new();
    for i in 0..validators {
        nodes.push(Some(DevNode::start_home(&out.join(format!("node{i}")), FAST).await?));
    }
    let clients: Vec<Client> = nodes.iter().flatten().map(DevNode::client).collect();
    all_reach(&clients, 2, "every validator committing").await?;
    Ok((nodes, clients))
}

/// The node's committed height, 0 while it does not answer.
pub async fn height(c: &Client) -> u64 {
    c.status().await.map(|s| s.height).unwrap_or(0)
}

pub async fn max_height(clients: &[Client]) -> u64 {
    let mut m = 0;
    for c in clients {
        m = m.max(height(c).await);
    }
    m
}

/// Waits until every client is at `target` or above.
pub async fn all_reach(clients: &[Client], target: u64, what: &str) -> anyhow::Result<()> {
    wait_until(PROGRESS_DEADLINE, what, || {
        let cs = clients.to_vec();
        async move {
            for c in &cs {
                if height(c).await < target {
                    return None;
                }
            }
            Some(())
        }
    })
    .await
}

/// Every node agrees on block hash and app hash at every height they all have; returns that height.
pub async fn same_chain(clients: &[Client]) -> anyhow::Result<u64> {
    let mut common = u64::MAX;
    for c in clients {
        common = common.min(height(c).await);
    }
    for h in 1..=common {
        let first = clients[0].block(Some(h)).await?;
        for c in &clients[1..] {
            let b = c.block(Some(h)).await?;
            assert_eq!((b.hash, b.app_hash), (first.hash, first.app_hash), "fork at height {h}");
        }
    }
    Ok(common)
}
