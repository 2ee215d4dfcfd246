//! The `engine` fuzz target: structure-aware sequences of inputs against an engine holding a
//! listener and an established connection, with the legality invariants checked inside
//!
//! The fuzzer's bytes are read as a list of operations: raw segments, segments built from
//! fuzzed fields on the established connection or toward the listener, time advances and
//! application calls. After every operation: every state change reported is an edge of the
//! transition table; `poll_timeout` is never in the past after `handle_timeout`; an input
//! produces a bounded number of segments; no segment acknowledges data the peer never sent;
//! nothing but a retransmission follows a FIN.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use tcp_engine::conn::{is_legal, Event};
use tcp_engine::engine::{ConnHandle, Engine, EngineConfig, EngineStorage, Limits};
use tcp_engine::seq::SeqNumber;
use tcp_engine::time::Instant;
use tcp_engine::wire::{ChecksumCheck, TcpFlags, TcpOptions, TcpRepr};

const US: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const PEER_PORT: u16 = 1000;

struct Input<'d>(&'d [u8]);

impl Input<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> u16 {
        u16::from(self.u8().unwrap_or(0)) << 8 | u16::from(self.u8().unwrap_or(0))
    }
    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) << 16 | u32::from(self.u16())
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

struct Harness {
    e: Engine<'static>,
    now: Instant,
    conn: ConnHandle,
    /// The peer's next sequence number on the established connection
    peer_nxt: u32,
    /// Highest sequence number the fuzzer's peer has sent on it, plus one
    peer_max: u32,
    /// Our FIN on the established connection, once seen: its sequence number
    our_fin: Option<u32>,
}

fn segment(flags: TcpFlags, sport: u16, seq: u32, ack: u32, win: u16, payload: &[u8]) -> Vec<u8> {
    let r = TcpRepr {
        src_port: sport,
        dst_port: 80,
        flags,
        seq_number: SeqNumber(seq),
        ack_number: SeqNumber(ack),
        window_len: win,
        urgent_pointer: 0,
        options: TcpOptions::NONE,
        payload,
    };
    let mut buf = vec![0u8; r.buffer_len()];
    let _ = r.emit(&mut buf, &PEER, &US);
    buf
}

impl Harness {
    fn new() -> Self {
        let cfg = EngineConfig {
            rx_buffer: 2048,
            tx_buffer: 2048,
            syn_backlog: 4,
            ..EngineConfig::default()
        };
        let limits = Limits {
            connections: 8,
            time_wait: 4,
            listeners: 2,
            events: 256,
            replies: 8,
        };
        let mut e =
            Engine::new(cfg, EngineStorage::owned(&limits, 2048, 2048)).expect("storage fits");
        let l = e.listen(SocketAddr::new(US, 80), 4).expect("listen");
        let now = Instant::ZERO;
        e.handle_segment(
            now,
            PEER,
            US,
            &segment(TcpFlags::SYN, PEER_PORT, 7000, 0, 8192, &[]),
        );
        let mut buf = [0u8; 1600];
        let t = e.poll_transmit(now, &mut buf).expect("SYN-ACK");
        let synack =
            TcpRepr::parse_bytes(&buf[..t.len], &US, &PEER, ChecksumCheck::Verify).expect("valid");
        let ours = synack.seq_number.0.wrapping_add(1);
        e.handle_segment(
            now,
            PEER,
            US,
            &segment(TcpFlags::ACK, PEER_PORT, 7001, ours, 8192, &[]),
        );
        let conn = e.accept(l).expect("established");
        let mut h = Self {
            e,
            now,
            conn,
            peer_nxt: 7001,
            peer_max: 7001,
            our_fin: None,
        };
        h.drain();
        h
    }

