//! `tcp-bench`: our engine and smoltcp 0.14 side by side, in one process and one thread
//!
//! Both stacks run the same application code ([`net::Net`]) over the same in-memory IPv4
//! link ([`link::Link`], MTU 1500) with a virtual clock that jumps to the next deadline, so
//! wall time measures CPU work only. Every connection has 64 KiB send and receive buffers
//! on each side, and every received byte is checked ([`pattern`]).
//!
//! Our engine hands out bare TCP segments; its side of the link wraps them in IPv4 headers
//! ([`ipv4`]) so both stacks build and check the same datagrams. Both compute and verify
//! every TCP checksum.
//!
//! Workloads: [`bulk`] (throughput, and with idle connections alongside), [`churn`]
//! (connections per second), [`lossy`] (completion time under loss and delay), [`size`]
//! (bytes per connection and per TIME-WAIT entry). [`report`] prints the figures.

use core::net::Ipv4Addr;

pub mod bulk;
pub mod churn;
pub mod ipv4;
pub mod link;
pub mod lossy;
pub mod net;
pub mod ours;
pub mod pattern;
pub mod report;
pub mod size;
pub mod smol;

/// Send and receive buffer of every connection, each side
pub const BUFFER: usize = 64 * 1024;
/// The client's address
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The server's address
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The port the server listens on
pub const SERVER_PORT: u16 = 80;
/// One mebibyte
pub const MIB: u64 = 1024 * 1024;

/// Which stacks a run measures
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stacks {
    /// Ours and smoltcp
    Both,
    /// Our engine only
    Ours,
    /// smoltcp only
    Smoltcp,
    /// Neither: the application's own work only (a baseline for instruction counts)
    Baseline,
}

impl Stacks {
    /// Whether our engine runs
    pub fn ours(self) -> bool {
        matches!(self, Self::Both | Self::Ours)
    }

    /// Whether smoltcp runs
    pub fn smoltcp(self) -> bool {
        matches!(self, Self::Both | Self::Smoltcp)
    }
}

/// One measured figure for both stacks
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// `bulk`, `churn`, `idle`, `lossy` or `size`
    pub workload: &'static str,
    /// What is measured (`MiB/s`, `conn/s`, `MiB/s@N`, `median_s`, ...)
    pub metric: String,
    /// Our engine's value, if measured
    pub ours: Option<f64>,
    /// smoltcp's value, if measured
    pub smoltcp: Option<f64>,
    /// Whether a larger value is better
    pub higher_is_better: bool,
    /// A remark for the table (configuration chosen, breakdown)
    pub note: String,
}

impl Figure {
    /// A figure with no note
    pub fn new(
        workload: &'static str,
        metric: impl Into<String>,
        ours: Option<f64>,
        smoltcp: Option<f64>,
        higher_is_better: bool,
    ) -> Self {
        Self {
            workload,
            metric: metric.into(),
            ours,
            smoltcp,
            higher_is_better,
            note: String::new(),
        }
    }

    /// The same figure with a note
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// How many times better ours is (above 1) or worse (below 1)
    pub fn advantage(&self) -> Option<f64> {
        let (o, s) = (self.ours?, self.smoltcp?);
        let r = if self.higher_is_better { o / s } else { s / o };
        r.is_finite().then_some(r)
    }
}

/// Seconds of a measurement, never zero
pub fn secs(d: std::time::Duration) -> f64 {
    d.as_secs_f64().max(1e-9)
}

/// Measures the CPU time of this thread (wall time where the OS cannot tell): with the
/// virtual clock the runs never sleep, so this is the work done, without the time other
/// processes on the machine took
#[derive(Debug, Clone, Copy)]
pub enum Stopwatch {
    /// Thread CPU time
    Cpu(cpu_time::ThreadTime),
    /// Wall time
    Wall(std::time::Instant),
}

impl Stopwatch {
    /// Start measuring
    pub fn start() -> Self {
        match cpu_time::ThreadTime::try_now() {
            Ok(t) => Self::Cpu(t),
            Err(_) => Self::Wall(std::time::Instant::now()),
        }
    }

    /// Time since the start
    pub fn elapsed(&self) -> std::time::Duration {
        match self {
            Self::Cpu(t) => t.elapsed(),
            Self::Wall(t) => t.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests;
