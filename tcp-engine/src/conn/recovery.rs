//! Loss recovery: fast retransmit and NewReno (RFC 5681 §3.2, RFC 6582), SACK-based
//! recovery (RFC 6675) and Limited Transmit (RFC 3042)
//!
//! Recovery never rewinds SND.NXT: lost segments ("holes") are resent one by one while new
//! data keeps flowing as the window allows. Only a retransmission timeout goes back to
//! SND.UNA (RFC 5681 §3.1), and then the SACK scoreboard is forgotten (RFC 2018 §8).

use super::congestion::AckSample;
use super::{ConnConfig, Connection, Flags, Timer};
use crate::seq::SeqNumber;
use crate::time::Instant;
use crate::wire::TcpRepr;

/// Duplicate ACKs (or segments SACKed above SND.UNA) that signal a loss (RFC 5681 DupThresh)
const DUP_THRESH: u32 = 3;

impl Connection {
    /// The payload of a full-sized segment: the send MSS less the timestamp option, which
    /// every segment carries once negotiated (what congestion control counts in)
    pub(super) fn eff_mss(&self) -> u32 {
        let ts = if self.flags.contains(Flags::TIMESTAMPS) {
            12
        } else {
            0
        };
        u32::from(self.snd_mss).saturating_sub(ts).max(1)
    }

    /// SACK-based loss detection (RFC 6675 IsLost): DupThresh segments' worth of data SACKed
    /// above SND.UNA starts recovery even when no pure duplicate ACK arrives (the peer's ACKs
    /// may all carry data)
    pub(super) fn sack_loss_check(&mut self, now: Instant, cfg: &ConnConfig) {
        if self.flags.contains(Flags::SACK) && !self.flags.contains(Flags::RECOVERY) {
            let mss = self.eff_mss();
            // After a tail-loss probe, any SACK above SND.UNA shows the hole before the probe
            // was lost (RFC 8985 §7.4: the probe's ACK triggers recovery).
            let probed = self.flags.contains(Flags::TLP_PROBED) && !self.sacked.is_empty();
            if probed || self.sacked_bytes() >= DUP_THRESH * mss {
                self.enter_recovery(now, cfg);
            }
        } else if self.flags.contains(Flags::SACK) {
            self.lost_retransmit_check();
        }
        if self.snd_una == self.snd_max {
            self.flags.remove(Flags::TLP_PROBED);
        }
    }

    /// A lost retransmission (RFC 8985 §6.2, by sequence rather than by time): the segment
    /// at SND.UNA was resent, yet DupThresh segments' worth of data sent after that
    /// retransmission has been SACKed (or, after a probe, any of it): the copy was lost as
    /// well, and is resent without waiting for the RTO
    fn lost_retransmit_check(&mut self) {
        let resent = self.rexmit_high.gt(self.snd_una);
        if !resent || self.flags.contains(Flags::RESEND_FIRST) {
            return;
        }
        let Some((_, top)) = self.sacked.ranges().last() else {
            return;
        };
        let top = self.snd_una + top;
        let probed = self.flags.contains(Flags::TLP_PROBED) && top.gt(self.rexmit_mark);
        if probed || top.ge(self.rexmit_mark + DUP_THRESH * self.eff_mss()) {
            self.flags |= Flags::RESEND_FIRST;
        }
    }

    /// Record the peer's SACK blocks above SND.UNA (RFC 6675 §5, scoreboard update)
    pub(super) fn update_scoreboard(&mut self, seg: &TcpRepr<'_>) {
        if !self.flags.contains(Flags::SACK) {
            return;
        }
        for b in seg.options.sack_blocks() {
            // Ignore D-SACKs and blocks outside what is in flight.
            if b.left.lt(self.snd_una) || b.right.gt(self.snd_max) || !b.left.lt(b.right) {
                continue;
            }
            let off = b.left.bytes_after(self.snd_una);
            let _ = self.sacked.add(off, b.right.bytes_after(b.left));
        }
    }

    /// Feed a model-based controller what this ACK showed (nothing to do for the others)
    #[inline]
    pub(super) fn sample_delivery(&mut self, now: Instant, acked: u32) {
        if self.cc.bbr().is_some() {
            self.sample_delivery_bbr(now, acked);
        }
    }