    /// Take every output, checking the invariants
    fn drain(&mut self) {
        let mut buf = [0u8; 1600];
        let mut n = 0;
        while let Some(t) = self.e.poll_transmit(self.now, &mut buf) {
            n += 1;
            assert!(n <= 1000, "unbounded output for one input");
            let Ok(r) = TcpRepr::parse_bytes(&buf[..t.len], &t.src, &t.dst, ChecksumCheck::Verify)
            else {
                panic!("the engine emitted a segment that does not parse");
            };
            // Only the tracked connection: once it is gone, a new incarnation may reuse the tuple.
            let tracked = self.e.state(self.conn).is_ok() && !r.flags.contains(TcpFlags::SYN);
            if r.dst_port != PEER_PORT || t.dst != PEER || !tracked {
                continue;
            }
            if r.flags.contains(TcpFlags::ACK) && !r.flags.contains(TcpFlags::RST) {
                let ahead = r.ack_number.0.wrapping_sub(self.peer_max) as i32;
                assert!(
                    ahead <= 1,
                    "ACK {} beyond what the peer sent ({})",
                    r.ack_number,
                    self.peer_max
                );
            }
            if let Some(fin) = self.our_fin {
                let end = r.seq_number.0.wrapping_add(r.segment_len() as u32);
                assert!(
                    end.wrapping_sub(fin.wrapping_add(1)) as i32 <= 0,
                    "data after our FIN: {} seq {} len {} fin {fin} state {:?}",
                    r.flags.letters(),
                    r.seq_number,
                    r.payload.len(),
                    self.e.state(self.conn)
                );
            }
            if r.flags.contains(TcpFlags::FIN) && self.our_fin.is_none() {
                self.our_fin = Some(r.seq_number.0.wrapping_add(r.payload.len() as u32));
            }
        }
        while let Some((_, ev)) = self.e.poll_event() {
            if let Event::StateChanged { from, to } = ev {
                assert!(is_legal(from, to), "illegal transition {from} -> {to}");
            }
        }
    }

    fn peer_sends(&mut self, flags: TcpFlags, seq: u32, ack: u32, win: u16, payload: &[u8]) {
        let end = seq
            .wrapping_add(payload.len() as u32)
            .wrapping_add(u32::from(flags.intersects(TcpFlags::SYN | TcpFlags::FIN)));
        if end.wrapping_sub(self.peer_max) as i32 > 0 && end.wrapping_sub(self.peer_max) < 1 << 30 {
            self.peer_max = end;
        }
        let seg = segment(flags, PEER_PORT, seq, ack, win, payload);
        let _ = self.e.handle_segment(self.now, PEER, US, &seg);
    }
}

/// Fuzz target body: see the module docs
pub fn engine(data: &[u8]) {
    let mut h = Harness::new();
    let mut input = Input(data);
    let mut ops = 0;
    while let Some(op) = input.u8() {
        ops += 1;
        if ops > 200 {
            break;
        }
        match op % 9 {
            0 => {
                let len = usize::from(input.u8().unwrap_or(0));
                let raw = input.take(len).to_vec();
                let _ = h.e.handle_segment(h.now, PEER, US, &raw);
            }
            1 | 2 => {
                // A segment on the established connection near the right sequence numbers.
                let flags = TcpFlags::from_bits_retain(input.u8().unwrap_or(0x10));
                let seq = h
                    .peer_nxt
                    .wrapping_add(u32::from(input.u16()))
                    .wrapping_sub(1000);
                let ack = input.u32();
                let win = input.u16();
                let len = usize::from(input.u8().unwrap_or(0) % 64);
                let payload = vec![b'p'; len];
                h.peer_sends(flags, seq, ack, win, &payload);
                if seq == h.peer_nxt && !flags.contains(TcpFlags::RST) {
                    h.peer_nxt = h.peer_nxt.wrapping_add(len as u32);
                }
            }
            3 => {
                let flags = TcpFlags::from_bits_retain(input.u8().unwrap_or(2));
                let port = 2000 + u16::from(input.u8().unwrap_or(0) % 8);
                let seg = segment(flags, port, input.u32(), input.u32(), 1000, &[]);
                let _ = h.e.handle_segment(h.now, PEER, US, &seg);
            }
            4 => {
                h.now += core::time::Duration::from_millis(u64::from(input.u16()));
                h.e.handle_timeout(h.now);
                if let Some(t) = h.e.poll_timeout() {
                    assert!(t > h.now, "poll_timeout {t} not after now {}", h.now);
                }
            }
            5 => {
                let len = usize::from(input.u8().unwrap_or(0)) * 8;
                let _ = h.e.send(h.conn, &vec![b's'; len]);
            }
            6 => {
                let mut buf = [0u8; 512];
                let _ = h.e.recv(h.conn, &mut buf);
            }
            7 => match input.u8().unwrap_or(0) % 3 {
                0 => {
                    let _ = h.e.shutdown(h.conn);
                }
                1 => {
                    let _ = h.e.close(h.conn);
                }
                _ => {
                    let _ = h.e.abort(h.conn);
                }
            },
            _ => {
                let _ = h.e.connect(h.now, US, SocketAddr::new(PEER, 3000));
            }
        }
        h.drain();
    }
}
