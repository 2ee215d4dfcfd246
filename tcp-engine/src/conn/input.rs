//! Segment arrival (RFC 9293 §3.10.7.3 and §3.10.7.4, with RFC 5961 and RFC 7323 checks)

use super::{
    Buffers, CloseReason, ConnConfig, Connection, Event, EventSink, Flags, State, Timer, Trigger,
};
use crate::seq::SeqNumber;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpRepr};

/// A segment the caller must send in reply, outside the connection's own output
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reply {
    /// RST with this sequence number, and an ACK field when `ack` is set
    Rst {
        /// Sequence number of the RST
        seq: SeqNumber,
        /// Acknowledgment number (sets the ACK flag)
        ack: Option<SeqNumber>,
    },
}

/// What a segment did to the connection
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SegmentOutcome {
    /// Processed (data, ACK, FIN or a state change)
    Accepted,
    /// Not acceptable for the window or sequence space; an ACK may be due in reply
    OutOfWindow,
    /// Acknowledges something never sent, or too old (RFC 5961 §5)
    BadAck,
    /// Failed the PAWS test (RFC 7323 §5)
    Paws,
    /// A RST or SYN that was not an exact match: a challenge ACK is due (RFC 5961 §3, §4)
    Challenged,
    /// Not meaningful in this state (e.g. no ACK flag)
    Ignored,
    /// Answered with this segment
    Replied(Reply),
    /// A passive half-open connection returned to LISTEN: the caller frees it
    BackToListen,
}

impl Connection {
    /// Process one arriving segment addressed to this connection
    ///
    /// Any segment is safe: malformed or unexpected ones are ignored as the RFC says.
    pub fn handle_segment(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        bufs: &mut Buffers<'_>,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) -> SegmentOutcome {
        match self.state {
            State::Closed | State::Listen => SegmentOutcome::Ignored,
            State::SynSent => self.syn_sent(now, seg, bufs, cfg, sink),
            State::Established if self.predicted(seg) => {
                self.predicted_data(now, seg, bufs, cfg, sink)
            }
            _ => self.synchronized(now, seg, bufs, cfg, sink),
        }
    }

    /// SYN-SENT (RFC 9293 §3.10.7.3)
    fn syn_sent(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        bufs: &mut Buffers<'_>,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) -> SegmentOutcome {
        let f = seg.flags;
        let ack = f.contains(TcpFlags::ACK);
        // First: an ACK for something we did not send.
        if ack && (seg.ack_number.le(self.iss) || seg.ack_number.gt(self.snd_max)) {
            if f.contains(TcpFlags::RST) {
                return SegmentOutcome::Ignored;
            }
            return SegmentOutcome::Replied(Reply::Rst {
                seq: seg.ack_number,
                ack: None,
            });
        }
        // Second: RST. Only with an acceptable ACK (RFC 5961 §3 leaves SYN-SENT as is).
        if f.contains(TcpFlags::RST) {
            if ack {
                self.finish(Trigger::RecvReset, CloseReason::Refused, sink);
                return SegmentOutcome::Accepted;
            }
            return SegmentOutcome::Ignored;
        }
        // Fourth: SYN.
        if !f.contains(TcpFlags::SYN) {
            return SegmentOutcome::Ignored;
        }
        self.irs = seg.seq_number;
        self.rcv_nxt = seg.seq_number + 1u32;
        self.negotiate(&seg.options, bufs.rx.len(), cfg);
        self.rcv_adv = self.rcv_nxt + self.rx_window(bufs.rx.len(), self.rx.len());
        if ack {
            // SYN-ACK: our SYN is acknowledged.
            self.process_ack_number(now, seg, cfg);
            self.update_send_window(seg, true);
            self.flags |= Flags::ACK_NOW;
            self.transition(Trigger::RecvSynAck, sink);
            self.arm_keep_alive(now, cfg);
            self.flags |= Flags::WANT_WRITABLE;
        } else {
            // Simultaneous open: SYN-ACK with our ISS (RFC 9293 §3.5, figure 7).
            self.snd_wnd = u32::from(seg.window_len);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq_number;
            self.snd_nxt = self.iss; // resend SYN, now with ACK
            self.rtt_timer.stop();
            self.transition(Trigger::RecvSyn, sink);
        }
        // Data on a SYN (RFC 9293 §3.10.7.3): queue it like any other.
        if !seg.payload.is_empty() || f.contains(TcpFlags::FIN) {
            let rest = TcpRepr {
                flags: f - TcpFlags::SYN,
                seq_number: seg.seq_number + 1u32,
                ..*seg
            };
            if self.state.is_synchronized() {
                self.receive_text(now, &rest, bufs, cfg, sink);
                self.receive_fin(now, &rest, cfg, sink);
            }
        }
        SegmentOutcome::Accepted
    }

