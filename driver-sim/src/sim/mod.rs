//! The test harness: engines on simulated hosts, scripted applications, a run loop over the
//! [`Network`](crate::Network), and the trace of what happened.
//!
//! A [`Sim`] holds hosts (`A`, `B`, ...; IPv4 `10.0.0.1`, `10.0.0.2`, ... or IPv6 `fd00::1`,
//! ...), each an [`Engine`](tcp_engine::engine::Engine) with an [`AppScript`]: listen, connect
//! at a time, send N bytes of deterministic [`payload`], shut down, close or abort on a
//! condition, and read (and hash with SHA-256) everything that arrives. [`Sim::run`] drives
//! it all on a virtual clock until nothing is left to do (or a deadline) and returns a
//! [`Summary`]; [`Sim::trace`] holds every segment that entered the link and every state
//! change. [`DropRule`]s drop chosen segments deterministically, for the scenarios that need
//! a particular loss.
//!
//! ```
//! use driver_sim::sim::{AppScript, DropRule, Sim, TraceEvent, When};
//! use tcp_engine::wire::TcpFlags;
//!
//! let mut sim = Sim::new(1);
//! sim.add_host(AppScript::connect_to(1, 80));
//! sim.add_host(AppScript::listen_on(80));
//! sim.add_drop_rule(DropRule::first(0, TcpFlags::SYN));
//! let summary = sim.run();
//! // The lost SYN is sent again after the initial RTO of one second.
//! let syns: Vec<u64> = sim.trace().iter().filter_map(|e| match e {
//!     TraceEvent::Segment(s) if s.flags == TcpFlags::SYN => Some(s.t_us),
//!     _ => None,
//! }).collect();
//! assert_eq!(syns, [0, 1_000_000]);
//! assert_eq!(summary.host(0).unwrap().final_state.name(), "ESTABLISHED");
//! ```

mod app;
mod data;
mod drop_rule;
mod flow;
mod harness;
mod ip;
mod script;
mod summary;
mod trace;

pub use data::{payload, Sha256Digest};
pub use drop_rule::DropRule;
pub use harness::{host_name, Sim, DEFAULT_DEADLINE_US};
pub use ip::ip_header_len;
pub use script::{AppScript, Connect, Read, When};
pub use summary::{HostSummary, RunEnd, Summary};
pub use trace::{
    reason_name, DropCause, SegNotes, SegOptions, SegmentRecord, StateRecord, TraceEvent,
};
