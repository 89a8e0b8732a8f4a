//! `consort contract build`: cargo to wasm32-unknown-unknown with the crate's release profile, then the
//! module is copied to artifacts/ and hashed exactly as the chain will hash it.

use super::Ctx;
use crate::output::print;
use anyhow::{bail, Context};
use consort_sdk::Hash;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The `.wasm` files cargo reported building, from its JSON messages.
fn wasm_artifacts(stdout: impl BufRead) -> Vec<PathBuf> {
    stdout
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .flat_map(|m| {
            m["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
        })
        .filter(|f| f.extension().is_some_and(|e| e == "wasm"))
        .collect()
}

pub fn run(ctx: &Ctx, dir: &Path) -> anyhow::Result<()> {
    if !dir.join("Cargo.toml").exists() {
        bail!("{} has no Cargo.toml; run this in a contract crate or pass its directory", dir.display());
    }
    let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--release", "--lib", "--target", WASM_TARGET, "--message-format=json-render-diagnostics"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot run cargo; is the Rust toolchain installed?")?;
    let stdout = child.stdout.take().context("cargo's output was not captured")?;
    let artifacts = wasm_artifacts(std::io::BufReader::new(stdout));
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo build failed (see above); if the target is missing: rustup target add {WASM_TARGET}");
    }
    let [module] = artifacts.as_slice() else {
        bail!("expected cargo to build exactly one wasm module, got {artifacts:?}; is crate-type = [\"cdylib\"] set?");
    };
    let code = std::fs::read(module).with_context(|| format!("cannot read {}", module.display()))?;
    let out_dir = dir.join("artifacts");
    std::fs::create_dir_all(&out_dir)?;
    let out = out_dir.join(module.file_name().context("artifact has no file name")?);
    std::fs::write(&out, &code).with_context(|| format!("cannot write {}", out.display()))?;
    let code_hash = Hash::digest(&code);
    let summary = serde_json::json!({ "wasm": out, "size": code.len(), "code_hash": code_hash });
    print(ctx.json, &summary, || format!("built {} ({} bytes)\ncode hash {code_hash}", out.display(), code.len()));
    Ok(())
}
