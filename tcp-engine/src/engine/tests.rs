//! Two engines back to back: whole conversations, every opening and closing path
//!
//! Segments travel in rounds: everything both sides want to send is collected first, then
//! delivered, so segments can cross (simultaneous open and close). Time jumps to the next
//! deadline when both sides are quiet. Test names carry the RFC 9293 requirement IDs they
//! cover.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::conn::{CloseReason, Event, RecvError, SendError, State};
use crate::wire::{ChecksumCheck, TcpFlags, TcpRepr};

pub(super) const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
pub(super) const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
pub(super) const PORT: u16 = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    A,
    B,
}

/// A segment on the wire, as parsed
#[derive(Debug, Clone)]
pub(super) struct Seg {
    pub(super) from: Side,
    pub(super) at: Instant,
    pub(super) flags: TcpFlags,
    pub(super) seq: u32,
    pub(super) ack: u32,
    pub(super) len: usize,
    pub(super) bytes: Vec<u8>,
}

pub(super) type Filter = Box<dyn FnMut(&Seg) -> bool>;

pub(super) struct Pair {
    pub(super) a: Engine<'static>,
    pub(super) b: Engine<'static>,
    pub(super) now: Instant,
    pub(super) wire: Vec<Seg>,
    pub(super) events_a: Vec<(Instant, ConnHandle, Event)>,
    pub(super) events_b: Vec<(Instant, ConnHandle, Event)>,
    /// Returns true to drop a segment
    pub(super) drop: Filter,
}

pub(super) fn config() -> EngineConfig {
    EngineConfig {
        rx_buffer: 8192,
        tx_buffer: 8192,
        ..EngineConfig::default()
    }
}

fn engine_with(cfg: EngineConfig) -> Engine<'static> {
    let limits = Limits {
        connections: 8,
        time_wait: 8,
        listeners: 2,
        events: 4096,
        replies: 16,
    };
    Engine::new(
        cfg,
        EngineStorage::owned(&limits, cfg.rx_buffer, cfg.tx_buffer),
    )
    .unwrap()
}

impl Pair {
    pub(super) fn new() -> Self {
        Self::with(config(), config())
    }

    pub(super) fn with(ca: EngineConfig, cb: EngineConfig) -> Self {
        Self {
            a: engine_with(ca),
            b: engine_with(EngineConfig {
                secret: [9; 16],
                ..cb
            }),
            now: Instant::ZERO,
            wire: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            drop: Box::new(|_| false),
        }
    }

    pub(super) fn drain_events(&mut self) {
        while let Some((h, e)) = self.a.poll_event() {
            self.events_a.push((self.now, h, e));
        }
        while let Some((h, e)) = self.b.poll_event() {
            self.events_b.push((self.now, h, e));
        }
    }

    /// Move segments in rounds until both sides are quiet
    pub(super) fn pump(&mut self) {
        for _ in 0..10_000 {
            self.drain_events();
            let mut round = Vec::new();
            for side in [Side::A, Side::B] {
                let eng = if side == Side::A {
                    &mut self.a
                } else {
                    &mut self.b
                };
                let mut buf = [0u8; 1600];
                while let Some(t) = eng.poll_transmit(self.now, &mut buf) {
                    let bytes = buf[..t.len].to_vec();
                    let r = TcpRepr::parse_bytes(&bytes, &t.src, &t.dst, ChecksumCheck::Verify)
                        .unwrap();
                    round.push(Seg {
                        from: side,
                        at: self.now,
                        flags: r.flags,
                        seq: r.seq_number.0,
                        ack: r.ack_number.0,
                        len: r.payload.len(),
                        bytes: bytes.clone(),
                    });
                }
            }
            if round.is_empty() {
                return;
            }
            for seg in round {
                let dropped = (self.drop)(&seg);
                self.wire.push(seg.clone());
                if dropped {
                    continue;
                }
                match seg.from {
                    Side::A => self.b.handle_segment(self.now, A, B, &seg.bytes),
                    Side::B => self.a.handle_segment(self.now, B, A, &seg.bytes),
                };
            }
        }
        panic!("no quiet point after 10000 rounds");
    }

