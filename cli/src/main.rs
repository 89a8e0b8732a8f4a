//! `consort`: keys, transfers, contracts and chain queries against a consort node.

mod commands;
mod output;
mod target;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "consort", version, about = "Command-line client for consort ledger nodes")]
pub struct Cli {
    /// Home directory; keys live in HOME/keystore.
    #[arg(long, global = true, env = "CONSORT_HOME", default_value_os_t = target::default_home())]
    home: PathBuf,
    /// Node RPC URL [default: rpc.listen of HOME/config.toml if present, else http://127.0.0.1:26657].
    #[arg(long, global = true, env = "CONSORT_NODE")]
    node: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// Write, build, deploy and call contracts.
    #[command(subcommand)]
    Contract(commands::contract::ContractCommand),
    /// Governance: propose, approve and list proposals.
    #[command(subcommand)]
    Gov(commands::gov::GovCommand),
    /// Show the member organisations, validators and governance rules.
    Members,
    /// List agreements and what each party is owed, as a table.
    Agreements(commands::agreements::AgreementsArgs),
    /// Send native funds and wait until the transfer is final.
    Transfer(commands::transfer::TransferArgs),
    /// Show the balance and nonce of an address or a key name.
    Balance {
        /// A bech32 address or the name of a key in the keystore.
        who: String,
    },
    /// Show the node's chain id, height and app hash.
    Status,
    /// Show a block (the latest without HEIGHT).
    Block { height: Option<u64> },
    /// Show a committed tx and its receipt.
    Tx { hash: String },
    /// Print the blake3 hash of a file: what goes on chain when data stays off chain.
    Hash { file: std::path::PathBuf },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            output::error(json, &e);
            std::process::ExitCode::FAILURE
        }
    }
}
