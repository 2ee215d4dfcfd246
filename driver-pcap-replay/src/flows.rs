//! Grouping a capture's segments into TCP connections.
//!
//! Segments are grouped by 4-tuple, both directions together. A SYN that
//! arrives on a 4-tuple whose connection has already ended (an RST, or FINs
//! from both sides) with a different initial sequence number starts a new
//! connection, as port reuse does.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

use serde::Serialize;
use tcp_engine::wire::TcpFlags;

use crate::segment::HeaderView;
use crate::{Capture, CapturedSegment};

/// One side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side that opened the connection (sent the first SYN).
    Client,
    /// The side that was connected to.
    Server,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Client => "client",
            Self::Server => "server",
        })
    }
}

/// How the client and server of a flow were told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Opener {
    /// The client sent a SYN without ACK.
    Syn,
    /// No SYN was captured, but a SYN-ACK was: its receiver is the client.
    SynAck,
    /// No SYN at all (a capture that starts mid-stream): the side with the
    /// higher port is taken as the client, or the first sender on a tie.
    Guessed,
}

/// Counters for one direction of a flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct DirStats {
    /// Segments sent in this direction.
    pub packets: u64,
    /// Payload bytes sent in this direction, from the IP lengths (so frames cut
    /// by the snap length count in full), retransmissions included.
    pub bytes: u64,
}

/// Which parts of the three-way handshake were captured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Handshake {
    /// The client's SYN (without ACK).
    pub syn: bool,
    /// A SYN-ACK that acknowledges the other side's SYN: the server's, or the
    /// client's in a simultaneous open.
    pub syn_ack: bool,
    /// A segment without SYN acknowledging the SYN-ACK, before any RST.
    pub ack: bool,
}

impl Handshake {
    /// All three segments were captured.
    pub fn complete(&self) -> bool {
        self.syn && self.syn_ack && self.ack
    }
}

impl fmt::Display for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.complete() {
            return f.write_str("yes");
        }
        let parts: Vec<&str> = [
            (self.syn, "SYN"),
            (self.syn_ack, "SYN-ACK"),
            (self.ack, "ACK"),
        ]
        .iter()
        .filter(|(seen, _)| *seen)
        .map(|(_, name)| *name)
        .collect();
        if parts.is_empty() {
            f.write_str("no")
        } else {
            write!(f, "only {}", parts.join("+"))
        }
    }
}

/// How a flow ended: which sides sent FIN and which sent RST.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Ending {
    /// The client sent a FIN.
    pub fin_client: bool,
    /// The server sent a FIN.
    pub fin_server: bool,
    /// The client sent a RST.
    pub rst_client: bool,
    /// The server sent a RST.
    pub rst_server: bool,
}

impl Ending {
    /// Whether the flow was closed by FIN from both sides, without RST.
    pub fn fin_both(&self) -> bool {
        self.fin_client && self.fin_server && !self.rst_client && !self.rst_server
    }

    /// Whether the flow has ended (RST, or FIN from both sides).
    pub fn ended(&self) -> bool {
        self.rst_client || self.rst_server || (self.fin_client && self.fin_server)
    }
}

fn sides(client: bool, server: bool) -> Option<&'static str> {
    match (client, server) {
        (true, true) => Some("both"),
        (true, false) => Some("client"),
        (false, true) => Some("server"),
        (false, false) => None,
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fin = sides(self.fin_client, self.fin_server);
        match (sides(self.rst_client, self.rst_server), fin) {
            (Some(rst), Some(fin)) => write!(f, "RST from {rst} after FIN from {fin}"),
            (Some(rst), None) => write!(f, "RST from {rst}"),
            (None, Some(fin)) => write!(f, "FIN from {fin}"),
            (None, None) => f.write_str("neither"),
        }
    }
}

/// One TCP connection found in a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// 0-based position of the flow, in order of first appearance.
    pub index: usize,
    /// The client's address and port.
    pub client: SocketAddr,
    /// The server's address and port.
    pub server: SocketAddr,
    /// How the client was identified.
    pub opener: Opener,
    /// Indices into [`Capture::segments`] of this flow's segments, in file order.
    pub segments: Vec<usize>,
    /// Client to server.
    pub to_server: DirStats,
    /// Server to client.
    pub to_client: DirStats,
    /// Which parts of the handshake were captured.
    pub handshake: Handshake,
    /// How it ended.
    pub ending: Ending,
    /// Capture time of the first segment, microseconds since the Unix epoch.
    pub first_us: u64,
    /// Capture time of the last segment, microseconds since the Unix epoch.
    pub last_us: u64,
}

impl Flow {
    /// Which side sent `segment`, or `None` if it does not belong to this flow.
    pub fn side_of(&self, segment: &CapturedSegment) -> Option<Side> {
        let (sp, dp) = segment.ports()?;
        let src = SocketAddr::new(segment.src, sp);
        let dst = SocketAddr::new(segment.dst, dp);
        if (src, dst) == (self.client, self.server) {
            Some(Side::Client)
        } else if (src, dst) == (self.server, self.client) {
            Some(Side::Server)
        } else {
            None
        }
    }

    /// The address and port of `side`.
    pub fn endpoint(&self, side: Side) -> SocketAddr {
        match side {
            Side::Client => self.client,
            Side::Server => self.server,
        }
    }
}

/// The flows of a capture.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Flows {
    /// The connections, in order of first appearance.
    pub flows: Vec<Flow>,
    /// Indices into [`Capture::segments`] of segments too short to hold
    /// their ports, which belong to no flow.
    pub unassigned: Vec<usize>,
}