    /// Pump, then jump to deadlines until `until` or nothing is left to do
    pub(super) fn run_until(&mut self, until: Instant) {
        loop {
            self.pump();
            let next = match (self.a.poll_timeout(), self.b.poll_timeout()) {
                (Some(x), Some(y)) => x.min(y),
                (x, y) => match x.or(y) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
        }
        self.now = self.now.max(until);
        self.drain_events();
    }

    /// Run until nothing is left to do (at most a day of virtual time)
    pub(super) fn run(&mut self) {
        let until = self.now + Duration::from_secs(86_400);
        loop {
            self.pump();
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.drain_events();
    }

    pub(super) fn states(events: &[(Instant, ConnHandle, Event)], h: ConnHandle) -> Vec<State> {
        let mut out = Vec::new();
        for (_, hh, e) in events {
            if let Event::StateChanged { from, to } = e {
                if *hh == h {
                    if out.is_empty() {
                        out.push(*from);
                    }
                    out.push(*to);
                }
            }
        }
        out
    }

    pub(super) fn closed_reason(
        events: &[(Instant, ConnHandle, Event)],
        h: ConnHandle,
    ) -> Option<CloseReason> {
        events.iter().find_map(|(_, hh, e)| match e {
            Event::Closed(r) if *hh == h => Some(*r),
            _ => None,
        })
    }

    pub(super) fn when(
        events: &[(Instant, ConnHandle, Event)],
        h: ConnHandle,
        to_state: State,
    ) -> Option<Instant> {
        events.iter().find_map(|(t, hh, e)| match e {
            Event::StateChanged { to, .. } if *hh == h && *to == to_state => Some(*t),
            _ => None,
        })
    }

    /// B listens, A connects; returns (A's handle, B's listener)
    pub(super) fn open(&mut self) -> (ConnHandle, ListenerHandle) {
        let l = self.b.listen(SocketAddr::new(B, PORT), 8).unwrap();
        let a = self
            .a
            .connect(self.now, A, SocketAddr::new(B, PORT))
            .unwrap();
        (a, l)
    }

    /// Open and complete the handshake; returns both handles
    pub(super) fn established(&mut self) -> (ConnHandle, ConnHandle) {
        let (a, l) = self.open();
        self.pump();
        let b = self.b.accept(l).unwrap();
        assert_eq!(self.a.state(a), Ok(State::Established));
        assert_eq!(self.b.state(b), Ok(State::Established));
        (a, b)
    }

    pub(super) fn read_all(eng: &mut Engine<'_>, h: ConnHandle) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match eng.recv(h, &mut buf) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => return (out, false),
            }
        }
    }
}

use std::boxed::Box;

#[test]
fn rfc9293_shld_1_three_way_handshake_with_isns() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    assert_eq!(
        Pair::states(&p.events_a, a),
        [State::Closed, State::SynSent, State::Established]
    );
    assert_eq!(
        Pair::states(&p.events_b, b),
        [State::Listen, State::SynReceived, State::Established]
    );
    let flags: Vec<TcpFlags> = p.wire.iter().map(|s| s.flags).collect();
    assert_eq!(
        flags,
        [TcpFlags::SYN, TcpFlags::SYN | TcpFlags::ACK, TcpFlags::ACK]
    );
    // The SYN-ACK acknowledges ISN+1 and the final ACK acknowledges the other ISN+1.
    assert_eq!(p.wire[1].ack, p.wire[0].seq.wrapping_add(1));
    assert_eq!(p.wire[2].ack, p.wire[1].seq.wrapping_add(1));
    assert_ne!(p.wire[0].seq, p.wire[1].seq);
}

/// Covers: MUST-14, SHLD-5, MAY-3
#[test]
fn rfc9293_must_65_mss_only_on_syn_and_honoured() {
    let mut cb = config();
    cb.conn.mss = 500;
    let mut p = Pair::with(config(), cb);
    let (a, b) = p.established();
    assert_eq!(p.a.conn_stats(a).unwrap().send_mss, 500);
    p.a.send(a, &[7u8; 3000]).unwrap();
    p.run();
    assert!(p
        .wire
        .iter()
        .filter(|s| s.from == Side::A)
        .all(|s| s.len <= 500));
    let (got, _) = Pair::read_all(&mut p.b, b);
    assert_eq!(got.len(), 3000);
    for s in &p.wire {
        let r = TcpRepr::parse_bytes(&s.bytes, &A, &B, ChecksumCheck::Skip).unwrap();
        assert_eq!(r.options.mss.is_some(), s.flags.contains(TcpFlags::SYN));
    }
}