    /// [`Connection::sample_delivery`] for BBR
    #[inline(never)]
    fn sample_delivery_bbr(&mut self, now: Instant, acked: u32) {
        let top = self.sacked.ranges().last().map_or(0, |(_, b)| b);
        let sample = AckSample {
            now,
            acked,
            delivered: self
                .snd_una
                .bytes_after(self.iss)
                .wrapping_add(self.sacked_bytes()),
            delivered_seq: self.snd_una + top,
            snd_max: self.snd_max,
            inflight: self.pipe(),
            mss: self.eff_mss(),
        };
        self.cc.on_sample(&sample);
    }

    fn sacked_bytes(&self) -> u32 {
        self.sacked.ranges().map(|(a, b)| b - a).sum()
    }

    /// New data was acknowledged
    pub(super) fn on_new_ack(&mut self, now: Instant, data_acked: u32) {
        let mss = self.eff_mss();
        self.dup_acks = 0;
        if !self.flags.contains(Flags::RECOVERY) {
            self.cc
                .on_ack(data_acked, mss, now, self.rtt.srtt().unwrap_or_default());
            return;
        }
        if self.snd_una.ge(self.recover) {
            // Full ACK: recovery is over (RFC 6582 §3.2 step 6, RFC 6675 §5).
            self.flags.remove(Flags::RECOVERY | Flags::RESEND_FIRST);
            self.cc.on_recovery_end(mss);
        } else if !self.flags.contains(Flags::SACK) {
            // NewReno partial ACK (RFC 6582 §3.2 step 5): the next hole starts at SND.UNA.
            self.cc.on_partial_ack(data_acked, mss);
            self.rexmit_high = self.snd_una;
        } else {
            // When the segment now at SND.UNA was resent is not known: count from now.
            self.rexmit_mark = self.snd_max;
            self.flags.remove(Flags::RESEND_FIRST);
        }
        self.rexmit_high = self.rexmit_high.max(self.snd_una);
    }

    /// A duplicate ACK arrived (RFC 5681 §2)
    pub(super) fn on_dup_ack(&mut self, now: Instant, cfg: &ConnConfig) {
        let mss = self.eff_mss();
        self.dup_acks = self.dup_acks.saturating_add(1);
        if self.flags.contains(Flags::RECOVERY) {
            if !self.flags.contains(Flags::SACK) {
                self.cc.on_dup_ack_in_recovery(mss); // RFC 6582 §3.2 step 4
            }
            return;
        }
        let lost = u32::from(self.dup_acks) >= DUP_THRESH
            || (self.flags.contains(Flags::SACK) && self.sacked_bytes() >= DUP_THRESH * mss);
        if lost {
            self.enter_recovery(now, cfg);
        }
    }

    /// Fast retransmit and the start of recovery (RFC 5681 §3.2, RFC 6582, RFC 6675 §5)
    fn enter_recovery(&mut self, now: Instant, cfg: &ConnConfig) {
        // RFC 6582 §3.2 step 2: one window reduction per window of data.
        if !self.snd_una.ge(self.recover) || !self.snd_max.gt(self.snd_una) {
            return;
        }
        let mss = self.eff_mss();
        let flight = self.snd_max.bytes_after(self.snd_una);
        let sack = self.flags.contains(Flags::SACK);
        self.cc
            .on_recovery_start(flight, self.pipe(), sack, mss, now);
        self.recover = self.snd_max;
        self.rexmit_high = self.snd_una;
        self.flags |= Flags::RECOVERY;
        self.rtt_timer.stop();
        self.counters.fast_retransmits = self.counters.fast_retransmits.wrapping_add(1);
        self.timers.set(
            Timer::Retransmit,
            now + self.rtt.rto(cfg.max_rto, cfg.rto_slop),
        );
    }

    /// Arm the retransmission timer for data in flight: a tail-loss probe timeout
    /// PTO = 2·SRTT (plus a delayed-ACK allowance for a single segment) when it comes before
    /// the RTO and SACK is on, the RTO otherwise (RFC 8985 §7.2)
    pub(super) fn arm_retransmit(&mut self, now: Instant, cfg: &ConnConfig) {
        // In microseconds: this runs for every segment of new data sent.
        let rto = self.rtt.rto_micros(cfg.max_rto, cfg.rto_slop);
        self.flags.remove(Flags::TLP_ARMED);
        let tlp_ok = cfg.tail_loss_probe
            && self.flags.contains(Flags::SACK)
            && (!self.flags.contains(Flags::RECOVERY) || self.next_hole().is_none())
            && self.state.is_synchronized()
            && self.rtt.backoffs() == 0;
        if let (true, Some(srtt)) = (tlp_ok, self.rtt.srtt_micros()) {
            let mut pto = (srtt * 2).max(10_000);
            if self.snd_max.bytes_after(self.snd_una) <= self.eff_mss() {
                pto += 200_000; // WCDelAckT, 200 ms
            }
            if pto < rto {
                self.flags |= Flags::TLP_ARMED;
                self.timers
                    .set_micros(Timer::Retransmit, now.total_micros().saturating_add(pto));
                return;
            }
        }
        self.timers
            .set_micros(Timer::Retransmit, now.total_micros().saturating_add(rto));
    }