/// Groups the segments of `capture` into connections.
pub fn extract_flows(capture: &Capture) -> Flows {
    let mut out = Flows::default();
    // Unordered endpoint pair -> index of the flow currently using it.
    let mut current: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    // Per flow: the endpoints in first-seen order, plus the ISN of a SYN seen.
    let mut raw: Vec<(SocketAddr, SocketAddr, Vec<usize>)> = Vec::new();
    let mut ended: Vec<(Ending, Option<u32>)> = Vec::new();
    for (i, seg) in capture.segments.iter().enumerate() {
        let Some(view) = HeaderView::of(seg) else {
            out.unassigned.push(i);
            continue;
        };
        let src = SocketAddr::new(seg.src, view.src_port);
        let dst = SocketAddr::new(seg.dst, view.dst_port);
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        let reuse = current.get(&key).copied().filter(|&f| {
            let (ending, syn_isn) = ended[f];
            view.is_syn() && ending.ended() && view.seq != syn_isn
        });
        let f = match current.get(&key) {
            Some(&f) if reuse.is_none() => f,
            _ => {
                raw.push((src, dst, Vec::new()));
                ended.push((Ending::default(), None));
                current.insert(key, raw.len() - 1);
                raw.len() - 1
            }
        };
        raw[f].2.push(i);
        // Track enough to notice port reuse; the full analysis comes later.
        let (ending, syn_isn) = &mut ended[f];
        if view.is_syn() && syn_isn.is_none() {
            *syn_isn = view.seq;
        }
        let first_sender = src == raw[f].0;
        let rst = view.has(TcpFlags::RST);
        if rst {
            ending.rst_client = true;
        } else if view.has(TcpFlags::FIN) {
            if first_sender {
                ending.fin_client = true;
            } else {
                ending.fin_server = true;
            }
        }
    }
    out.flows = raw
        .into_iter()
        .enumerate()
        .map(|(index, (a, b, segments))| analyse(capture, index, a, b, segments))
        .collect();
    out
}

/// Works out client and server, counters, handshake and ending of one flow.
fn analyse(
    capture: &Capture,
    index: usize,
    a: SocketAddr,
    b: SocketAddr,
    segments: Vec<usize>,
) -> Flow {
    let views: Vec<(&CapturedSegment, HeaderView, bool)> = segments
        .iter()
        .filter_map(|&i| {
            let seg = capture.segments.get(i)?;
            let view = HeaderView::of(seg)?;
            Some((seg, view, seg.src == a.ip() && view.src_port == a.port()))
        })
        .collect();
    // `from_a` tells whether a segment was sent by `a`.
    let first_syn = views.iter().find(|(_, v, _)| v.is_syn());
    let first_syn_ack = views.iter().find(|(_, v, _)| v.is_syn_ack());
    let (a_is_client, opener) = match (first_syn, first_syn_ack) {
        (Some((_, _, from_a)), _) => (*from_a, Opener::Syn),
        (None, Some((_, _, from_a))) => (!*from_a, Opener::SynAck),
        (None, None) => (a.port() > b.port() || a.port() == b.port(), Opener::Guessed),
    };
    let (client, server) = if a_is_client { (a, b) } else { (b, a) };
    let mut flow = Flow {
        index,
        client,
        server,
        opener,
        segments,
        to_server: DirStats::default(),
        to_client: DirStats::default(),
        handshake: Handshake::default(),
        ending: Ending::default(),
        first_us: views.first().map_or(0, |(s, _, _)| s.timestamp_us),
        last_us: views.last().map_or(0, |(s, _, _)| s.timestamp_us),
    };
    // ISN of each side: the sequence number of its first SYN.
    let isn = |client_side: bool| {
        views
            .iter()
            .find(|(_, v, from_a)| v.has(TcpFlags::SYN) && (*from_a == a_is_client) == client_side)
            .and_then(|(_, v, _)| v.seq)
    };
    let (client_isn, server_isn) = (isn(true), isn(false));
    let mut syn_ack_from: Option<bool> = None;
    for (seg, view, from_a) in &views {
        let from_client = *from_a == a_is_client;
        let stats = if from_client {
            &mut flow.to_server
        } else {
            &mut flow.to_client
        };
        stats.packets += 1;
        stats.bytes += view.payload_len(seg) as u64;
        if view.has(TcpFlags::RST) {
            if from_client {
                flow.ending.rst_client = true;
            } else {
                flow.ending.rst_server = true;
            }
        } else if view.has(TcpFlags::FIN) {
            if from_client {
                flow.ending.fin_client = true;
            } else {
                flow.ending.fin_server = true;
            }
        }
        if view.is_syn() && from_client {
            flow.handshake.syn = true;
        }
        if view.is_syn_ack() {
            let other_isn = if from_client { server_isn } else { client_isn };
            // It must acknowledge the other side's SYN, when that SYN was captured.
            let acks_syn = match (view.ack, other_isn) {
                (Some(ack), Some(isn)) => ack == isn.wrapping_add(1),
                (Some(_), None) => true,
                (None, _) => false,
            };
            if acks_syn && syn_ack_from.is_none() {
                syn_ack_from = Some(from_client);
            }
        }
    }
    if let Some(by_client) = syn_ack_from {
        flow.handshake.syn_ack = true;
        let acked_isn = if by_client { client_isn } else { server_isn };
        // The completing ACK counts only if no RST from either side came before it.
        flow.handshake.ack = views
            .iter()
            .take_while(|(_, v, _)| !v.has(TcpFlags::RST))
            .any(|(_, v, from_a)| {
                let from_client = *from_a == a_is_client;
                from_client != by_client
                    && v.has(TcpFlags::ACK)
                    && !v.has(TcpFlags::SYN)
                    && matches!((v.ack, acked_isn), (Some(ack), Some(isn)) if ack == isn.wrapping_add(1))
            });
    }
    flow
}

#[cfg(test)]
#[path = "flows_tests.rs"]
mod tests;