/// Covers: MUST-2
#[test]
fn data_flows_both_ways_intact() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    let data_a: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let data_b: Vec<u8> = (0..30_000u32).map(|i| (i * 13 % 241) as u8).collect();
    let (mut sa, mut sb) = (0, 0);
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    for _ in 0..1000 {
        sa += p.a.send(a, &data_a[sa..]).unwrap();
        sb += p.b.send(b, &data_b[sb..]).unwrap();
        p.run_until(p.now + Duration::from_millis(50));
        got_b.extend(Pair::read_all(&mut p.b, b).0);
        got_a.extend(Pair::read_all(&mut p.a, a).0);
        if got_a.len() == data_b.len() && got_b.len() == data_a.len() {
            break;
        }
    }
    assert_eq!(got_b, data_a);
    assert_eq!(got_a, data_b);
    assert_eq!(p.a.conn_stats(a).unwrap().retransmissions, 0);
}

#[test]
fn rfc9293_must_13_four_way_teardown_and_time_wait_lasts_2msl() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    p.a.close(a).unwrap();
    p.pump();
    assert_eq!(p.b.state(b), Ok(State::CloseWait));
    assert_eq!(Pair::read_all(&mut p.b, b), (vec![], true)); // end of stream: recv gives 0
    p.b.close(b).unwrap();
    p.run();
    assert_eq!(
        Pair::states(&p.events_a, a),
        [
            State::Closed,
            State::SynSent,
            State::Established,
            State::FinWait1,
            State::FinWait2,
            State::TimeWait,
            State::Closed
        ]
    );
    assert_eq!(
        Pair::states(&p.events_b, b),
        [
            State::Listen,
            State::SynReceived,
            State::Established,
            State::CloseWait,
            State::LastAck,
            State::Closed
        ]
    );
    let tw = Pair::when(&p.events_a, a, State::TimeWait).unwrap();
    let closed = Pair::when(&p.events_a, a, State::Closed).unwrap();
    assert_eq!(closed - tw, Duration::from_secs(60)); // 2 x MSL of 30 s
    assert_eq!(
        Pair::closed_reason(&p.events_a, a),
        Some(CloseReason::Normal)
    );
    assert_eq!((p.a.connection_count(), p.a.time_wait_count()), (0, 0));
    assert_eq!(p.b.connection_count(), 0);
    assert_eq!(p.a.state(a), Err(HandleError::InvalidHandle));
}

#[test]
fn fin_wait_1_goes_straight_to_time_wait_on_fin_ack() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    p.a.close(a).unwrap();
    // Deliver A's FIN, then let B close before it answers: one FIN+ACK segment comes back.
    let mut buf = [0u8; 1600];
    let t = p.a.poll_transmit(p.now, &mut buf).unwrap();
    p.b.handle_segment(p.now, A, B, &buf[..t.len]);
    p.b.close(b).unwrap();
    let t = p.b.poll_transmit(p.now, &mut buf).unwrap();
    let r = TcpRepr::parse_bytes(&buf[..t.len], &B, &A, ChecksumCheck::Verify).unwrap();
    assert_eq!(r.flags, TcpFlags::FIN | TcpFlags::ACK);
    p.a.handle_segment(p.now, B, A, &buf[..t.len]);
    p.run();
    let sa = Pair::states(&p.events_a, a);
    assert_eq!(&sa[3..], [State::FinWait1, State::TimeWait, State::Closed]);
}

#[test]
fn simultaneous_close_passes_through_closing_on_both_sides() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    p.a.close(a).unwrap();
    p.b.close(b).unwrap();
    p.run();
    for (ev, h) in [(&p.events_a, a), (&p.events_b, b)] {
        let s = Pair::states(ev, h);
        assert_eq!(
            &s[3..],
            [
                State::FinWait1,
                State::Closing,
                State::TimeWait,
                State::Closed
            ]
        );
    }
}

/// Covers: MUST-10, MUST-43
#[test]
fn simultaneous_open_goes_through_syn_received() {
    let mut p = Pair::new();
    let a =
        p.a.connect_from(p.now, SocketAddr::new(A, 5000), SocketAddr::new(B, 6000))
            .unwrap();
    let b =
        p.b.connect_from(p.now, SocketAddr::new(B, 6000), SocketAddr::new(A, 5000))
            .unwrap();
    p.pump();
    for (ev, h) in [(&p.events_a, a), (&p.events_b, b)] {
        assert_eq!(
            Pair::states(ev, h),
            [
                State::Closed,
                State::SynSent,
                State::SynReceived,
                State::Established
            ]
        );
    }
    p.a.send(a, b"hello").unwrap();
    p.run_until(p.now + Duration::from_secs(1));
    assert_eq!(Pair::read_all(&mut p.b, b).0, b"hello");
}

