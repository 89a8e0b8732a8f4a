use super::Ctx;
use crate::output::print;
use anyhow::bail;
use consort_sdk::{TxOutcome, Wallet};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

#[derive(clap::Args)]
pub struct TransferArgs {
    /// Name of the sending key in the keystore.
    #[arg(long)]
    from: String,
    /// Recipient: a bech32 address or a key name.
    #[arg(long)]
    to: String,
    /// Amount in the smallest unit.
    #[arg(long)]
    amount: u128,
    /// How long to wait for finality, in seconds.
    #[arg(long, default_value_t = 60)]
    wait_secs: u64,
}

pub async fn run(ctx: &Ctx, args: TransferArgs) -> anyhow::Result<()> {
    let (_, key) = ctx.keystore.get(&args.from)?;
    let to = ctx.resolve_address(&args.to)?;
    let mut wallet = Wallet::connect(key, &ctx.client).await?;
    let tx = wallet.transfer(to, args.amount);
    let hash = ctx.client.submit(&tx).await?;
    let spinner = (!ctx.json).then(|| {
        let s = ProgressBar::new_spinner();
        s.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        s.set_message(format!("tx {hash} submitted; waiting for finality…"));
        s.enable_steady_tick(Duration::from_millis(100));
        s
    });
    let receipt = ctx.client.wait_for(&hash, Duration::from_secs(args.wait_secs)).await;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let receipt = receipt?;
    print(ctx.json, &receipt, || {
        format!(
            "transferred {} from {} to {to}\ntx {hash} final at height {}",
            args.amount,
            wallet.address(),
            receipt.height
        )
    });
    if let TxOutcome::Failed { code, message } = &receipt.outcome {
        bail!("tx {hash} was included at height {} but failed ({code}): {message}", receipt.height);
    }
    Ok(())
}
