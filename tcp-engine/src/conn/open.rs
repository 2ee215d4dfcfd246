//! Opening a connection: active open, passive open from a SYN, and the stateless passive
//! open of a SYN cookie (RFC 9293 §3.5, §3.10.1, §3.10.7.2; RFC 4987)

use super::{window_shift, ConnConfig, Connection, EventSink, Flags, State, Timer, Trigger};
use crate::seq::SeqNumber;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpOptions, TcpRepr};

use super::FourTuple;

impl Connection {
    /// Active open (RFC 9293 §3.10.1): a connection in SYN-SENT whose SYN is ready to go
    ///
    /// `iss` is the initial sequence number (the engine derives it per RFC 6528);
    /// `rx_capacity` is the size of the receive buffer this connection will be given.
    pub fn connect(
        now: Instant,
        tuple: FourTuple,
        iss: SeqNumber,
        rx_capacity: usize,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) -> Self {
        let mut c = Self::blank(tuple, iss, cfg, State::Closed);
        c.rcv_wscale = if cfg.window_scaling {
            cfg.window_shift
                .map_or_else(|| window_shift(rx_capacity), |s| s.min(14))
        } else {
            0
        };
        c.timers.set(
            Timer::Retransmit,
            now + c.rtt.rto(cfg.max_rto, cfg.rto_slop),
        );
        if let Some(t) = cfg.connect_timeout {
            c.timers.set(Timer::Linger, now + t);
        }
        c.transition(Trigger::ActiveOpen, sink);
        c
    }

    /// Passive open: a SYN arrived at a listener (RFC 9293 §3.10.7.2); SYN-ACK ready to go
    ///
    /// Returns `None` when `syn` is not a plain SYN (the caller answers RST or drops it).
    pub fn accept_syn(
        now: Instant,
        tuple: FourTuple,
        iss: SeqNumber,
        syn: &TcpRepr<'_>,
        rx_capacity: usize,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) -> Option<Self> {
        let f = syn.flags;
        if !f.contains(TcpFlags::SYN) || f.intersects(TcpFlags::ACK | TcpFlags::RST) {
            return None;
        }
        let mut c = Self::blank(tuple, iss, cfg, State::Listen);
        c.flags |= Flags::PASSIVE;
        c.irs = syn.seq_number;
        c.rcv_nxt = syn.seq_number + 1u32;
        c.negotiate(&syn.options, rx_capacity, cfg);
        c.snd_wnd = u32::from(syn.window_len); // never scaled in a SYN (RFC 7323 §2.2)
        c.max_snd_wnd = c.snd_wnd;
        c.snd_wl1 = syn.seq_number;
        c.rcv_adv = c.rcv_nxt + c.rx_window(rx_capacity, 0);
        c.timers.set(
            Timer::Retransmit,
            now + c.rtt.rto(cfg.max_rto, cfg.rto_slop),
        );
        c.transition(Trigger::RecvSyn, sink);
        Some(c)
    }

    /// Apply the options of the peer's SYN (RFC 9293 §3.7.1, RFC 7323, RFC 2018)
    pub(super) fn negotiate(&mut self, opts: &TcpOptions, rx_capacity: usize, cfg: &ConnConfig) {
        // MSS: 536 when absent (RFC 9293 §3.7.1), never above what we can send.
        let peer_mss = opts.mss.unwrap_or(536).max(64);
        self.snd_mss = peer_mss.min(cfg.mss.max(64));
        if cfg.window_scaling && opts.window_scale.is_some() {
            self.flags |= Flags::WINDOW_SCALE;
            self.snd_wscale = opts.window_scale.unwrap_or(0).min(14); // RFC 7323 §2.3
            self.rcv_wscale = cfg
                .window_shift
                .map_or_else(|| window_shift(rx_capacity), |s| s.min(14));
        } else {
            self.flags.remove(Flags::WINDOW_SCALE);
            self.snd_wscale = 0;
            self.rcv_wscale = 0;
        }
        self.flags.set(Flags::SACK, cfg.sack && opts.sack_permitted);
        if cfg.timestamps {
            if let Some((tsval, _)) = opts.timestamps {
                self.flags |= Flags::TIMESTAMPS;
                self.ts_recent = tsval;
            }
        }
        self.cc.set_initial(cfg.initial_window, self.eff_mss());
    }

    /// Passive open completed by a SYN cookie (RFC 4987 §3.6): the SYN was answered without
    /// keeping state, and `ack` is the peer's ACK that returned the cookie as `iss + 1`
    ///
    /// The options the SYN carried come back out of the cookie: the peer's MSS, window shift
    /// and SACK permission; timestamps are not used on such a connection. The handshake is
    /// reported as LISTEN → SYN-RECEIVED → ESTABLISHED, as it happened on the wire.
    #[allow(clippy::too_many_arguments)]
    pub fn from_cookie(
        now: Instant,
        tuple: FourTuple,
        iss: SeqNumber,
        peer: &TcpOptions,
        ack: &TcpRepr<'_>,
        rx_capacity: usize,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) -> Self {
        let mut c = Self::blank(tuple, iss, cfg, State::Listen);
        c.flags |= Flags::PASSIVE;
        c.irs = ack.seq_number - 1u32;
        c.rcv_nxt = ack.seq_number;
        let peer = TcpOptions {
            timestamps: None,
            ..*peer
        };
        c.negotiate(&peer, rx_capacity, cfg);
        c.snd_una = iss + 1u32;
        c.snd_nxt = c.snd_una;
        c.snd_max = c.snd_una;
        c.rcv_adv = c.rcv_nxt + (rx_capacity.min(0xffff) as u32);
        c.snd_wnd = u32::from(ack.window_len) << c.snd_wscale;
        c.max_snd_wnd = c.snd_wnd;
        c.snd_wl1 = ack.seq_number;
        c.snd_wl2 = ack.ack_number;
        c.transition(Trigger::RecvSyn, sink);
        c.transition(Trigger::RecvAckOfSyn, sink);
        c.arm_keep_alive(now, cfg);
        c
    }
}
