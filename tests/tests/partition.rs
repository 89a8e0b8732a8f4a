//! Four validators on four test hosts (network namespaces with a link between every two, made by the test;
//! root only, skipped with a message elsewhere). Split 2|2: no new height and no fork; healed, progress
//! resumes. Split 3|1: the three keep committing; healed, the one catches up. Latency, jitter and loss on
//! every link (tc netem, where the kernel has it): still committing. Prints how long each resumption took.

use consort_sdk::Client;
use consort_tests::netns::{self, Net};
use consort_tests::testnet::{height, same_chain, FAST, PROGRESS_DEADLINE};
use consort_tests::{metric, wait_until, DevNode};
use std::time::{Duration, Instant};

async fn heights(clients: &[Client]) -> Vec<u64> {
    let mut out = Vec::new();
    for c in clients {
        out.push(height(c).await);
    }
    out
}

/// Waits until every client is `above` its height in `from`.
async fn all_advance(clients: &[Client], above: u64, what: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let from = heights(clients).await;
    wait_until(PROGRESS_DEADLINE, what, || {
        let (cs, from) = (clients.to_vec(), from.clone());
        async move {
            for (c, h) in cs.iter().zip(&from) {
                if height(c).await < h + above {
                    return None;
                }
            }
            Some(())
        }
    })
    .await?;
    Ok(start.elapsed())
}

/// Waits until every client works on height `committed` or above and is past its propose step: each had
/// its chance to decide, and without two thirds of the power none can gather the prevotes to go on.
async fn all_stuck_from(clients: &[Client], committed: u64, what: &str) -> anyhow::Result<()> {
    wait_until(PROGRESS_DEADLINE, what, || {
        let cs = clients.to_vec();
        async move {
            for c in &cs {
                let step = metric(c.url(), "consort_step").await?;
                let in_progress = metric(c.url(), "consort_height").await?;
                if step < 1 || in_progress < committed {
                    return None;
                }
            }
            Some(())
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_halt_or_continue_as_bft_says_and_heal() -> anyhow::Result<()> {
    if let Some(why) = netns::unavailable() {
        println!("skipped: {why}");
        return Ok(());
    }
    let dir = consort_tests::test_dir()?;
    let out = consort_tests::testnet::create(dir.path(), 4)?;
    let testnet: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("testnet.json"))?)?;
    // From each node's loopback multiaddr keep its port and peer id; the hosts get their own addresses.
    let ports_and_ids: Vec<(String, String)> = (0..4)
        .map(|i| {
            let p2p = testnet[i]["p2p"].as_str().expect("p2p multiaddr");
            let parts: Vec<&str> = p2p.split('/').collect();
            (parts[4].to_owned(), parts[6].to_owned())
        })
        .collect();

    let net = Net::mesh(4)?;
    let mut nodes = Vec::new();
    for i in 0..4 {
        let peers: Vec<String> = (0..4)
            .filter(|&j| j != i)
            .map(|j| format!("\"/ip4/{}/tcp/{}/p2p/{}\"", net.addr(j, i), ports_and_ids[j].0, ports_and_ids[j].1))
            .collect();
        let listen = format!("/ip4/0.0.0.0/tcp/{}", ports_and_ids[i].0);
        let peers = format!("[{}]", peers.join(","));
        let rpc = format!("{}:26657", net.rpc_addr(i));
        let mut env: Vec<(&str, &str)> = FAST.to_vec();
        env.extend([
            ("CONSORT__P2P__LISTEN", listen.as_str()),
            ("CONSORT__P2P__PEERS", peers.as_str()),
            ("CONSORT__RPC__LISTEN", rpc.as_str()),
        ]);
        nodes.push(DevNode::start_in_netns(&out.join(format!("node{i}")), &net.ns(i), &env).await?);
    }
    let clients: Vec<Client> = nodes.iter().map(DevNode::client).collect();
    all_advance(&clients, 2, "four hosts committing together").await?;

    // 2|2: neither side has more than two thirds, so nothing is decided, and nothing forks.
    net.partition(&[0, 1], &[2, 3])?;
    let split_at = *heights(&clients).await.iter().max().unwrap();
    all_stuck_from(&clients, split_at, "every node voting without quorum in the 2|2 split").await?;
    // A block whose precommits were already on their way may still land: one height, no more.
    let top = *heights(&clients).await.iter().max().unwrap();
    assert!(top <= split_at + 1, "height {top} was decided without a two-thirds majority (split at {split_at})");
    same_chain(&clients).await?;
    net.heal()?;
    let took = all_advance(&clients, 1, "progress after healing the 2|2 split").await?;
    println!("partition: 2|2 healed, every node committed again after {took:?}");
    same_chain(&clients).await?;

    // 3|1: the majority goes on; the one catches up when healed.
    net.partition(&[0, 1, 2], &[3])?;
    all_advance(&clients[..3], 3, "the three-node majority committing").await?;
    let majority = *heights(&clients[..3]).await.iter().max().unwrap();
    let minority = height(&clients[3]).await;
    assert!(minority < majority, "the cut-off node kept up ({minority} of {majority}): the split did not hold");
    net.heal()?;
    let start = Instant::now();
    wait_until(PROGRESS_DEADLINE, "the minority catching up", || {
        let c = clients[3].clone();
        async move { (height(&c).await >= majority).then_some(()) }
    })
    .await?;
    let behind = majority - minority;
    println!("partition: 3|1 healed, the minority caught up {behind} heights in {:?}", start.elapsed());
    same_chain(&clients).await?;

    // A slow, lossy network: 40 ms ± 20 ms delay and 5 % loss on every link.
    if net.netem_available() {
        for a in 0..4 {
            for b in a + 1..4 {
                net.shape(a, b, &["delay", "40ms", "20ms", "loss", "5%"])?;
            }
        }
        let took = all_advance(&clients, 3, "committing over delayed, lossy links").await?;
        println!("partition: 3 heights over 40±20 ms delay and 5% loss took {took:?}");
        net.heal()?;
        same_chain(&clients).await?;
    } else {
        println!("partition: latency and loss skipped: this kernel has no netem qdisc (sch_netem)");
    }
    for node in nodes {
        node.stop().await?;
    }
    Ok(())
}
