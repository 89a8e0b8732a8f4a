//! `consort members` and `consort gov …`: membership, proposals and approvals.

use super::finality::{ensure_success, submit_and_wait, DEFAULT_WAIT_SECS};
use super::Ctx;
use crate::output::print;
use anyhow::Context;
use clap::Subcommand;
use consort_sdk::api::ProposalView;
use consort_sdk::{ProposalKind, PublicKey, Wallet};

#[derive(Subcommand)]
pub enum GovCommand {
    /// Open a proposal as a member admin (your organisation approves it at once).
    Propose {
        #[command(subcommand)]
        kind: KindArgs,
        /// Name of the member admin key in the keystore.
        #[arg(long, global = true)]
        from: Option<String>,
    },
    /// Approve proposal ID for your organisation.
    Approve {
        id: u64,
        #[arg(long)]
        from: String,
    },
    /// List proposals, newest first.
    List,
    /// Show one proposal.
    Show { id: u64 },
}

#[derive(Subcommand)]
pub enum KindArgs {
    /// Admit a member organisation.
    AddMember {
        #[arg(long)]
        name: String,
        /// Admin key address or key name (repeatable).
        #[arg(long = "admin", required = true)]
        admins: Vec<String>,
        /// libp2p peer id of one of its nodes (repeatable).
        #[arg(long = "peer-id")]
        peer_ids: Vec<String>,
    },
    /// Remove a member organisation with its validators and nodes.
    RemoveMember {
        #[arg(long)]
        name: String,
    },
    /// Add a validator, change its power, or remove it with power 0.
    SetValidator {
        #[arg(long)]
        member: String,
        /// The validator's ed25519 public key (hex).
        #[arg(long)]
        public_key: String,
        #[arg(long)]
        power: u64,
    },
    /// Move a validator's power to a new key.
    RotateValidatorKey {
        #[arg(long)]
        member: String,
        #[arg(long)]
        old_key: String,
        #[arg(long)]
        new_key: String,
    },
    GrantDeployer {
        #[arg(long)]
        address: String,
    },
    RevokeDeployer {
        #[arg(long)]
        address: String,
    },
    /// Change a governed limit (block_txs_max, gas_per_tx_max, code_bytes_max, …).
    SetLimit {
        #[arg(long)]
        name: String,
        #[arg(long)]
        value: u64,
    },
    /// Create new native units for an account.
    Mint {
        #[arg(long)]
        to: String,
        #[arg(long)]
        amount: u128,
    },
}

fn public_key(text: &str) -> anyhow::Result<PublicKey> {
    text.parse().map_err(|_| anyhow::anyhow!("{text:?} is not a hex ed25519 public key"))
}

fn kind_of(ctx: &Ctx, args: KindArgs) -> anyhow::Result<ProposalKind> {
    Ok(match args {
        KindArgs::AddMember { name, admins, peer_ids } => ProposalKind::AddMember {
            name,
            admins: admins.iter().map(|a| ctx.resolve_address(a)).collect::<anyhow::Result<_>>()?,
            peer_ids,
        },
        KindArgs::RemoveMember { name } => ProposalKind::RemoveMember { name },
        KindArgs::SetValidator { member, public_key: key, power } => {
            ProposalKind::SetValidator { member, public_key: public_key(&key)?, power }
        }
        KindArgs::RotateValidatorKey { member, old_key, new_key } => {
            ProposalKind::RotateValidatorKey { member, old_key: public_key(&old_key)?, new_key: public_key(&new_key)? }
        }
        KindArgs::GrantDeployer { address } => ProposalKind::GrantDeployer { address: ctx.resolve_address(&address)? },
        KindArgs::RevokeDeployer { address } => {
            ProposalKind::RevokeDeployer { address: ctx.resolve_address(&address)? }
        }
        KindArgs::SetLimit { name, value } => ProposalKind::SetLimit { name, value },
        KindArgs::Mint { to, amount } => ProposalKind::Mint { to: ctx.resolve_address(&to)?, amount },
    })
}

fn describe(p: &ProposalView) -> String {
    let kind = serde_json::to_string(&p.kind).unwrap_or_default();
    let reason = p.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
    format!(
        "#{:<4} {:<9}{reason} approvals {} [{}], open until height {}\n      {kind}",
        p.id,
        p.status,
        p.approvals.len(),
        p.approvals.join(", "),
        p.deadline_height
    )
}

async fn send(
    ctx: &Ctx,
    from: &str,
    sign: impl FnOnce(&mut Wallet) -> consort_sdk::SignedTx,
) -> anyhow::Result<consort_sdk::Receipt> {
    let (_, key) = ctx.keystore.get(from)?;
    let mut wallet = Wallet::connect(key, &ctx.client).await?;
    let receipt = submit_and_wait(ctx, &sign(&mut wallet), DEFAULT_WAIT_SECS).await?;
    ensure_success(&receipt)?;
    Ok(receipt)
}

pub async fn run(ctx: &Ctx, cmd: GovCommand) -> anyhow::Result<()> {
    match cmd {
        GovCommand::Propose { kind, from } => {
            let from = from.context("give the proposing admin key with --from NAME")?;
            let kind = kind_of(ctx, kind)?;
            let receipt = send(ctx, &from, |w| w.propose(kind)).await?;
            let id: u64 = receipt
                .event("proposal_created")
                .and_then(|e| e.get("id"))
                .and_then(|id| id.parse().ok())
                .context("the receipt names no proposal")?;
            let proposal = ctx.client.proposal(id).await?;
            print(ctx.json, &proposal, || describe(&proposal));
        }
        GovCommand::Approve { id, from } => {
            send(ctx, &from, |w| w.approve(id)).await?;
            let proposal = ctx.client.proposal(id).await?;
            print(ctx.json, &proposal, || describe(&proposal));
        }
        GovCommand::List => {
            let proposals = ctx.client.proposals().await?;
            print(ctx.json, &proposals, || match proposals.is_empty() {
                true => "no proposals".into(),
                false => proposals.iter().map(describe).collect::<Vec<_>>().join("\n"),
            });
        }
        GovCommand::Show { id } => {
            let proposal = ctx.client.proposal(id).await?;
            print(ctx.json, &proposal, || describe(&proposal));
        }
    }
    Ok(())
}

pub async fn members(ctx: &Ctx) -> anyhow::Result<()> {
    let m = ctx.client.members().await?;
    print(ctx.json, &m, || {
        let mut out = format!(
            "{} members; a proposal needs {} approvals ({}/{} of members) within {} blocks\n",
            m.members.len(),
            m.approvals_needed,
            m.threshold_num,
            m.threshold_den,
            m.voting_period_blocks
        );
        for member in &m.members {
            let power: u64 = m.validators.iter().filter(|v| v.member == member.name).map(|v| v.power).sum();
            out.push_str(&format!(
                "  {:<16} admins {:<3} nodes {:<3} validator power {power}\n",
                member.name,
                member.admins.len(),
                member.peer_ids.len()
            ));
        }
        out.push_str(&format!("deployers: {}", m.deployers.len()));
        out
    });
    Ok(())
}
