//! Transfer load against running nodes: transfers from accounts `Keypair::derived(seed, i)` (funded by
//! `consort-node testnet --accounts N --accounts-seed S`), signed before the measured window so the
//! generator's signing does not take CPU from the nodes on the same machine (up to `PRESIGNED_MAX`; a
//! longer run signs the rest as it goes and says how many), then submitted in batches round-robin to every
//! node at an offered rate. Commit times come from polling blocks on the first node.

use consort_sdk::api::BatchResult;
use consort_sdk::{Address, Client, Hash, Keypair, SignedTx, Wallet};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Batches are sent this often.
const TICK: Duration = Duration::from_millis(20);
/// Most txs per account in flight: below the mempool's default nonce window (64).
const IN_FLIGHT_PER_ACCOUNT: u64 = 48;
/// Transfers signed per second of window when the rate is open (saturation): twice the goal of
/// 10,000 tx/s, so the nodes run dry before the queues do.
const PRESIGN_SATURATION_TPS: u64 = 20_000;
/// Most transfers signed ahead (about 150 MiB): 30 s at `PRESIGN_SATURATION_TPS`.
const PRESIGNED_MAX: u64 = 600_000;

#[derive(clap::Args)]
pub struct LoadArgs {
    /// RPC URLs of the nodes, comma-separated.
    #[arg(long, value_delimiter = ',')]
    nodes: Vec<String>,
    #[arg(long)]
    accounts: u64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Offered tx/s; 0 offers as fast as the nodes accept (saturation).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Seconds of load; the figures cover this window.
    #[arg(long, default_value_t = 30)]
    secs: u64,
}

struct Account {
    /// Signed transfers not yet handed to a node, in nonce order.
    queue: VecDeque<SignedTx>,
    /// Signs the transfers after the queue's, if the run outlasts it.
    wallet: Wallet,
    /// Nonce of the oldest tx not yet known committed.
    committed: u64,
}

/// Signs `per_account` transfers to `sink` for each account from its next nonce, on every core.
fn presign(seed: u64, chain_id: &str, nonces: &[u64], per_account: u64, sink: Address) -> Vec<Account> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = nonces.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = nonces
            .chunks(chunk)
            .enumerate()
            .map(|(c, chunk_nonces)| {
                s.spawn(move || {
                    chunk_nonces
                        .iter()
                        .enumerate()
                        .map(|(j, &nonce)| {
                            let key = Keypair::derived(seed, (c * chunk + j) as u64);
                            let mut wallet = Wallet::offline(key, chain_id, nonce);
                            let queue = (0..per_account).map(|_| wallet.transfer(sink, 1)).collect();
                            Account { queue, wallet, committed: nonce }
                        })
                        .collect::<Vec<Account>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("signing thread")).collect()
    })
}

