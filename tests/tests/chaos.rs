//! Crash loop under load: four validators as four processes take a steady stream of transfers and
//! revenue-split payments and withdrawals while, every few seconds, a random validator is SIGKILLed and
//! restarted (never more than one down at once). At the end: every node has the same block hash and app
//! hash at every height; every tx any node reported final is in every node's chain exactly once with the
//! same receipt; total supply is unchanged; the agreement's accounts balance to the unit; no node saw a
//! validator sign two conflicting votes.
//!
//! `CHAOS_SECS` sets how long the kills go on (default 40), `CHAOS_SEED` the kill schedule (default: from
//! the clock, printed so a failing schedule can be replayed).

use consort_sdk::{Address, Client, Hash, Keypair, Keystore, Receipt, SignedTx, Wallet};
use consort_tests::testnet::{all_reach, max_height};
use consort_tests::{agreement_wasm, metric, FINALITY_DEADLINE};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a load task waits for one tx to become final before it gives up on it and moves on.
const TX_WAIT: Duration = Duration::from_secs(20);
const TRANSFER_SENDERS: usize = 6;

/// Tiny deterministic generator for the kill schedule (xorshift64*).
struct Schedule(u64);

impl Schedule {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Txs that some node reported final, with the receipt it reported.
type Finals = Arc<Mutex<BTreeMap<Hash, Receipt>>>;

/// Submits `tx` to the clients in turn, starting at `first`, until one reports it final. A node may be
/// down or restart under us: then the next one is asked (the tx may already be in its mempool).
async fn submit_until_final(clients: &[Client], first: usize, tx: &SignedTx) -> Option<Receipt> {
    let until = Instant::now() + TX_WAIT;
    let mut i = first;
    while Instant::now() < until {
        let client = &clients[i % clients.len()];
        i += 1;
        // A refusal as a duplicate means some node holds it already: wait for it all the same.
        let _ = client.submit(tx).await;
        if let Ok(receipt) = client.wait_for(&tx.hash(), Duration::from_secs(5)).await {
            return Some(receipt);
        }
    }
    None
}

/// One sender's loop: build the next tx, get it final, record it. After a tx that did not become final the
/// wallet re-reads its nonce, since that tx may or may not have been committed.
async fn sender(
    clients: Vec<Client>,
    key: Keypair,
    index: usize,
    finals: Finals,
    stop: Arc<AtomicBool>,
    mut next: impl FnMut(&mut Wallet, u64) -> SignedTx,
) -> anyhow::Result<u64> {
    let mut wallet = loop {
        if let Ok(w) = Wallet::connect(key.clone(), &clients[index % clients.len()]).await {
            break w;
        }
    };
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let tx = next(&mut wallet, n);
        n += 1;
        match submit_until_final(&clients, index, &tx).await {
            Some(receipt) => {
                finals.lock().unwrap().insert(receipt.tx_hash, receipt);
            }
            None => {
                for c in clients.iter().cycle().skip(index).take(clients.len() * 10) {
                    if wallet.resync(c).await.is_ok() {
                        break;
                    }
                }
            }
        }
    }
    Ok(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_validator_kills_under_load_lose_nothing_and_never_fork() -> anyhow::Result<()> {
    let secs: u64 = std::env::var("CHAOS_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    let seed: u64 = std::env::var("CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    }) | 1;
    println!("chaos: {secs} s, CHAOS_SEED={seed}");

    let dir = consort_tests::test_dir()?;
    let out = consort_tests::testnet::create(dir.path(), 4)?;
    let (mut nodes, clients) = consort_tests::testnet::start_all(&out, 4).await?;

    let keystore = Keystore::new(out.join("keystore"));
    let devs: Vec<Keypair> =
        (0..10).map(|i| keystore.get(&format!("dev{i}")).map(|k| k.1)).collect::<Result<_, _>>()?;
    let recipient = Keypair::generate().address();
    let mut tracked: Vec<Address> = devs.iter().map(Keypair::address).chain([recipient]).collect();
    let initial_supply = supply(&clients[0], &tracked).await?;

    // A revenue split between dev8 (share 1) and dev9 (share 3); dev7 pays in, dev8 withdraws.
    let mut brand = Wallet::connect(devs[8].clone(), &clients[0]).await?;
    let wasm = agreement_wasm("revenue_split")?;
    let code = Hash::digest(&wasm);
    assert!(clients[0].submit_and_wait(&brand.store_code(wasm), FINALITY_DEADLINE).await?.is_success());
    let parties = json!([{"address": devs[8].address().to_string(), "share": 1},
        {"address": devs[9].address().to_string(), "share": 3}]);
    let terms = json!({"title": "chaos", "parties": parties});
    let created =
        clients[0].submit_and_wait(&brand.instantiate(code, None, "chaos", &terms, 0)?, FINALITY_DEADLINE).await?;
    let split = created.instantiated_contract().expect("instantiate event");
    tracked.push(split);

    let finals: Finals = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for (i, key) in devs.iter().take(TRANSFER_SENDERS).enumerate() {
        let next = move |w: &mut Wallet, n: u64| w.transfer(recipient, 1 + n as u128 % 7);
        load.push(tokio::spawn(sender(clients.clone(), key.clone(), i, finals.clone(), stop.clone(), next)));
    }
    let pay = move |w: &mut Wallet, n: u64| w.execute(split, &json!({"pay": {}}), 1_000 + n as u128).unwrap();
    load.push(tokio::spawn(sender(clients.clone(), devs[7].clone(), 7, finals.clone(), stop.clone(), pay)));
    // Withdrawing when nothing is owed fails, which is fine: failed txs are final too.
    let withdraw = move |w: &mut Wallet, _: u64| w.execute(split, &json!({"withdraw": {}}), 0).unwrap();
    load.push(tokio::spawn(sender(clients.clone(), devs[8].clone(), 8, finals.clone(), stop.clone(), withdraw)));

    // The kills: one validator at a time, down for a moment, back up before the next. At least one per 5 s
    // of the run: on a loaded machine restarts are slow, and the run goes on until it has had them all.
    let mut schedule = Schedule(seed);
    let until = Instant::now() + Duration::from_secs(secs);
    let kills_min = secs / 5;
    let mut kills = 0;
    while Instant::now() < until || kills < kills_min {
        tokio::time::sleep(Duration::from_millis(1_500 + schedule.below(3_000))).await;
        let victim = schedule.below(4) as usize;
        let stopped = nodes[victim].take().unwrap().kill().await?;
        kills += 1;
        tokio::time::sleep(Duration::from_millis(200 + schedule.below(2_000))).await;
        nodes[victim] = Some(stopped.start().await?);
    }
    stop.store(true, Ordering::Relaxed);
    let mut sent = 0;
    for task in load {
        sent += task.await??;
    }
    let finals = finals.lock().unwrap().clone();
    println!("chaos: {kills} kills, {sent} txs sent, {} reported final", finals.len());
    assert!(finals.len() as u64 >= secs, "too little got through: {} final txs", finals.len());

    // Everyone reaches a common height, then the chains are compared block by block.
    let target = max_height(&clients).await + 2;
    all_reach(&clients, target, "every node at the same height after the chaos").await?;
    let mut chains = Vec::new();
    for c in &clients {
        let mut chain = Vec::new();
        for h in 1..=target {
            chain.push(c.block(Some(h)).await?);
        }
        chains.push(chain);
    }
    for (i, chain) in chains.iter().enumerate().skip(1) {
        for (a, b) in chains[0].iter().zip(chain) {
            assert_eq!((a.hash, a.app_hash), (b.hash, b.app_hash), "node{i} forked at height {}", a.header.height);
        }
    }
    let mut times_in_chain: HashMap<Hash, usize> = HashMap::new();
    for block in &chains[0] {
        for hash in &block.tx_hashes {
            *times_in_chain.entry(*hash).or_default() += 1;
        }
    }
    assert!(times_in_chain.values().all(|n| *n == 1), "a tx is in the chain twice");
    for (hash, receipt) in &finals {
        assert_eq!(times_in_chain.get(hash), Some(&1), "final tx {hash} is not in the chain exactly once");
        for c in &clients {
            let seen = c.tx(hash).await?.expect("a final tx is known to every node");
            assert_eq!(&seen.receipt, receipt, "every node reports the receipt that was reported final");
        }
    }

    // Conservation: no unit created or lost, whatever was killed when.
    for c in &clients {
        assert_eq!(supply(c, &tracked).await?, initial_supply, "total supply changed");
    }
    // The agreement: what came in is what went out plus what it holds, and it holds exactly its balance;
    // what came in is the sum of every successful payment in the chain.
    let mut paid_in = 0u128;
    for hash in times_in_chain.keys() {
        let found = clients[0].tx(hash).await?.expect("a tx in a block is known");
        if found.tx.tx.signer == devs[7].public() && found.receipt.is_success() {
            paid_in += pay_funds(&found.tx);
        }
    }
    for c in &clients {
        let totals: Value = c.query(&split, &json!({"totals": {}})).await?;
        let number =
            |k: &str| totals[k].as_str().and_then(|s| s.parse::<u128>().ok()).or(totals[k].as_u64().map(u128::from));
        let (received, paid_out, held) = (number("received"), number("paid_out"), number("held"));
        assert_eq!(received, Some(paid_in), "the agreement received every payment once: {totals}");
        assert_eq!(Some(received.unwrap() - paid_out.unwrap()), held, "received = paid out + held: {totals}");
        assert_eq!(held, Some(c.balance(&split).await?), "the agreement holds what it says: {totals}");
    }
    assert!(paid_in > 0, "payments went through");
    // No validator ever signed two votes for one height and round, restarts included: every node's vote
    // keeper counts conflicting votes it sees.
    for c in &clients {
        assert_eq!(
            metric(c.url(), "consort_equivocations_total").await,
            Some(0),
            "a restarted validator double-signed"
        );
    }
    for node in nodes.into_iter().flatten() {
        node.stop().await?;
    }
    Ok(())
}

/// Balances read at one height: a sum only counts if no block committed while it was read.
async fn supply(client: &Client, accounts: &[Address]) -> anyhow::Result<u128> {
    loop {
        let before = client.status().await?.height;
        let mut total = 0u128;
        for a in accounts {
            total += client.balance(a).await?;
        }
        if client.status().await?.height == before {
            return Ok(total);
        }
    }
}

/// The funds a `pay` call sent along.
fn pay_funds(tx: &SignedTx) -> u128 {
    match &tx.tx.action {
        consort_sdk::Action::Execute { funds, .. } => *funds,
        other => panic!("dev7 only pays: {other:?}"),
    }
}
