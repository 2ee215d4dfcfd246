//! What a run amounted to: bytes each way, integrity, retransmissions, timings, final states.

use core::net::{IpAddr, SocketAddr};

use tcp_engine::conn::{CloseReason, ConnStats, State};

use super::app::App;
use super::data::Sha256Digest;
use super::host_name;
use super::trace::TraceEvent;
use crate::NetStats;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Nothing left to do: no timer armed, no packet in flight, no scripted action ahead.
    Quiet,
    /// The deadline came first.
    Deadline,
    /// The clock stopped advancing (an engine kept asking to be woken at the same instant).
    Stalled,
}

/// One host at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSummary {
    /// Its index (0 is `A`).
    pub index: u32,
    /// Its address.
    pub addr: IpAddr,
    /// The main connection's local end, once it existed.
    pub local: Option<SocketAddr>,
    /// The main connection's remote end, once it existed.
    pub remote: Option<SocketAddr>,
    /// The host at the remote end, if it is one of the simulation's.
    pub peer: Option<u32>,
    /// Bytes the application meant to send.
    pub to_send: u64,
    /// Bytes the engine accepted from the application.
    pub queued: u64,
    /// SHA-256 of the bytes the application meant to send.
    pub sent_digest: Sha256Digest,
    /// Bytes the application read.
    pub received: u64,
    /// SHA-256 of the bytes the application read.
    pub received_digest: Sha256Digest,
    /// Whether the application read the end of the peer's stream.
    pub eof: bool,
    /// The last state of the main connection (LISTEN or CLOSED for a host that never had
    /// one).
    pub final_state: State,
    /// Why the main connection ended, if it did and the engine said.
    pub close_reason: Option<CloseReason>,
    /// The main connection's statistics, as last read while it was live.
    pub stats: Option<ConnStats>,
    /// Application calls that failed.
    pub errors: Vec<String>,
}

impl HostSummary {
    /// The host's name: `A`, `B`, ...
    #[must_use]
    pub fn name(&self) -> String {
        host_name(self.index)
    }

    /// Retransmissions of the main connection.
    #[must_use]
    pub fn retransmissions(&self) -> u32 {
        self.stats.map_or(0, |s| s.retransmissions)
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Every host, in index order.
    pub hosts: Vec<HostSummary>,
    /// Simulated time when the run ended, in µs.
    pub duration_us: u64,
    /// Why it ended.
    pub end: RunEnd,
    /// The network's counters (segments dropped by a rule never reach it).
    pub net: NetStats,
    /// Segments dropped by drop rules.
    pub rule_drops: u64,
    /// Packets that arrived but that IP discarded (a corrupted IPv4 header).
    pub ip_drops: u64,
}

impl Summary {
    /// Bytes host `to`'s application read from host `from`.
    #[must_use]
    pub fn bytes(&self, from: u32, to: u32) -> u64 {
        self.hosts
            .get(to as usize)
            .filter(|h| h.peer == Some(from))
            .map_or(0, |h| h.received)
    }

    /// Whether every application's data reached its peer's application complete and
    /// unchanged (same length and SHA-256). A host with nothing to send counts as intact.
    #[must_use]
    pub fn intact(&self) -> bool {
        self.hosts.iter().all(|h| {
            if h.to_send == 0 {
                return true;
            }
            let Some(p) = h.peer.and_then(|p| self.hosts.get(p as usize)) else {
                return false;
            };
            p.peer == Some(h.index) && p.received == h.to_send && p.received_digest == h.sent_digest
        })
    }

    /// Retransmissions of every main connection.
    #[must_use]
    pub fn retransmissions(&self) -> u64 {
        self.hosts
            .iter()
            .map(|h| u64::from(h.retransmissions()))
            .sum()
    }

    /// The host numbered `index`.
    #[must_use]
    pub fn host(&self, index: u32) -> Option<&HostSummary> {
        self.hosts.get(index as usize)
    }
}

/// Host `index` at the end of a run: its application's counters and digests, and the last
/// state of its main connection in `trace` (LISTEN or CLOSED for a host that never had one).
/// `addrs` are every host's address, to name the peer.
pub(crate) fn host_summary(
    index: u32,
    addrs: &[IpAddr],
    app: &App,
    trace: &[TraceEvent],
) -> HostSummary {
    let tracked = app.tracked();
    let mut final_state = State::Closed;
    let mut seen_main = false;
    for e in trace {
        let TraceEvent::State(s) = e else { continue };
        if s.host != index {
            continue;
        }
        if tracked.is_some() && s.conn == tracked {
            final_state = s.to;
            seen_main = true;
        } else if s.conn.is_none() && !seen_main {
            final_state = s.to;
        }
    }
    let tuple = app.tuple;
    let remote = tuple.map(|t| SocketAddr::new(t.remote_addr, t.remote_port));
    HostSummary {
        index,
        addr: addrs
            .get(index as usize)
            .copied()
            .unwrap_or(IpAddr::from([0, 0, 0, 0])),
        local: tuple.map(|t| SocketAddr::new(t.local_addr, t.local_port)),
        remote,
        peer: remote.and_then(|r| addrs.iter().position(|a| *a == r.ip()).map(|p| p as u32)),
        to_send: app.data_len() as u64,
        queued: app.written as u64,
        sent_digest: app.data_digest,
        received: app.rx.len(),
        received_digest: app.rx.digest(),
        eof: app.eof,
        final_state,
        close_reason: app.close_reason,
        stats: app.stats,
        errors: app.errors.clone(),
    }
}
