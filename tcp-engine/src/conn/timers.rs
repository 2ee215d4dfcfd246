//! What happens when a connection's timers fire (RFC 6298 §5, RFC 9293 §3.8)

use super::{CloseReason, ConnConfig, Connection, Event, EventSink, Flags, State, Timer, Trigger};
use crate::time::Instant;

impl Connection {
    /// Fire every timer due at `now`; calling it early or twice is harmless
    pub fn handle_timeout(&mut self, now: Instant, cfg: &ConnConfig, sink: &mut impl EventSink) {
        if self.timers.is_due(Timer::Linger, now) {
            self.timers.stop(Timer::Linger);
            match self.state {
                State::TimeWait => self.finish(Trigger::TimerExpired, CloseReason::Normal, sink),
                State::FinWait2 => self.finish(Trigger::TimerExpired, CloseReason::TimedOut, sink),
                State::SynSent => self.finish(Trigger::Timeout, CloseReason::TimedOut, sink),
                _ => {}
            }
            if self.state == State::Closed {
                return;
            }
        }
        if self.timers.is_due(Timer::Retransmit, now) && self.flags.contains(Flags::TLP_ARMED) {
            self.tail_loss_probe(now, cfg);
        } else if self.timers.is_due(Timer::Retransmit, now) {
            self.retransmit_timeout(now, cfg, sink);
            if self.state == State::Closed {
                return;
            }
        }
        if self.timers.is_due(Timer::DelayedAck, now) {
            self.timers.stop(Timer::DelayedAck);
            self.flags |= Flags::ACK_NOW;
        }
        if self.timers.is_due(Timer::Persist, now) {
            self.timers.stop(Timer::Persist);
            if self.snd_wnd == 0 {
                // MUST-37: probes go on while they are answered; unanswered ones count.
                self.probes = self.probes.saturating_add(1);
                if self.probes > cfg.max_retries {
                    self.finish(Trigger::Timeout, CloseReason::TimedOut, sink);
                    return;
                }
                self.flags |= Flags::PROBE;
                // SHLD-30: exponential backoff between probes, answered or not, for as long
                // as the window stays closed (`retries` counts nothing else meanwhile).
                self.retries = self.retries.saturating_add(1);
                if self.is_released() && self.retries > cfg.max_retries {
                    // Nobody waits for this data any more: an orphaned connection does not
                    // probe a closed window forever (bounded resources; MUST-37 protects
                    // connections an application still holds).
                    self.finish(Trigger::Timeout, CloseReason::TimedOut, sink);
                    return;
                }
                let base = self.rtt.rto(cfg.max_rto, cfg.rto_slop);
                let wait = base
                    .saturating_mul(1 << self.retries.min(16))
                    .min(cfg.max_rto);
                self.timers.set(Timer::Persist, now + wait);
            }
        }
        if self.timers.is_due(Timer::KeepAlive, now) {
            self.keep_alive_timeout(now, cfg, sink);
        }
    }

    fn retransmit_timeout(&mut self, now: Instant, cfg: &ConnConfig, sink: &mut impl EventSink) {
        self.timers.stop(Timer::Retransmit);
        if self.snd_una == self.snd_max
            && !matches!(self.state, State::SynSent | State::SynReceived)
        {
            return; // nothing outstanding
        }
        if self.snd_wnd == 0 && self.state.is_synchronized() {
            // The peer shrank its window to nothing under data in flight: that data is not
            // lost, the window is closed (SHLD-17). Probe like the persist timer; only
            // unanswered probes count toward giving up (MUST-37).
            self.probes = self.probes.saturating_add(1);
            if self.probes > cfg.max_retries {
                self.finish(Trigger::Timeout, CloseReason::TimedOut, sink);
                return;
            }
            self.flags |= Flags::PROBE;
            self.rtt.back_off();
            self.timers.set(
                Timer::Retransmit,
                now + self.rtt.rto(cfg.max_rto, cfg.rto_slop),
            );
            return;
        }
        self.retries = self.retries.saturating_add(1);
        let limit = match (self.state, self.r2) {
            (State::SynSent, _) => cfg.syn_retries,
            (State::SynReceived, _) => cfg.synack_retries,
            (_, 0) => cfg.max_retries,
            (_, r2) => r2,
        };
        if self.retries > limit && limit != u8::MAX {
            // R2 reached (RFC 9293 §3.8.3): give up.
            self.finish(Trigger::Timeout, CloseReason::TimedOut, sink);
            return;
        }
        if self.retries == cfg.r1_retries.max(1) {
            // R1 (SHLD-9): tell the application delivery is in trouble, and go on.
            sink.push(Event::DeliveryTrouble);
        }
        self.counters.timeouts = self.counters.timeouts.wrapping_add(1);
        let mss = self.eff_mss();
        self.cc
            .on_timeout(self.snd_max.bytes_after(self.snd_una), mss, now);
        self.on_rto_recovery();
        self.rtt.back_off();
        self.rtt_timer.stop();
        // Go back: resend from the oldest unacknowledged sequence number.
        self.snd_nxt = self.snd_una;
        self.timers.set(
            Timer::Retransmit,
            now + self.rtt.rto(cfg.max_rto, cfg.rto_slop),
        );
    }

    fn keep_alive_timeout(&mut self, now: Instant, cfg: &ConnConfig, sink: &mut impl EventSink) {
        self.timers.stop(Timer::KeepAlive);
        let Some(ka) = cfg.keep_alive else { return };
        if !self.flags.contains(Flags::KEEP_ALIVE) || !self.state.is_synchronized() {
            return;
        }
        if self.snd_una != self.snd_max || !self.tx.is_empty() {
            // MUST-26: only when nothing is outstanding or queued; the RTO or the persist
            // timer is in charge meanwhile.
            self.timers.set(Timer::KeepAlive, now + ka.idle);
            return;
        }
        if self.probes >= ka.probes.max(1) {
            self.finish(Trigger::Timeout, CloseReason::TimedOut, sink);
            return;
        }
        self.probes = self.probes.saturating_add(1);
        self.flags |= Flags::PROBE;
        self.timers.set(Timer::KeepAlive, now + ka.interval);
    }
}
