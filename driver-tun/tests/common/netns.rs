//! A network namespace that lives as long as the guard: created with `ip netns add`, deleted
//! in `Drop` (so also when a test fails), entered by threads with setns(2)

use std::fs::File;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

use nix::sched::{setns, CloneFlags};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One row of `ss -tan`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketRow {
    pub state: String,
    pub local: String,
    pub peer: String,
}

/// A private network namespace, removed on drop
#[derive(Debug)]
pub struct Netns {
    name: String,
}

fn check(what: &str, out: std::io::Result<Output>) -> Output {
    let out = out.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Netns {
    /// A fresh namespace with its loopback up
    pub fn new(tag: &str) -> Self {
        let name = format!(
            "tcpe-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        check(
            "ip netns add",
            Command::new("ip").args(["netns", "add", &name]).output(),
        );
        let ns = Self { name };
        ns.run(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Move the calling thread into the namespace (sockets and devices it creates from now
    /// on live there)
    pub fn enter(&self) {
        let f = File::open(format!("/var/run/netns/{}", self.name)).expect("netns file");
        setns(f, CloneFlags::CLONE_NEWNET).expect("setns");
    }

    /// Run `f` on a new thread inside the namespace
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = File::open(path).expect("netns file");
            setns(file, CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
    }

    /// A command that runs inside the namespace (`ip netns exec`)
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Run `args` inside the namespace; panics if it fails
    pub fn run(&self, args: &[&str]) -> String {
        let out = check(
            &args.join(" "),
            self.command(args[0]).args(&args[1..]).output(),
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Load an nftables ruleset inside the namespace
    pub fn nft(&self, ruleset: &str) {
        let mut child = self
            .command("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nft");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ruleset.as_bytes())
            .unwrap();
        check("nft -f", child.wait_with_output());
    }

    /// The kernel's TCP sockets in the namespace (`ss -tan`)
    pub fn sockets(&self) -> Vec<SocketRow> {
        self.run(&["ss", "-tanH"])
            .lines()
            .filter_map(|l| {
                let c: Vec<&str> = l.split_whitespace().collect();
                (c.len() >= 5).then(|| SocketRow {
                    state: c[0].to_owned(),
                    local: c[3].to_owned(),
                    peer: c[4].to_owned(),
                })
            })
            .collect()
    }

    /// States of the kernel's sockets connected to `peer` (as `ss` prints it, e.g.
    /// `10.7.0.2:7` or `[fd00:7::2]:7`)
    pub fn states_to(&self, peer: &str) -> Vec<String> {
        self.sockets()
            .into_iter()
            .filter(|r| r.peer == peer)
            .map(|r| r.state)
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
