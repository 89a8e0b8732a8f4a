pub mod agreements;
pub mod contract;
pub mod finality;
pub mod gov;
pub mod keys;
pub mod query;
pub mod transfer;

use crate::{Cli, Command};
use consort_sdk::{Address, Client, Keystore};

/// Everything a command needs to know about where it runs.
pub struct Ctx {
    pub keystore: Keystore,
    pub client: Client,
    pub json: bool,
}

impl Ctx {
    /// An address given directly, or the address of a key in the keystore.
    pub fn resolve_address(&self, who: &str) -> anyhow::Result<Address> {
        if who.starts_with("consort1") {
            return Ok(who.parse()?);
        }
        Ok(self.keystore.get(who)?.0.address)
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let url = crate::target::node_url(cli.node.as_deref(), &cli.home);
    let ctx = Ctx { keystore: Keystore::new(cli.home.join("keystore")), client: Client::new(&url), json: cli.json };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Keys(cmd) => keys::run(&ctx, cmd),
            Command::Contract(cmd) => contract::run(&ctx, cmd).await,
            Command::Agreements(args) => agreements::run(&ctx, args).await,
            Command::Gov(cmd) => gov::run(&ctx, cmd).await,
            Command::Members => gov::members(&ctx).await,
            Command::Transfer(args) => transfer::run(&ctx, args).await,
            Command::Balance { who } => query::balance(&ctx, &who).await,
            Command::Status => query::status(&ctx).await,
            Command::Block { height } => query::block(&ctx, height).await,
            Command::Tx { hash } => query::tx(&ctx, &hash).await,
            Command::Hash { file } => hash_file(&ctx, &file),
        }
    })
}

fn hash_file(ctx: &Ctx, file: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let hash = consort_sdk::Hash::digest(&bytes);
    let out = serde_json::json!({ "file": file, "bytes": bytes.len(), "hash": hash });
    crate::output::print(ctx.json, &out, || hash.to_string());
    Ok(())
}
