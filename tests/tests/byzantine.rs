//! One byzantine validator among four (`consort-node-byzantine`: it double-votes and double-proposes at
//! every step) while transfers flow: the three honest validators stay safe (one chain, block by block)
//! and live (txs become final), and each records verifiable evidence naming the byzantine validator,
//! queryable at `GET /v1/evidence`.

use consort_sdk::{Client, Evidence, Keystore, Wallet};
use consort_tests::testnet::{height, same_chain, FAST, PROGRESS_DEADLINE};
use consort_tests::{wait_until, DevNode, FINALITY_DEADLINE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_honest_validators_stay_safe_and_live_and_record_the_fourths_double_signing() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let out = consort_tests::testnet::create(dir.path(), 4)?;
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(DevNode::start_home(&out.join(format!("node{i}")), FAST).await?);
    }
    nodes.push(DevNode::start_byzantine(&out.join("node3"), FAST).await?);
    let honest: Vec<Client> = nodes[..3].iter().map(DevNode::client).collect();
    let byzantine = nodes[3].client().status().await?.validator;

    // Live: transfers through each honest node become final, past several heights of double-signing.
    let keystore = Keystore::new(out.join("keystore"));
    let to = keystore.get("dev9")?.0.address;
    for round in 0..3 {
        for (i, client) in honest.iter().enumerate() {
            let (_, key) = keystore.get(&format!("dev{i}"))?;
            let mut wallet = Wallet::connect(key, client).await?;
            let receipt = client.submit_and_wait(&wallet.transfer(to, 10 + round), PROGRESS_DEADLINE).await?;
            assert!(receipt.is_success(), "{receipt:?}");
        }
    }
    let start = height(&honest[0]).await;
    wait_until(PROGRESS_DEADLINE, "the honest validators committing ten more heights", || {
        let c = honest[0].clone();
        async move { (height(&c).await >= start + 10).then_some(()) }
    })
    .await?;

    // Safe: the honest nodes hold one chain.
    same_chain(&honest).await?;

    // The faults are on record at every honest node, as verifiable proof against the byzantine validator
    // only: conflicting votes at least (conflicting proposals too when its turn to propose came).
    for c in &honest {
        let evidence = wait_until(FINALITY_DEADLINE, "evidence of the double votes", || {
            let c = c.clone();
            async move { c.evidence(0).await.ok().filter(|e| !e.is_empty()) }
        })
        .await?;
        for e in &evidence {
            assert_eq!(e.verify(), Ok(()), "{e:?}");
            assert_eq!(consort_sdk::Address::from_public_key(&e.validator()), byzantine, "{e:?}");
        }
        assert!(evidence.iter().any(|e| matches!(e, Evidence::ConflictingVotes { .. })), "{evidence:?}");
        let later = c.evidence(evidence.last().unwrap().height() + 1).await?;
        assert!(later.iter().all(|e| e.height() > evidence.last().unwrap().height()), "paging by height");
    }
    for node in nodes {
        node.stop().await?;
    }
    Ok(())
}
