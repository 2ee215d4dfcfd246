//! What each kind of arriving segment does in every state (RFC 9293 §3.10.7), table-driven
//!
//! Each row builds a connection in one state by feeding it a scripted peer's segments, then
//! delivers one segment and checks the resulting state, the reply the connection sends and
//! the outcome it reports. Row comments and test names carry the requirement IDs.

use core::net::{IpAddr, Ipv4Addr};
use std::format;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::wire::{ChecksumCheck, TcpFlags, TcpRepr};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const REMOTE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
pub(super) const ISS: SeqNumber = SeqNumber(1000);
pub(super) const PEER_ISS: SeqNumber = SeqNumber(5000);

/// A connection under test with its buffers and a scripted peer
pub(super) struct T {
    pub(super) conn: Connection,
    pub(super) rx: Vec<u8>,
    pub(super) tx: Vec<u8>,
    pub(super) cfg: ConnConfig,
    pub(super) now: Instant,
    pub(super) events: Vec<Event>,
    /// The peer's next sequence number
    pub(super) peer_nxt: SeqNumber,
}

/// What the connection sent back
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    Nothing,
    Ack,
    Rst,
    SynAck,
    Fin,
}

fn tuple() -> FourTuple {
    FourTuple {
        local_addr: LOCAL,
        remote_addr: REMOTE,
        local_port: 40000,
        remote_port: 80,
    }
}

impl T {
    fn cfg() -> ConnConfig {
        ConnConfig {
            timestamps: false,
            delayed_ack: None,
            ..ConnConfig::default()
        }
    }

    fn active() -> Self {
        let cfg = Self::cfg();
        let mut events = Vec::new();
        let conn = Connection::connect(Instant::ZERO, tuple(), ISS, 4096, &cfg, &mut |e| {
            events.push(e)
        });
        Self {
            conn,
            rx: vec![0; 4096],
            tx: vec![0; 4096],
            cfg,
            now: Instant::ZERO,
            events,
            peer_nxt: PEER_ISS,
        }
    }

    fn passive() -> Self {
        let options = crate::wire::TcpOptions {
            mss: Some(1000),
            ..crate::wire::TcpOptions::NONE
        };
        Self::passive_with(Self::cfg(), options)
    }

    /// SYN-RECEIVED through a passive open with `cfg`, the peer's SYN carrying `options`
    pub(super) fn passive_with(cfg: ConnConfig, options: crate::wire::TcpOptions) -> Self {
        let mut events = Vec::new();
        let syn = TcpRepr {
            src_port: 80,
            dst_port: 40000,
            flags: TcpFlags::SYN,
            seq_number: PEER_ISS,
            ack_number: SeqNumber(0),
            window_len: 8192,
            urgent_pointer: 0,
            options,
            payload: &[],
        };
        let conn =
            Connection::accept_syn(Instant::ZERO, tuple(), ISS, &syn, 4096, &cfg, &mut |e| {
                events.push(e)
            })
            .unwrap();
        let mut t = Self {
            conn,
            rx: vec![0; 4096],
            tx: vec![0; 4096],
            cfg,
            now: Instant::ZERO,
            events,
            peer_nxt: PEER_ISS + 1u32,
        };
        assert_eq!(t.drain(), [Sent::SynAck]);
        t
    }

