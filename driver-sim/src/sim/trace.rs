//! The trace of a run: every segment that entered the link and every state change.

use core::net::SocketAddr;

use tcp_engine::conn::{CloseReason, State};
use tcp_engine::engine::ConnHandle;
use tcp_engine::wire::TcpFlags;

use tcp_engine::wire::TcpRepr;

use super::flow::Observed;
use crate::{Fate, SendOutcome};

/// Why a segment never arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropCause {
    /// A scenario's [`DropRule`](super::DropRule) chose it.
    Rule,
    /// Random loss on the link.
    Loss,
    /// The bottleneck queue was full.
    TailDrop,
    /// Larger than the link's MTU.
    TooBig,
    /// Sent while the direction was partitioned.
    Partition,
}

impl DropCause {
    /// A stable lower-case name: `rule`, `loss`, `tail_drop`, `too_big`, `partition`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rule => "rule",
            Self::Loss => "loss",
            Self::TailDrop => "tail_drop",
            Self::TooBig => "too_big",
            Self::Partition => "partition",
        }
    }

    pub(crate) fn of(fate: Fate) -> Option<Self> {
        match fate {
            Fate::Lost => Some(Self::Loss),
            Fate::TailDropped => Some(Self::TailDrop),
            Fate::TooBig => Some(Self::TooBig),
            Fate::Partitioned => Some(Self::Partition),
            Fate::Delivered | Fate::Duplicated | Fate::Reordered | Fate::Corrupted => None,
        }
    }
}

/// The TCP options of a segment, as the ladder shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegOptions {
    /// MSS.
    pub mss: Option<u16>,
    /// Window scale shift.
    pub window_scale: Option<u8>,
    /// SACK permitted.
    pub sack_permitted: bool,
    /// Timestamp value and echo reply.
    pub timestamps: Option<(u32, u32)>,
    /// SACK blocks (absolute sequence numbers, left edge and right edge).
    pub sack: Vec<(u32, u32)>,
}

/// What the trace noticed about a segment, as Wireshark's analysis would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegNotes {
    /// It carries sequence numbers (data, SYN or FIN) its sender had sent before.
    pub retransmission: bool,
    /// A pure ACK repeating the previous ACK and window while data is outstanding.
    pub dup_ack: bool,
    /// A keep-alive probe: no data, one sequence number below the next new one.
    pub keep_alive: bool,
    /// A zero-window probe: like a keep-alive, while the peer's window is zero.
    pub window_probe: bool,
}

/// One segment that entered the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRecord {
    /// When it was sent, in µs.
    pub t_us: u64,
    /// Sending host's index (0 is `A`).
    pub src: u32,
    /// Receiving host's index.
    pub dst: u32,
    /// Sending address and port.
    pub src_addr: SocketAddr,
    /// Receiving address and port.
    pub dst_addr: SocketAddr,
    /// TCP flags.
    pub flags: TcpFlags,
    /// Sequence number (absolute).
    pub seq: u32,
    /// Acknowledgment number (absolute; meaningful when ACK is set).
    pub ack: u32,
    /// The sender's initial sequence number (or first sequence number seen), the base of
    /// relative sequence numbers.
    pub seq_base: u32,
    /// The receiver's initial sequence number, base of relative acknowledgment numbers and
    /// SACK blocks, when it is known.
    pub ack_base: Option<u32>,
    /// Payload bytes.
    pub len: usize,
    /// The window field as sent.
    pub window_raw: u16,
    /// The window in bytes: the field scaled by the sender's window-scale shift once both
    /// sides agreed on scaling (never on a SYN).
    pub win: u32,
    /// Options.
    pub options: SegOptions,
    /// What the link did with it: [`Fate::Lost`] for every drop (see
    /// [`cause`](Self::cause)), otherwise [`Fate::Corrupted`], [`Fate::Duplicated`],
    /// [`Fate::Reordered`] or [`Fate::Delivered`], in that order of precedence.
    pub fate: Fate,
    /// Why it was dropped, if it was.
    pub cause: Option<DropCause>,
    /// The network's full record (`None` when a drop rule took it before the network).
    pub outcome: Option<SendOutcome>,
    /// Retransmission, duplicate ACK, probes.
    pub notes: SegNotes,
    /// The whole IP packet as sent.
    pub packet: Vec<u8>,
}