/// Covers: MUST-12
#[test]
fn abort_sends_rst_and_skips_time_wait() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    p.a.abort(a).unwrap();
    p.run();
    assert_eq!(p.wire.last().unwrap().flags & TcpFlags::RST, TcpFlags::RST);
    assert_eq!(
        Pair::closed_reason(&p.events_a, a),
        Some(CloseReason::Aborted)
    );
    assert_eq!(
        Pair::closed_reason(&p.events_b, b),
        Some(CloseReason::Reset)
    );
    assert_eq!((p.a.connection_count(), p.a.time_wait_count()), (0, 0));
    assert_eq!(
        p.b.recv(b, &mut [0; 8]),
        Err(RecvError::Closed(CloseReason::Reset))
    );
}

#[test]
fn connect_to_closed_port_is_refused_by_rst() {
    let mut p = Pair::new();
    let a = p.a.connect(p.now, A, SocketAddr::new(B, 81)).unwrap();
    p.run();
    assert_eq!(
        Pair::closed_reason(&p.events_a, a),
        Some(CloseReason::Refused)
    );
    let rst = &p.wire[1];
    assert_eq!(rst.flags, TcpFlags::RST | TcpFlags::ACK);
    assert_eq!(rst.ack, p.wire[0].seq.wrapping_add(1));
    assert_eq!(p.b.stats().resets_sent, 1);
}

#[test]
fn lost_syn_is_retransmitted_after_initial_rto() {
    let mut p = Pair::new();
    let mut first = true;
    p.drop = Box::new(move |s| {
        let hit = first && s.flags == TcpFlags::SYN;
        first &= !hit;
        hit
    });
    let (a, _) = p.open();
    p.run_until(Instant::from_secs(5));
    let syns: Vec<Instant> = p
        .wire
        .iter()
        .filter(|s| s.flags == TcpFlags::SYN)
        .map(|s| s.at)
        .collect();
    assert_eq!(syns, [Instant::ZERO, Instant::from_secs(1)]);
    assert_eq!(p.a.state(a), Ok(State::Established));
}

#[test]
fn lost_syn_ack_is_recovered() {
    let mut p = Pair::new();
    let mut first = true;
    p.drop = Box::new(move |s| {
        let hit = first && s.flags == TcpFlags::SYN | TcpFlags::ACK;
        first &= !hit;
        hit
    });
    let (a, l) = p.open();
    p.run_until(Instant::from_secs(5));
    assert_eq!(p.a.state(a), Ok(State::Established));
    let b = p.b.accept(l).unwrap();
    assert_eq!(p.b.state(b), Ok(State::Established));
}

#[test]
fn lost_final_ack_time_wait_re_acks_the_retransmitted_fin() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    p.a.close(a).unwrap();
    p.pump();
    p.b.close(b).unwrap();
    let mut first = true;
    p.drop = Box::new(move |s| {
        let hit = first && s.from == Side::A && s.flags == TcpFlags::ACK;
        first &= !hit;
        hit
    });
    p.run();
    let fins_b: Vec<Instant> = p
        .wire
        .iter()
        .filter(|s| s.from == Side::B && s.flags.contains(TcpFlags::FIN))
        .map(|s| s.at)
        .collect();
    assert_eq!(fins_b.len(), 2, "B retransmits its FIN");
    let acks_a = p
        .wire
        .iter()
        .filter(|s| s.from == Side::A && s.flags == TcpFlags::ACK && s.at == fins_b[1])
        .count();
    assert_eq!(acks_a, 1, "TIME-WAIT re-ACKs the FIN");
    assert_eq!(
        Pair::closed_reason(&p.events_b, b),
        Some(CloseReason::Normal)
    );
    // The 2·MSL timer restarted at the retransmitted FIN.
    let closed = Pair::when(&p.events_a, a, State::Closed).unwrap();
    assert_eq!(closed - fins_b[1], Duration::from_secs(60));
}

#[test]
fn half_close_keeps_receiving() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    p.a.shutdown(a).unwrap();
    p.pump();
    assert_eq!(p.a.state(a), Ok(State::FinWait2));
    assert_eq!(
        p.a.send(a, b"x"),
        Err(SendError::InvalidState(State::FinWait2))
    );
    let data = [42u8; 20_000];
    let mut sent = 0;
    let mut got = Vec::new();
    while got.len() < data.len() {
        sent += p.b.send(b, &data[sent..]).unwrap();
        p.run_until(p.now + Duration::from_millis(100));
        got.extend(Pair::read_all(&mut p.a, a).0);
    }
    p.b.close(b).unwrap();
    p.run_until(p.now + Duration::from_secs(1));
    assert_eq!(got.len(), data.len());
    assert_eq!(Pair::read_all(&mut p.a, a), (vec![], true));
    assert_eq!(p.a.state(a), Ok(State::TimeWait));
    p.a.close(a).unwrap(); // released: becomes a compact TIME-WAIT entry
    assert_eq!((p.a.connection_count(), p.a.time_wait_count()), (0, 1));
}

