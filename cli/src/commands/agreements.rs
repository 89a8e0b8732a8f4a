//! `consort agreements`: a party's agreements (or one agreement's parties) as a table.

use super::Ctx;
use crate::output::print;
use consort_sdk::api::AgreementEntry;
use std::collections::BTreeMap;

#[derive(clap::Args)]
pub struct AgreementsArgs {
    /// Whose agreements: an address or a key name [default: every agreement].
    #[arg(long, conflicts_with = "contract")]
    party: Option<String>,
    /// Show one agreement with all its parties.
    #[arg(long)]
    contract: Option<String>,
}

fn short(address: &str) -> String {
    match address.len() > 20 {
        true => format!("{}…{}", &address[..12], &address[address.len() - 6..]),
        false => address.to_owned(),
    }
}

fn table(rows: Vec<Vec<String>>) -> String {
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One row per (agreement, party shown). Parties whose key is in the keystore show by name.
fn rows(entries: &[AgreementEntry], names: &BTreeMap<String, String>) -> Vec<Vec<String>> {
    let who = |address: &str| names.get(address).cloned().unwrap_or_else(|| short(address));
    let mut rows =
        vec![["CONTRACT", "KIND", "TITLE", "STATUS", "PARTY", "ROLE", "SHARE", "OWED", "WITHDRAWN", "RECEIVED"]
            .map(String::from)
            .to_vec()];
    for e in entries {
        let Some(view) = &e.view else {
            let error = e.error.clone().unwrap_or_default();
            rows.push(vec![
                short(&e.contract.to_string()),
                "?".into(),
                error,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        };
        for p in &view.parties {
            rows.push(vec![
                short(&e.contract.to_string()),
                view.kind.clone(),
                view.title.clone(),
                view.status.clone(),
                who(&p.address),
                p.role.clone(),
                p.share.clone(),
                p.owed.to_string(),
                p.withdrawn.to_string(),
                view.totals.received.to_string(),
            ]);
        }
        if view.parties.is_empty() {
            let received = view.totals.received.to_string();
            let mut row =
                vec![short(&e.contract.to_string()), view.kind.clone(), view.title.clone(), view.status.clone()];
            row.extend([String::new(), String::new(), String::new(), String::new(), String::new(), received]);
            rows.push(row);
        }
    }
    rows
}

pub async fn run(ctx: &Ctx, args: AgreementsArgs) -> anyhow::Result<()> {
    let entries = match (&args.party, &args.contract) {
        (_, Some(contract)) => vec![ctx.client.agreement(&ctx.resolve_address(contract)?).await?],
        (Some(party), None) => ctx.client.agreements_of(&ctx.resolve_address(party)?).await?,
        (None, None) => ctx.client.agreements_page(None, None).await?.agreements,
    };
    let names: BTreeMap<String, String> =
        ctx.keystore.list().unwrap_or_default().into_iter().map(|k| (k.address.to_string(), k.name)).collect();
    print(ctx.json, &entries, || match entries.is_empty() {
        true => "no agreements".to_owned(),
        false => table(rows(&entries, &names)),
    });
    Ok(())
}
