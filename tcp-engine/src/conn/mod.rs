//! One connection: the transmission control block (RFC 9293 §3.3.1) and its state machine
//!
//! A [`Connection`] holds no buffers and no configuration of its own: every call takes the
//! connection's [`Buffers`] (caller-owned byte arrays) and the shared [`ConnConfig`], so an
//! embedder that demultiplexes segments itself can drive one directly, and the
//! [`Engine`](crate::engine::Engine) keeps thousands of them in a table without allocating.
//!
//! The work is split by RFC concern: segment arrival (`input`), segment building
//! (`output`), timers (`timers`) and the application calls below.

mod app;
mod assembler;
mod config;
pub mod congestion;
mod event;
mod input;
mod open;
mod output;
mod predict;
mod recovery;
mod ring;
mod rtt;
mod state;
mod timer;
mod timers;

use core::net::IpAddr;
use core::time::Duration;

pub use config::{ConnConfig, KeepAlive};
pub use event::{CloseReason, Event, EventSink, IcmpError, SoftError};
pub use input::{Reply, SegmentOutcome};
pub use state::{is_legal, next_state, next_state_to, State, Trigger, TRANSITIONS};

use assembler::Assembler;
use congestion::Congestion;
pub use congestion::{Algorithm, CongestionControl, Controller, Cubic, NewReno, Window};
use ring::Ring;
use rtt::{RttEstimator, RttTimer};
use timer::{Timer, TimerTable};

use crate::seq::SeqNumber;
use crate::time::Instant;

/// The two ends of a connection
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FourTuple {
    /// Our address
    pub local_addr: IpAddr,
    /// The peer's address
    pub remote_addr: IpAddr,
    /// Our port
    pub local_port: u16,
    /// The peer's port
    pub remote_port: u16,
}

/// The byte storage of one connection, owned by the caller
#[derive(Debug)]
pub struct Buffers<'b> {
    /// Receive buffer: its size bounds the advertised window
    pub rx: &'b mut [u8],
    /// Send buffer: bytes queued by `send` until they are acknowledged
    pub tx: &'b mut [u8],
}

/// What `tcp_info` would show for a connection
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnStats {
    /// Smoothed round-trip time, once measured
    pub srtt: Option<Duration>,
    /// Round-trip time variance
    pub rttvar: Duration,
    /// Current retransmission timeout
    pub rto: Duration,
    /// Congestion window in bytes
    pub cwnd: u32,
    /// Slow-start threshold in bytes
    pub ssthresh: u32,
    /// The peer's window in bytes (scaled)
    pub send_window: u32,
    /// MSS used when sending
    pub send_mss: u16,
    /// Segments sent again (timeouts and fast retransmits)
    pub retransmissions: u32,
    /// Retransmission timeouts that fired
    pub timeouts: u32,
    /// Fast retransmits (three duplicate ACKs)
    pub fast_retransmits: u32,
    /// Payload bytes sent, retransmissions included
    pub bytes_sent: u64,
    /// Payload bytes delivered in order
    pub bytes_received: u64,
    /// Segments sent
    pub segments_sent: u32,
    /// Segments received and accepted
    pub segments_received: u32,
    /// Bytes beyond SND.UNA the peer reports holding (SACK scoreboard, RFC 6675)
    pub sacked_bytes: u32,
}

/// The counters a connection keeps (the rest of [`ConnStats`] is derived when asked)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counters {
    retransmissions: u32,
    timeouts: u32,
    fast_retransmits: u32,
    segments_sent: u32,
    segments_received: u32,
    bytes_sent: u64,
    bytes_received: u64,
}

