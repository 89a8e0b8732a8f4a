//! `consort contract …`: scaffold, build, deploy, instantiate, execute, query, migrate and inspect
//! contracts.

mod build;
mod lifecycle;
mod scaffold;

use super::Ctx;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ContractCommand {
    /// Create a new contract crate from the template (a working example with native tests).
    New {
        /// Crate name: lowercase letters, digits, '-' and '_'.
        name: String,
        /// Directory to create it in [default: ./NAME].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Path of the consort-contract library [default: the one in the consort source tree this CLI
        /// was built from].
        #[arg(long)]
        api_path: Option<PathBuf>,
    },
    /// Compile a contract crate to optimized wasm (artifacts/NAME.wasm) and print its code hash.
    Build {
        /// The contract crate's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Store a wasm module on chain (needs the deploy role); prints its code hash.
    Deploy {
        file: PathBuf,
        #[command(flatten)]
        signer: Signer,
    },
    /// Create a contract from stored code; prints its address.
    Instantiate {
        code_hash: String,
        #[arg(long)]
        label: String,
        /// Who may migrate it: an address or key name [default: the signer].
        #[arg(long, conflicts_with = "no_admin")]
        admin: Option<String>,
        /// Create it without an admin: it can never be migrated.
        #[arg(long)]
        no_admin: bool,
        #[command(flatten)]
        msg: Message,
        #[command(flatten)]
        signer: Signer,
    },
    /// Run a contract's execute entry point.
    Execute {
        contract: String,
        #[command(flatten)]
        msg: Message,
        #[command(flatten)]
        signer: Signer,
    },
    /// Ask a contract a read-only question (no tx, no signature).
    Query {
        contract: String,
        #[command(flatten)]
        msg: Message,
    },
    /// Admin only: move a contract to new code and run its migrate entry point.
    Migrate {
        contract: String,
        code_hash: String,
        #[command(flatten)]
        msg: Message,
        #[command(flatten)]
        signer: Signer,
    },
    /// Show a contract (by address) or stored code (by hash).
    Info { what: String },
}

/// The JSON message of a call: inline or from a file.
#[derive(Args)]
pub struct Message {
    /// The message as JSON text, for example '{"increment":{}}'.
    #[arg(long, conflicts_with = "msg_file")]
    msg: Option<String>,
    /// Read the JSON message from this file.
    #[arg(long)]
    msg_file: Option<PathBuf>,
}

/// Who signs, what they send along, and how long to wait.
#[derive(Args)]
pub struct Signer {
    /// Name of the signing key in the keystore.
    #[arg(long)]
    from: String,
    /// Native funds sent to the contract with the call, in the smallest unit.
    #[arg(long, default_value_t = 0)]
    funds: u128,
    /// How long to wait for finality, in seconds.
    #[arg(long, default_value_t = super::finality::DEFAULT_WAIT_SECS)]
    wait_secs: u64,
}

pub async fn run(ctx: &Ctx, cmd: ContractCommand) -> anyhow::Result<()> {
    match cmd {
        ContractCommand::New { name, dir, api_path } => scaffold::run(ctx, &name, dir, api_path),
        ContractCommand::Build { dir } => build::run(ctx, &dir),
        ContractCommand::Deploy { file, signer } => lifecycle::deploy(ctx, &file, &signer).await,
        ContractCommand::Instantiate { code_hash, label, admin, no_admin, msg, signer } => {
            lifecycle::instantiate(ctx, &code_hash, &label, admin.as_deref(), no_admin, &msg, &signer).await
        }
        ContractCommand::Execute { contract, msg, signer } => lifecycle::execute(ctx, &contract, &msg, &signer).await,
        ContractCommand::Query { contract, msg } => lifecycle::query(ctx, &contract, &msg).await,
        ContractCommand::Migrate { contract, code_hash, msg, signer } => {
            lifecycle::migrate(ctx, &contract, &code_hash, &msg, &signer).await
        }
        ContractCommand::Info { what } => lifecycle::info(ctx, &what).await,
    }
}
