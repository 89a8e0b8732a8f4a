//! The agreements as real wasm on a real dev chain, driven through the SDK: the shoe-data story (a brand,
//! three wearers, a heart monitor, data commitments, two buyers, a revoked consent, withdrawals), a
//! revenue split and a co-creation program; then the registry lists each party's agreements with what
//! it is owed, through the SDK and the CLI.

use consort_sdk::api::AgreementEntry;
use consort_sdk::{Address, Client, Hash, Keypair, Keystore, Receipt, Wallet};
use consort_tests::{agreement_wasm, DevNode, FINALITY_DEADLINE};
use serde_json::{json, Value};

async fn send(client: &Client, tx: consort_sdk::SignedTx) -> anyhow::Result<Receipt> {
    let receipt = client.submit_and_wait(&tx, FINALITY_DEADLINE).await?;
    anyhow::ensure!(receipt.is_success(), "tx failed: {:?}", receipt.outcome);
    Ok(receipt)
}

struct Party {
    wallet: Wallet,
}

impl Party {
    async fn fresh(client: &Client, funder: &mut Wallet) -> anyhow::Result<Party> {
        let key = Keypair::generate();
        send(client, funder.transfer(key.address(), 10_000_000)).await?;
        Ok(Party { wallet: Wallet::connect(key, client).await? })
    }

    fn address(&self) -> Address {
        self.wallet.address()
    }

    async fn exec(&mut self, client: &Client, contract: Address, msg: Value, funds: u128) -> anyhow::Result<Receipt> {
        let tx = self.wallet.execute(contract, &msg, funds)?;
        send(client, tx).await
    }
}