/// Submit and commit times, by tx hash.
#[derive(Default)]
struct Ledger {
    submitted: HashMap<Hash, Instant>,
    committed: HashMap<Hash, Instant>,
    blocks: Vec<(Instant, usize)>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Follows the chain on `client`, recording when each tx committed.
async fn follow(client: Client, ledger: Arc<Mutex<Ledger>>, stop: Instant) -> anyhow::Result<()> {
    let mut height = client.status().await?.height;
    while Instant::now() < stop {
        let head = client.status().await?.height;
        while height < head {
            height += 1;
            let block = client.block(Some(height)).await?;
            let now = Instant::now();
            let mut l = ledger.lock().expect("ledger lock");
            l.blocks.push((now, block.tx_hashes.len()));
            for h in block.tx_hashes {
                l.committed.insert(h, now);
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

pub async fn run(args: LoadArgs) -> anyhow::Result<Value> {
    anyhow::ensure!(!args.nodes.is_empty() && args.accounts > 0, "give --nodes and --accounts");
    let clients: Vec<Client> = args.nodes.iter().map(|u| Client::new(u)).collect();
    let chain_id = clients[0].status().await?.chain_id;
    // A previous run's txs still pending would collide with this run's nonces: wait for empty pools.
    let drained = Instant::now() + Duration::from_secs(120);
    for c in &clients {
        while c.status().await?.mempool_txs > 0 {
            anyhow::ensure!(Instant::now() < drained, "{} still has pending txs after 120 s", c.url());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let mut nonces = Vec::new();
    for i in 0..args.accounts {
        nonces.push(clients[0].account(&Keypair::derived(args.seed, i).address()).await?.nonce);
    }
    let sink = Address([0xbe; 20]);
    let rate = if args.rate == 0 { PRESIGN_SATURATION_TPS } else { args.rate };
    let per_account = (rate * args.secs).min(PRESIGNED_MAX).div_ceil(args.accounts) + 1;
    let signing = Instant::now();
    let mut accounts = presign(args.seed, &chain_id, &nonces, per_account, sink);
    let presigned = per_account * args.accounts;
    println!("signed {presigned} transfers in {:.1} s", signing.elapsed().as_secs_f64());
    let mut signed_in_window = 0u64;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let start = Instant::now();
    let stop = start + Duration::from_secs(args.secs);
    let follower = tokio::spawn(follow(clients[0].clone(), ledger.clone(), stop + Duration::from_secs(5)));
    let (mut offered, mut accepted, mut refused) = (0u64, 0u64, 0u64);
    let mut refusals: HashMap<String, u64> = HashMap::new();
    let mut next_account = 0usize;
    let mut node = 0usize;
    let mut in_flight: HashMap<Hash, usize> = HashMap::new();
    while Instant::now() < stop {
        let tick = Instant::now();
        // Which of our txs have committed: their accounts may send more.
        {
            let l = ledger.lock().expect("ledger lock");
            in_flight.retain(|h, a| {
                let done = l.committed.contains_key(h);
                if done {
                    accounts[*a].committed += 1;
                }
                !done
            });
        }
        let due = match args.rate {
            0 => u64::MAX,
            r => ((r as f64 * start.elapsed().as_secs_f64()) as u64).saturating_sub(offered),
        };
        let want = due.min(consort_sdk::api::TX_BATCH_MAX as u64) as usize;
        let mut batch: Vec<(SignedTx, usize)> = Vec::new();
        // One tx per account per pass, skipping accounts with a full window, until the batch is full.
        loop {
            let mut progressed = false;
            for _ in 0..accounts.len() {
                if batch.len() >= want {
                    break;
                }
                let i = next_account;
                next_account = (next_account + 1) % accounts.len();
                let a = &mut accounts[i];
                if a.queue.is_empty() {
                    a.queue.push_back(a.wallet.transfer(sink, 1));
                    signed_in_window += 1;
                }
                let next = a.queue.front().expect("just filled");
                if next.tx.nonce - a.committed < IN_FLIGHT_PER_ACCOUNT {
                    batch.push((a.queue.pop_front().expect("front exists"), i));
                    progressed = true;
                }
            }
            if !progressed || batch.len() >= want {
                break;
            }
        }
        if !batch.is_empty() {
            let txs: Vec<SignedTx> = batch.iter().map(|(t, _)| t.clone()).collect();
            let sent = Instant::now();
            let results = clients[node].submit_batch(&txs).await?;
            node = (node + 1) % clients.len();
            offered += txs.len() as u64;
            let mut l = ledger.lock().expect("ledger lock");
            // Backwards, so refused txs go back to the front of their account's queue in nonce order.
            for ((tx, a), result) in batch.into_iter().zip(results).rev() {
                match result {
                    BatchResult::Accepted { hash } => {
                        accepted += 1;
                        l.submitted.insert(hash, sent);
                        in_flight.insert(hash, a);
                    }
                    BatchResult::Refused { code, .. } => {
                        refused += 1;
                        *refusals.entry(code).or_default() += 1;
                        // The nonce was not used: hand the same tx out again.
                        accounts[a].queue.push_front(tx);
                    }
                }
            }
        }
        let spent = tick.elapsed();
        if spent < TICK {
            tokio::time::sleep(TICK - spent).await;
        }
    }
    follower.await??;
    let l = ledger.lock().expect("ledger lock");
    let mut latencies: Vec<f64> = l
        .submitted
        .iter()
        .filter_map(|(h, sent)| l.committed.get(h).map(|c| c.duration_since(*sent).as_secs_f64() * 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let window = args.secs as f64;
    let in_window: Vec<&(Instant, usize)> = l.blocks.iter().filter(|(t, _)| *t <= stop).collect();
    let committed_in_window: usize = in_window.iter().map(|(_, n)| n).sum();
    let figures = json!({
        "presigned": presigned,
        "signed_in_window": signed_in_window,
        "offered_rate": args.rate,
        "secs": args.secs,
        "accounts": args.accounts,
        "offered": offered,
        "accepted": accepted,
        "refused": refused,
        "refusals": refusals,
        "committed_tps": committed_in_window as f64 / window,
        "blocks_per_sec": in_window.len() as f64 / window,
        "mean_txs_per_block": committed_in_window as f64 / in_window.len().max(1) as f64,
        "latency_ms_p50": percentile(&latencies, 0.5),
        "latency_ms_p99": percentile(&latencies, 0.99),
        "latency_samples": latencies.len(),
    });
    println!(
        "transfers offered at {} tx/s for {window} s to {} nodes",
        if args.rate == 0 { "max".into() } else { args.rate.to_string() },
        clients.len()
    );
    println!("  committed        {:>10.0} tx/s", committed_in_window as f64 / window);
    println!(
        "  blocks           {:>10.2} /s, {:.0} txs each",
        in_window.len() as f64 / window,
        committed_in_window as f64 / in_window.len().max(1) as f64
    );
    println!(
        "  latency p50/p99  {:>10.0} / {:.0} ms  ({} samples)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.len()
    );
    println!("  accepted/refused {accepted} / {refused} {refusals:?}");
    if signed_in_window > 0 {
        println!("  {signed_in_window} transfers were signed during the window, on the nodes' cores");
    }
    Ok(figures)
}
