//! Peers that hold a server's resources by being slow: one that never ACKs (after its SYN, or
//! after its request), one that advertises a zero window forever, one that reads one byte at a
//! time. Each is a crafted peer outside the network; the server's application answers its
//! request with a response and closes, as a web server would.

use std::cell::RefCell;
use std::rc::Rc;

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use tcp_engine::conn::{CloseReason, Event};
use tcp_engine::engine::{ConnHandle, Engine, EngineConfig, Limits};
use tcp_engine::wire::{ChecksumCheck, TcpFlags, TcpOptions, TcpRepr};

use super::craft::segment;
use super::lab::{Lab, Outside};
use crate::LinkConfig;

/// The server's port.
const PORT: u16 = 80;
/// Round-trip time between the server and the peer, µs.
const RTT_US: u64 = 20_000;
/// The peer's initial sequence number.
const PEER_ISS: u32 = 1_000;
/// The request the peer sends.
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\n\r\n";

/// How the peer misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowPeer {
    /// Sends a SYN and never answers the SYN-ACK.
    NeverAckSyn,
    /// Completes the handshake with its request, then never ACKs anything.
    NeverAck,
    /// Completes the handshake with its request and a zero window, and answers every probe
    /// with a zero window, forever.
    ZeroWindow,
    /// Completes the handshake with a one-byte window and reads one byte per segment.
    OneByte,
}

impl SlowPeer {
    /// A lower-case name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NeverAckSyn => "never-ACK (after its SYN)",
            Self::NeverAck => "never-ACK (after its request)",
            Self::ZeroWindow => "zero window forever",
            Self::OneByte => "slow reader (one byte at a time)",
        }
    }
}

/// What a slow peer did to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowReport {
    /// The peer.
    pub peer: SlowPeer,
    /// When the server no longer held anything for the peer (µs), if within the horizon.
    pub released_at_us: Option<u64>,
    /// Why the server's connection ended, if it did.
    pub close_reason: Option<CloseReason>,
    /// How long the run went on, µs.
    pub horizon_us: u64,
    /// Response bytes the peer accepted.
    pub delivered: u64,
    /// Segments the server sent the peer.
    pub server_segments: u64,
    /// Segments the peer answered.
    pub answered: u64,
}

/// What the crafted peer saw.
#[derive(Debug, Default)]
struct PeerLog {
    delivered: u64,
    segments: u64,
    answered: u64,
}

/// The crafted peer.
struct Peer {
    kind: SlowPeer,
    me: SocketAddr,
    server: SocketAddr,
    rcv_nxt: Option<u32>,
    log: Rc<RefCell<PeerLog>>,
}

impl Peer {
    fn ack(&self, seq: u32, window: u16, payload: &[u8]) -> Vec<u8> {
        let f = if payload.is_empty() {
            TcpFlags::ACK
        } else {
            TcpFlags::ACK | TcpFlags::PSH
        };
        let ack = self.rcv_nxt.unwrap_or(0);
        segment(
            self.me,
            self.server,
            f,
            (seq, ack),
            window,
            TcpOptions::NONE,
            payload,
        )
    }
}

impl Outside for Peer {
    fn receive(&mut self, _now: u64, src: IpAddr, seg: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut log = self.log.borrow_mut();
        log.segments += 1;
        let Ok(r) = TcpRepr::parse_bytes(seg, &src, &self.me.ip(), ChecksumCheck::Verify) else {
            return Vec::new();
        };
        let seq_after_request = PEER_ISS + 1 + REQUEST.len() as u32;
        if r.flags.contains(TcpFlags::RST) {
            return Vec::new();
        }
        if r.flags.contains(TcpFlags::SYN) {
            self.rcv_nxt = Some(r.seq_number.0.wrapping_add(1));
            let window = match self.kind {
                SlowPeer::NeverAckSyn => return Vec::new(),
                SlowPeer::NeverAck => 65_535,
                SlowPeer::ZeroWindow => 0,
                SlowPeer::OneByte => 1,
            };
            log.answered += 1;
            drop(log);
            return vec![(RTT_US, self.ack(PEER_ISS + 1, window, REQUEST))];
        }
        let Some(rcv_nxt) = self.rcv_nxt else {
            return Vec::new();
        };
        let window = match self.kind {
            SlowPeer::NeverAckSyn | SlowPeer::NeverAck => return Vec::new(),
            SlowPeer::ZeroWindow => 0,
            SlowPeer::OneByte => {
                // Take the first byte if it is the next one, read it at once, offer one more.
                if r.seq_number.0 == rcv_nxt && !r.payload.is_empty() {
                    self.rcv_nxt = Some(rcv_nxt.wrapping_add(1));
                    log.delivered += 1;
                } else if r.seq_number.0 == rcv_nxt && r.flags.contains(TcpFlags::FIN) {
                    self.rcv_nxt = Some(rcv_nxt.wrapping_add(1));
                }
                1
            }
        };
        log.answered += 1;
        drop(log);
        vec![(RTT_US, self.ack(seq_after_request, window, &[]))]
    }
}

