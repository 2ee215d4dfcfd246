//! Peer replay: one side of a captured flow is fed to the engine, which plays
//! the other side; what it sends is compared with what that side sent.
//!
//! The engine plays the recorded server or the recorded client
//! ([`Role`]). The recorded *peer*'s segments are fed in at their capture
//! times (virtual time = capture time minus the flow's first timestamp),
//! timers fire as virtual time passes, and an application on top of the
//! engine does what the recorded application evidently did:
//!
//! * as server: listen on the server's address and port, accept, and send the
//!   bytes the recorded server sent, each at the time it first sent them;
//! * as client: connect from the client's address and port when the recorded
//!   client sent its SYN, then send its bytes likewise;
//! * both: read everything that arrives; when the recorded side sent its FIN,
//!   half-close (`shutdown`), or `close` if the recorded side later sent a RST
//!   (it had closed and reset data arriving after); when the recorded side
//!   sent a RST on an established connection and the engine had no reason of
//!   its own to send one, abort.
//!
//! The engine picks its own initial sequence number, so the peer's ACK
//! fields and SACK blocks are moved from the recorded side's sequence space
//! into the engine's, its timestamp echoes into the engine's timestamp clock,
//! and the segments are re-emitted with a valid checksum. Frames cut by the
//! snap length are padded with zeros to the length their IP header declares.
//!
//! Two capture artifacts are undone before replaying: a SYN-ACK captured
//! before its SYN is put after it, and crossing FINs (the recorded side sent
//! its FIN before the peer's FIN reached it, so its FIN does not acknowledge
//! the peer's) are delivered in the order the recorded host saw them.

mod compare;
mod rewrite;
mod run;
mod script;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::flows::{Flow, Side};
use crate::report::{Counts, ReplayReport};
use crate::Capture;

/// Which side of the flow the engine plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The engine is the server: it listens and the recorded client's segments come in.
    Server,
    /// The engine is the client: it connects and the recorded server's segments come in.
    Client,
}

impl Role {
    /// The side of the flow the engine plays.
    pub fn side(self) -> Side {
        match self {
            Self::Server => Side::Server,
            Self::Client => Side::Client,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.side().fmt(f)
    }
}

/// How to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOptions {
    /// The side the engine plays.
    pub role: Role,
    /// The most segments compared per side; the comparison stops there
    /// (and the report says it was capped).
    pub max_steps: usize,
    /// How long virtual time runs on after the last captured segment, so
    /// that delayed ACKs and other timers can fire.
    pub tail: Duration,
    /// Nagle's algorithm on the engine's connection. Off by default: the
    /// application hands data over at the moments the recorded stack sent it.
    pub nagle: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            role: Role::Server,
            max_steps: 2000,
            tail: Duration::from_millis(500),
            nagle: false,
        }
    }
}

/// Replays `flow` of `capture` with the engine in `options.role`.
///
/// Never fails and never panics: a flow that cannot be replayed (no SYN from
/// the client to start from) gives a report whose
/// [`not_replayed`](ReplayReport::not_replayed) says why.
pub fn replay(capture: &Capture, flow: &Flow, options: &ReplayOptions) -> ReplayReport {
    let mut report = ReplayReport {
        flow: flow.index,
        client: flow.client,
        server: flow.server,
        role: options.role,
        not_replayed: None,
        steps: Vec::new(),
        counts: Counts::default(),
        states: Vec::new(),
        final_state: None,
        recorded_isn: None,
        engine_isn: None,
        peer_isn: None,
        peer_segments: 0,
        dispositions: Default::default(),
        capped: false,
        notes: Vec::new(),
    };
    let script = match script::Script::build(capture, flow, options.role) {
        Ok(s) => s,
        Err(reason) => {
            report.not_replayed = Some(reason);
            return report;
        }
    };
    report.recorded_isn = script.recorded_isn;
    report.peer_isn = script.peer_isn;
    let outcome = run::run(&script, flow, options);
    report.engine_isn = outcome.engine_isn;
    report.states = outcome.states;
    report.final_state = report.states.last().copied();
    report.peer_segments = outcome.peer_segments;
    report.dispositions = outcome.dispositions;
    report.notes = script.notes.clone();
    report.notes.extend(outcome.notes);
    let cmp = compare::compare(
        &script,
        &outcome.sent,
        outcome.engine_isn,
        options.max_steps,
    );
    report.steps = cmp.steps;
    report.counts = cmp.counts;
    report.capped = cmp.capped;
    report
}
