//! What the interop tests share: a network namespace per test, the environment check that
//! skips (or fails under CI) without root, `/dev/net/tun` or `ip`, a deterministic data
//! pattern with its SHA-256, and readers of the kernel's socket table.

#![allow(dead_code, unreachable_pub)]

pub mod data;
pub mod netns;
pub mod scenarios;

pub use data::{Pattern, Summary};
pub use netns::Netns;

use std::path::Path;
use std::process::Command;

/// Whether the interop tests can run here; prints why not. Under `CI=true` a missing
/// requirement is a failure, not a skip.
pub fn environment_ok(test: &str, tools: &[&str]) -> bool {
    let mut missing = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        missing.push("root (to create TUN devices and network namespaces)".to_owned());
    }
    if !Path::new("/dev/net/tun").exists() {
        missing.push("/dev/net/tun".to_owned());
    }
    for tool in ["ip", "ss"].iter().chain(tools) {
        if !has_tool(tool) {
            missing.push(format!("the `{tool}` command"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("{test}: needs {}", missing.join(", "));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg} (CI=true: a skip is a failure here)");
    }
    eprintln!("skipping {msg}");
    false
}

/// Whether `tool` is on PATH
pub fn has_tool(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Transfer size of the full-size interop tests: 10 MiB, or `TUN_TEST_MIB`
pub fn transfer_size() -> usize {
    std::env::var("TUN_TEST_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        * 1024
        * 1024
}
