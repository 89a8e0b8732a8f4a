use super::Ctx;
use crate::output::print;
use anyhow::anyhow;
use consort_sdk::{Hash, TxOutcome};

pub async fn balance(ctx: &Ctx, who: &str) -> anyhow::Result<()> {
    let address = ctx.resolve_address(who)?;
    let account = ctx.client.account(&address).await?;
    print(ctx.json, &account, || {
        format!("{}\nbalance: {}\nnonce:   {}", account.address, account.balance, account.nonce)
    });
    Ok(())
}

pub async fn status(ctx: &Ctx) -> anyhow::Result<()> {
    let s = ctx.client.status().await?;
    print(ctx.json, &s, || {
        format!(
            "node:      {}\nchain id:  {}\nheight:    {}\nblock:     {}\napp hash:  {}\nmempool:   {} txs\npeers:     {}",
            ctx.client.url(),
            s.chain_id,
            s.height,
            s.latest_block_hash,
            s.app_hash,
            s.mempool_txs,
            s.peers
        )
    });
    Ok(())
}

pub async fn block(ctx: &Ctx, height: Option<u64>) -> anyhow::Result<()> {
    let b = ctx.client.block(height).await?;
    print(ctx.json, &b, || {
        let mut out = format!(
            "height:    {}\nhash:      {}\ntime (ms): {}\nproposer:  {}\napp hash:  {}\ntxs:       {}",
            b.header.height,
            b.hash,
            b.header.time_ms,
            b.header.proposer,
            b.app_hash,
            b.tx_hashes.len()
        );
        for h in &b.tx_hashes {
            out.push_str(&format!("\n  {h}"));
        }
        out
    });
    Ok(())
}

pub async fn tx(ctx: &Ctx, hash: &str) -> anyhow::Result<()> {
    let hash: Hash = hash.parse()?;
    let found = ctx
        .client
        .tx(&hash)
        .await?
        .ok_or_else(|| anyhow!("tx {hash} is not committed on this node (it may still be pending)"))?;
    print(ctx.json, &found, || {
        let outcome = match &found.receipt.outcome {
            TxOutcome::Success => "success".to_owned(),
            TxOutcome::Failed { code, message } => format!("failed ({code}): {message}"),
        };
        format!(
            "tx:       {}\nheight:   {} (index {})\nfrom:     {}\nnonce:    {}\naction:   {}\noutcome:  {outcome}\ngas used: {}",
            found.hash,
            found.receipt.height,
            found.receipt.index,
            found.tx.sender(),
            found.tx.tx.nonce,
            serde_json::to_string(&found.tx.tx.action).unwrap_or_default(),
            found.receipt.gas_used
        )
    });
    Ok(())
}