    /// The probe timeout fired: send the last segment again and fall back to the RTO
    /// (RFC 8985 §7.3); no window reduction, no backoff
    pub(super) fn tail_loss_probe(&mut self, now: Instant, cfg: &ConnConfig) {
        self.flags.remove(Flags::TLP_ARMED);
        self.flags |= Flags::TLP_SEND;
        self.timers.set(
            Timer::Retransmit,
            now + self.rtt.rto(cfg.max_rto, cfg.rto_slop),
        );
    }

    /// The retransmission timer expired: forget SACK information, leave recovery
    pub(super) fn on_rto_recovery(&mut self) {
        self.sacked.clear();
        self.flags.remove(Flags::RECOVERY | Flags::RESEND_FIRST);
        self.recover = self.snd_max;
        self.rexmit_high = self.snd_una;
        self.dup_acks = 0;
    }

    /// Bytes in flight: sent, not acknowledged, not SACKed (RFC 6675 "pipe", simplified to
    /// count a hole as in flight until it is acknowledged)
    pub(super) fn pipe(&self) -> u32 {
        self.snd_max
            .bytes_after(self.snd_una)
            .saturating_sub(self.sacked_bytes())
    }

    /// The next lost range to resend in recovery, as (sequence number, length)
    ///
    /// With SACK: the first hole below the highest SACKed byte not yet resent (RFC 6675
    /// NextSeg rule 1). Without: the segment at SND.UNA, once per partial ACK (RFC 6582).
    #[inline]
    pub(super) fn next_hole(&self) -> Option<(SeqNumber, u32)> {
        if !self.flags.contains(Flags::RECOVERY) {
            return None; // the common case, decided inline
        }
        self.next_hole_in_recovery()
    }

    /// [`Connection::next_hole`] in recovery
    #[inline(never)]
    fn next_hole_in_recovery(&self) -> Option<(SeqNumber, u32)> {
        let mss = self.eff_mss();
        if self.flags.contains(Flags::RESEND_FIRST) {
            let upto = self
                .sacked
                .ranges()
                .next()
                .map_or(self.snd_max, |(a, _)| self.snd_una + a);
            return Some((self.snd_una, upto.bytes_after(self.snd_una).min(mss)));
        }
        if self.flags.contains(Flags::SACK) && !self.sacked.is_empty() {
            let mut start = self.snd_una;
            for (a, b) in self.sacked.ranges() {
                let end = self.snd_una + a;
                let from = start.max(self.rexmit_high);
                if from.lt(end) {
                    return Some((from, end.bytes_after(from).min(mss)));
                }
                start = self.snd_una + b;
            }
            return None;
        }
        if self.rexmit_high.le(self.snd_una) && self.snd_max.gt(self.snd_una) {
            return Some((
                self.snd_una,
                self.snd_max.bytes_after(self.snd_una).min(mss),
            ));
        }
        None
    }

    /// How far past SND.NXT new data may go: the peer's window, the congestion window with
    /// Limited Transmit (RFC 3042) outside recovery, and the pipe inside SACK recovery
    pub(super) fn send_allowance(&self) -> u32 {
        let mss = self.eff_mss();
        let by_peer = (self.snd_una + self.snd_wnd).bytes_after(self.snd_nxt);
        let by_cwnd = if self.flags.contains(Flags::RECOVERY) && self.flags.contains(Flags::SACK) {
            self.cc.w.cwnd.saturating_sub(self.pipe())
        } else {
            let limited = if self.flags.contains(Flags::RECOVERY) {
                0
            } else {
                u32::from(self.dup_acks.min(2)) * mss
            };
            (self.snd_una + self.cc.w.cwnd.saturating_add(limited)).bytes_after(self.snd_nxt)
        };
        by_peer.min(by_cwnd)
    }
}
