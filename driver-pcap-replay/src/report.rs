//! The result of a replay: the step-by-step comparison and its summary.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use serde::{Serialize, Serializer};
use tcp_engine::conn::State;

use crate::replay::Role;

/// One segment as the comparison sees it.
///
/// Sequence numbers are relative, as Wireshark shows them: `seq` counts from
/// the sender's own initial sequence number (its SYN is 0, its first data
/// byte 1) and `ack` from the other side's, so the engine's numbers and the
/// recorded side's compare although the engine chose its own ISN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentSummary {
    /// Frame number in the capture (recorded segments only).
    pub frame: Option<usize>,
    /// Virtual time in microseconds: capture time minus the flow's first timestamp.
    pub time_us: u64,
    /// Control bits as letters in the order `FSRPAUEC`.
    pub flags: String,
    /// Relative sequence number.
    pub seq: u32,
    /// Relative acknowledgment number, when the ACK bit is set.
    pub ack: Option<u32>,
    /// Payload length (from the IP header for captured segments).
    pub len: usize,
    /// Window field as on the wire (unscaled).
    pub window: u16,
    /// The options that matter for comparison: kinds, MSS and window-scale
    /// values and relative SACK blocks (timestamp values left out).
    pub options: String,
}

/// A field compared step by step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// Control bits other than PSH.
    Flags,
    /// Relative sequence number.
    Seq,
    /// Relative acknowledgment number.
    Ack,
    /// Payload length.
    Len,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Flags => "flags",
            Self::Seq => "seq",
            Self::Ack => "ack",
            Self::Len => "len",
        })
    }
}

/// The verdict on one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Flags (PSH aside), seq, ack and length all agree.
    Match,
    /// Paired segments that differ in some of flags, seq, ack, length.
    Mismatch,
    /// The recorded side sent it; the engine sent nothing like it.
    Missing,
    /// The engine sent it; the recorded side sent nothing like it.
    Extra,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Match => "match",
            Self::Mismatch => "MISMATCH",
            Self::Missing => "MISSING",
            Self::Extra => "EXTRA",
        })
    }
}

/// One step of the comparison: a recorded segment, an engine segment, or a pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// 1-based step number.
    pub index: usize,
    /// The verdict.
    pub verdict: Verdict,
    /// What the recorded side sent.
    pub expected: Option<SegmentSummary>,
    /// What the engine sent.
    pub actual: Option<SegmentSummary>,
    /// The compared fields that differ (for [`Verdict::Mismatch`]).
    pub differences: Vec<Field>,
    /// The window fields differ (reported, not counted as a mismatch).
    pub window_differs: bool,
    /// The options differ (reported, not counted as a mismatch).
    pub options_differ: bool,
    /// One segment has PSH and the other not (reported, not counted as a
    /// mismatch: when to push is the sender's choice).
    pub push_differs: bool,
}

/// Totals over the steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Segments the recorded side sent (compared ones).
    pub recorded: usize,
    /// Segments the engine sent (compared ones).
    pub engine: usize,
    /// Steps in all.
    pub steps: usize,
    /// Steps whose segments agree.
    pub matched: usize,
    /// Paired steps that differ.
    pub mismatched: usize,
    /// Recorded segments the engine did not send.
    pub missing: usize,
    /// Engine segments the recorded side did not send.
    pub extra: usize,
    /// Paired steps whose window fields differ.
    pub window_differs: usize,
    /// Paired steps whose options differ.
    pub options_differ: usize,
    /// Paired steps where only one segment has PSH.
    pub push_differs: usize,
}

/// Everything a replay found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// Index of the flow in the capture.
    pub flow: usize,
    /// The flow's client.
    pub client: SocketAddr,
    /// The flow's server.
    pub server: SocketAddr,
    /// The side the engine played.
    pub role: Role,
    /// Why the flow could not be replayed, if it could not (then there are no steps).
    pub not_replayed: Option<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Totals.
    pub counts: Counts,
    /// The engine connection's states, in order, starting with its first
    /// state (LISTEN for a server, SYN-SENT for a client).
    #[serde(serialize_with = "state_names")]
    pub states: Vec<State>,
    /// The engine connection's last state.
    #[serde(serialize_with = "opt_state_name")]
    pub final_state: Option<State>,
    /// The recorded side's initial sequence number.
    pub recorded_isn: Option<u32>,
    /// The engine's initial sequence number.
    pub engine_isn: Option<u32>,
    /// The recorded peer's initial sequence number.
    pub peer_isn: Option<u32>,
    /// Recorded peer segments fed to the engine.
    pub peer_segments: usize,
    /// What the engine did with them, by disposition (`accepted`, `reset`,
    /// `dropped:out_of_window`, ...).
    pub dispositions: BTreeMap<String, usize>,
    /// The comparison stopped at the step limit.
    pub capped: bool,
    /// Remarks on what the replay had to assume or work around.
    pub notes: Vec<String>,
}

impl ReplayReport {
    /// Whether the flow was replayed (a handshake was there to start from).
    pub fn replayed(&self) -> bool {
        self.not_replayed.is_none()
    }
}

fn state_names<S: Serializer>(states: &[State], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(states.iter().map(|st| st.name()))
}

fn opt_state_name<S: Serializer>(state: &Option<State>, s: S) -> Result<S::Ok, S::Error> {
    match state {
        Some(st) => s.serialize_some(st.name()),
        None => s.serialize_none(),
    }
}
