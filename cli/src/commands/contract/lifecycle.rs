//! Contract txs and queries against a node.

use super::{Message, Signer};
use crate::commands::finality::{ensure_success, submit_and_wait};
use crate::commands::Ctx;
use crate::output::print;
use anyhow::{bail, Context};
use consort_sdk::{Address, Hash, Receipt, Wallet};
use std::path::Path;

impl Message {
    /// The message as JSON, checked here so a typo fails before anything is signed.
    fn json(&self) -> anyhow::Result<serde_json::Value> {
        let text = match (&self.msg, &self.msg_file) {
            (Some(text), None) => text.clone(),
            (None, Some(path)) => {
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
            }
            _ => bail!("give the message with --msg JSON or --msg-file PATH"),
        };
        serde_json::from_str(&text).with_context(|| format!("the message is not valid JSON: {text}"))
    }
}

async fn wallet(ctx: &Ctx, signer: &Signer) -> anyhow::Result<Wallet> {
    let (_, key) = ctx.keystore.get(&signer.from)?;
    Ok(Wallet::connect(key, &ctx.client).await?)
}

fn parse_hash(text: &str) -> anyhow::Result<Hash> {
    text.parse().map_err(|_| anyhow::anyhow!("{text:?} is not a code hash (64 hex digits)"))
}

fn describe(receipt: &Receipt) -> String {
    let mut out = format!("tx {} final at height {}, gas used {}", receipt.tx_hash, receipt.height, receipt.gas_used);
    for e in &receipt.events {
        let attrs: Vec<String> = e.attributes.iter().map(|a| format!("{}={}", a.key, a.value)).collect();
        out.push_str(&format!("\n  event {}: {}", e.kind, attrs.join(" ")));
    }
    if let Some(data) = &receipt.data {
        out.push_str(&format!("\n  data: {data}"));
    }
    out
}

/// Prints a receipt (events and data in text mode), failing if the tx failed.
fn report(ctx: &Ctx, receipt: &Receipt, headline: String) -> anyhow::Result<()> {
    ensure_success(receipt)?;
    print(ctx.json, receipt, || format!("{headline}\n{}", describe(receipt)));
    Ok(())
}

pub async fn deploy(ctx: &Ctx, file: &Path, signer: &Signer) -> anyhow::Result<()> {
    let code = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let code_hash = Hash::digest(&code);
    let tx = wallet(ctx, signer).await?.store_code(code);
    let receipt = submit_and_wait(ctx, &tx, signer.wait_secs).await?;
    report(ctx, &receipt, format!("stored {} as code {code_hash}", file.display()))
}

pub async fn instantiate(
    ctx: &Ctx,
    code_hash: &str,
    label: &str,
    admin: Option<&str>,
    no_admin: bool,
    msg: &Message,
    signer: &Signer,
) -> anyhow::Result<()> {
    let code_hash = parse_hash(code_hash)?;
    let msg = msg.json()?;
    let mut wallet = wallet(ctx, signer).await?;
    let admin = match (admin, no_admin) {
        (_, true) => None,
        (Some(who), false) => Some(ctx.resolve_address(who)?),
        (None, false) => Some(wallet.address()),
    };
    let tx = wallet.instantiate(code_hash, admin, label, &msg, signer.funds)?;
    let receipt = submit_and_wait(ctx, &tx, signer.wait_secs).await?;
    let contract = receipt.instantiated_contract().map_or_else(String::new, |a| a.to_string());
    report(ctx, &receipt, format!("instantiated contract {contract}"))
}

fn parse_contract(ctx: &Ctx, text: &str) -> anyhow::Result<Address> {
    ctx.resolve_address(text).with_context(|| format!("{text:?} is not a contract address"))
}

pub async fn execute(ctx: &Ctx, contract: &str, msg: &Message, signer: &Signer) -> anyhow::Result<()> {
    let contract = parse_contract(ctx, contract)?;
    let msg = msg.json()?;
    let tx = wallet(ctx, signer).await?.execute(contract, &msg, signer.funds)?;
    let receipt = submit_and_wait(ctx, &tx, signer.wait_secs).await?;
    report(ctx, &receipt, format!("executed {contract}"))
}

pub async fn query(ctx: &Ctx, contract: &str, msg: &Message) -> anyhow::Result<()> {
    let contract = parse_contract(ctx, contract)?;
    let answer = ctx.client.query_raw(&contract, &msg.json()?).await?;
    print(ctx.json, &answer.data, || serde_json::to_string_pretty(&answer.data).unwrap_or_default());
    Ok(())
}

pub async fn migrate(ctx: &Ctx, contract: &str, code_hash: &str, msg: &Message, signer: &Signer) -> anyhow::Result<()> {
    let contract = parse_contract(ctx, contract)?;
    let code_hash = parse_hash(code_hash)?;
    let msg = msg.json()?;
    let tx = wallet(ctx, signer).await?.migrate(contract, code_hash, &msg)?;
    let receipt = submit_and_wait(ctx, &tx, signer.wait_secs).await?;
    report(ctx, &receipt, format!("migrated {contract} to code {code_hash}"))
}

pub async fn info(ctx: &Ctx, what: &str) -> anyhow::Result<()> {
    if what.starts_with("consort1") {
        let info = ctx.client.contract_info(&parse_contract(ctx, what)?).await?;
        let admin = info.admin.map_or_else(|| "none (cannot be migrated)".into(), |a| a.to_string());
        print(ctx.json, &info, || {
            format!(
                "contract  {}\nlabel     {}\ncode      {}\nadmin     {admin}\ncreator   {}\ncreated   at height {}\nbalance   {}",
                info.address, info.label, info.code_hash, info.creator, info.created_height, info.balance
            )
        });
    } else {
        let info = ctx.client.code_info(&parse_hash(what)?).await?;
        print(ctx.json, &info, || {
            format!(
                "code      {}\nsize      {} bytes\ncreator   {}\nstored    at height {}",
                info.code_hash, info.size, info.creator, info.stored_height
            )
        });
    }
    Ok(())
}
