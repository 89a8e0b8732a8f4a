//! Four validators as four processes on loopback, over libp2p: txs sent to different nodes all become
//! final and every node holds the same chain, a contract called through each node gives the same receipt
//! and gas everywhere; one SIGKILLed validator does not stop the other three and
//! catches up by block sync after restart; with two down there is no new height and no fork, and progress
//! resumes when they return.

use consort_sdk::{Keystore, Wallet};
use consort_tests::testnet::{all_reach, max_height, same_chain, PROGRESS_DEADLINE};
use consort_tests::{metric, wait_until, FINALITY_DEADLINE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_commit_survive_a_crash_and_halt_safely_without_quorum() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let out = consort_tests::testnet::create(dir.path(), 4)?;

    let (mut nodes, clients) = consort_tests::testnet::start_all(&out, 4).await?;

    // Txs sent to different nodes all become final, and each node sees each one.
    let keystore = Keystore::new(out.join("keystore"));
    let mut hashes = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let (_, key) = keystore.get(&format!("dev{i}"))?;
        let to = keystore.get("dev9")?.0.address;
        let mut wallet = Wallet::connect(key, client).await?;
        let receipt = client.submit_and_wait(&wallet.transfer(to, 100 + i as u128), FINALITY_DEADLINE).await?;
        assert!(receipt.is_success(), "{receipt:?}");
        hashes.push(receipt.tx_hash);
    }
    for h in &hashes {
        for c in &clients {
            c.wait_for(h, FINALITY_DEADLINE).await?;
        }
    }
    same_chain(&clients).await?;

    // A contract deployed through node0 and called through every node: each node reports the same
    // receipt, gas included (the app hash covers receipts, so same_chain checks it on every block too).
    let (_, dev0) = keystore.get("dev0")?;
    let mut admin = Wallet::connect(dev0.clone(), &clients[0]).await?;
    let code = wat::parse_str(RECORDER_WAT)?;
    let stored = clients[0].submit_and_wait(&admin.store_code(code.clone()), FINALITY_DEADLINE).await?;
    assert!(stored.is_success(), "{stored:?}");
    let code_hash = consort_sdk::Hash::digest(&code);
    let tx = admin.instantiate(code_hash, Some(dev0.address()), "recorder", &serde_json::json!({}), 0)?;
    let created = clients[0].submit_and_wait(&tx, FINALITY_DEADLINE).await?;
    let contract = created.instantiated_contract().expect("instantiate event");
    let mut calls = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let (_, key) = keystore.get(&format!("dev{}", i + 4))?;
        let mut wallet = Wallet::connect(key, client).await?;
        let tx = wallet.execute(contract, &serde_json::json!({"note": i}), 7)?;
        calls.push(client.submit_and_wait(&tx, FINALITY_DEADLINE).await?);
    }
    for receipt in &calls {
        assert!(receipt.is_success() && receipt.gas_used > 50_000, "{receipt:?}");
        for c in &clients {
            let seen = c.wait_for(&receipt.tx_hash, FINALITY_DEADLINE).await?;
            assert_eq!(&seen, receipt, "every node reports the same receipt and gas");
        }
    }
    assert_eq!(clients[3].balance(&contract).await?, 28);
    same_chain(&clients).await?;
    let url = clients[0].url();
    assert!(metric(url, "consort_votes_received_total").await.unwrap_or(0) > 0, "votes counted");
    assert_eq!(metric(url, "consort_peers_connected").await, Some(3), "node0 sees its three peers");

    // One validator down: the other three keep committing.
    let stopped3 = nodes[3].take().unwrap().kill().await?;
    let three = &clients[..3];
    let h = max_height(three).await;
    all_reach(three, h + 3, "three validators committing without the fourth").await?;

    // It comes back and catches up by block sync, on the same chain.
    nodes[3] = Some(stopped3.start().await?);
    let target = max_height(three).await;
    all_reach(&clients, target, "the restarted validator catching up").await?;
    same_chain(&clients).await?;

    // Two down: no quorum, so no new height and no fork.
    let stopped2 = nodes[2].take().unwrap().kill().await?;
    let stopped3 = nodes[3].take().unwrap().kill().await?;
    let two = &clients[..2];
    let halted_at = max_height(two).await;
    // Wait until both live nodes have passed the propose step of a height above the halt: they had their
    // chance to commit, and with half the power they cannot gather 2f+1 prevotes.
    for c in two {
        wait_until(PROGRESS_DEADLINE, "live nodes voting without quorum", || {
            let url = c.url().to_owned();
            async move {
                let step = metric(&url, "consort_step").await?;
                let height = metric(&url, "consort_height").await?;
                (step >= 1 && height >= halted_at).then_some(())
            }
        })
        .await?;
    }
    assert!(max_height(two).await <= halted_at + 1, "two of four validators must not make progress");
    same_chain(two).await?;

    // Both return: progress resumes and everyone agrees.
    nodes[2] = Some(stopped2.start().await?);
    nodes[3] = Some(stopped3.start().await?);
    let resumed = max_height(&clients).await;
    all_reach(&clients, resumed + 3, "progress after quorum returns").await?;
    same_chain(&clients).await?;

    for node in nodes.into_iter().flatten() {
        node.stop().await?;
    }
    Ok(())
}

/// A minimal contract in WAT: execute stores its message under key "k" and succeeds.
const RECORDER_WAT: &str = r#"(module
  (import "consort" "db_write" (func $db_write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 8192))
  (data (i32.const 0) "{\"ok\":{\"data\":null,\"events\":[]}}")
  (data (i32.const 100) "k")
  (data (i32.const 200) "{\"ok\":null}")
  (func (export "consort_alloc") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $len)))
    (local.get $p))
  (func $ok (result i64) (i64.const 32))
  (func (export "instantiate") (param i32 i32) (result i64) (call $ok))
  (func (export "execute") (param $ptr i32) (param $len i32) (result i64)
    (call $db_write (i32.const 100) (i32.const 1) (local.get $ptr) (local.get $len))
    (call $ok))
  (func (export "query") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 200) (i64.const 32)) (i64.const 11))))"#;
