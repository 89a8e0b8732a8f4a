//! SIGKILL a dev validator at random moments while it commits a block every few milliseconds (so most kills
//! land in or near a commit), again and again. After every restart: it resumes at or above the last height
//! anyone saw, its latest block carries the app hash its state reports, and the stored chain links block
//! to block. (Double-signing across restarts is checked where other validators can see it: the chaos test
//! asserts that no node ever counted an equivocation.)
//! `CONSORT_COMMIT_KILLS` sets the number of kills (default 15), `CONSORT_COMMIT_KILL_SEED` the schedule.

use consort_sdk::{Keystore, Wallet};
use consort_tests::{wait_until, DevNode, FINALITY_DEADLINE};
use std::time::Duration;

/// Blocks as fast as the node can make them: commit is nearly always in progress.
const BUSY: &[(&str, &str)] = &[("CONSORT__CONSENSUS__EMPTY_BLOCK_INTERVAL_MS", "2")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_during_commit_leave_a_consistent_database_at_the_last_height() -> anyhow::Result<()> {
    let kills: usize = std::env::var("CONSORT_COMMIT_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let mut seed: u64 =
        std::env::var("CONSORT_COMMIT_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
        }) | 1;
    println!("kill mid-commit: {kills} kills, CONSORT_COMMIT_KILL_SEED={seed}");
    let dir = consort_tests::test_dir()?;
    let home = dir.path().join("home");
    let mut node = DevNode::start_with_env(&home, BUSY).await?;
    let keystore = Keystore::new(home.join("keystore"));
    let (_, dev0) = keystore.get("dev0")?;
    let to = keystore.get("dev1")?.0.address;
    let mut seen_height = 0;
    for kill in 0..kills {
        let client = node.client();
        // A tx in flight as well, so some commits carry state changes.
        let mut wallet = Wallet::connect(dev0.clone(), &client).await?;
        let _ = client.submit(&wallet.transfer(to, 1)).await;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(seed % 400)).await;
        seen_height = seen_height.max(client.status().await.map_or(0, |s| s.height));
        node = node.kill().await?.start().await?;

        let client = node.client();
        let status = client.status().await?;
        assert!(status.height >= seen_height, "kill {kill}: restarted at {} below {seen_height}", status.height);
        let latest = client.block(Some(status.height)).await?;
        assert_eq!(latest.app_hash, status.app_hash, "kill {kill}: state and latest block disagree");
        seen_height = status.height;
        // And it goes on committing.
        wait_until(FINALITY_DEADLINE, "a new block after the restart", || {
            let c = client.clone();
            async move { c.status().await.ok().filter(|s| s.height > status.height).map(|_| ()) }
        })
        .await?;
    }
    let client = node.client();
    let top = client.status().await?.height;
    let mut previous = client.block(Some(1)).await?;
    for h in 2..=top {
        let block = client.block(Some(h)).await?;
        assert_eq!(block.header.prev_block_hash, previous.hash, "the chain breaks at height {h}");
        assert_eq!(block.header.height, h);
        previous = block;
    }
    println!("kill mid-commit: chain of {top} blocks intact");
    node.stop().await
}
