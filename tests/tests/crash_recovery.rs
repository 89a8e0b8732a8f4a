//! SIGKILL the dev node while transfers are in flight, again and again: after each restart every tx that
//! was reported final is still there with the same receipt, total supply is unchanged, and the chain
//! goes on from where it stopped. `CONSORT_KILL_CYCLES` sets the number of kills (default 3).

use consort_sdk::{Address, Hash, Keypair, Keystore, Receipt, Wallet};
use consort_tests::{wait_until, DevNode, FINALITY_DEADLINE};
use std::collections::BTreeMap;

const DEV_ACCOUNTS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_final_tx_and_conserves_supply() -> anyhow::Result<()> {
    let cycles: usize = std::env::var("CONSORT_KILL_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let dir = consort_tests::test_dir()?;
    let home = dir.path().join("home");
    let mut node = DevNode::start(&home).await?;
    let keystore = Keystore::new(home.join("keystore"));
    let devs: Vec<Keypair> =
        (0..DEV_ACCOUNTS).map(|i| keystore.get(&format!("dev{i}")).map(|k| k.1)).collect::<Result<_, _>>()?;
    let recipient: Address = Keypair::generate().address();
    let mut tracked: Vec<Address> = devs.iter().map(|k| k.address()).collect();
    tracked.push(recipient);

    // Balances are read one by one, so a sum only counts if no block committed in between: the height
    // must be the same before and after (a replayed block may commit just after a restart).
    let supply = |client: consort_sdk::Client, accounts: Vec<Address>| async move {
        loop {
            let before = client.status().await?.height;
            let mut total = 0u128;
            for a in &accounts {
                total += client.balance(a).await?;
            }
            if client.status().await?.height == before {
                return anyhow::Ok(total);
            }
        }
    };
    let initial_supply = supply(node.client(), tracked.clone()).await?;
    let mut final_txs: BTreeMap<Hash, Receipt> = BTreeMap::new();

    for cycle in 0..cycles {
        let client = node.client();
        let sender = &devs[cycle % DEV_ACCOUNTS];
        let mut wallet = Wallet::connect(sender.clone(), &client).await?;
        // Some txs become final; more are left in flight when the kill lands.
        for _ in 0..3 {
            let receipt = client.submit_and_wait(&wallet.transfer(recipient, 10), FINALITY_DEADLINE).await?;
            final_txs.insert(receipt.tx_hash, receipt);
        }
        for _ in 0..5 {
            client.submit(&wallet.transfer(recipient, 1)).await?;
        }
        let height_before = client.status().await?.height;
        node = node.kill().await?.start().await?;
        let client = node.client();
        let status = client.status().await?;
        assert!(
            status.height >= height_before,
            "cycle {cycle}: height went back from {height_before} to {}",
            status.height
        );
        for (hash, receipt) in &final_txs {
            let found = client.tx(hash).await?.unwrap_or_else(|| panic!("cycle {cycle}: final tx {hash} lost"));
            assert_eq!(&found.receipt, receipt, "cycle {cycle}: receipt of {hash} changed");
        }
        assert_eq!(supply(client.clone(), tracked.clone()).await?, initial_supply, "cycle {cycle}: supply changed");
        // The chain moves on after the crash.
        wait_until(FINALITY_DEADLINE, "a new block after restart", || {
            let c = client.clone();
            async move { c.status().await.ok().filter(|s| s.height > status.height).map(|_| ()) }
        })
        .await?;
    }
    node.stop().await
}
