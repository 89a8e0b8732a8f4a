//! `consort-bench`: the measurements behind BENCHMARKS.md. Each subcommand prints a table and, with
//! `--json FILE`, writes its figures as JSON.
//! - `verify`: the machine's limit, ed25519 batch verification on every core;
//! - `contracts`: agreement contract calls through the node's executor (real RocksDB, real wasmtime) and
//!   the same logic natively on the mock host;
//! - `load`: signed transfers offered to a running testnet at a set rate; committed tx/s and latency.

mod contracts;
mod load;
mod verify;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "consort-bench")]
struct Cli {
    /// Also write the figures as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// ed25519 verification rates on all cores: dalek batches of 64 (the reference), and the node's rule.
    Verify {
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
    },
    /// Contract calls per second through the executor, and wasm/native.
    Contracts {
        /// Where `scripts/build-contracts` put the wasm modules.
        #[arg(long)]
        wasm_dir: PathBuf,
        /// Calls per kind.
        #[arg(long, default_value_t = 2_000)]
        calls: usize,
    },
    /// Transfers offered to running nodes from accounts `Keypair::derived(seed, 0..accounts)`.
    Load(load::LoadArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let figures = match cli.command {
        Command::Verify { secs } => verify::run(secs),
        Command::Contracts { wasm_dir, calls } => contracts::run(&wasm_dir, calls)?,
        Command::Load(args) => {
            tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(load::run(args))?
        }
    };
    if let Some(path) = cli.json {
        std::fs::write(&path, serde_json::to_string_pretty(&figures)?)?;
    }
    Ok(())
}
