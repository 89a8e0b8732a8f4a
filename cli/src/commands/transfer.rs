use super::finality::{ensure_success, submit_and_wait, DEFAULT_WAIT_SECS};
use super::Ctx;
use crate::output::print;
use consort_sdk::Wallet;

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
    #[arg(long, default_value_t = DEFAULT_WAIT_SECS)]
    wait_secs: u64,
}

pub async fn run(ctx: &Ctx, args: TransferArgs) -> anyhow::Result<()> {
    let (_, key) = ctx.keystore.get(&args.from)?;
    let to = ctx.resolve_address(&args.to)?;
    let mut wallet = Wallet::connect(key, &ctx.client).await?;
    let tx = wallet.transfer(to, args.amount);
    let receipt = submit_and_wait(ctx, &tx, args.wait_secs).await?;
    print(ctx.json, &receipt, || {
        format!(
            "transferred {} from {} to {to}\ntx {} final at height {}",
            args.amount,
            wallet.address(),
            receipt.tx_hash,
            receipt.height
        )
    });
    ensure_success(&receipt)
}
