//! Submitting a signed tx and waiting for it to be final, with a spinner in text mode.

use super::Ctx;
use anyhow::bail;
use consort_sdk::{Receipt, SignedTx, TxOutcome};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// How long commands wait for finality unless told otherwise.
pub const DEFAULT_WAIT_SECS: u64 = 60;

/// Submits `tx` and waits up to `wait_secs` for its receipt (which may report failure).
pub async fn submit_and_wait(ctx: &Ctx, tx: &SignedTx, wait_secs: u64) -> anyhow::Result<Receipt> {
    let hash = ctx.client.submit(tx).await?;
    let spinner = (!ctx.json).then(|| {
        let s = ProgressBar::new_spinner();
        s.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        s.set_message(format!("tx {hash} submitted; waiting for finality…"));
        s.enable_steady_tick(Duration::from_millis(100));
        s
    });
    let receipt = ctx.client.wait_for(&hash, Duration::from_secs(wait_secs)).await;
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    Ok(receipt?)
}

/// Turns a failed receipt into an error that says where and why.
pub fn ensure_success(receipt: &Receipt) -> anyhow::Result<()> {
    if let TxOutcome::Failed { code, message } = &receipt.outcome {
        bail!("tx {} was included at height {} but failed ({code}): {message}", receipt.tx_hash, receipt.height);
    }
    Ok(())
}