bitflags::bitflags! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    struct Flags: u32 {
        /// Opened by a listener (RST in SYN-RECEIVED returns to LISTEN)
        const PASSIVE = 1 << 0;
        /// The application called `close` or `abort`: nobody reads any more
        const RELEASED = 1 << 1;
        /// The application wants a FIN after the queued data
        const FIN_QUEUED = 1 << 2;
        /// Send an ACK at the next opportunity
        const ACK_NOW = 1 << 3;
        /// Timestamps negotiated (RFC 7323)
        const TIMESTAMPS = 1 << 4;
        /// SACK negotiated (RFC 2018)
        const SACK = 1 << 5;
        /// Window scaling negotiated (RFC 7323 §2)
        const WINDOW_SCALE = 1 << 6;
        /// Nagle's algorithm is off for this connection
        const NO_DELAY = 1 << 7;
        /// Keep-alive is on for this connection
        const KEEP_ALIVE = 1 << 8;
        /// A `Readable` event is outstanding
        const READABLE_SENT = 1 << 9;
        /// A `send` was cut short: report `Writable` when room appears
        const WANT_WRITABLE = 1 << 10;
        /// The peer's FIN has been received and processed
        const FIN_RECEIVED = 1 << 11;
        /// Send a probe (zero-window or keep-alive) at the next opportunity
        const PROBE = 1 << 12;
        /// In fast recovery (RFC 6582)
        const RECOVERY = 1 << 13;
        /// Send RST and close at the next opportunity (data arrived after `close`, SHLD-3)
        const RST_NOW = 1 << 14;
        /// Our FIN has been sent (its sequence number is `snd_fin`)
        const FIN_SENT = 1 << 15;
        /// The retransmission timer is armed as a tail-loss probe timeout (RFC 8985 §7)
        const TLP_ARMED = 1 << 16;
        /// Send a tail-loss probe: the last segment again (RFC 8985 §7.3)
        const TLP_SEND = 1 << 17;
        /// A probe went out: a SACK above SND.UNA now means the hole before it is lost
        const TLP_PROBED = 1 << 18;
        /// A FIN arrived beyond a gap: honour it at `fin_seq` when the gap fills
        const FIN_AHEAD = 1 << 19;
        /// The retransmission at SND.UNA was lost too: resend it (see `rexmit_mark`)
        const RESEND_FIRST = 1 << 20;
    }
}

/// One TCP connection (a transmission control block)
#[derive(Debug, Clone)]
pub struct Connection {
    tuple: FourTuple,
    state: State,
    flags: Flags,
    close_reason: Option<CloseReason>,
    // Send sequence space (RFC 9293 §3.3.1)
    iss: SeqNumber,
    snd_una: SeqNumber,
    snd_nxt: SeqNumber,
    /// Highest sequence number sent plus one (retransmissions lie below it)
    snd_max: SeqNumber,
    snd_wnd: u32,
    snd_wl1: SeqNumber,
    snd_wl2: SeqNumber,
    max_snd_wnd: u32,
    /// Sequence number of our FIN, once sent
    snd_fin: SeqNumber,
    snd_mss: u16,
    snd_wscale: u8,
    // Receive sequence space
    irs: SeqNumber,
    rcv_nxt: SeqNumber,
    /// Right edge of the window last advertised (never moves left, SHLD-14)
    rcv_adv: SeqNumber,
    rcv_wscale: u8,
    /// Sequence number of a FIN that arrived beyond a gap (valid with `Flags::FIN_AHEAD`)
    fin_seq: SeqNumber,
    // Timestamps (RFC 7323 §4)
    ts_recent: u32,
    // Loss recovery
    recover: SeqNumber,
    dup_acks: u8,
    retries: u8,
    probes: u8,
    /// This connection's R2 in retransmissions: 0 follows the configuration, 255 never gives up
    r2: u8,
    /// Full-sized segments received since the last ACK (SHLD-19)
    unacked_segments: u8,
    /// Data segments still to ACK at once (quick-ack)
    quick_left: u8,
    // Challenge ACK rate limit (RFC 5961 §7): second of the window and count in it
    challenge_second: u32,
    challenge_count: u16,
    // RTT timing of one segment at a time (Karn's rule, RFC 6298 §3)
    rtt_timer: RttTimer,
    rtt: RttEstimator,
    cc: Congestion,
    timers: TimerTable,
    tx: Ring,
    rx: Ring,
    ooo: Assembler,
    /// SACK scoreboard: ranges above SND.UNA the peer holds, as offsets from SND.UNA
    sacked: Assembler<4>,
    /// In recovery: everything below this has been retransmitted (RFC 6675 HighRxt)
    rexmit_high: SeqNumber,
    /// SND.MAX when the segment at SND.UNA was last resent: data from here on was sent
    /// after that retransmission, so its delivery shows the retransmission lost
    rexmit_mark: SeqNumber,
    counters: Counters,
}

impl Connection {
    fn blank(tuple: FourTuple, iss: SeqNumber, cfg: &ConnConfig, state: State) -> Self {
        Self {
            tuple,
            state,
            flags: if cfg.nagle {
                Flags::empty()
            } else {
                Flags::NO_DELAY
            } | if cfg.keep_alive.is_some() {
                Flags::KEEP_ALIVE
            } else {
                Flags::empty()
            },
            close_reason: None,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            snd_wl1: SeqNumber(0),
            snd_wl2: SeqNumber(0),
            max_snd_wnd: 0,
            snd_fin: iss,
            snd_mss: 536,
            snd_wscale: 0,
            irs: SeqNumber(0),
            rcv_nxt: SeqNumber(0),
            rcv_adv: SeqNumber(0),
            rcv_wscale: 0,
            fin_seq: SeqNumber(0),
            ts_recent: 0,
            recover: iss,
            dup_acks: 0,
            retries: 0,
            probes: 0,
            r2: 0,
            unacked_segments: 0,
            quick_left: cfg.quick_acks,
            challenge_second: 0,
            challenge_count: 0,
            rtt_timer: RttTimer::default(),
            rtt: RttEstimator::new(cfg.initial_rto),
            cc: Congestion::new(cfg.initial_window, 536, cfg.congestion),
            timers: TimerTable::new(),
            tx: Ring::default(),
            rx: Ring::default(),
            ooo: Assembler::new(cfg.reassembly_ranges),
            sacked: Assembler::new(4),
            rexmit_high: iss,
            rexmit_mark: iss,
            counters: Counters::default(),
        }
    }

