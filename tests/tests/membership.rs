//! Membership and governance across real processes: on a 4-validator testnet the consortium votes a
//! fifth organisation in; its new node (started from the genesis with fresh keys) is refused until then,
//! connects and syncs once admitted, and after the change height signs blocks as a validator. Then a
//! member is voted out: its node is disconnected and consensus goes on without it. A proposal short of
//! the threshold never executes, and a non-member cannot propose.

use consort_sdk::{Address, Client, Keypair, Keystore, ProposalKind, Receipt, Wallet};
use consort_tests::testnet::{height, FAST, PROGRESS_DEADLINE};
use consort_tests::{bin, metric, wait_until, DevNode, FINALITY_DEADLINE};
use std::path::Path;

async fn reach(c: &Client, target: u64, what: &str) -> anyhow::Result<()> {
    wait_until(PROGRESS_DEADLINE, what, || {
        let c = c.clone();
        async move { (height(&c).await >= target).then_some(()) }
    })
    .await
}

async fn wallet(keystore: &Keystore, name: &str, client: &Client) -> anyhow::Result<Wallet> {
    Ok(Wallet::connect(keystore.get(name)?.1, client).await?)
}

async fn send(client: &Client, tx: consort_sdk::SignedTx) -> anyhow::Result<Receipt> {
    Ok(client.submit_and_wait(&tx, FINALITY_DEADLINE).await?)
}

/// Proposes `kind` as `proposer` and has `approvers` approve; returns the height it executed at.
async fn pass(
    client: &Client,
    keystore: &Keystore,
    proposer: &str,
    approvers: &[&str],
    kind: ProposalKind,
) -> anyhow::Result<u64> {
    let r = send(client, wallet(keystore, proposer, client).await?.propose(kind)).await?;
    anyhow::ensure!(r.is_success(), "proposal failed: {:?}", r.outcome);
    let id: u64 = r.event("proposal_created").and_then(|e| e.get("id")).unwrap().parse()?;
    for a in approvers {
        let r = send(client, wallet(keystore, a, client).await?.approve(id)).await?;
        anyhow::ensure!(r.is_success(), "approval by {a} failed: {:?}", r.outcome);
        if r.event("proposal_executed").is_some() {
            return Ok(r.height);
        }
    }
    anyhow::bail!("proposal {id} did not execute with {approvers:?}")
}