    /// Every state from SYN-RECEIVED on (RFC 9293 §3.10.7.4)
    pub(super) fn synchronized(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        bufs: &mut Buffers<'_>,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) -> SegmentOutcome {
        let f = seg.flags;
        // PAWS (RFC 7323 §5.3): an old timestamp marks an old duplicate.
        // A reordered pure ACK carries nothing PAWS protects: let it through (as Linux does)
        // so its ACK and SACK information count; RFC 5961 §5 still checks its ACK number.
        let pure_ack = seg.payload.is_empty() && f == TcpFlags::ACK;
        if self.flags.contains(Flags::TIMESTAMPS) && !f.contains(TcpFlags::RST) && !pure_ack {
            if let Some((tsval, _)) = seg.options.timestamps {
                if (tsval.wrapping_sub(self.ts_recent) as i32) < 0 {
                    self.flags |= Flags::ACK_NOW;
                    return SegmentOutcome::Paws;
                }
            }
        }
        // First: sequence number acceptability (four cases).
        let trimmed;
        let mut seg = seg;
        let old = seg.seq_number + seg.segment_len() as u32;
        if cfg.ack_old_duplicates
            && !self.acceptable(seg, bufs.rx.len(), cfg)
            && old.le(self.rcv_nxt)
            && f.contains(TcpFlags::ACK)
            && !f.intersects(TcpFlags::RST | TcpFlags::SYN)
            && self.state != State::TimeWait
        {
            // BSD and Linux: an old duplicate is trimmed to nothing, ACKed, and its ACK field
            // still processed.
            self.flags |= Flags::ACK_NOW;
            trimmed = TcpRepr {
                flags: f - TcpFlags::FIN - TcpFlags::PSH,
                seq_number: self.rcv_nxt,
                payload: &[],
                ..*seg
            };
            seg = &trimmed;
        }
        let f = seg.flags;
        if !self.acceptable(seg, bufs.rx.len(), cfg) {
            if !f.contains(TcpFlags::RST) {
                self.flags |= Flags::ACK_NOW;
            }
            if self.state == State::TimeWait && f.contains(TcpFlags::FIN) {
                // A retransmitted FIN (it lies just below RCV.NXT): ACK it again and restart
                // the 2·MSL timer (RFC 9293 §3.10.7.4, TIME-WAIT).
                self.timers.set(Timer::Linger, now + cfg.msl * 2);
            }
            return SegmentOutcome::OutOfWindow;
        }
        // Second: RST (RFC 5961 §3: only an exact match resets; in-window gets a challenge).
        if f.contains(TcpFlags::RST) {
            if seg.seq_number != self.rcv_nxt {
                self.challenge_ack(now, cfg);
                return SegmentOutcome::Challenged;
            }
            if self.state == State::TimeWait && cfg.time_wait_rst_guard {
                return SegmentOutcome::Ignored; // RFC 1337: no TIME-WAIT assassination
            }
            return self.reset_received(sink);
        }
        // Fourth: SYN in a synchronized state.
        if f.contains(TcpFlags::SYN) {
            if self.state == State::SynReceived && self.is_passive() {
                // RFC 9293 §3.10.7.4: back to LISTEN for a passive open.
                self.transition_to(Trigger::RecvReset, Some(State::Listen), sink);
                return SegmentOutcome::BackToListen;
            }
            self.challenge_ack(now, cfg); // RFC 5961 §4
            return SegmentOutcome::Challenged;
        }
        // Fifth: the ACK field.
        if !f.contains(TcpFlags::ACK) {
            return SegmentOutcome::Ignored;
        }
        if self.state == State::SynReceived {
            if !(seg.ack_number.gt(self.snd_una) && seg.ack_number.le(self.snd_max)) {
                // An old duplicate SYN's handshake: reset it (RFC 9293 §3.5, figure 9).
                return SegmentOutcome::Replied(Reply::Rst {
                    seq: seg.ack_number,
                    ack: None,
                });
            }
            self.update_send_window(seg, true);
            self.transition(Trigger::RecvAckOfSyn, sink);
            self.arm_keep_alive(now, cfg);
        }
        // RFC 5961 §5 (MAY-12): acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
        let oldest = self.snd_una - self.max_snd_wnd;
        if seg.ack_number.gt(self.snd_max) || seg.ack_number.lt(oldest) {
            self.flags |= Flags::ACK_NOW;
            return SegmentOutcome::BadAck;
        }
        self.note_timestamp(seg);
        self.counters.segments_received = self.counters.segments_received.wrapping_add(1);
        self.probes = 0;
        self.arm_keep_alive(now, cfg);
        let fin_acked = self.process_ack(now, seg, bufs, cfg, sink);
        match self.state {
            State::Closing if fin_acked => {
                self.enter_time_wait(now, Trigger::RecvAckOfFin, cfg, sink)
            }
            State::LastAck if fin_acked => {
                self.finish(Trigger::RecvAckOfFin, CloseReason::Normal, sink);
                return SegmentOutcome::Accepted;
            }
            State::TimeWait => {
                // Only a retransmitted FIN can arrive: re-ACK it and restart 2·MSL.
                if f.contains(TcpFlags::FIN) {
                    self.flags |= Flags::ACK_NOW;
                    self.timers.set(Timer::Linger, now + cfg.msl * 2);
                }
                return SegmentOutcome::Accepted;
            }
            _ => {}
        }
        // Sixth and seventh: urgent pointer (delivered in line) and segment text.
        if matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            self.receive_text(now, seg, bufs, cfg, sink);
        } else if !seg.payload.is_empty() && self.is_released() {
            // Data after close, nobody to read it (SHLD-3): reset.
            self.flags |= Flags::RST_NOW;
        }
        // Eighth: FIN.
        self.receive_fin(now, seg, cfg, sink);
        // FIN-WAIT-1 whose FIN was acked but no FIN came: FIN-WAIT-2.
        if self.state == State::FinWait1 && fin_acked {
            self.transition(Trigger::RecvAckOfFin, sink);
            if self.is_released() {
                self.timers.set(Timer::Linger, now + cfg.fin_wait_2_timeout);
            }
        }
        SegmentOutcome::Accepted
    }

    /// The four-case acceptability test (RFC 9293 §3.10.7.4)
    fn acceptable(&self, seg: &TcpRepr<'_>, rx_cap: usize, cfg: &ConnConfig) -> bool {
        let len = seg.segment_len() as u32;
        let mut wnd = self.rcv_adv.bytes_after(self.rcv_nxt);
        if cfg.rcv_wnd_from_buffer {
            wnd = wnd.max(rx_cap.saturating_sub(self.rx.len()) as u32);
        }
        let seq = seg.seq_number;
        match (len, wnd) {
            // "Special allowance" for valid ACKs (RFC 9293 §3.10.7.4): a zero-length segment
            // at the right edge itself is accepted (as Linux does), so a peer whose data
            // filling our window was lost is still heard. RSTs keep the strict test.
            (0, _) if !seg.flags.contains(TcpFlags::RST) => {
                seq.between_inclusive(self.rcv_nxt, self.rcv_nxt + wnd)
            }
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => seq.in_window(self.rcv_nxt, wnd),
            (_, 0) => false,
            _ => seq.in_window(self.rcv_nxt, wnd) || (seq + (len - 1)).in_window(self.rcv_nxt, wnd),
        }
    }

    /// An acceptable RST arrived (RFC 9293 §3.10.7.4, second check)
    fn reset_received(&mut self, sink: &mut impl EventSink) -> SegmentOutcome {
        match self.state {
            State::SynReceived if self.is_passive() => {
                self.transition_to(Trigger::RecvReset, Some(State::Listen), sink);
                SegmentOutcome::BackToListen
            }
            State::SynReceived => {
                self.finish(Trigger::RecvReset, CloseReason::Refused, sink);
                SegmentOutcome::Accepted
            }
            State::Closing | State::LastAck | State::TimeWait => {
                self.finish(Trigger::RecvReset, CloseReason::Normal, sink);
                SegmentOutcome::Accepted
            }
            _ => {
                self.finish(Trigger::RecvReset, CloseReason::Reset, sink);
                SegmentOutcome::Accepted
            }
        }
    }

    /// Send an ACK in reply to a suspicious RST or SYN, at most `challenge_ack_limit` a second
    fn challenge_ack(&mut self, now: Instant, cfg: &ConnConfig) {
        let second = (now.total_micros() / 1_000_000) as u32;
        if second != self.challenge_second {
            self.challenge_second = second;
            self.challenge_count = 0;
        }
        self.challenge_count = self.challenge_count.saturating_add(1);
        if self.challenge_count <= cfg.challenge_ack_limit {
            self.flags |= Flags::ACK_NOW;
        }
    }

    /// Remember the peer's timestamp for echoing (RFC 7323 §4.3)
    pub(super) fn note_timestamp(&mut self, seg: &TcpRepr<'_>) {
        if let Some((tsval, _)) = seg.options.timestamps {
            if self.flags.contains(Flags::TIMESTAMPS)
                && seg.seq_number.le(self.rcv_nxt)
                && (tsval.wrapping_sub(self.ts_recent) as i32) >= 0
            {
                self.ts_recent = tsval;
            }
        }
    }

    /// Update SND.WND from a segment (RFC 9293 §3.10.7.4, fifth check, ESTABLISHED)
    pub(super) fn update_send_window(&mut self, seg: &TcpRepr<'_>, force: bool) {
        if force
            || self.snd_wl1.lt(seg.seq_number)
            || (self.snd_wl1 == seg.seq_number && self.snd_wl2.le(seg.ack_number))
        {
            let shift = if seg.flags.contains(TcpFlags::SYN) {
                0
            } else {
                self.snd_wscale
            };
            self.snd_wnd = u32::from(seg.window_len) << shift;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seg.seq_number;
            self.snd_wl2 = seg.ack_number;
        }
    }

    /// Advance SND.UNA for the SYN-ACK case (SYN-SENT)
    fn process_ack_number(&mut self, now: Instant, seg: &TcpRepr<'_>, cfg: &ConnConfig) {
        if seg.ack_number.gt(self.snd_una) {
            self.take_rtt_sample(now, seg.ack_number, cfg);
            self.snd_una = seg.ack_number;
            if self.snd_nxt.lt(self.snd_una) {
                self.snd_nxt = self.snd_una;
            }
            self.retries = 0;
            self.rtt.reset_backoff();
            self.timers.stop(Timer::Retransmit);
        }
    }

    /// RTT from the echoed timestamp (RFC 7323 §4.1), when timestamps are on
    fn take_ts_sample(&mut self, now: Instant, seg: &TcpRepr<'_>, cfg: &ConnConfig) -> bool {
        let Some((_, tsecr)) = seg.options.timestamps else {
            return false;
        };
        if !self.flags.contains(Flags::TIMESTAMPS) || tsecr == 0 {
            return false;
        }
        let elapsed = self.ts_now(now).wrapping_sub(tsecr);
        if elapsed > 60_000 {
            return false; // not an echo of ours
        }
        let rtt = core::time::Duration::from_millis(u64::from(elapsed));
        self.rtt.sample(rtt, cfg.min_rto, cfg.max_rto);
        self.cc.on_rtt(rtt, now, self.eff_mss());
        self.rtt_timer.stop();
        true
    }

    fn take_rtt_sample(&mut self, now: Instant, ack: SeqNumber, cfg: &ConnConfig) {
        if let Some(seq) = self.rtt_timer.seq() {
            if ack.gt(seq) {
                let rtt = self.rtt_timer.elapsed(now);
                self.rtt.sample(rtt, cfg.min_rto, cfg.max_rto);
                self.cc.on_rtt(rtt, now, self.eff_mss());
                self.rtt_timer.stop();
            }
        }
    }

    /// ACK processing in synchronized states; returns whether our FIN is now acknowledged
    fn process_ack(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        bufs: &mut Buffers<'_>,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) -> bool {
        let ack = seg.ack_number;
        let old_wnd = self.snd_wnd;
        let is_dup = ack == self.snd_una
            && seg.payload.is_empty()
            && !seg.flags.intersects(TcpFlags::SYN | TcpFlags::FIN)
            && u32::from(seg.window_len) << self.snd_wscale == old_wnd
            && old_wnd > 0 // answers to zero-window probes are not a sign of loss
            && self.snd_max.gt(self.snd_una);
        if ack.gt(self.snd_una) {
            let acked = ack.bytes_after(self.snd_una);
            let syn_part = u32::from(self.snd_una == self.iss);
            let data_acked = (acked - syn_part).min(self.tx.len() as u32);
            if !self.take_ts_sample(now, seg, cfg) {
                self.take_rtt_sample(now, ack, cfg);
            }
            self.tx.consume(bufs.tx, data_acked as usize);
            self.sacked.advance(acked);
            self.snd_una = ack;
            if self.snd_nxt.lt(ack) {
                self.snd_nxt = ack;
            }
            self.retries = 0;
            self.rtt.reset_backoff();
            self.update_scoreboard(seg);
            self.on_new_ack(now, data_acked);
            self.sack_loss_check(now, cfg);
            if self.snd_una == self.snd_max {
                self.timers.stop(Timer::Retransmit);
                self.flags.remove(Flags::TLP_ARMED);
            } else {
                self.arm_retransmit(now, cfg);
            }
            if self.flags.contains(Flags::WANT_WRITABLE) && data_acked > 0 {
                self.flags.remove(Flags::WANT_WRITABLE);
                sink.push(Event::Writable);
            }
            self.sample_delivery(now, data_acked);
        } else {
            self.update_scoreboard(seg);
            if is_dup {
                self.on_dup_ack(now, cfg);
            }
            self.sack_loss_check(now, cfg);
            self.sample_delivery(now, 0);
        }
        self.update_send_window(seg, false);
        if self.snd_wnd > 0 {
            self.timers.stop(Timer::Persist);
        }
        self.fin_acked()
    }

    /// Whether our FIN has been sent and acknowledged
    pub(super) fn fin_acked(&self) -> bool {
        self.flags.contains(Flags::FIN_SENT) && self.snd_una.gt(self.snd_fin)
    }

    /// The sequence number our FIN takes (after all queued data)
    pub(super) fn fin_seq_out(&self) -> SeqNumber {
        self.data_start() + self.tx.len()
    }

    /// Sequence number of the first byte in the send buffer
    pub(super) fn data_start(&self) -> SeqNumber {
        if self.snd_una == self.iss {
            self.iss + 1u32
        } else {
            self.snd_una
        }
    }

    /// Segment text (RFC 9293 §3.10.7.4, seventh check) with out-of-order reassembly
    pub(super) fn receive_text(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        bufs: &mut Buffers<'_>,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) {
        if seg.payload.is_empty() {
            return;
        }
        if self.is_released() {
            // Nobody will read it (SHLD-3).
            self.flags |= Flags::RST_NOW;
            return;
        }
        // Trim what we already have and what lies beyond the window.
        let skip = self.rcv_nxt.bytes_after(seg.seq_number) as usize;
        if skip >= seg.payload.len() {
            self.flags |= Flags::ACK_NOW; // a pure duplicate: tell the peer where we are
            return;
        }
        let data = &seg.payload[skip..];
        let offset = seg.seq_number.bytes_after(self.rcv_nxt) as usize;
        let cap = bufs.rx.len();
        let room = cap.saturating_sub(self.rx.len());
        if offset >= room {
            self.flags |= Flags::ACK_NOW;
            return;
        }
        let data = &data[..data.len().min(room - offset)];
        // Full-sized: the largest payload the peer may send us, options taken off.
        let ts_len = if self.flags.contains(Flags::TIMESTAMPS) {
            12
        } else {
            0
        };
        let full_sized = data.len() + ts_len >= usize::from(self.snd_mss.min(cfg.mss));
        if offset == 0 {
            let n = self.rx.write_at(bufs.rx, self.rx.len(), data);
            let had_gap = !self.ooo.is_empty();
            let ready = if had_gap {
                let _ = self.ooo.add(0, n as u32);
                let ready = self.ooo.front_len();
                self.ooo.advance(ready);
                ready
            } else {
                n as u32 // the common case: nothing held out of order
            };
            self.rx.commit(bufs.rx, ready as usize);
            self.rcv_nxt += ready;
            self.counters.bytes_received =
                self.counters.bytes_received.wrapping_add(u64::from(ready));
            if !self.flags.contains(Flags::READABLE_SENT) {
                self.flags |= Flags::READABLE_SENT;
                sink.push(Event::Readable);
            }
            self.schedule_ack(now, full_sized, had_gap, cfg);
        } else {
            // Out of order (SHLD-31): keep it if a range is free, and ACK at once so the
            // peer sees the gap (RFC 5681 §4.2).
            let abs = self.rx.len() + offset;
            if self.ooo.add(offset as u32, data.len() as u32).is_ok() {
                self.rx.write_at(bufs.rx, abs, data);
            }
            self.flags |= Flags::ACK_NOW;
        }
    }

    /// Decide between an immediate and a delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2)
    fn schedule_ack(&mut self, now: Instant, full_sized: bool, filled_gap: bool, cfg: &ConnConfig) {
        if self.quick_left > 0 {
            self.quick_left -= 1;
            self.flags |= Flags::ACK_NOW;
            return;
        }
        if full_sized {
            self.unacked_segments = self.unacked_segments.saturating_add(1);
        }
        match cfg.delayed_ack {
            // SHLD-19: at least every second full-sized segment; gap fills at once.
            Some(delay) if self.unacked_segments < 2 && !filled_gap => {
                if self.timers.get(Timer::DelayedAck).is_none() {
                    self.timers.set(Timer::DelayedAck, now + delay);
                }
            }
            _ => self.flags |= Flags::ACK_NOW,
        }
    }

    /// The FIN check (RFC 9293 §3.10.7.4, eighth check), also for a FIN held beyond a gap
    fn receive_fin(
        &mut self,
        now: Instant,
        seg: &TcpRepr<'_>,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) {
        if seg.flags.contains(TcpFlags::FIN) && !self.flags.contains(Flags::FIN_RECEIVED) {
            let fin_at = seg.seq_number + seg.payload.len();
            self.fin_seq = fin_at;
            self.flags |= Flags::FIN_AHEAD;
        }
        if !self.flags.contains(Flags::FIN_AHEAD) || self.fin_seq != self.rcv_nxt {
            return;
        }
        self.flags.remove(Flags::FIN_AHEAD);
        self.flags |= Flags::FIN_RECEIVED | Flags::ACK_NOW;
        self.rcv_nxt += 1u32;
        sink.push(Event::PeerClosed);
        match self.state {
            State::SynReceived | State::Established => self.transition(Trigger::RecvFin, sink),
            State::FinWait1 => {
                if self.fin_acked() {
                    self.enter_time_wait(now, Trigger::RecvFinAckOfFin, cfg, sink);
                } else {
                    self.transition(Trigger::RecvFin, sink);
                }
            }
            State::FinWait2 => self.enter_time_wait(now, Trigger::RecvFin, cfg, sink),
            _ => {}
        }
    }

    fn enter_time_wait(
        &mut self,
        now: Instant,
        trigger: Trigger,
        cfg: &ConnConfig,
        sink: &mut impl EventSink,
    ) {
        self.transition(trigger, sink);
        self.timers.stop_all();
        self.timers.set(Timer::Linger, now + cfg.msl * 2);
        // No ACK of its own: a FIN that led here is acknowledged by `receive_fin`, and the
        // pure ACK that moves CLOSING to TIME-WAIT is not acknowledged (RFC 9293 §3.10.7.4).
    }
}
