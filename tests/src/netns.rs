//! Test hosts in network namespaces made by the test itself (root only): one namespace per node, a veth
//! pair between every two nodes (so a link can be cut, slowed or made lossy on its own), and one veth to
//! the test's own namespace per node for its RPC. Namespaces are removed on drop, and any left over from
//! an earlier crashed run are removed first.

use anyhow::{bail, Context};
use std::process::Command;

/// Every namespace and interface name of these tests starts with this.
const PREFIX: &str = "cpt";

fn run(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(args[0]).args(&args[1..]).output().with_context(|| format!("cannot run {}", args[0]))?;
    if !out.status.success() {
        bail!("`{}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// Why namespaces cannot be made here, if they cannot: the tests skip with this message.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("network namespaces need root".into());
    }
    if Command::new("ip").arg("-V").output().is_err() || Command::new("tc").arg("-V").output().is_err() {
        return Some("`ip` and `tc` (Debian's iproute2) are needed".into());
    }
    None
}

pub struct Net {
    nodes: usize,
}

impl Net {
    /// Namespaces `cpt0`… with a full mesh of links and an RPC link each.
    pub fn mesh(nodes: usize) -> anyhow::Result<Net> {
        cleanup();
        let net = Net { nodes };
        for i in 0..nodes {
            let ns = net.ns(i);
            run(&["ip", "netns", "add", &ns])?;
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
            // The RPC link: 10.201.i.1 on the test's side, 10.201.i.2 in the node's namespace.
            let (outside, inside) = (format!("{PREFIX}r{i}"), format!("{PREFIX}q{i}"));
            run(&["ip", "link", "add", &outside, "type", "veth", "peer", "name", &inside, "netns", &ns])?;
            run(&["ip", "addr", "add", &format!("10.201.{i}.1/24"), "dev", &outside])?;
            run(&["ip", "link", "set", &outside, "up"])?;
            run(&["ip", "-n", &ns, "addr", "add", &format!("10.201.{i}.2/24"), "dev", &inside])?;
            run(&["ip", "-n", &ns, "link", "set", &inside, "up"])?;
        }
        for a in 0..nodes {
            for b in a + 1..nodes {
                let (ea, eb) = (net.end(a, b), net.end(b, a));
                run(&[
                    "ip",
                    "link",
                    "add",
                    &ea,
                    "netns",
                    &net.ns(a),
                    "type",
                    "veth",
                    "peer",
                    "name",
                    &eb,
                    "netns",
                    &net.ns(b),
                ])?;
                for (me, other, end) in [(a, b, &ea), (b, a, &eb)] {
                    run(&["ip", "-n", &net.ns(me), "addr", "add", &format!("{}/30", net.addr(me, other)), "dev", end])?;
                    run(&["ip", "-n", &net.ns(me), "link", "set", end, "up"])?;
                }
            }
        }
        Ok(net)
    }

    pub fn ns(&self, i: usize) -> String {
        format!("{PREFIX}{i}")
    }

    /// Node `me`'s end of its link to `other`.
    fn end(&self, me: usize, other: usize) -> String {
        format!("{PREFIX}{me}to{other}")
    }

    fn link_index(&self, a: usize, b: usize) -> usize {
        a.min(b) * self.nodes + a.max(b)
    }

    /// Node `me`'s address on its link to `other`.
    pub fn addr(&self, me: usize, other: usize) -> String {
        let host = if me < other { 1 } else { 2 };
        format!("10.202.{}.{host}", self.link_index(me, other))
    }

    /// Node `i`'s address for its RPC, reachable from the test.
    pub fn rpc_addr(&self, i: usize) -> String {
        format!("10.201.{i}.2")
    }

    /// Applies `netem` settings (for example `["delay", "50ms", "loss", "5%"]`) to both ends of the link
    /// between `a` and `b`; empty settings remove them. Needs `netem_available`.
    pub fn shape(&self, a: usize, b: usize, netem: &[&str]) -> anyhow::Result<()> {
        for (me, other) in [(a, b), (b, a)] {
            let (ns, end) = (self.ns(me), self.end(me, other));
            // Deleting a qdisc that is not there fails harmlessly.
            let _ = run(&["ip", "netns", "exec", &ns, "tc", "qdisc", "del", "dev", &end, "root"]);
            if !netem.is_empty() {
                let mut args = vec!["ip", "netns", "exec", &ns, "tc", "qdisc", "add", "dev", &end, "root", "netem"];
                args.extend_from_slice(netem);
                run(&args)?;
            }
        }
        Ok(())
    }

    /// Whether this kernel has netem (delay, loss); some VM kernels are built without it.
    pub fn netem_available(&self) -> bool {
        let ns = self.ns(0);
        let added =
            run(&["ip", "netns", "exec", &ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]);
        let _ = run(&["ip", "netns", "exec", &ns, "tc", "qdisc", "del", "dev", "lo", "root"]);
        added.is_ok()
    }

    fn set_link(&self, a: usize, b: usize, state: &str) -> anyhow::Result<()> {
        for (me, other) in [(a, b), (b, a)] {
            run(&["ip", "-n", &self.ns(me), "link", "set", &self.end(me, other), state])?;
        }
        Ok(())
    }

    /// Cuts every link between the two groups (the links go down: packets are dropped, sockets stay).
    pub fn partition(&self, left: &[usize], right: &[usize]) -> anyhow::Result<()> {
        for &a in left {
            for &b in right {
                self.set_link(a, b, "down")?;
            }
        }
        Ok(())
    }

    /// Brings every link back up and removes any netem shaping.
    pub fn heal(&self) -> anyhow::Result<()> {
        for a in 0..self.nodes {
            for b in a + 1..self.nodes {
                self.set_link(a, b, "up")?;
                self.shape(a, b, &[])?;
            }
        }
        Ok(())
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        cleanup();
    }
}

/// Removes every namespace of these tests and the test-side ends of their RPC links (a namespace whose
/// processes are still exiting outlives its name, and its links with it).
fn cleanup() {
    if let Ok(out) = Command::new("ip").args(["-br", "link", "show"]).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split(['@', ' ']).next().unwrap_or("");
            if name.strip_prefix(PREFIX).and_then(|r| r.strip_prefix('r')).is_some_and(|n| n.parse::<u32>().is_ok()) {
                let _ = run(&["ip", "link", "del", name]);
            }
        }
    }
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else { return };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        if name.starts_with(PREFIX) && name[PREFIX.len()..].chars().all(|c| c.is_ascii_digit()) {
            let _ = run(&["ip", "netns", "del", name]);
        }
    }
}
