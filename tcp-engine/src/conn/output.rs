//! Building the next segment to send (RFC 9293 §3.8.6.2.1, §3.8.6.3, RFC 5681, RFC 7323)

use super::{
    Buffers, CloseReason, ConnConfig, Connection, EventSink, Flags, State, Timer, Trigger,
};
use crate::seq::SeqNumber;
use crate::time::Instant;
use crate::wire::{checksum, SackBlock, TcpFlags, TcpOptions, TcpRepr};

/// What one call to `poll_transmit` decided to send
struct Plan {
    flags: TcpFlags,
    seq: SeqNumber,
    /// Payload bytes taken from the send buffer at `seq`
    len: usize,
    /// A hole resent in recovery: SND.NXT does not move
    hole: bool,
}

impl Connection {
    /// Write the next segment this connection wants to send into `out`
    ///
    /// Returns its length, or `None` when there is nothing to send or `out` cannot hold even a
    /// header; in that case the connection is unchanged (the state advances only when a
    /// segment is actually written).
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        bufs: &Buffers<'_>,
        cfg: &ConnConfig,
        out: &mut [u8],
        sink: &mut impl EventSink,
    ) -> Option<usize> {
        let mut options = TcpOptions::NONE;
        let Some(plan) = self.plan(now, cfg, out.len(), &mut options) else {
            self.arm_persist(now, cfg);
            return None;
        };
        let edge = self.advertised_edge(bufs, cfg, plan.flags.contains(TcpFlags::SYN));
        let len = self.emit(bufs, &plan, &options, edge, out)?;
        self.commit(now, cfg, &plan, edge, sink);
        Some(len)
    }

    /// Whether [`Connection::poll_transmit`] may write a segment now; `false` means it
    /// certainly writes none (the engine then leaves the connection off its transmit list)
    #[inline]
    pub fn wants_to_transmit(&self) -> bool {
        self.rst_due()
            || (!matches!(self.state, State::Closed | State::Listen)
                && (self.syn_due() || self.asks_to_send()))
    }

    /// A RST is waiting (an abort, or data arriving after close)
    #[inline]
    fn rst_due(&self) -> bool {
        self.flags.contains(Flags::RST_NOW) && self.state != State::Closed
    }

    /// Our SYN (or SYN-ACK) is to be sent, first time or again
    #[inline]
    fn syn_due(&self) -> bool {
        matches!(self.state, State::SynSent | State::SynReceived) && self.snd_nxt == self.iss
    }

    /// After the RST and SYN cases: whether any case of [`Connection::plan`] can apply. When
    /// no flag asks for a segment (ACK, probe, loss probe), nothing is being recovered, every
    /// queued byte has been sent and so has the FIN if one is queued (with nothing to go
    /// back over after a timeout), none can.
    #[inline]
    fn asks_to_send(&self) -> bool {
        let asks = Flags::ACK_NOW | Flags::PROBE | Flags::TLP_SEND | Flags::RECOVERY;
        let fin_due = self.flags.contains(Flags::FIN_QUEUED)
            && !(self.flags.contains(Flags::FIN_SENT) && self.snd_nxt == self.snd_max);
        self.flags.intersects(asks)
            || fin_due
            || self.tx.len() > self.snd_nxt.bytes_after(self.data_start()) as usize
    }

    /// What to send next; the segment's options are left in `options` (kept out of the
    /// returned plan so they are built in place, never copied)
    fn plan(
        &self,
        now: Instant,
        cfg: &ConnConfig,
        room: usize,
        options: &mut TcpOptions,
    ) -> Option<Plan> {
        let ack_flag = TcpFlags::ACK;
        if self.rst_due() {
            return Some(Plan {
                flags: TcpFlags::RST | ack_flag,
                seq: self.snd_max, // the highest sent: never below what the peer holds
                len: 0,
                hole: false,
            });
        }
        let ts = self.flags.contains(Flags::TIMESTAMPS);
        match self.state {
            State::Closed | State::Listen => return None,
            _ if self.syn_due() => {
                *options = TcpOptions {
                    layout: cfg.option_layout,
                    mss: Some(cfg.mss),
                    ..TcpOptions::NONE
                };
                let offer = self.state == State::SynSent;
                if cfg.window_scaling && (offer || self.flags.contains(Flags::WINDOW_SCALE)) {
                    options.window_scale = Some(self.rcv_wscale);
                }
                options.sack_permitted = cfg.sack && (offer || self.flags.contains(Flags::SACK));
                if cfg.timestamps && (offer || ts) {
                    options.timestamps =
                        Some((self.ts_now(now), if offer { 0 } else { self.ts_recent }));
                }
                let flags = if offer {
                    TcpFlags::SYN
                } else {
                    TcpFlags::SYN | ack_flag
                };
                return Some(Plan {
                    flags,
                    seq: self.iss,
                    len: 0,
                    hole: false,
                });
            }
            _ => {}
        }
        // The poll that ends every burst, answered before any option is built. Debug builds
        // (every test) check the answer against the full planning below.
        if !self.asks_to_send() {
            debug_assert!(
                self.plan_established(now, cfg, room, &mut { TcpOptions::NONE })
                    .is_none(),
                "asks_to_send() said nothing to send, but planning found a segment"
            );
            return None;
        }
        self.plan_established(now, cfg, room, options)
    }

    /// [`Connection::plan`] once the RST and SYN cases are ruled out
    fn plan_established(
        &self,
        now: Instant,
        cfg: &ConnConfig,
        room: usize,
        options: &mut TcpOptions,
    ) -> Option<Plan> {
        let ack_flag = TcpFlags::ACK;
        let ts = self.flags.contains(Flags::TIMESTAMPS);
        if ts {
            options.timestamps = Some((self.ts_now(now), self.ts_recent));
        }
        if self.flags.contains(Flags::SACK) && !self.ooo.is_empty() {
            // RFC 2018 §4: most recent block first, 3 blocks when timestamps take room.
            let (ranges, n) = self.ooo.sack_ranges(if ts { 3 } else { 4 });
            for &(start, end) in &ranges[..n] {
                let base = self.rcv_nxt;
                options.push_sack(SackBlock {
                    left: base + start,
                    right: base + end,
                });
            }
        }
        let options_len = options.wire_len();
        let header = crate::wire::HEADER_LEN + options_len;
        if room < header {
            return None;
        }
        if let Some(plan) = self.plan_data(room - header, options_len) {
            return Some(plan);
        }
        if self.flags.contains(Flags::PROBE) && self.state.is_synchronized() {
            // Zero-window probe or keep-alive: one old sequence number, no data (SHLD-12).
            return Some(Plan {
                flags: ack_flag,
                seq: self.snd_una - 1u32,
                len: 0,
                hole: false,
            });
        }
        if self.flags.contains(Flags::ACK_NOW)
            && cfg.fin_on_acks
            && self.flags.contains(Flags::FIN_SENT)
            && !self.fin_acked()
            && matches!(
                self.state,
                State::FinWait1 | State::Closing | State::LastAck
            )
        {
            // FreeBSD repeats its unacknowledged FIN on every ACK (tcp_outflags).
            return Some(Plan {
                flags: ack_flag | TcpFlags::FIN,
                seq: self.snd_fin,
                len: 0,
                hole: false,
            });
        }
        if self.flags.contains(Flags::ACK_NOW) {
            return Some(Plan {
                flags: ack_flag,
                seq: self.snd_max, // the highest sent: never below what the peer holds
                len: 0,
                hole: false,
            });
        }
        None
    }

    /// Data and FIN, within the send and congestion windows, with Nagle and sender-side SWS
    /// avoidance (SHLD-7, MUST-38)
    fn plan_data(&self, room: usize, options_len: usize) -> Option<Plan> {
        let may_send = match self.state {
            State::Established
            | State::CloseWait
            | State::FinWait1
            | State::Closing
            | State::LastAck => true,
            State::SynReceived => self.flags.contains(Flags::FIN_QUEUED),
            _ => false,
        };
        if !may_send {
            return None;
        }
        let seg_max = usize::from(self.snd_mss)
            .saturating_sub(options_len)
            .max(1)
            .min(room);
        let fin_pos = self.fin_seq_out();
        if self.flags.contains(Flags::TLP_SEND) {
            if let Some(plan) = self.plan_probe(seg_max, fin_pos) {
                return Some(plan);
            }
        }
        if let Some(plan) = self.plan_hole(seg_max, fin_pos) {
            return Some(plan);
        }
        let data_start = self.data_start();
        let sent = self.snd_nxt.bytes_after(data_start) as usize;
        let unsent = self.tx.len().saturating_sub(sent);
        let usable = self.send_allowance() as usize;
        let mut len = unsent.min(usable).min(seg_max);
        let retransmit = self.snd_nxt.lt(self.snd_max);
        if len > 0 && len < seg_max && len == unsent.min(seg_max) && !retransmit {
            // A short segment: only when it empties the buffer and nothing is outstanding
            // (Nagle), or Nagle is off, or it is at least half the largest window seen.
            let idle = self.snd_una == self.snd_nxt;
            let nagle_ok = self.flags.contains(Flags::NO_DELAY) || idle;
            let sws_ok = len as u32 >= self.max_snd_wnd / 2;
            if !(sws_ok || (len == unsent && nagle_ok)) {
                len = 0;
            }
        } else if len > 0 && len < seg_max && !retransmit && len < unsent {
            // Limited by the window: wait for a useful amount (MUST-38).
            if (len as u32) < self.max_snd_wnd / 2 && self.snd_una != self.snd_nxt {
                len = 0;
            }
        }
        let fin = self.flags.contains(Flags::FIN_QUEUED)
            && self.snd_nxt + len == fin_pos
            && (len == unsent || unsent == 0);
        if len == 0 && !fin {
            return None;
        }
        let mut flags = TcpFlags::ACK;
        if fin {
            flags |= TcpFlags::FIN;
        }
        if len > 0 && len == unsent {
            flags |= TcpFlags::PSH; // MUST-61: the segment that empties the buffer
        }
        Some(Plan {
            flags,
            seq: self.snd_nxt,
            len,
            hole: false,
        })
    }

    /// The tail-loss probe: new data if the windows allow it, else the last segment sent
    /// again (RFC 8985 §7.3)
    fn plan_probe(&self, seg_max: usize, fin_pos: SeqNumber) -> Option<Plan> {
        let flight = self.snd_max.bytes_after(self.snd_una) as usize;
        let unsent = self
            .tx
            .len()
            .saturating_sub(self.snd_max.bytes_after(self.data_start()) as usize);
        let allowance = self.send_allowance() as usize;
        if unsent > 0 && allowance > 0 && self.snd_nxt == self.snd_max {
            // New data probes as well as old, Nagle or not (RFC 8985 §7.3).
            let len = unsent.min(allowance).min(seg_max);
            let mut flags = TcpFlags::ACK;
            if len == unsent {
                flags |= TcpFlags::PSH;
            }
            return Some(Plan {
                flags,
                seq: self.snd_nxt,
                len,
                hole: false,
            });
        }
        let fin_in_flight = self.flags.contains(Flags::FIN_SENT) && self.snd_max.gt(fin_pos);
        let data_end = self.snd_max - u32::from(fin_in_flight);
        let data_in_flight = flight - usize::from(fin_in_flight);
        let len = data_in_flight.min(seg_max);
        let seq = data_end - len as u32;
        if len == 0 && !fin_in_flight {
            return None;
        }
        let mut flags = TcpFlags::ACK;
        if fin_in_flight {
            flags |= TcpFlags::FIN; // the FIN follows the last data byte
        }
        Some(Plan {
            flags,
            seq,
            len,
            hole: true,
        })
    }

    /// A lost range to resend in recovery (RFC 6675 §5 step C, RFC 6582 §3.2)
    fn plan_hole(&self, seg_max: usize, fin_pos: SeqNumber) -> Option<Plan> {
        let (seq, hole) = self.next_hole()?;
        let sack = self.flags.contains(Flags::SACK);
        // The first retransmission of an episode always goes (fast retransmit), and so does
        // a lost retransmission's second copy; others with SACK only while the pipe has room.
        let again = self.flags.contains(Flags::RESEND_FIRST);
        if sack && !again && !self.rexmit_high.le(self.snd_una) && self.pipe() >= self.cc.w.cwnd {
            return None;
        }
        let avail = fin_pos.bytes_after(seq) as usize;
        // Only inside the peer's window (SHLD-15, SHLD-16).
        let in_window = (self.snd_una + self.snd_wnd).bytes_after(seq) as usize;
        let len = (hole as usize).min(seg_max).min(avail).min(in_window);
        let fin = self.flags.contains(Flags::FIN_SENT)
            && seq + len == fin_pos
            && self.snd_max.gt(fin_pos);
        if len == 0 && !fin {
            return None;
        }
        let flags = if fin {
            TcpFlags::ACK | TcpFlags::FIN
        } else {
            TcpFlags::ACK
        };
        Some(Plan {
            flags,
            seq,
            len,
            hole: true,
        })
    }

    /// Start zero-window probing when the peer's window is closed with data waiting
    /// (RFC 9293 §3.8.6.1, SHLD-29: first probe after one RTO)
    fn arm_persist(&mut self, now: Instant, cfg: &ConnConfig) {
        let waiting = self.tx.len() > self.snd_nxt.bytes_after(self.data_start()) as usize;
        if self.snd_wnd == 0
            && waiting
            && self.snd_una == self.snd_max
            && self.state.is_synchronized()
            && self.timers.get(Timer::Persist).is_none()
        {
            self.timers.set(
                Timer::Persist,
                now + self.rtt.rto(cfg.max_rto, cfg.rto_slop),
            );
        }
    }

    /// Our timestamp clock: milliseconds plus a per-connection offset (RFC 7323 §5.4)
    pub(super) fn ts_now(&self, now: Instant) -> u32 {
        (now.total_millis() as u32).wrapping_add(self.iss.0.rotate_left(13))
    }

    /// The window to advertise, with receiver SWS avoidance (MUST-39) and never moving the
    /// right edge left (SHLD-14); returns the new right edge
    fn advertised_edge(&self, bufs: &Buffers<'_>, cfg: &ConnConfig, syn: bool) -> SeqNumber {
        let edge = self.sws_edge(bufs, cfg);
        if syn {
            return edge; // a SYN's window is never scaled (RFC 7323 §2.2)
        }
        let s = u32::from(self.rcv_wscale);
        let wnd = edge.bytes_after(self.rcv_nxt);
        // The window field counts units of 2^shift. Round down, so we never offer room the
        // buffer lacks, unless that would pull back an edge already announced (SHLD-14):
        // then round up just past it.
        let down = self.rcv_nxt + ((wnd >> s) << s).min(0xffff << s);
        if down.ge(self.rcv_adv) {
            return down;
        }
        self.rcv_nxt + (wnd.div_ceil(1 << s) << s).min(0xffff << s)
    }

    fn sws_edge(&self, bufs: &Buffers<'_>, cfg: &ConnConfig) -> SeqNumber {
        let cap = bufs.rx.len();
        let wnd = self.rx_window(cap, self.rx.len());
        let edge = self.rcv_nxt + wnd;
        let threshold = (cap as u32 / 2).min(u32::from(cfg.mss)).max(1);
        if edge.gt(self.rcv_adv) && edge.bytes_after(self.rcv_adv) < threshold && wnd < threshold {
            // Too small a step: keep the old edge.
            return self.rcv_adv.max(self.rcv_nxt);
        }
        edge.max(self.rcv_adv)
    }

    fn emit(
        &self,
        bufs: &Buffers<'_>,
        plan: &Plan,
        options: &TcpOptions,
        edge: SeqNumber,
        out: &mut [u8],
    ) -> Option<usize> {
        let syn = plan.flags.contains(TcpFlags::SYN);
        let wnd = edge.bytes_after(self.rcv_nxt);
        let window_len = if syn {
            wnd.min(0xffff)
        } else {
            (wnd >> self.rcv_wscale).min(0xffff)
        } as u16;
        let has_ack = plan.flags.contains(TcpFlags::ACK);
        let repr = TcpRepr {
            src_port: self.tuple.local_port,
            dst_port: self.tuple.remote_port,
            flags: plan.flags,
            seq_number: plan.seq,
            ack_number: if has_ack { self.rcv_nxt } else { SeqNumber(0) },
            window_len: if plan.flags.contains(TcpFlags::RST) {
                0
            } else {
                window_len
            },
            urgent_pointer: 0,
            options: *options,
            payload: &[],
        };
        let header = repr.emit_header(out, plan.len)?;
        let total = header + plan.len;
        let segment = &mut out[..total];
        if plan.len > 0 {
            let offset = plan.seq.bytes_after(self.data_start()) as usize;
            let copied = self.tx.peek(bufs.tx, offset, &mut segment[header..]);
            debug_assert_eq!(copied, plan.len);
        }
        let sum = checksum::tcp(&self.tuple.local_addr, &self.tuple.remote_addr, segment);
        segment[16..18].copy_from_slice(&sum.to_be_bytes());
        Some(total)
    }

    fn commit(
        &mut self,
        now: Instant,
        cfg: &ConnConfig,
        plan: &Plan,
        edge: SeqNumber,
        sink: &mut impl EventSink,
    ) {
        self.counters.segments_sent = self.counters.segments_sent.wrapping_add(1);
        if plan.flags.contains(TcpFlags::RST) {
            self.flags.remove(Flags::RST_NOW);
            self.finish(Trigger::Abort, CloseReason::Aborted, sink);
            return;
        }
        // Every segment carries the current ACK and window.
        self.flags.remove(Flags::ACK_NOW);
        self.timers.stop(Timer::DelayedAck);
        self.unacked_segments = 0;
        self.rcv_adv = self.rcv_adv.max(edge);
        let syn = plan.flags.contains(TcpFlags::SYN);
        let fin = plan.flags.contains(TcpFlags::FIN);
        let seq_len = plan.len as u32 + u32::from(syn) + u32::from(fin);
        if seq_len == 0 {
            if plan.seq.lt(self.snd_una) {
                self.flags.remove(Flags::PROBE); // a probe went out
            }
            return;
        }
        let end = plan.seq + seq_len;
        if plan.seq.lt(self.snd_max) {
            self.counters.retransmissions = self.counters.retransmissions.wrapping_add(1);
            if self.rtt_timer.seq().is_some_and(|s| s.ge(plan.seq)) {
                self.rtt_timer.stop(); // Karn's rule (RFC 6298 §3)
            }
        } else if self.rtt_timer.seq().is_none() {
            self.rtt_timer.start(plan.seq, now);
        }
        self.counters.bytes_sent = self.counters.bytes_sent.wrapping_add(plan.len as u64);
        if fin {
            self.flags |= Flags::FIN_SENT;
            self.snd_fin = plan.seq + plan.len;
        }
        let probe = self.flags.contains(Flags::TLP_SEND);
        if probe {
            self.flags.remove(Flags::TLP_SEND);
            self.flags |= Flags::TLP_PROBED;
        }
        if plan.hole {
            self.rexmit_high = self.rexmit_high.max(end);
            if plan.seq == self.snd_una {
                self.rexmit_mark = self.snd_max;
                self.flags.remove(Flags::RESEND_FIRST);
            }
        } else {
            self.snd_nxt = end;
            self.snd_max = self.snd_max.max(end);
        }
        // New data restarts a pending loss probe (RFC 8985 §7.2), so its timeout counts from
        // the last transmission and sees the whole flight.
        // So does the last hole of a recovery episode: what is left to fear then is a lost
        // ACK, which a probe finds sooner than the RTO.
        // A probe itself is followed by the RTO (RFC 8985 §7.3), never by another probe.
        let restart_probe = !probe
            && if plan.hole {
                self.flags.contains(Flags::RECOVERY) && self.next_hole().is_none()
            } else {
                self.flags.contains(Flags::TLP_ARMED)
            };
        if restart_probe || self.timers.get(Timer::Retransmit).is_none() {
            self.arm_retransmit(now, cfg);
        }
    }
}
