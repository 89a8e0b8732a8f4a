//! Every kind of bad input gets a 4xx with a machine-readable code, is counted in /metrics, and commits
//! nothing. Broken homes give a clear message instead of a panic.

use consort_sdk::encoding::encode;
use consort_sdk::{Action, Keypair, Keystore, Tx, Wallet};
use consort_tests::{bin, DevNode, FINALITY_DEADLINE};
use std::process::Command;

async fn post_raw(url: &str, body: Vec<u8>) -> anyhow::Result<(u16, serde_json::Value)> {
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/txs"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_txs_are_refused_counted_and_never_committed() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let home = dir.path().join("home");
    let node = DevNode::start(&home).await?;
    let client = node.client();
    let dev0 = Keystore::new(home.join("keystore")).get("dev0")?.1;
    let chain = client.status().await?.chain_id;
    let start_nonce = client.account(&dev0.address()).await?.nonce;
    let to = Keypair::generate().address();
    let tx = |key: &Keypair, chain: &str, nonce: u64, amount: u128| {
        key.sign_tx(Tx {
            chain_id: chain.into(),
            signer: key.public(),
            nonce,
            gas_limit: 100_000,
            action: Action::Transfer { to, amount },
        })
    };

    let mut forged = tx(&dev0, &chain, start_nonce, 1);
    forged.signature.0[0] ^= 1;
    let cases = vec![
        ("bad_signature", forged),
        ("wrong_chain_id", tx(&dev0, "another-chain", start_nonce, 1)),
        ("nonce_too_high", tx(&dev0, &chain, start_nonce + 10_000, 1)),
        ("unknown_account", tx(&Keypair::generate(), &chain, 0, 1)),
        ("insufficient_funds", tx(&dev0, &chain, start_nonce, u128::MAX)),
        ("zero_amount", tx(&dev0, &chain, start_nonce, 0)),
    ];
    for (code, bad) in &cases {
        let err = client.submit(bad).await.expect_err(code);
        assert_eq!(err.code(), Some(*code), "{err}");
    }

    // A batch: each tx gets its own verdict, in order; an oversized batch is refused whole.
    let batch = vec![tx(&dev0, &chain, start_nonce, 2), cases[0].1.clone(), tx(&dev0, &chain, start_nonce + 1, 3)];
    let results = client.submit_batch(&batch).await?;
    let verdicts: Vec<String> = results
        .iter()
        .map(|r| match r {
            consort_sdk::api::BatchResult::Accepted { .. } => "accepted".to_string(),
            consort_sdk::api::BatchResult::Refused { code, .. } => code.clone(),
        })
        .collect();
    assert_eq!(verdicts, ["accepted", "bad_signature", "accepted"]);
    let too_many = vec![tx(&dev0, &chain, start_nonce, 2); consort_sdk::api::TX_BATCH_MAX + 1];
    assert_eq!(client.submit_batch(&too_many).await.unwrap_err().code(), Some("batch_too_large"));
    let both = client.wait_for(&batch[2].hash(), FINALITY_DEADLINE).await?;
    assert!(both.is_success());
    let start_nonce = start_nonce + 2;

    // A replayed tx: commit one, then send the very same bytes again.
    let good = tx(&dev0, &chain, start_nonce, 7);
    assert!(client.submit_and_wait(&good, FINALITY_DEADLINE).await?.is_success());
    assert_eq!(client.submit(&good).await.unwrap_err().code(), Some("nonce_too_low"));

    // Malformed bodies, each with its own code and status.
    let url = &node.url;
    let (status, body) = post_raw(url, b"{not json".to_vec()).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_json")));
    let (status, body) = post_raw(url, br#"{"tx":"zz"}"#.to_vec()).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_hex")));
    let (status, body) = post_raw(url, br#"{"tx":"0102"}"#.to_vec()).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_tx")));
    let mut trailing = encode(&tx(&dev0, &chain, start_nonce + 1, 1));
    trailing.push(0);
    let (status, body) = post_raw(url, format!(r#"{{"tx":"{}"}}"#, hex_of(&trailing)).into_bytes()).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_tx")));
    let big = format!(r#"{{"tx":"{}"}}"#, "00".repeat(700 * 1024));
    let (status, body) = post_raw(url, big.into_bytes()).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("tx_too_large")));
    let huge = format!(r#"{{"tx":"{}"}}"#, "00".repeat(1536 * 1024));
    let (status, body) = post_raw(url, huge.into_bytes()).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("body_too_large")));

    // Queries with bad parameters.
    for (path, code) in [
        ("/v1/accounts/consort1nope", "bad_address"),
        ("/v1/blocks/abc", "bad_height"),
        ("/v1/txs/xyz", "bad_hash"),
        ("/v1/blocks/999999999", "not_found"),
        ("/v1/nothing-here", "not_found"),
    ] {
        let resp = reqwest::get(format!("{url}{path}")).await?;
        assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
        let body: serde_json::Value = resp.json().await?;
        assert_eq!(body["error"]["code"], code, "{path}");
    }

    // Nothing of the refused txs was committed: only the one good transfer moved funds.
    let mut wallet = Wallet::connect(dev0.clone(), &client).await?;
    assert_eq!(wallet.next_nonce(), start_nonce + 1);
    assert!(client.submit_and_wait(&wallet.transfer(to, 1), FINALITY_DEADLINE).await?.is_success());
    assert_eq!(client.balance(&to).await?, 2 + 3 + 7 + 1, "the batch's two, the replayed one, this one");

    let metrics = reqwest::get(format!("{url}/metrics")).await?.text().await?;
    for (code, _) in &cases {
        // The forged tx was also refused inside the batch.
        let times = if *code == "bad_signature" { 2 } else { 1 };
        assert!(
            metrics.contains(&format!("consort_txs_rejected_total{{reason=\"{code}\"}} {times}")),
            "{code} counted:\n{metrics}"
        );
    }
    for code in ["nonce_too_low", "malformed_json", "malformed_hex", "body_too_large"] {
        assert!(metrics.contains(&format!("reason=\"{code}\"")), "{code} counted");
    }
    assert!(metrics.contains("consort_height "));
    assert!(metrics.contains("consort_mempool_txs "));
    assert!(metrics.contains("consort_txs_committed_total "));
    node.stop().await
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn node_cmd(args: &[&str]) -> anyhow::Result<(bool, String)> {
    let out = Command::new(bin("consort-node")?).args(args).env_remove("CONSORT_HOME").output()?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_homes_give_clear_errors() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let missing = dir.path().join("missing");
    let (ok, err) = node_cmd(&["start", "--home", missing.to_str().unwrap()])?;
    assert!(!ok && err.contains("no node home at") && err.contains("consort-node init"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let home = dir.path().join("home");
    let h = home.to_str().unwrap();
    let (ok, err) = node_cmd(&["init", "--home", h, "--chain-id", "test-chain", "--rpc", "127.0.0.1:0"])?;
    assert!(ok, "{err}");
    let (ok, err) = node_cmd(&["init", "--home", h])?;
    assert!(!ok && err.contains("already exists"), "{err}");

    let genesis = home.join("genesis.json");
    let original = std::fs::read_to_string(&genesis)?;
    std::fs::write(&genesis, &original[..original.len() / 2])?;
    let (ok, err) = node_cmd(&["start", "--home", h])?;
    assert!(!ok && err.contains("genesis") && !err.contains("panicked"), "{err}");
    std::fs::write(&genesis, &original)?;

    let config = home.join("config.toml");
    let original_config = std::fs::read_to_string(&config)?;
    std::fs::write(&config, "[rpc]\nlisten = 12\n")?;
    let (ok, err) = node_cmd(&["start", "--home", h])?;
    assert!(!ok && err.contains("config.toml") && !err.contains("panicked"), "{err}");
    std::fs::write(&config, &original_config)?;

    std::fs::write(home.join("validator_key.json"), "{")?;
    let (ok, err) = node_cmd(&["start", "--home", h])?;
    assert!(!ok && err.contains("validator_key.json") && !err.contains("panicked"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_request_rate_gets_429_then_service_again() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let env = [("CONSORT__RPC__REQUESTS_PER_SEC", "5"), ("CONSORT__RPC__REQUESTS_BURST", "10")];
    let node = DevNode::start_with_env(&dir.path().join("home"), &env).await?;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/status", node.url);
    let mut statuses = Vec::new();
    let mut refusal = None;
    for _ in 0..40 {
        let resp = http.get(&url).send().await?;
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 && refusal.is_none() {
            let retry_after: u64 = resp.headers()["retry-after"].to_str()?.parse()?;
            refusal = Some((retry_after, resp.json::<serde_json::Value>().await?));
        }
    }
    // The burst of 10 goes through (plus what refilled meanwhile), the rest is refused.
    let served = statuses.iter().filter(|s| **s == 200).count();
    assert!((10..40).contains(&served), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    let (retry_after, body) = refusal.expect("some requests refused");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(retry_after >= 1, "{retry_after}");
    // Once the bucket has refilled the client is served again.
    consort_tests::wait_until(FINALITY_DEADLINE, "the rate limit to let requests through again", || {
        let (http, url) = (http.clone(), url.clone());
        async move { http.get(&url).send().await.ok().filter(|r| r.status() == 200).map(|_| ()) }
    })
    .await?;
    // The SDK client waits out a 429 (its Retry-After) and tries again, so a burst through it succeeds.
    let client = node.client();
    for _ in 0..30 {
        client.status().await?;
    }
    node.stop().await
}
