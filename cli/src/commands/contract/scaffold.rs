//! `consort contract new`: writes the template crate.

use super::Ctx;
use crate::output::print;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

const CARGO_TOML: &str = include_str!("../../../templates/contract/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("../../../templates/contract/src/lib.rs.tmpl");
const GITIGNORE: &str = include_str!("../../../templates/contract/gitignore.tmpl");

/// Where consort-contract sits in the source tree this CLI was built from.
fn default_api_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/api")
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

pub fn run(ctx: &Ctx, name: &str, dir: Option<PathBuf>, api_path: Option<PathBuf>) -> anyhow::Result<()> {
    if !valid_name(name) {
        bail!(
            "{name:?} is not a valid contract name: use lowercase letters, digits, '-' and '_', starting with a letter"
        );
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() && std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} already exists and is not empty; choose another name or --dir", dir.display());
    }
    let api = api_path.unwrap_or_else(default_api_path);
    let api = api.canonicalize().with_context(|| {
        format!("cannot find the consort-contract library at {}; pass --api-path to its directory", api.display())
    })?;
    if !api.join("Cargo.toml").exists() {
        bail!("{} has no Cargo.toml; --api-path must point at the consort-contract crate", api.display());
    }
    let api_text = api.to_str().context("the consort-contract path is not valid UTF-8")?;
    let fill = |t: &str| t.replace("{{name}}", name).replace("{{api_path}}", &api_text.replace('\\', "/"));
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("cannot create {}", dir.display()))?;
    for (file, text) in [("Cargo.toml", CARGO_TOML), ("src/lib.rs", LIB_RS), (".gitignore", GITIGNORE)] {
        let path = dir.join(file);
        std::fs::write(&path, fill(text)).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let summary = serde_json::json!({ "name": name, "dir": dir, "api_path": api });
    print(ctx.json, &summary, || {
        format!(
            "created contract {name} in {}\nnext: cd {} && cargo test && consort contract build",
            dir.display(),
            dir.display()
        )
    });
    Ok(())
}