    /// Change state through the transition table, reporting the change
    fn transition(&mut self, trigger: Trigger, sink: &mut impl EventSink) {
        self.transition_to(trigger, None, sink);
    }

    /// Like [`Self::transition`], choosing `to` where the table allows several outcomes
    fn transition_to(&mut self, trigger: Trigger, to: Option<State>, sink: &mut impl EventSink) {
        let from = self.state;
        let next = match to {
            Some(to) => next_state_to(from, trigger, to),
            None => next_state(from, trigger),
        };
        let Some(to) = next else {
            debug_assert!(false, "no transition from {from} on {trigger:?}");
            return;
        };
        self.state = to;
        sink.push(Event::StateChanged { from, to });
        match to {
            State::Established => sink.push(Event::Established),
            State::Closed => self.timers.stop_all(),
            _ => {}
        }
    }

    /// End the connection for `reason`: CLOSED, timers stopped, `Closed` reported
    fn finish(&mut self, trigger: Trigger, reason: CloseReason, sink: &mut impl EventSink) {
        if self.state == State::Closed {
            return;
        }
        self.transition_to(trigger, Some(State::Closed), sink);
        self.close_reason = Some(reason);
        if reason != CloseReason::Normal {
            // RFC 9293 §3.10.7.4: on reset, queued data is flushed.
            self.tx = Ring::default();
            self.ooo.clear();
        }
        sink.push(Event::Closed(reason));
    }

    /// The current state
    pub fn state(&self) -> State {
        self.state
    }

    /// The addresses and ports
    pub fn tuple(&self) -> &FourTuple {
        &self.tuple
    }

