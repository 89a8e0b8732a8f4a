//! Which home and node a command talks to.

use std::path::{Path, PathBuf};

const DEFAULT_NODE: &str = "http://127.0.0.1:26657";

pub fn default_home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".consort")
}

/// `--node`/`CONSORT_NODE`, else the RPC address in HOME/config.toml (a node's own home), else the default.
pub fn node_url(explicit: Option<&str>, home: &Path) -> String {
    if let Some(url) = explicit {
        return url.to_owned();
    }
    let from_config = std::fs::read_to_string(home.join("config.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| t.get("rpc")?.get("listen")?.as_str().map(|s| format!("http://{s}")));
    from_config.unwrap_or_else(|| DEFAULT_NODE.to_owned())
}