fn peers_of(out: &Path) -> anyhow::Result<Vec<String>> {
    let listed: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("testnet.json"))?)?;
    Ok(listed.as_array().unwrap().iter().map(|n| n["p2p"].as_str().unwrap().to_owned()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consortium_admits_a_member_then_removes_one() -> anyhow::Result<()> {
    let dir = consort_tests::test_dir()?;
    let out = consort_tests::testnet::create(dir.path(), 4)?;
    let (nodes, clients) = consort_tests::testnet::start_all(&out, 4).await?;
    let keystore = Keystore::new(out.join("keystore"));
    let c0 = &clients[0];

    // A non-member cannot propose.
    let outsider = Keypair::generate();
    send(c0, wallet(&keystore, "dev9", c0).await?.transfer(outsider.address(), 1_000_000)).await?;
    let r =
        send(c0, Wallet::connect(outsider, c0).await?.propose(ProposalKind::Mint { to: Address([1; 20]), amount: 5 }))
            .await?;
    assert_eq!(r.outcome, consort_sdk::TxOutcome::Failed { code: "not_member".into(), message: r_message(&r) });

    // A proposal with only its proposer's approval stays open and does nothing.
    let lucky = Keypair::generate().address();
    let r =
        send(c0, wallet(&keystore, "dev3", c0).await?.propose(ProposalKind::Mint { to: lucky, amount: 1_000 })).await?;
    assert!(r.is_success());
    let short_id: u64 = r.event("proposal_created").and_then(|e| e.get("id")).unwrap().parse()?;

    // A fifth organisation's node, from the genesis with fresh keys, is refused before it is a member.
    let joined = std::process::Command::new(bin("consort-node")?)
        .args(["join", "--home"])
        .arg(out.join("node4"))
        .arg("--genesis")
        .arg(out.join("node0/genesis.json"))
        .args(["--rpc", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0"])
        .args(peers_of(&out)?.iter().flat_map(|p| ["--peer".to_string(), p.clone()]))
        .output()?;
    assert!(joined.status.success(), "{}", String::from_utf8_lossy(&joined.stderr));
    let info: serde_json::Value = serde_json::from_slice(&joined.stdout)?;
    let (public_key, peer_id) = (
        info["validator_public_key"].as_str().unwrap().parse::<consort_sdk::PublicKey>().map_err(anyhow::Error::msg)?,
        info["peer_id"].as_str().unwrap().to_owned(),
    );
    let node4 = DevNode::start_home(&out.join("node4"), FAST).await?;
    let c4 = node4.client();
    wait_until(PROGRESS_DEADLINE, "node0 refusing the non-member", || async {
        (metric(c0.url(), "consort_peers_refused_total").await.unwrap_or(0) > 0).then_some(())
    })
    .await?;
    assert_eq!(height(&c4).await, 0, "a refused node cannot sync");

    // The consortium admits it (3 of 4 members); its node connects and syncs.
    let new_admin = keystore.get("dev4")?.0.address;
    let add = ProposalKind::AddMember { name: "node4".into(), admins: vec![new_admin], peer_ids: vec![peer_id] };
    pass(c0, &keystore, "dev0", &["dev1", "dev2"], add).await?;
    reach(&c4, height(c0).await, "the new member's node syncing").await?;

    // Its key becomes a validator (4 of 5 members); from the height after, it signs commits.
    let set = ProposalKind::SetValidator { member: "node4".into(), public_key, power: 10 };
    let changed_at = pass(c0, &keystore, "dev4", &["dev0", "dev1", "dev2"], set).await?;
    let signer = wait_until(PROGRESS_DEADLINE, "a commit signed by the new validator", || {
        let c0 = c0.clone();
        async move {
            let head = height(&c0).await;
            for h in changed_at + 1..=head {
                let block = c0.block(Some(h)).await.ok()?;
                if block.commit.signatures.iter().any(|s| s.validator == public_key) {
                    return Some(h);
                }
            }
            None
        }
    })
    .await?;
    assert!(signer > changed_at, "a change executed at {changed_at} applies from {} on", changed_at + 1);
    for h in 1..=changed_at {
        let block = c0.block(Some(h)).await?;
        assert!(block.commit.signatures.iter().all(|s| s.validator != public_key), "signed at {h} before its time");
    }
    assert_eq!(c0.members().await?.validators.len(), 5);

    // node3's organisation is voted out (4 of 5): its node is cut off and the rest go on without it.
    let removed_at =
        pass(c0, &keystore, "dev0", &["dev1", "dev2", "dev4"], ProposalKind::RemoveMember { name: "node3".into() })
            .await?;
    wait_until(PROGRESS_DEADLINE, "node3 disconnected from everyone", || {
        let url = clients[3].url().to_owned();
        async move { (metric(&url, "consort_peers_connected").await == Some(0)).then_some(()) }
    })
    .await?;
    let stuck = height(&clients[3]).await;
    let live = [&clients[0], &clients[1], &clients[2], &c4];
    for c in live {
        reach(c, removed_at.max(stuck) + 3, "consensus without the removed member").await?;
    }
    assert!(height(&clients[3]).await <= stuck + 1, "the removed node is no longer fed blocks");
    let members = c0.members().await?;
    assert_eq!(members.members.len(), 4);
    assert!(members.validators.iter().all(|v| v.member != "node3"));

    // The short proposal never executed.
    let p = c0.proposal(short_id).await?;
    assert_eq!((p.status.as_str(), p.approvals.len()), ("open", 1));
    assert_eq!(c0.balance(&lucky).await?, 0);

    node4.stop().await?;
    for node in nodes.into_iter().flatten() {
        node.stop().await?;
    }
    Ok(())
}

fn r_message(r: &Receipt) -> String {
    match &r.outcome {
        consort_sdk::TxOutcome::Failed { message, .. } => message.clone(),
        consort_sdk::TxOutcome::Success => String::new(),
    }
}