    /// Why the connection ended, once it has
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason
    }

    /// Whether the application has given the connection up (`close` or `abort`)
    pub fn is_released(&self) -> bool {
        self.flags.contains(Flags::RELEASED)
    }

    /// Whether the connection came from a listener
    pub fn is_passive(&self) -> bool {
        self.flags.contains(Flags::PASSIVE)
    }

    /// Whether no ACK, probe or RST is waiting to be sent
    pub fn is_quiet(&self) -> bool {
        !self
            .flags
            .intersects(Flags::ACK_NOW | Flags::PROBE | Flags::RST_NOW)
    }

    /// The earliest timer deadline
    pub fn poll_at(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// What a compact TIME-WAIT entry keeps: (highest sequence number sent, RCV.NXT, the
    /// window field last advertised)
    pub fn time_wait_numbers(&self) -> (SeqNumber, SeqNumber, u16) {
        let wnd = self.rcv_adv.bytes_after(self.rcv_nxt) >> self.rcv_wscale;
        (self.snd_max, self.rcv_nxt, wnd.min(0xffff) as u16)
    }

    /// When TIME-WAIT ends, if the connection is in it
    pub fn time_wait_deadline(&self) -> Option<Instant> {
        (self.state == State::TimeWait)
            .then(|| self.timers.get(Timer::Linger))
            .flatten()
    }

    /// Statistics, like Linux's `tcp_info`
    pub fn stats(&self, cfg: &ConnConfig) -> ConnStats {
        ConnStats {
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            rto: self.rtt.rto(cfg.max_rto, cfg.rto_slop),
            cwnd: self.cc.w.cwnd,
            ssthresh: self.cc.w.ssthresh,
            send_window: self.snd_wnd,
            send_mss: self.snd_mss,
            retransmissions: self.counters.retransmissions,
            timeouts: self.counters.timeouts,
            fast_retransmits: self.counters.fast_retransmits,
            bytes_sent: self.counters.bytes_sent,
            bytes_received: self.counters.bytes_received,
            segments_sent: self.counters.segments_sent,
            segments_received: self.counters.segments_received,
            sacked_bytes: self.sacked.ranges().map(|(a, b)| b - a).sum(),
        }
    }

    /// Switch the congestion-control algorithm (takes effect from the next window change)
    pub fn set_congestion_control(&mut self, algorithm: Algorithm) {
        self.cc.set_algorithm(algorithm);
    }

    /// Set this connection's R2, the retransmissions after which it gives up (MUST-21);
    /// `None` never gives up
    pub fn set_retry_limit(&mut self, limit: Option<u8>) {
        self.r2 = limit.map_or(u8::MAX, |l| l.clamp(1, u8::MAX - 1));
    }

    /// An ICMP error about a segment of this connection whose sequence number was `seq`
    /// (RFC 9293 §3.9.2.2); ignored unless `seq` lies in SND.UNA..=SND.MAX (RFC 5927)
    pub fn handle_icmp_error(
        &mut self,
        seq: SeqNumber,
        error: IcmpError,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) {
        if !seq.between_inclusive(self.snd_una, self.snd_max) || self.state == State::Closed {
            return;
        }
        match error {
            IcmpError::SourceQuench => {} // MUST-55: silently ignored
            IcmpError::Soft(e) => {
                if cfg.report_soft_errors {
                    sink.push(Event::SoftError(e));
                }
            }
            IcmpError::Hard => self.finish(Trigger::Timeout, CloseReason::Unreachable, sink),
        }
    }

    /// Give up the connection attempt `t` after `start` (in SYN-SENT only)
    pub fn set_connect_timeout(&mut self, start: Instant, t: Option<core::time::Duration>) {
        if self.state == State::SynSent {
            match t {
                Some(t) => self.timers.set(Timer::Linger, start + t),
                None => self.timers.stop(Timer::Linger),
            }
        }
    }

    /// Turn Nagle's algorithm on or off (SHLD-7)
    pub fn set_nagle(&mut self, on: bool) {
        self.flags.set(Flags::NO_DELAY, !on);
    }

    /// Turn keep-alive on or off (MUST-24); the timings come from [`ConnConfig::keep_alive`]
    pub fn set_keep_alive(&mut self, on: bool, now: Instant, cfg: &ConnConfig) {
        self.flags.set(Flags::KEEP_ALIVE, on);
        self.arm_keep_alive(now, cfg);
    }

    /// Bytes waiting to be read
    pub fn recv_queue(&self) -> usize {
        self.rx.len()
    }

    /// Bytes queued for sending and not yet acknowledged
    pub fn send_queue(&self) -> usize {
        self.tx.len()
    }

    /// The receive window for a buffer of `cap` bytes holding `used` (RFC 9293 §3.8.6)
    fn rx_window(&self, cap: usize, used: usize) -> u32 {
        let max = 0xffffu32 << self.rcv_wscale;
        (cap.saturating_sub(used) as u32).min(max)
    }

    pub(super) fn arm_keep_alive(&mut self, now: Instant, cfg: &ConnConfig) {
        match cfg.keep_alive {
            Some(ka) if self.flags.contains(Flags::KEEP_ALIVE) && self.state.is_synchronized() => {
                self.timers.set(Timer::KeepAlive, now + ka.idle);
            }
            _ => self.timers.stop(Timer::KeepAlive),
        }
    }
}

/// The window shift that lets `capacity` bytes be advertised (RFC 7323 §2.3: at most 14)
pub(crate) fn window_shift(capacity: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (capacity >> shift) > 0xffff {
        shift += 1;
    }
    shift
}

/// Why `send` refused data
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// The handle names no live connection (engine only)
    InvalidHandle,
    /// The connection may not send in this state (e.g. after `shutdown`)
    InvalidState(State),
    /// The connection has ended
    Closed(CloseReason),
}

/// Why `recv` returned no data
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecvError {
    /// The handle names no live connection (engine only)
    InvalidHandle,
    /// Nothing to read yet; a `Readable` event will follow
    WouldBlock,
    /// The connection was reset, refused or timed out
    Closed(CloseReason),
}

/// Why `shutdown` or `close` failed
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CloseError {
    /// The handle names no live connection (engine only)
    InvalidHandle,
    /// Nothing to close in this state
    InvalidState(State),
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidHandle => f.write_str("stale connection handle"),
            Self::InvalidState(s) => write!(f, "cannot send in state {s}"),
            Self::Closed(r) => write!(f, "connection closed ({r:?})"),
        }
    }
}

impl core::fmt::Display for RecvError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidHandle => f.write_str("stale connection handle"),
            Self::WouldBlock => f.write_str("no data yet"),
            Self::Closed(r) => write!(f, "connection closed ({r:?})"),
        }
    }
}

impl core::fmt::Display for CloseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidHandle => f.write_str("stale connection handle"),
            Self::InvalidState(s) => write!(f, "nothing to close in state {s}"),
        }
    }
}

impl core::error::Error for SendError {}
impl core::error::Error for RecvError {}
impl core::error::Error for CloseError {}

#[cfg(test)]
mod regression_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod window_tests;