/// Covers: MUST-22
#[test]
fn rfc9293_must_23_syn_retries_give_up_after_three_minutes() {
    let mut p = Pair::new();
    p.drop = Box::new(|s| s.from == Side::A);
    let (a, _) = p.open();
    p.run();
    let syns = p.wire.iter().filter(|s| s.flags == TcpFlags::SYN).count();
    assert_eq!(syns, 8); // the first and 7 retransmissions
    let gave_up = Pair::when(&p.events_a, a, State::Closed).unwrap();
    assert!(gave_up >= Instant::from_secs(180), "gave up at {gave_up}");
    assert_eq!(
        Pair::closed_reason(&p.events_a, a),
        Some(CloseReason::TimedOut)
    );
}

#[test]
fn fin_wait_2_timeout_frees_an_orphaned_connection() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    p.a.close(a).unwrap();
    p.run_until(Instant::from_secs(120));
    assert_eq!(p.b.state(b), Ok(State::CloseWait));
    let fw2 = Pair::when(&p.events_a, a, State::FinWait2).unwrap();
    let closed = Pair::when(&p.events_a, a, State::Closed).unwrap();
    assert_eq!(closed - fw2, Duration::from_secs(60));
    assert_eq!(p.a.connection_count(), 0);
}

/// Covers: MUST-35, MUST-37, MAY-8
#[test]
fn rfc9293_must_36_zero_window_is_probed_then_reopens() {
    let mut p = Pair::new();
    let (a, b) = p.established();
    let data = vec![1u8; 40_000];
    let mut sent = 0;
    while p.now < Instant::from_secs(10) {
        sent += p.a.send(a, &data[sent..]).unwrap();
        p.run_until(p.now + Duration::from_millis(500));
    }
    assert_eq!(p.a.conn_stats(a).unwrap().send_window, 0);
    let probes = p
        .wire
        .iter()
        .filter(|s| s.from == Side::A && s.len == 0 && s.at > Instant::from_secs(1))
        .count();
    assert!(probes >= 2, "zero-window probes sent: {probes}");
    assert_eq!(p.a.state(a), Ok(State::Established)); // MUST-37: answered probes keep it open
    let mut got = Vec::new();
    while got.len() < data.len() {
        got.extend(Pair::read_all(&mut p.b, b).0);
        sent += p.a.send(a, &data[sent..]).unwrap();
        p.run_until(p.now + Duration::from_secs(2));
    }
    assert_eq!(got, data);
}

/// Covers: MUST-27, MUST-29, SHLD-12, MAY-5
#[test]
fn rfc9293_must_24_keep_alive_ends_a_dead_peer() {
    let mut ca = config();
    ca.conn.keep_alive = Some(crate::conn::KeepAlive {
        idle: Duration::from_secs(10),
        interval: Duration::from_secs(2),
        probes: 3,
    });
    let mut p = Pair::with(ca, config());
    let (a, _) = p.established();
    p.drop = Box::new(|s| s.from == Side::B);
    p.run_until(Instant::from_secs(100));
    assert_eq!(
        Pair::closed_reason(&p.events_a, a),
        Some(CloseReason::TimedOut)
    );
    let probes = p
        .wire
        .iter()
        .filter(|s| s.from == Side::A && s.len == 0 && s.at >= Instant::from_secs(10))
        .count();
    assert_eq!(probes, 3);
}

#[test]
fn rfc9293_must_25_keep_alive_is_off_by_default() {
    let mut p = Pair::new();
    let (a, _) = p.established();
    let n = p.wire.len();
    assert_eq!(p.a.poll_timeout(), None);
    p.run_until(Instant::from_secs(3 * 3600));
    assert_eq!(p.wire.len(), n);
    assert_eq!(p.a.state(a), Ok(State::Established));
}

#[test]
fn stale_handles_are_errors_not_other_connections() {
    let mut p = Pair::new();
    let (a, _) = p.established();
    p.a.abort(a).unwrap();
    p.run();
    let a2 = p.a.connect(p.now, A, SocketAddr::new(B, PORT)).unwrap();
    assert_eq!(a2.slot(), a.slot());
    assert_eq!(p.a.state(a), Err(HandleError::InvalidHandle));
    assert_eq!(p.a.send(a, b"x"), Err(SendError::InvalidHandle));
    assert!(p.a.state(a2).is_ok());
}