/// The server's application: accept, read the request, send the response, close.
#[derive(Debug, Default)]
struct Server {
    listener: Option<tcp_engine::engine::ListenerHandle>,
    conn: Option<ConnHandle>,
    response_left: usize,
    closed: bool,
    opened: bool,
    released_at: Option<u64>,
    reason: Option<CloseReason>,
}

impl Server {
    fn run(&mut self, now: u64, e: &mut Engine<'static>) {
        while let Some((_, ev)) = e.poll_event() {
            if let Event::Closed(r) = ev {
                self.reason = Some(r);
            }
        }
        if let Some(l) = self.listener {
            if let Ok(h) = e.accept(l) {
                self.conn = Some(h);
            }
        }
        if let (Some(h), false) = (self.conn, self.closed) {
            let mut buf = [0u8; 256];
            while e.recv(h, &mut buf).is_ok_and(|n| n > 0) {}
            let chunk = vec![0x42; self.response_left.min(16 * 1024)];
            if let Ok(n) = e.send(h, &chunk) {
                self.response_left -= n;
            }
            if self.response_left == 0 {
                // The response is queued: the application is done with the connection.
                let _ = e.close(h);
                self.closed = true;
            }
        }
        let held = e.connection_count() > 0;
        self.opened |= held;
        if self.opened && !held && self.released_at.is_none() {
            self.released_at = Some(now);
        }
    }
}

/// Runs the server against `peer` for `horizon_us` of simulated time, with a `response`-byte
/// answer and the server settings `config`.
///
/// # Panics
///
/// If the server cannot listen (it can: a fresh engine).
#[must_use]
pub fn slow_peer(
    peer: SlowPeer,
    config: EngineConfig,
    response: usize,
    horizon_us: u64,
) -> SlowReport {
    let mut lab = Lab::new(1, LinkConfig::default());
    let limits = Limits {
        connections: 4,
        ..Limits::default()
    };
    let server = lab.add_host(config, &limits);
    let server_addr = SocketAddr::new(lab.addr(server), PORT);
    let me = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), 40_000);
    let log = Rc::new(RefCell::new(PeerLog::default()));
    lab.add_outside(
        me.ip(),
        Box::new(Peer {
            kind: peer,
            me,
            server: server_addr,
            rcv_nxt: None,
            log: Rc::clone(&log),
        }),
    );
    #[allow(clippy::expect_used)]
    let mut app = Server {
        listener: Some(
            lab.engine_mut(server)
                .listen(server_addr, 8)
                .expect("fresh"),
        ),
        response_left: response,
        ..Server::default()
    };
    let syn_opts = TcpOptions {
        mss: Some(1460),
        ..TcpOptions::NONE
    };
    let syn = segment(
        me,
        server_addr,
        TcpFlags::SYN,
        (PEER_ISS, 0),
        65_535,
        syn_opts,
        &[],
    );
    let _ = lab.inject(server, me.ip(), &syn);
    let mut step = |now: u64, _: usize, e: &mut Engine<'static>| app.run(now, e);
    // Until released or the horizon, a simulated minute at a time.
    let mut t = 0;
    while t < horizon_us {
        t = (t + 60_000_000).min(horizon_us);
        lab.run_until(t, &mut step);
        if lab.engine(server).connection_count() == 0 && lab.engine(server).poll_timeout().is_none()
        {
            break;
        }
    }
    let log = log.borrow();
    SlowReport {
        peer,
        released_at_us: app.released_at,
        close_reason: app.reason,
        horizon_us,
        delivered: log.delivered,
        server_segments: log.segments,
        answered: log.answered,
    }
}
