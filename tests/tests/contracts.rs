//! The contract lifecycle on a real dev chain: a contract scaffolded by `consort contract new`, built to
//! wasm, deployed, instantiated, executed and queried through the CLI and through the SDK; refusals
//! reach the caller as clear errors; everything survives a restart.

use consort_sdk::{Address, Hash, Keypair, Keystore, Wallet};
use consort_tests::{contracts_target_dir, DevNode, FINALITY_DEADLINE};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

fn dev_key(home: &Path, name: &str) -> Keypair {
    Keystore::new(home.join("keystore")).get(name).expect("dev key in keystore").1
}

/// Parses the CLI's `--json` output, failing with its stderr when it did not succeed.
fn json_out(out: Output) -> anyhow::Result<Value> {
    anyhow::ensure!(
        out.status.success(),
        "consort failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn event_attr<'a>(receipt: &'a Value, kind: &str, key: &str) -> Option<&'a str> {
    receipt["events"].as_array()?.iter().find(|e| e["kind"] == kind)?["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?["value"]
        .as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaffolded_contract_runs_through_cli_and_sdk() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let home = dir.path().join("home");
    let node = DevNode::start(&home).await?;

    // Scaffold, test natively and build exactly as the README says.
    let crate_dir = dir.path().join("hello");
    let crate_arg = crate_dir.to_str().unwrap();
    // The README's command, plus --api-path: the CLI's default is the source tree it was compiled in, and
    // checkouts that share one CARGO_TARGET_DIR share its binaries (this test's too), so that tree may be
    // another checkout. Cargo runs a test in its package's directory of the checkout under test.
    let api = std::env::current_dir()?.join("../contracts/api");
    let api_arg = api.to_str().unwrap();
    json_out(node.cli(&["contract", "new", "hello", "--dir", crate_arg, "--api-path", api_arg, "--json"])?)?;
    let native = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["test", "--quiet"])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", contracts_target_dir())
        .output()?;
    assert!(native.status.success(), "the template's own tests fail: {}", String::from_utf8_lossy(&native.stderr));
    let built = json_out(
        node.cli_command()?
            .args(["contract", "build", crate_arg, "--json"])
            .env("CARGO_TARGET_DIR", contracts_target_dir())
            .output()?,
    )?;
    let wasm = built["wasm"].as_str().unwrap().to_owned();
    let code = std::fs::read(&wasm)?;
    let code_hash = Hash::digest(&code);
    assert_eq!(built["code_hash"], code_hash.to_string());

    // CLI: deploy, instantiate, execute, query, info.
    let stored = json_out(node.cli(&["contract", "deploy", &wasm, "--from", "dev0", "--json"])?)?;
    assert_eq!(event_attr(&stored, "store_code", "code_hash"), Some(code_hash.to_string().as_str()));
    let hash_arg = code_hash.to_string();
    let created = json_out(node.cli(&[
        "contract",
        "instantiate",
        &hash_arg,
        "--label",
        "hello",
        "--msg",
        r#"{"greeting":"hi"}"#,
        "--from",
        "dev0",
        "--json",
    ])?)?;
    let contract: Address = event_attr(&created, "instantiate", "contract").unwrap().parse()?;
    let contract_arg = contract.to_string();
    let bumped = json_out(node.cli(&[
        "contract",
        "execute",
        &contract_arg,
        "--msg",
        r#"{"increment":{}}"#,
        "--from",
        "dev1",
        "--json",
    ])?)?;
    assert_eq!(bumped["data"], "1");
    assert_eq!(event_attr(&bumped, "incremented", "contract"), Some(contract_arg.as_str()));
    let msg_file = dir.path().join("tip.json");
    std::fs::write(&msg_file, r#"{"tip":{}}"#)?;
    json_out(node.cli(&[
        "contract",
        "execute",
        &contract_arg,
        "--msg-file",
        msg_file.to_str().unwrap(),
        "--funds",
        "500",
        "--from",
        "dev1",
        "--json",
    ])?)?;
    let state = json_out(node.cli(&["contract", "query", &contract_arg, "--msg", r#"{"state":{}}"#, "--json"])?)?;
    assert_eq!((state["count"].as_u64(), state["tips_total"].as_str()), (Some(1), Some("500")));
    let info = json_out(node.cli(&["contract", "info", &contract_arg, "--json"])?)?;
    assert_eq!(info["balance"], "500");
    assert_eq!(info["admin"], dev_key(&home, "dev0").address().to_string());
    let text = node.cli(&["contract", "info", &hash_arg])?;
    assert!(String::from_utf8(text.stdout)?.contains(&format!("{} bytes", code.len())));

    // Refusals through the CLI: non-admin migrate, a contract error, a message that is not JSON.
    let out = node.cli(&["contract", "migrate", &contract_arg, &hash_arg, "--msg", "{}", "--from", "dev1"])?;
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)?.contains("not_admin"));
    let out = node.cli(&[
        "contract",
        "execute",
        &contract_arg,
        "--msg",
        r#"{"set_greeting":{"greeting":"x"}}"#,
        "--from",
        "dev1",
    ])?;
    let stderr = String::from_utf8(out.stderr)?;
    assert!(stderr.contains("contract_error") && stderr.contains("only the owner may do this"), "{stderr}");
    let out = node.cli(&["contract", "execute", &contract_arg, "--msg", "{oops", "--from", "dev1"])?;
    assert!(String::from_utf8(out.stderr)?.contains("not valid JSON"));

    // SDK: a second instance from dev2, typed queries, a payout, and a refused deploy.
    let client = node.client();
    let dev2 = dev_key(&home, "dev2");
    let mut wallet = Wallet::connect(dev2.clone(), &client).await?;
    let tx = wallet.instantiate(code_hash, Some(dev2.address()), "second", &json!({"greeting": "hey"}), 0)?;
    let receipt = client.submit_and_wait(&tx, FINALITY_DEADLINE).await?;
    let second = receipt.instantiated_contract().expect("instantiate event");
    assert_ne!(second, contract);
    for _ in 0..2 {
        let r =
            client.submit_and_wait(&wallet.execute(second, &json!({"increment": {}}), 0)?, FINALITY_DEADLINE).await?;
        assert!(r.is_success(), "{r:?}");
    }
    let tip = wallet.execute(second, &json!({"tip": {}}), 1_000)?;
    assert!(client.submit_and_wait(&tip, FINALITY_DEADLINE).await?.is_success());
    let fan = Keypair::generate().address();
    let payout = wallet.execute(second, &json!({"payout": {"to": fan.to_string(), "amount": "400"}}), 0)?;
    assert!(client.submit_and_wait(&payout, FINALITY_DEADLINE).await?.is_success());
    assert_eq!((client.balance(&fan).await?, client.balance(&second).await?), (400, 600));
    let state: Value = client.query(&second, &json!({"state": {}})).await?;
    assert_eq!(state["count"], 2);
    assert_eq!(client.code_info(&code_hash).await?.size as usize, code.len());
    let bad = client.query_raw(&second, &json!({"no_such_query": {}})).await.unwrap_err();
    assert_eq!(bad.code(), Some("contract_error"));
    let nobody = client.query_raw(&Keypair::generate().address(), &json!({"state": {}})).await.unwrap_err();
    assert_eq!(nobody.code(), Some("not_found"));

    let outsider = Keypair::generate();
    let fund = wallet.transfer(outsider.address(), 1_000_000);
    assert!(client.submit_and_wait(&fund, FINALITY_DEADLINE).await?.is_success());
    let mut outsider_wallet = Wallet::connect(outsider, &client).await?;
    let refused = client.submit(&outsider_wallet.store_code(code.clone())).await.unwrap_err();
    assert_eq!(refused.code(), Some("not_deployer"));

    // After a restart the module is compiled again from state and answers the same.
    let node = node.restart().await?;
    let state: Value = node.client().query(&contract, &json!({"state": {}})).await?;
    assert_eq!(state["greeting"], "hi");
    node.stop().await
}
