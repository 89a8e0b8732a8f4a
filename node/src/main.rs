use anyhow::Context;
use clap::{Parser, Subcommand};
use consort_node::dev_chain;
use consort_node::genesis::GenesisAccount;
use consort_node::home::Home;
use std::net::SocketAddr;
use std::path::PathBuf;

/// consort-node: a validator of a consort consortium ledger.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct HomeArg {
    /// Node home directory (config.toml, genesis.json, keys, data).
    #[arg(long, env = "CONSORT_HOME", default_value_os_t = default_home())]
    home: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Create a node home for a new one-validator chain.
    Init {
        #[command(flatten)]
        home: HomeArg,
        /// Chain id (a-z, 0-9, '-', '_', '.').
        #[arg(long, default_value = "consort-local")]
        chain_id: String,
        /// Fund an account at genesis: ADDRESS=AMOUNT (repeatable).
        #[arg(long = "account", value_parser = parse_account)]
        accounts: Vec<GenesisAccount>,
        /// RPC listen address written into config.toml.
        #[arg(long, default_value = "127.0.0.1:26657")]
        rpc: SocketAddr,
        /// libp2p listen address written into config.toml.
        #[arg(long, default_value = "/ip4/127.0.0.1/tcp/26656")]
        p2p: String,
    },
    /// Create a home for a new member's node on an existing chain: its genesis, fresh keys, and the
    /// members' nodes to dial. Prints the validator key and peer id to put in governance proposals.
    Join {
        #[command(flatten)]
        home: HomeArg,
        /// The chain's genesis.json.
        #[arg(long)]
        genesis: PathBuf,
        /// A member node to dial: /ip4/ADDR/tcp/PORT/p2p/PEER_ID (repeatable).
        #[arg(long = "peer", required = true)]
        peers: Vec<String>,
        #[arg(long, default_value = "127.0.0.1:26657")]
        rpc: SocketAddr,
        #[arg(long, default_value = "/ip4/127.0.0.1/tcp/26656")]
        p2p: String,
    },
    /// Run the node configured in a home directory.
    Start {
        #[command(flatten)]
        home: HomeArg,
        /// Override rpc.listen for this run (port 0 picks a free port).
        #[arg(long)]
        rpc: Option<SocketAddr>,
    },
    /// Write the homes of an N-validator testnet on loopback, with a funded CLI keystore.
    Testnet {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Directory for node0 … nodeN-1, keystore/ and testnet.json.
        #[arg(long)]
        out: PathBuf,
        /// Node i gets RPC port BASE+10i and P2P port BASE+10i+1; 0 picks free ports.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// Also fund this many accounts whose keys derive from --accounts-seed (for load tests).
        #[arg(long, default_value_t = 0)]
        accounts: u64,
        #[arg(long, default_value_t = 0)]
        accounts_seed: u64,
    },
    /// Run a one-validator development chain with ten funded accounts (created on first start).
    Dev {
        #[command(flatten)]
        home: HomeArg,
        /// RPC listen address (port 0 picks a free port).
        #[arg(long)]
        rpc: Option<SocketAddr>,
    },
}

fn default_home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".consort")
}

fn parse_account(s: &str) -> Result<GenesisAccount, String> {
    let (address, amount) = s.split_once('=').ok_or("expected ADDRESS=AMOUNT")?;
    Ok(GenesisAccount {
        address: address.parse().map_err(|e: consort_sdk::AddressError| e.to_string())?,
        balance: amount.parse().map_err(|_| format!("{amount:?} is not a whole non-negative amount"))?,
    })
}

fn main() -> std::process::ExitCode {
    consort_node::malloc_arenas::limit();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init { home, chain_id, accounts, rpc, p2p } => {
            let home = Home::new(home.home);
            home.init(&chain_id, accounts, rpc, &p2p)?;
            println!("initialised node home {} for chain {chain_id}", home.root().display());
            Ok(())
        }
        Command::Join { home, genesis, peers, rpc, p2p } => {
            let home = Home::new(home.home);
            let genesis = consort_node::genesis::Genesis::load(&genesis)?;
            let (validator, peer_id) = home.join(&genesis, rpc, &p2p, &peers)?;
            println!(
                "{}",
                serde_json::json!({ "home": home.root(), "validator_public_key": validator, "peer_id": peer_id })
            );
            Ok(())
        }
        Command::Testnet { validators, out, base_port, accounts, accounts_seed } => {
            let extra = consort_node::testnet::DerivedAccounts { count: accounts, seed: accounts_seed };
            let nodes = consort_node::testnet::generate(&out, validators, base_port, extra)?;
            let dir = out.display();
            println!(
                "testnet of {validators} validators (chain id {}) in {dir}",
                consort_node::testnet::TESTNET_CHAIN_ID
            );
            for n in &nodes {
                println!("  {:<6} RPC {:<24} home {}", n.name, n.rpc, n.home);
            }
            println!("start a node:  consort-node start --home {dir}/node0   (or scripts/testnet.sh start)");
            println!(
                "send funds:    consort --home {dir} --node {} transfer --from dev0 --to dev1 --amount 5",
                nodes[0].rpc
            );
            Ok(())
        }
        Command::Start { home, rpc } => {
            let home = Home::new(home.home);
            consort_node::service::run(&home, rpc, |addr| println!("RPC: http://{addr}")).await
        }
        Command::Dev { home, rpc } => {
            let home = Home::new(home.home);
            let listen = rpc.unwrap_or_else(|| "127.0.0.1:26657".parse().expect("valid default"));
            let accounts = dev_chain::prepare(&home, listen).context("cannot prepare the dev chain home")?;
            let root = home.root().display().to_string();
            consort_node::service::run(&home, rpc, |addr| {
                println!("consort dev chain (chain id {})", dev_chain::DEV_CHAIN_ID);
                println!("home: {root}");
                println!("funded accounts (keys in {root}/keystore; use them with `consort --home {root}`):");
                for k in &accounts {
                    println!("  {:<6} {}", k.name, k.address);
                }
                println!("RPC: http://{addr}");
            })
            .await
        }
    }
}
