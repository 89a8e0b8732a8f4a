//! The dev chain end to end: real `consort-node dev`, real RocksDB, transfers through the SDK and the CLI,
//! a clean restart with the state intact.

use consort_sdk::{Address, Keypair, Keystore, TxOutcome, Wallet};
use consort_tests::{wait_until, DevNode, FINALITY_DEADLINE};

fn dev_key(home: &std::path::Path, name: &str) -> Keypair {
    Keystore::new(home.join("keystore")).get(name).expect("dev key in keystore").1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_through_sdk_and_cli_survive_a_restart() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let home = dir.path().join("home");
    let node = DevNode::start(&home).await?;
    assert!(
        node.banner.iter().any(|l| l.contains("dev0") && l.contains("consort1")),
        "banner lists dev accounts: {:?}",
        node.banner
    );
    let client = node.client();
    let status = client.status().await?;
    assert_eq!(status.chain_id, "consort-dev");

    // SDK: dev0 pays a fresh address.
    let recipient = Keypair::generate().address();
    let dev0 = dev_key(&home, "dev0");
    let dev0_before = client.balance(&dev0.address()).await?;
    let mut wallet = Wallet::connect(dev0.clone(), &client).await?;
    let receipt = client.submit_and_wait(&wallet.transfer(recipient, 1_000), FINALITY_DEADLINE).await?;
    assert_eq!(receipt.outcome, TxOutcome::Success);
    assert_eq!(client.balance(&recipient).await?, 1_000);
    assert_eq!(client.balance(&dev0.address()).await?, dev0_before - 1_000);
    let committed = client.tx(&receipt.tx_hash).await?.expect("committed tx is served");
    assert_eq!(committed.receipt, receipt);
    let block = client.block(Some(receipt.height)).await?;
    assert!(block.tx_hashes.contains(&receipt.tx_hash));
    assert_eq!(block.commit.block_hash, block.hash);

    // Several txs in flight at once from one wallet all land, in nonce order.
    let mut hashes = Vec::new();
    for _ in 0..5 {
        hashes.push(client.submit(&wallet.transfer(recipient, 1)).await?);
    }
    for h in &hashes {
        assert!(client.wait_for(h, FINALITY_DEADLINE).await?.is_success());
    }
    assert_eq!(client.balance(&recipient).await?, 1_005);

    // CLI: dev1 pays the same address, by name and by address; JSON output is the receipt.
    let out = node.cli(&["transfer", "--from", "dev1", "--to", &recipient.to_string(), "--amount", "500", "--json"])?;
    assert!(out.status.success(), "cli transfer failed: {}", String::from_utf8_lossy(&out.stderr));
    let cli_receipt: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(cli_receipt["status"], "success");
    let out = node.cli(&["balance", &recipient.to_string(), "--json"])?;
    assert!(out.status.success());
    let balance: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(balance["balance"], "1505");
    let out = node.cli(&["balance", "dev1"])?;
    assert!(String::from_utf8(out.stdout)?.contains("nonce:   1"));
    for args in [&["status"][..], &["block"], &["tx", &receipt.tx_hash.to_string()]] {
        let out = node.cli(args)?;
        assert!(out.status.success(), "consort {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    // CLI failures exit non-zero with a message.
    let out = node.cli(&["transfer", "--from", "nobody", "--to", "dev0", "--amount", "1"])?;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key named \"nobody\""));
    let out = node.cli(&["transfer", "--from", "dev2", "--to", "dev0", "--amount", &u128::MAX.to_string()])?;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("insufficient_funds"));

    // Restart: height continues, every balance is intact.
    let height_before = client.status().await?.height;
    let app_hash_at = client.block(Some(height_before)).await?.app_hash;
    let dev0_after = client.balance(&dev0.address()).await?;
    let node = node.restart().await?;
    let client = node.client();
    let status = client.status().await?;
    assert!(status.height >= height_before, "height went back from {height_before} to {}", status.height);
    assert_eq!(client.block(Some(height_before)).await?.app_hash, app_hash_at);
    assert_eq!(client.balance(&recipient).await?, 1_505);
    assert_eq!(client.balance(&dev0.address()).await?, dev0_after);
    // And the chain keeps going: a tx after the restart commits on top.
    let mut wallet = Wallet::connect(dev0, &client).await?;
    assert!(client.submit_and_wait(&wallet.transfer(recipient, 5), FINALITY_DEADLINE).await?.is_success());
    wait_until(FINALITY_DEADLINE, "a block after restart", || {
        let c = client.clone();
        async move { c.status().await.ok().filter(|s| s.height > height_before).map(|_| ()) }
    })
    .await?;
    assert_eq!(client.balance(&recipient).await?, 1_510);
    node.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_keys_new_list_show_import() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let home = dir.path().join("home");
    let node = DevNode::start(&home).await?;
    let out = node.cli(&["keys", "new", "alice", "--json"])?;
    assert!(out.status.success());
    let alice: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let secret = [7u8; 32];
    let imported = Keypair::from_secret(secret).address();
    let out = node.cli(&["keys", "import", "bob", "--secret", &hex_of(&secret)])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = node.cli(&["keys", "show", "bob", "--json"])?;
    let bob: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(bob["address"], imported.to_string());
    let out = node.cli(&["keys", "list", "--json"])?;
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    let names: Vec<&str> = list.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"alice") && names.contains(&"bob") && names.contains(&"dev9"));
    assert!(!String::from_utf8(out.stdout)?.contains("secret"), "list never prints secrets");
    assert!(!node.cli(&["keys", "new", "alice"])?.status.success(), "duplicate name refused");
    let alice_addr: Address = alice["address"].as_str().unwrap().parse()?;
    let out = node.cli(&["transfer", "--from", "dev3", "--to", "alice", "--amount", "42"])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(node.client().balance(&alice_addr).await?, 42);
    node.stop().await
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