impl SegmentRecord {
    /// The record of segment `r` sent at `t_us` from `ends[0]` to `ends[1]` (host index and
    /// socket address).
    pub(crate) fn new(
        t_us: u64,
        ends: [(u32, SocketAddr); 2],
        r: &TcpRepr<'_>,
        seen: Observed,
        (fate, cause): (Fate, Option<DropCause>),
        outcome: Option<SendOutcome>,
        packet: Vec<u8>,
    ) -> Self {
        let o = &r.options;
        Self {
            t_us,
            src: ends[0].0,
            dst: ends[1].0,
            src_addr: ends[0].1,
            dst_addr: ends[1].1,
            flags: r.flags,
            seq: r.seq_number.0,
            ack: r.ack_number.0,
            seq_base: seen.seq_base,
            ack_base: seen.ack_base,
            len: r.payload.len(),
            window_raw: r.window_len,
            win: seen.win,
            options: SegOptions {
                mss: o.mss,
                window_scale: o.window_scale,
                sack_permitted: o.sack_permitted,
                timestamps: o.timestamps,
                sack: o
                    .sack_blocks()
                    .iter()
                    .map(|b| (b.left.0, b.right.0))
                    .collect(),
            },
            fate,
            cause,
            outcome,
            notes: seen.notes,
            packet,
        }
    }

    /// The sequence number relative to the sender's ISN (0 for the SYN).
    #[must_use]
    pub fn rel_seq(&self) -> u32 {
        self.seq.wrapping_sub(self.seq_base)
    }

    /// The acknowledgment number relative to the receiver's ISN, or absolute when that is
    /// unknown.
    #[must_use]
    pub fn rel_ack(&self) -> u32 {
        self.ack.wrapping_sub(self.ack_base.unwrap_or(0))
    }

    /// Whether it never arrived.
    #[must_use]
    pub fn is_lost(&self) -> bool {
        self.cause.is_some()
    }

    /// The sequence space it occupies: payload plus one for SYN and one for FIN.
    #[must_use]
    pub fn seg_len(&self) -> u32 {
        self.len as u32
            + u32::from(self.flags.contains(TcpFlags::SYN))
            + u32::from(self.flags.contains(TcpFlags::FIN))
    }
}

/// One state change of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRecord {
    /// When, in µs.
    pub t_us: u64,
    /// The host's index.
    pub host: u32,
    /// The connection (`None` for a listener's CLOSED → LISTEN, which the engine does not
    /// report; the harness records it when `listen` succeeds).
    pub conn: Option<ConnHandle>,
    /// State before.
    pub from: State,
    /// State after.
    pub to: State,
    /// Why the connection ended, when `to` is CLOSED and the engine said.
    pub reason: Option<CloseReason>,
}

/// One entry of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // most entries are segments: boxing them would not save
pub enum TraceEvent {
    /// A segment entered the link.
    Segment(SegmentRecord),
    /// A connection changed state.
    State(StateRecord),
}

impl TraceEvent {
    /// When it happened, in µs.
    #[must_use]
    pub fn t_us(&self) -> u64 {
        match self {
            Self::Segment(s) => s.t_us,
            Self::State(s) => s.t_us,
        }
    }
}

/// A human name for a [`CloseReason`]: `normal`, `refused`, `reset`, `timed out`, `aborted`,
/// `unreachable`.
#[must_use]
pub fn reason_name(r: CloseReason) -> &'static str {
    match r {
        CloseReason::Normal => "normal",
        CloseReason::Refused => "refused",
        CloseReason::Reset => "reset",
        CloseReason::TimedOut => "timed out",
        CloseReason::Aborted => "aborted",
        CloseReason::Unreachable => "unreachable",
        _ => "other",
    }
}

/// The one fate the trace shows for a segment the network took: any drop is
/// [`Fate::Lost`]; otherwise corrupted, duplicated, reordered or delivered, in that order.
pub(crate) fn primary_fate(out: &SendOutcome) -> Fate {
    if out.fate.is_drop() {
        Fate::Lost
    } else if out.is_corrupted() {
        Fate::Corrupted
    } else if out.duplicated {
        Fate::Duplicated
    } else if out.reordered {
        Fate::Reordered
    } else {
        Fate::Delivered
    }
}