    pub(super) fn seg<'p>(
        &self,
        flags: TcpFlags,
        seq: SeqNumber,
        ack: SeqNumber,
        payload: &'p [u8],
    ) -> TcpRepr<'p> {
        TcpRepr {
            src_port: 80,
            dst_port: 40000,
            flags,
            seq_number: seq,
            ack_number: ack,
            window_len: 8192,
            urgent_pointer: 0,
            options: crate::wire::TcpOptions::NONE,
            payload,
        }
    }

    pub(super) fn deliver(&mut self, r: &TcpRepr<'_>) -> SegmentOutcome {
        let mut bufs = Buffers {
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        let events = &mut self.events;
        self.conn
            .handle_segment(self.now, r, &mut bufs, &self.cfg, &mut |e| events.push(e))
    }

    /// Like [`T::deliver`], always through the full path of RFC 9293 §3.10.7.4 (never the
    /// header prediction)
    pub(super) fn deliver_full(&mut self, r: &TcpRepr<'_>) -> SegmentOutcome {
        let mut bufs = Buffers {
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        let events = &mut self.events;
        self.conn
            .synchronized(self.now, r, &mut bufs, &self.cfg, &mut |e| events.push(e))
    }

    /// Everything the connection sends now: (flags, seq, payload length, window field)
    pub(super) fn drain_raw(&mut self) -> Vec<(TcpFlags, SeqNumber, usize, u16)> {
        let mut out = Vec::new();
        let mut buf = [0u8; 1600];
        loop {
            let bufs = Buffers {
                rx: &mut self.rx,
                tx: &mut self.tx,
            };
            let events = &mut self.events;
            let Some(n) = self
                .conn
                .poll_transmit(self.now, &bufs, &self.cfg, &mut buf, &mut |e| {
                    events.push(e)
                })
            else {
                break;
            };
            let r =
                TcpRepr::parse_bytes(&buf[..n], &LOCAL, &REMOTE, ChecksumCheck::Verify).unwrap();
            out.push((r.flags, r.seq_number, r.payload.len(), r.window_len));
            assert!(out.len() < 100, "busy loop");
        }
        out
    }

    /// Queue `data` for sending
    pub(super) fn send(&mut self, data: &[u8]) -> usize {
        let mut bufs = Buffers {
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        self.conn.send(&mut bufs, data).unwrap()
    }

    /// Read up to `n` received bytes
    pub(super) fn read(&mut self, n: usize) -> usize {
        let mut out = std::vec![0u8; n];
        let mut bufs = Buffers {
            rx: &mut self.rx,
            tx: &mut self.tx,
        };
        self.conn
            .recv(self.now, &mut bufs, &mut out, &self.cfg)
            .unwrap_or(0)
    }

    /// Everything the connection sends now, classified
    pub(super) fn drain(&mut self) -> Vec<Sent> {
        self.drain_raw()
            .into_iter()
            .map(|(f, ..)| {
                if f.contains(TcpFlags::RST) {
                    Sent::Rst
                } else if f.contains(TcpFlags::SYN) {
                    Sent::SynAck
                } else if f.contains(TcpFlags::FIN) {
                    Sent::Fin
                } else {
                    Sent::Ack
                }
            })
            .collect()
    }

    pub(super) fn snd_nxt(&self) -> SeqNumber {
        self.conn.snd_nxt
    }

    pub(super) fn rcv_nxt(&self) -> SeqNumber {
        self.conn.rcv_nxt
    }

    pub(super) fn close(&mut self) {
        let events = &mut self.events;
        self.conn
            .close(self.now, &self.cfg, &mut |e| events.push(e));
    }

    /// Build a connection in `state`
    pub(super) fn in_state(state: State) -> Self {
        if state == State::SynSent {
            let mut t = Self::active();
            assert_eq!(t.drain(), [Sent::SynAck]); // our SYN (classified with SYN-ACK)
            return t;
        }
        if state == State::SynReceived {
            return Self::passive();
        }
        // ESTABLISHED through a passive open.
        let mut t = Self::passive();
        let ack = t.seg(TcpFlags::ACK, t.peer_nxt, ISS + 1u32, &[]);
        assert_eq!(t.deliver(&ack), SegmentOutcome::Accepted);
        assert_eq!(t.conn.state(), State::Established);
        let fin_in = |t: &mut Self| {
            let fin = t.seg(TcpFlags::FIN | TcpFlags::ACK, t.peer_nxt, t.snd_nxt(), &[]);
            t.deliver(&fin);
            t.peer_nxt += 1u32;
            t.drain();
        };
        match state {
            State::Established => {}
            State::FinWait1 => {
                t.close();
                assert_eq!(t.drain(), [Sent::Fin]);
            }
            State::FinWait2 => {
                t.close();
                t.drain();
                let ack = t.seg(TcpFlags::ACK, t.peer_nxt, t.snd_nxt(), &[]);
                t.deliver(&ack);
            }
            State::CloseWait => fin_in(&mut t),
            State::Closing => {
                t.close();
                t.drain();
                let fin = t.seg(TcpFlags::FIN | TcpFlags::ACK, t.peer_nxt, ISS + 1u32, &[]);
                t.deliver(&fin);
                t.peer_nxt += 1u32;
                t.drain();
            }
            State::LastAck => {
                fin_in(&mut t);
                t.close();
                assert_eq!(t.drain(), [Sent::Fin]);
            }
            State::TimeWait => {
                t.close();
                t.drain();
                fin_in(&mut t);
            }
            _ => unreachable!(),
        }
        assert_eq!(t.conn.state(), state);
        t.events.clear();
        t
    }
}

/// Kinds of arriving segment
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// SYN inside the window
    Syn,
    /// RST at exactly RCV.NXT
    RstExact,
    /// RST inside the window, not at RCV.NXT
    RstInWindow,
    /// RST outside the window
    RstOutside,
    /// ACK of everything sent
    Ack,
    /// ACK of data never sent
    AckUnsent,
    /// Data outside the receive window
    DataOutside,
    /// FIN acking everything we sent
    Fin,
    /// In-order data
    Data,
}

fn arriving(t: &T, kind: Kind) -> (TcpFlags, SeqNumber, SeqNumber, &'static [u8]) {
    let (rn, sn) = (t.rcv_nxt(), t.snd_nxt());
    let a = TcpFlags::ACK;
    match kind {
        Kind::Syn => (TcpFlags::SYN, rn + 10u32, SeqNumber(0), &[]),
        Kind::RstExact => (TcpFlags::RST, rn, SeqNumber(0), &[]),
        Kind::RstInWindow => (TcpFlags::RST, rn + 100u32, SeqNumber(0), &[]),
        Kind::RstOutside => (TcpFlags::RST, rn + 1_000_000u32, SeqNumber(0), &[]),
        Kind::Ack => (a, rn, sn, &[]),
        Kind::AckUnsent => (a, rn, sn + 1000u32, &[]),
        Kind::DataOutside => (a, rn + 1_000_000u32, sn, b"xxxx"),
        Kind::Fin => (a | TcpFlags::FIN, rn, sn, &[]),
        Kind::Data => (a | TcpFlags::PSH, rn, sn, b"0123456789"),
    }
}

use Kind::*;
use Sent::{Ack as A, Nothing as N, Rst as R};
use State::*;

/// (state, arriving kind, state after, what is sent back)
#[rustfmt::skip]
const TABLE: &[(State, Kind, State, Sent)] = &[
    // SYN-RECEIVED (passive): RST or SYN go back to LISTEN (§3.10.7.4 first/fourth checks);
    // an ACK of unsent data is an old duplicate's handshake: RST (§3.5, figure 9).
    (SynReceived, RstExact, Listen, N),
    (SynReceived, RstInWindow, SynReceived, A),
    (SynReceived, RstOutside, SynReceived, N),
    (SynReceived, Syn, Listen, N),
    (SynReceived, Ack, Established, N),
    (SynReceived, AckUnsent, SynReceived, R),
    (SynReceived, DataOutside, SynReceived, A),
    (SynReceived, Fin, CloseWait, A),
    // ESTABLISHED: RFC 5961 §3 (RST), §4 (SYN), §5 (ACK) and the FIN (§3.10.7.4 eighth check).
    (Established, RstExact, Closed, N),
    (Established, RstInWindow, Established, A),
    (Established, RstOutside, Established, N),
    (Established, Syn, Established, A),
    (Established, Ack, Established, N),
    (Established, AckUnsent, Established, A),
    (Established, DataOutside, Established, A),
    (Established, Fin, CloseWait, A),
    (Established, Data, Established, A),
    // FIN-WAIT-1: our FIN acked goes to FIN-WAIT-2; FIN+ACK straight to TIME-WAIT.
    (FinWait1, RstExact, Closed, N),
    (FinWait1, RstInWindow, FinWait1, A),
    (FinWait1, RstOutside, FinWait1, N),
    (FinWait1, Syn, FinWait1, A),
    (FinWait1, Ack, FinWait2, N),
    (FinWait1, AckUnsent, FinWait1, A),
    (FinWait1, DataOutside, FinWait1, A),
    (FinWait1, Fin, TimeWait, A),
    // The fixture got here by `close`: data nobody will read resets (SHLD-3).
    (FinWait1, Data, Closed, R),
    // FIN-WAIT-2
    (FinWait2, RstExact, Closed, N),
    (FinWait2, RstInWindow, FinWait2, A),
    (FinWait2, RstOutside, FinWait2, N),
    (FinWait2, Syn, FinWait2, A),
    (FinWait2, Ack, FinWait2, N),
    (FinWait2, AckUnsent, FinWait2, A),
    (FinWait2, DataOutside, FinWait2, A),
    (FinWait2, Fin, TimeWait, A),
    (FinWait2, Data, Closed, R),
    // CLOSE-WAIT: text and FIN after the peer's FIN are ignored.
    (CloseWait, RstExact, Closed, N),
    (CloseWait, RstInWindow, CloseWait, A),
    (CloseWait, RstOutside, CloseWait, N),
    (CloseWait, Syn, CloseWait, A),
    (CloseWait, Ack, CloseWait, N),
    (CloseWait, AckUnsent, CloseWait, A),
    (CloseWait, DataOutside, CloseWait, A),
    // CLOSING: the ACK of our FIN goes to TIME-WAIT.
    (Closing, RstExact, Closed, N),
    (Closing, RstInWindow, Closing, A),
    (Closing, RstOutside, Closing, N),
    (Closing, Syn, Closing, A),
    (Closing, Ack, TimeWait, N),
    (Closing, AckUnsent, Closing, A),
    // LAST-ACK: the ACK of our FIN closes.
    (LastAck, RstExact, Closed, N),
    (LastAck, RstInWindow, LastAck, A),
    (LastAck, RstOutside, LastAck, N),
    (LastAck, Syn, LastAck, A),
    (LastAck, Ack, Closed, N),
    (LastAck, AckUnsent, LastAck, A),
    // TIME-WAIT: a retransmitted FIN is acknowledged again (restarting 2·MSL).
    // An exact RST is ignored: the RFC 1337 guard is on by default (off: CLOSED, see below).
    (TimeWait, RstExact, TimeWait, N),
    (TimeWait, RstInWindow, TimeWait, A),
    (TimeWait, RstOutside, TimeWait, N),
    (TimeWait, Syn, TimeWait, A),
    (TimeWait, AckUnsent, TimeWait, A),
];

/// Covers: MUST-11, MAY-12
#[test]
fn every_state_every_segment_kind() {
    for &(state, kind, after, reply) in TABLE {
        let mut t = T::in_state(state);
        let (flags, seq, ack, payload) = arriving(&t, kind);
        let seg = t.seg(flags, seq, ack, payload);
        let outcome = t.deliver(&seg);
        let mut sent = t.drain();
        if let SegmentOutcome::Replied(Reply::Rst { .. }) = outcome {
            sent.insert(0, R); // a reply the caller sends on the connection's behalf
        }
        let what = format!("{state} + {kind:?}");
        assert_eq!(t.conn.state(), after, "{what}: state");
        let first = sent.first().copied().unwrap_or(N);
        assert_eq!(first, reply, "{what}: reply {sent:?}");
        // Every change reported is an edge of the transition table.
        for e in &t.events {
            if let Event::StateChanged { from, to } = e {
                assert!(is_legal(*from, *to), "{what}: illegal {from} -> {to}");
            }
        }
    }
}

#[test]
fn time_wait_re_acks_a_retransmitted_fin_and_restarts_2msl() {
    let mut t = T::in_state(TimeWait);
    t.now = Instant::from_secs(30);
    let fin = t.seg(
        TcpFlags::FIN | TcpFlags::ACK,
        t.peer_nxt - 1u32,
        t.snd_nxt(),
        &[],
    );
    t.deliver(&fin);
    assert_eq!(t.drain(), [A]);
    assert_eq!(t.conn.time_wait_deadline(), Some(Instant::from_secs(90)));
}

#[test]
fn syn_sent_rows() {
    // SYN-ACK acking our SYN: ESTABLISHED and an ACK (RFC 9293 §3.10.7.3).
    let mut t = T::in_state(SynSent);
    let sa = t.seg(TcpFlags::SYN | TcpFlags::ACK, PEER_ISS, ISS + 1u32, &[]);
    t.deliver(&sa);
    assert_eq!((t.conn.state(), t.drain()), (Established, vec![A]));
    // A bare SYN: simultaneous open, SYN-ACK with our ISS.
    let mut t = T::in_state(SynSent);
    let s = t.seg(TcpFlags::SYN, PEER_ISS, SeqNumber(0), &[]);
    t.deliver(&s);
    assert_eq!(
        (t.conn.state(), t.drain()),
        (SynReceived, vec![Sent::SynAck])
    );
    // An ACK of something we never sent: RST <SEQ=SEG.ACK>.
    let mut t = T::in_state(SynSent);
    let bad = t.seg(TcpFlags::SYN | TcpFlags::ACK, PEER_ISS, ISS + 5u32, &[]);
    assert_eq!(
        t.deliver(&bad),
        SegmentOutcome::Replied(Reply::Rst {
            seq: ISS + 5u32,
            ack: None
        })
    );
    assert_eq!(t.conn.state(), SynSent);
    // RST with an acceptable ACK: refused. RST without ACK: ignored.
    let mut t = T::in_state(SynSent);
    let rst = t.seg(TcpFlags::RST, SeqNumber(0), SeqNumber(0), &[]);
    t.deliver(&rst);
    assert_eq!(t.conn.state(), SynSent);
    let rst = t.seg(TcpFlags::RST | TcpFlags::ACK, SeqNumber(0), ISS + 1u32, &[]);
    t.deliver(&rst);
    assert_eq!(
        (t.conn.state(), t.conn.close_reason()),
        (Closed, Some(CloseReason::Refused))
    );
    // A plain ACK without SYN: dropped.
    let mut t = T::in_state(SynSent);
    let ack = t.seg(TcpFlags::ACK, PEER_ISS, ISS + 1u32, &[]);
    t.deliver(&ack);
    assert_eq!((t.conn.state(), t.drain()), (SynSent, vec![]));
}

#[test]
fn rfc5961_challenge_acks_are_rate_limited() {
    let mut t = T::in_state(Established);
    let mut acks = 0;
    for _ in 0..50 {
        let (flags, seq, ack, payload) = arriving(&t, RstInWindow);
        let seg = t.seg(flags, seq, ack, payload);
        t.deliver(&seg);
        acks += t.drain().len();
    }
    assert_eq!(acks, usize::from(T::cfg().challenge_ack_limit));
    t.now = Instant::from_secs(2);
    let (flags, seq, ack, payload) = arriving(&t, RstInWindow);
    let seg = t.seg(flags, seq, ack, payload);
    t.deliver(&seg);
    assert_eq!(t.drain(), [A], "a new second allows new challenges");
}

#[test]
fn rfc9293_shld_2_rst_with_payload_is_accepted() {
    let mut t = T::in_state(Established);
    let rst = t.seg(TcpFlags::RST, t.rcv_nxt(), SeqNumber(0), b"diagnostic text");
    t.deliver(&rst);
    assert_eq!(t.conn.close_reason(), Some(CloseReason::Reset));
}

/// Covers: MAY-1
#[test]
fn rfc9293_shld_3_close_with_unread_data_resets() {
    let mut t = T::in_state(Established);
    let d = t.seg(
        TcpFlags::ACK | TcpFlags::PSH,
        t.rcv_nxt(),
        t.snd_nxt(),
        b"unread",
    );
    t.deliver(&d);
    t.drain();
    t.close();
    assert_eq!(t.drain(), [R]);
    assert_eq!(t.conn.close_reason(), Some(CloseReason::Aborted));
}

/// Covers: MAY-13
#[test]
fn rfc9293_shld_31_out_of_order_data_is_held_then_delivered() {
    let mut t = T::in_state(Established);
    let rn = t.rcv_nxt();
    let later = t.seg(TcpFlags::ACK, rn + 5u32, t.snd_nxt(), b"56789");
    t.deliver(&later);
    assert_eq!(t.drain(), [A]); // immediate duplicate ACK for the gap
    assert_eq!(t.conn.recv_queue(), 0);
    let first = t.seg(TcpFlags::ACK, rn, t.snd_nxt(), b"01234");
    t.deliver(&first);
    assert_eq!(t.conn.recv_queue(), 10);
    let mut out = [0u8; 16];
    let mut bufs = Buffers {
        rx: &mut t.rx,
        tx: &mut t.tx,
    };
    let n = t.conn.recv(t.now, &mut bufs, &mut out, &t.cfg).unwrap();
    assert_eq!(&out[..n], b"0123456789");
}

#[test]
fn fin_beyond_a_gap_is_honoured_when_the_gap_fills() {
    let mut t = T::in_state(Established);
    let rn = t.rcv_nxt();
    let tail = t.seg(
        TcpFlags::ACK | TcpFlags::FIN,
        rn + 3u32,
        t.snd_nxt(),
        b"def",
    );
    t.deliver(&tail);
    assert_eq!(t.conn.state(), Established);
    let head = t.seg(TcpFlags::ACK, rn, t.snd_nxt(), b"abc");
    t.deliver(&head);
    assert_eq!(t.conn.state(), CloseWait);
    assert_eq!(t.conn.recv_queue(), 6);
}

#[test]
fn rfc9293_must_66_zero_window_still_takes_rst() {
    let mut t = T::in_state(Established);
    let data = vec![b'x'; 4096];
    let d = t.seg(TcpFlags::ACK, t.rcv_nxt(), t.snd_nxt(), &data);
    t.deliver(&d);
    t.drain();
    assert_eq!(t.conn.rcv_adv, t.rcv_nxt(), "window is zero");
    let rst = t.seg(TcpFlags::RST, t.rcv_nxt(), SeqNumber(0), &[]);
    t.deliver(&rst);
    assert_eq!(t.conn.state(), Closed);
}

#[test]
fn emitting_into_a_short_buffer_changes_nothing() {
    let mut t = T::in_state(Established);
    let mut bufs = Buffers {
        rx: &mut t.rx,
        tx: &mut t.tx,
    };
    t.conn.send(&mut bufs, b"hello world").unwrap();
    let before = t.conn.clone();
    let mut small = [0u8; 10];
    let bufs = Buffers {
        rx: &mut t.rx,
        tx: &mut t.tx,
    };
    assert_eq!(
        t.conn
            .poll_transmit(t.now, &bufs, &t.cfg, &mut small, &mut |_| {}),
        None
    );
    assert_eq!(format!("{:?}", t.conn), format!("{before:?}"));
}

#[test]
fn rfc9293_must_15_mss_defaults_to_536_without_the_option() {
    let mut t = T::in_state(SynSent);
    let sa = TcpRepr {
        options: crate::wire::TcpOptions::NONE,
        ..t.seg(TcpFlags::SYN | TcpFlags::ACK, PEER_ISS, ISS + 1u32, &[])
    };
    t.deliver(&sa);
    assert_eq!(t.conn.stats(&t.cfg).send_mss, 536);
}

/// Covers: MUST-11
#[test]
fn active_syn_received_reset_closes_instead_of_listening() {
    let mut t = T::in_state(SynSent);
    let s = t.seg(TcpFlags::SYN, PEER_ISS, SeqNumber(0), &[]);
    t.deliver(&s);
    assert_eq!(t.conn.state(), SynReceived);
    let rst = t.seg(TcpFlags::RST, PEER_ISS + 1u32, SeqNumber(0), &[]);
    assert_eq!(t.deliver(&rst), SegmentOutcome::Accepted);
    assert_eq!(
        (t.conn.state(), t.conn.close_reason()),
        (Closed, Some(CloseReason::Refused))
    );
}

#[test]
fn rfc9293_must_28_keep_alive_defaults_to_two_hours() {
    assert!(KeepAlive::default().idle >= core::time::Duration::from_secs(7200));
    assert!(ConnConfig::default().keep_alive.is_none());
}

#[test]
fn rfc1337_guard_off_lets_an_exact_rst_end_time_wait() {
    let mut t = T::in_state(TimeWait);
    t.cfg.time_wait_rst_guard = false;
    let rst = t.seg(TcpFlags::RST, t.rcv_nxt(), SeqNumber(0), &[]);
    t.deliver(&rst);
    assert_eq!(t.conn.state(), Closed);
}
