//! Harness for tests that run the real `consort-node` and `consort` binaries on loopback.
//!
//! ```ignore
//! let node = DevNode::start(home.path()).await?;   // `consort-node dev` on a free port
//! node.client().status().await?;
//! let out = node.cli(&["balance", "dev0", "--json"])?;
//! let node = node.restart().await?;                // SIGTERM, wait for a clean exit, start again
//! ```

pub mod netns;
pub mod testnet;

use anyhow::{bail, Context};
use consort_sdk::Client;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Generous: a loaded 2-core CI machine may be slow to start a process or commit a block.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(120);
pub const FINALITY_DEADLINE: Duration = Duration::from_secs(60);

/// A temporary directory for homes and logs, kept (and its path printed) when `CONSORT_KEEP_TEST_DIRS` is
/// set, so a failed multi-process run can be read afterwards.
pub fn test_dir() -> anyhow::Result<tempfile::TempDir> {
    let keep = std::env::var_os("CONSORT_KEEP_TEST_DIRS").is_some();
    let dir = tempfile::Builder::new().prefix("consort-test-").disable_cleanup(keep).tempdir()?;
    if keep {
        eprintln!("keeping test directory {}", dir.path().display());
    }
    Ok(dir)
}

/// Directory holding the workspace binaries: the tests' own executable lives in `<target>/<profile>/deps`.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().and_then(Path::parent).expect("tests run from <target>/<profile>/deps").to_path_buf()
}

/// Target directory for contracts the tests compile to wasm: beside the workspace's own builds, so it is
/// cached between runs, yet a separate cargo target directory (no lock shared with the running build).
pub fn contracts_target_dir() -> PathBuf {
    bin_dir().parent().map_or_else(|| bin_dir().join("contracts"), |target| target.join("contracts"))
}

/// An agreement contract compiled by `scripts/build-contracts` (for example `shoe_data`).
pub fn agreement_wasm(name: &str) -> anyhow::Result<Vec<u8>> {
    let target = bin_dir().parent().map(Path::to_path_buf).unwrap_or_else(bin_dir);
    let path = target.join("wasm32-unknown-unknown/contract").join(format!("{name}.wasm"));
    std::fs::read(&path).with_context(|| format!("{} is missing: run scripts/build-contracts first", path.display()))
}

pub fn bin(name: &str) -> anyhow::Result<PathBuf> {
    let path = bin_dir().join(name);
    if !path.exists() {
        bail!("{} is missing: build the binaries first with `cargo build --workspace --bins`", path.display());
    }
    Ok(path)
}