fn owed_in(entries: &[AgreementEntry], contract: &Address) -> Option<(String, u128, u128)> {
    let entry = entries.iter().find(|e| &e.contract == contract)?;
    let party = &entry.view.as_ref()?.parties[0];
    Some((party.role.clone(), party.owed, party.withdrawn))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shoe_story_and_the_registry_through_the_sdk() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let home = dir.path().join("home");
    let node = DevNode::start(&home).await?;
    let client = node.client();
    let keystore = Keystore::new(home.join("keystore"));
    let dev = |n: &str| Wallet::offline(keystore.get(n).unwrap().1, "consort-dev", 0);
    let (mut brand, mut buyer1, mut buyer2, mut funder) = (dev("dev1"), dev("dev2"), dev("dev3"), dev("dev0"));
    for w in [&mut brand, &mut buyer1, &mut buyer2, &mut funder] {
        w.resync(&client).await?;
    }

    // The brand (a member organisation) deploys the three agreement contracts.
    let mut code = std::collections::BTreeMap::new();
    for name in ["shoe_data", "revenue_split", "co_creation"] {
        let wasm = agreement_wasm(name)?;
        code.insert(name, Hash::digest(&wasm));
        send(&client, brand.store_code(wasm)).await?;
    }

    // The brand opens its data program.
    let terms = json!({"brand": "Stride", "wearer_share_bps": 7000, "categories": ["steps", "pace", "route", "heart_rate"],
        "units_per_pair": 10, "sync_bonus_units": 3});
    let tx = brand.instantiate(code["shoe_data"], Some(brand.address()), "stride-data", &terms, 0)?;
    let program = send(&client, tx).await?.instantiated_contract().unwrap();

    // Three wearers activate shoes; one syncs a heart monitor; they commit data hashes.
    let mut wearers = Vec::new();
    for (i, consent) in [["steps", "pace"], ["steps", "route"], ["steps", "pace"]].iter().enumerate() {
        let mut w = Party::fresh(&client, &mut funder).await?;
        let msg = json!({"activate": {"shoe_id": format!("STRIDE-{i}"), "consent": consent, "device_key": null}});
        w.exec(&client, program, msg, 0).await?;
        wearers.push(w);
    }
    let sync = json!({"sync_wearable": {"device_id": "HRM-1", "kind": "heart monitor", "categories": ["heart_rate"], "device_key": null}});
    wearers[0].exec(&client, program, sync, 0).await?;
    for (i, records) in [300u64, 100, 100].iter().enumerate() {
        let data = format!("steps of wearer {i}");
        let msg = json!({"commit": {"wearer": null, "category": "steps", "hash": Hash::digest(data.as_bytes()).to_string(),
            "from_ms": 1_000, "to_ms": 2_000, "records": records}});
        wearers[i].exec(&client, program, msg, 0).await?;
    }
    let hr = json!({"commit": {"wearer": null, "category": "heart_rate", "hash": Hash::digest(b"hr").to_string(), "from_ms": 1_000, "to_ms": 2_000, "records": 50}});
    wearers[0].exec(&client, program, hr, 0).await?;

    // Buyer 1 purchases the steps dataset: 70% to the wearers by records (3:1:1), 30% to the brand.
    let purchase = json!({"purchase": {"category": "steps", "from_ms": 0, "to_ms": 10_000}});
    let tx = buyer1.execute(program, &purchase, 10_000)?;
    let bought = send(&client, tx).await?;
    assert_eq!(bought.event("dataset_purchased").and_then(|e| e.get("records")), Some("500"));
    // Wearer 2 revokes consent for steps; buyer 2's purchase excludes their data.
    wearers[2].exec(&client, program, json!({"revoke_consent": {"categories": ["steps"]}}), 0).await?;
    let tx = buyer2.execute(program, &purchase, 4_000)?;
    send(&client, tx).await?;
    let owed = |v: Value| v["owed"].as_str().unwrap().parse::<u128>().unwrap();
    let mut earned = Vec::new();
    for w in &wearers {
        earned.push(owed(client.query(&program, &json!({"wearer": {"address": w.address().to_string()}})).await?));
    }
    assert_eq!(earned, vec![4_200 + 2_100, 1_400 + 700, 1_400], "by records; the revoked wearer is out of sale 2");

    // The registry: a wearer's agreements with what they are owed.
    let listed = client.agreements_of(&wearers[0].address()).await?;
    assert_eq!(owed_in(&listed, &program), Some(("wearer".into(), 6_300, 0)));
    let view = client.agreement(&program).await?.view.unwrap();
    assert_eq!((view.kind.as_str(), view.parties_total, view.totals.received), ("shoe_data", 4, 14_000));

    // Everyone withdraws; the wearer's balance grows by exactly what was owed.
    for w in &mut wearers {
        let before = client.balance(&w.address()).await?;
        let owed_now = owed_in(&client.agreements_of(&w.address()).await?, &program).unwrap().1;
        w.exec(&client, program, json!({"withdraw": {}}), 0).await?;
        assert_eq!(client.balance(&w.address()).await?, before + owed_now);
    }
    send(&client, brand.execute(program, &json!({"withdraw": {}}), 0)?).await?;
    assert_eq!(client.balance(&program).await?, 0, "everything paid out: 14,000 in, 14,000 out");
    let after = client.agreements_of(&wearers[0].address()).await?;
    assert_eq!(owed_in(&after, &program), Some(("wearer".into(), 0, 6_300)));

    // A revenue split and a co-creation program show up in the same registry.
    let parties = json!([{"address": wearers[0].address().to_string(), "share": 1}, {"address": brand.address().to_string(), "share": 3}]);
    let tx = brand.instantiate(
        code["revenue_split"],
        None,
        "collab",
        &json!({"title": "Collab shoe", "parties": parties}),
        800,
    )?;
    let split = send(&client, tx).await?.instantiated_contract().unwrap();
    let tx = brand.instantiate(
        code["co_creation"],
        None,
        "ideas",
        &json!({"title": "Ideas", "royalty_bps": 500, "jury": [brand.address().to_string()]}),
        0,
    )?;
    let ideas = send(&client, tx).await?.instantiated_contract().unwrap();
    wearers[1]
        .exec(&client, ideas, json!({"propose": {"title": "Reflective laces", "summary": "Safer at night"}}), 0)
        .await?;
    let listed = client.agreements_of(&wearers[0].address()).await?;
    assert_eq!(owed_in(&listed, &split), Some(("party".into(), 200, 0)));
    let listed = client.agreements_of(&wearers[1].address()).await?;
    assert!(owed_in(&listed, &ideas).is_some() && owed_in(&listed, &program).is_some());
    assert!(client.agreements_page(None, None).await?.agreements.len() >= 3);

    // The CLI prints the same as a table.
    let out = node.cli(&["agreements", "--party", &wearers[0].address().to_string()])?;
    let table = String::from_utf8(out.stdout)?;
    assert!(table.contains("shoe_data") && table.contains("revenue_split") && table.contains("OWED"), "{table}");
    node.stop().await
}