fn owned(env: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// How a node process is started.
#[derive(Clone, Debug)]
enum Mode {
    /// `consort-node dev --home HOME --rpc 127.0.0.1:0` with these `CONSORT__…` overrides.
    Dev(Vec<(String, String)>),
    /// `BINARY start --home HOME` with these `CONSORT__…` overrides, inside network namespace `netns`
    /// when given.
    Start { binary: &'static str, env: Vec<(String, String)>, netns: Option<String> },
}

/// A running `consort-node` process.
pub struct DevNode {
    child: Child,
    home: PathBuf,
    mode: Mode,
    pub url: String,
    /// Everything the node printed on stdout up to and including its RPC line.
    pub banner: Vec<String>,
}

impl DevNode {
    /// Starts `consort-node dev --home HOME --rpc 127.0.0.1:0` and waits until it announces its RPC URL.
    pub async fn start(home: &Path) -> anyhow::Result<DevNode> {
        DevNode::spawn(home, Mode::Dev(Vec::new())).await
    }

    /// `start` with env overrides, e.g. `("CONSORT__RPC__REQUESTS_PER_SEC", "5")`.
    pub async fn start_with_env(home: &Path, env: &[(&str, &str)]) -> anyhow::Result<DevNode> {
        DevNode::spawn(home, Mode::Dev(owned(env))).await
    }

    /// Starts `consort-node start --home HOME` (a configured home, e.g. from `testnet`) with env overrides.
    pub async fn start_home(home: &Path, env: &[(&str, &str)]) -> anyhow::Result<DevNode> {
        DevNode::spawn(home, Mode::Start { binary: "consort-node", env: owned(env), netns: None }).await
    }

    /// `start_home` with the test-only `consort-node-byzantine`, a validator that double-votes and
    /// double-proposes (built by `scripts/test`).
    pub async fn start_byzantine(home: &Path, env: &[(&str, &str)]) -> anyhow::Result<DevNode> {
        DevNode::spawn(home, Mode::Start { binary: "consort-node-byzantine", env: owned(env), netns: None }).await
    }

    /// `start_home` inside the network namespace `netns` (see `netns::Net`).
    pub async fn start_in_netns(home: &Path, netns: &str, env: &[(&str, &str)]) -> anyhow::Result<DevNode> {
        let mode = Mode::Start { binary: "consort-node", env: owned(env), netns: Some(netns.to_owned()) };
        DevNode::spawn(home, mode).await
    }

    async fn spawn(home: &Path, mode: Mode) -> anyhow::Result<DevNode> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(home.with_extension("log"))?;
        let binary = match &mode {
            Mode::Dev(_) => "consort-node",
            Mode::Start { binary, .. } => binary,
        };
        let mut command = match &mode {
            // `ip netns exec` execs the node, so the child's pid is the node's and a kill reaches it.
            Mode::Start { netns: Some(ns), .. } => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(bin(binary)?);
                c
            }
            _ => Command::new(bin(binary)?),
        };
        match &mode {
            Mode::Dev(env) => {
                command.args(["dev", "--home"]).arg(home).args(["--rpc", "127.0.0.1:0"]).envs(env.iter().cloned());
            }
            Mode::Start { env, .. } => {
                command.args(["start", "--home"]).arg(home).envs(env.iter().cloned());
            }
        }
        let mut child = command
            .env_remove("CONSORT_HOME")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .context("cannot spawn consort-node")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let url = tokio::time::timeout(STARTUP_DEADLINE, async {
            while let Some(line) = lines.next_line().await? {
                banner.push(line.clone());
                if let Some(url) = line.strip_prefix("RPC: ") {
                    return Ok(url.to_owned());
                }
            }
            bail!("consort-node exited before announcing its RPC address; see {}", home.with_extension("log").display())
        })
        .await
        .context("consort-node did not start in time")??;
        // Keep draining stdout so the node never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(DevNode { child, home: home.to_owned(), mode, url, banner })
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }

    /// The `consort` CLI aimed at this node with this home's keystore, ready for arguments.
    pub fn cli_command(&self) -> anyhow::Result<std::process::Command> {
        let mut command = std::process::Command::new(bin("consort")?);
        command
            .arg("--home")
            .arg(&self.home)
            .args(["--node", &self.url])
            .env_remove("CONSORT_NODE")
            .env_remove("CONSORT_HOME")
            .stdin(Stdio::null());
        Ok(command)
    }

    /// Runs the `consort` CLI against this node with this home's keystore.
    pub fn cli(&self, args: &[&str]) -> anyhow::Result<Output> {
        Ok(self.cli_command()?.args(args).output()?)
    }

    /// Sends SIGTERM and waits for a clean (exit code 0) shutdown.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().context("node already exited")?;
        let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        let exit =
            tokio::time::timeout(STARTUP_DEADLINE, self.child.wait()).await.context("node did not stop in time")??;
        if !exit.success() {
            bail!("node exited with {exit} on SIGTERM; see {}", self.home.with_extension("log").display());
        }
        Ok(())
    }

    /// SIGKILL: no chance to clean up, as in a power cut. Waits until the process is gone and returns
    /// what it takes to start it again.
    pub async fn kill(mut self) -> anyhow::Result<Stopped> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(Stopped { home: self.home.clone(), mode: self.mode.clone() })
    }

    pub async fn restart(self) -> anyhow::Result<DevNode> {
        let (home, mode) = (self.home.clone(), self.mode.clone());
        self.stop().await?;
        DevNode::spawn(&home, mode).await
    }
}

/// A node that was killed, ready to be started again the same way.
pub struct Stopped {
    home: PathBuf,
    mode: Mode,
}

impl Stopped {
    pub fn home(&self) -> &Path {
        &self.home
    }

    pub async fn start(self) -> anyhow::Result<DevNode> {
        DevNode::spawn(&self.home, self.mode).await
    }
}

/// Polls `check` until it returns `Some`, failing after `deadline`.
pub async fn wait_until<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if start.elapsed() > deadline {
            bail!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A counter or gauge from a node's `/metrics`, or None if it cannot be read.
pub async fn metric(url: &str, name: &str) -> Option<u64> {
    let text = reqwest::get(format!("{url}/metrics")).await.ok()?.text().await.ok()?;
    let prefix = format!("{name} ");
    text.lines().find_map(|l| l.strip_prefix(prefix.as_str()))?.trim().parse().ok()
}
