//! Congestion control (RFC 5681), with the algorithm chosen per connection at run time
//!
//! The window counts bytes. Slow start is shared (RFC 5681 §3.1, with appropriate byte
//! counting L = 1 MSS); congestion avoidance and the reaction to loss belong to the
//! algorithm, behind the [`CongestionControl`] trait: [`NewReno`] (RFC 5681, RFC 6582) and
//! [`Cubic`] (RFC 9438, integer arithmetic). [`Bbr`] is model-based instead: it owns the
//! whole window, slow start and loss response included, and is fed an [`AckSample`] for every
//! acceptable ACK. The connection holds a [`Controller`], an enum over the built-in
//! algorithms, so choosing one per connection needs no allocation.

mod bbr;
mod cubic;
mod newreno;

use core::time::Duration;

pub use bbr::{Bbr, Phase as BbrPhase};
pub use cubic::Cubic;
pub use newreno::NewReno;

use crate::seq::SeqNumber;
use crate::time::Instant;

/// What an acceptable ACK showed the sender, for model-based control
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckSample {
    /// When the ACK arrived
    pub now: Instant,
    /// Bytes newly acknowledged cumulatively
    pub acked: u32,
    /// Bytes delivered so far, cumulatively or by SACK (a wrapping count)
    pub delivered: u32,
    /// The highest sequence number known delivered (SND.UNA or the highest SACKed byte)
    pub delivered_seq: SeqNumber,
    /// The highest sequence number sent plus one
    pub snd_max: SeqNumber,
    /// Bytes in flight (RFC 6675 pipe)
    pub inflight: u32,
    /// The payload of a full-sized segment
    pub mss: u32,
}

/// The congestion and slow-start windows, in bytes
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Congestion window
    pub cwnd: u32,
    /// Slow-start threshold
    pub ssthresh: u32,
}

/// A congestion-avoidance algorithm
pub trait CongestionControl {
    /// New data was acknowledged in congestion avoidance (`cwnd >= ssthresh`): grow the window
    fn on_ack(&mut self, w: &mut Window, acked: u32, mss: u32, now: Instant, rtt: Duration);
    /// Loss detected by duplicate ACKs or SACK: set `ssthresh` and `cwnd` for recovery
    fn on_congestion(&mut self, w: &mut Window, flight: u32, mss: u32, now: Instant);
    /// The retransmission timer expired: `cwnd` goes to one segment (RFC 5681 §3.1)
    fn on_timeout(&mut self, w: &mut Window, flight: u32, mss: u32, now: Instant) {
        self.on_congestion(w, flight, mss, now);
        w.cwnd = mss;
    }
}

/// Which algorithm a connection uses
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Algorithm {
    /// NewReno (RFC 5681, RFC 6582)
    #[default]
    NewReno,
    /// CUBIC (RFC 9438)
    Cubic,
    /// Model-based, after BBR (draft-ietf-ccwg-bbr): random loss does not shrink the window
    Bbr,
}

/// The built-in algorithms, dispatched without allocation
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// NewReno
    NewReno(NewReno),
    /// CUBIC
    Cubic(Cubic),
    /// BBR
    Bbr(Bbr),
}

impl Controller {
    /// A fresh controller for `algorithm`
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::NewReno => Self::NewReno(NewReno::default()),
            Algorithm::Cubic => Self::Cubic(Cubic::default()),
            Algorithm::Bbr => Self::Bbr(Bbr::default()),
        }
    }

    /// The loss-based algorithm, or `None` for BBR, which owns the whole window
    fn get(&mut self) -> Option<&mut dyn CongestionControl> {
        match self {
            Self::NewReno(c) => Some(c),
            Self::Cubic(c) => Some(c),
            Self::Bbr(_) => None,
        }
    }
}

/// Congestion state of one connection
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Congestion {
    pub(crate) w: Window,
    ctl: Controller,
}

impl Congestion {
    /// Initial window of `iw` segments (RFC 6928) and an unlimited threshold (RFC 5681 §3.1)
    pub(crate) fn new(iw: u16, mss: u32, algorithm: Algorithm) -> Self {
        let cwnd = u32::from(iw.max(1)).saturating_mul(mss);
        Self {
            w: Window {
                cwnd,
                ssthresh: u32::MAX,
            },
            ctl: Controller::new(algorithm),
        }
    }

    /// Use another algorithm from now on; the windows are kept
    pub(crate) fn set_algorithm(&mut self, algorithm: Algorithm) {
        self.ctl = Controller::new(algorithm);
    }

    /// Reset the initial window once the MSS is known
    pub(crate) fn set_initial(&mut self, iw: u16, mss: u32) {
        self.w.cwnd = u32::from(iw.max(1)).saturating_mul(mss);
    }

    /// The BBR state, when that is the algorithm
    pub(crate) fn bbr(&self) -> Option<&Bbr> {
        match &self.ctl {
            Controller::Bbr(b) => Some(b),
            _ => None,
        }
    }

    /// Every acceptable ACK (model-based control only)
    pub(crate) fn on_sample(&mut self, s: &AckSample) {
        if let Controller::Bbr(b) = &mut self.ctl {
            b.on_sample(&mut self.w, s);
        }
    }

    /// Every RTT sample (model-based control only)
    pub(crate) fn on_rtt(&mut self, rtt: Duration, now: Instant, mss: u32) {
        if let Controller::Bbr(b) = &mut self.ctl {
            let us = rtt.as_micros().min(u128::from(u32::MAX)) as u32;
            b.on_rtt(&mut self.w, us, now, mss);
        }
    }

    /// New data was acknowledged outside recovery
    pub(crate) fn on_ack(&mut self, acked: u32, mss: u32, now: Instant, rtt: Duration) {
        let Some(ctl) = self.ctl.get() else {
            return; // BBR: see `on_sample`
        };
        if self.w.cwnd < self.w.ssthresh {
            // Slow start with appropriate byte counting, L = 2·SMSS (RFC 3465 §2.2): an ACK
            // that covers several segments (delayed or coalesced ACKs) grows the window by
            // up to two segments.
            self.w.cwnd = self.w.cwnd.saturating_add(acked.min(2 * mss));
        } else {
            ctl.on_ack(&mut self.w, acked, mss, now, rtt);
        }
    }

    /// Loss detected by duplicate ACKs or SACK: recovery starts (RFC 5681 §3.2 steps 2–3).
    /// With SACK the window is `ssthresh` (RFC 6675 §5 step 4.2); without, it is inflated by
    /// the three segments that left the network (NewReno). BBR conserves packets instead.
    pub(crate) fn on_recovery_start(
        &mut self,
        flight: u32,
        pipe: u32,
        sack: bool,
        mss: u32,
        now: Instant,
    ) {
        let Some(ctl) = self.ctl.get() else {
            if let Controller::Bbr(b) = &mut self.ctl {
                b.on_recovery_start(&mut self.w, pipe, mss);
            }
            return;
        };
        ctl.on_congestion(&mut self.w, flight, mss, now);
        self.w.cwnd = if sack {
            self.w.ssthresh
        } else {
            self.w.ssthresh.saturating_add(3 * mss)
        };
    }

    /// Each further duplicate ACK in NewReno recovery inflates the window (RFC 6582 step 4)
    pub(crate) fn on_dup_ack_in_recovery(&mut self, mss: u32) {
        if self.ctl.get().is_some() {
            self.w.cwnd = self.w.cwnd.saturating_add(mss);
        }
    }

    /// A partial ACK deflates by the amount acked (RFC 6582 §3.2 step 5)
    pub(crate) fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        if self.ctl.get().is_none() {
            return;
        }
        self.w.cwnd = self
            .w
            .cwnd
            .saturating_sub(acked)
            .saturating_add(mss)
            .max(mss);
    }

    /// Recovery ended with a full ACK: the window deflates to `ssthresh` (RFC 6582 §3.2
    /// step 6, option 2; RFC 6675 §5 keeps `cwnd = ssthresh` throughout)
    ///
    /// Option 1, `min(ssthresh, FlightSize + SMSS)`, is not used: a full ACK usually leaves
    /// nothing in flight, and restarting from one segment costs a delayed-ACK wait and many
    /// round trips of slow start after every repaired loss.
    pub(crate) fn on_recovery_end(&mut self, mss: u32) {
        match &mut self.ctl {
            Controller::Bbr(b) => b.on_recovery_end(&mut self.w),
            _ => self.w.cwnd = self.w.ssthresh.max(mss),
        }
    }

    /// The retransmission timer expired
    pub(crate) fn on_timeout(&mut self, flight: u32, mss: u32, now: Instant) {
        match &mut self.ctl {
            Controller::Bbr(b) => b.on_timeout(&mut self.w, mss),
            Controller::NewReno(c) => c.on_timeout(&mut self.w, flight, mss, now),
            Controller::Cubic(c) => c.on_timeout(&mut self.w, flight, mss, now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Covers: MUST-19
    #[test]
    fn slow_start_then_newreno_avoidance() {
        let t = Instant::ZERO;
        let rtt = Duration::from_millis(10);
        let mut c = Congestion::new(10, 1000, Algorithm::NewReno);
        assert_eq!(c.w.cwnd, 10_000);
        c.on_ack(1000, 1000, t, rtt);
        assert_eq!(c.w.cwnd, 11_000);
        c.on_timeout(20_000, 1000, t);
        assert_eq!((c.w.cwnd, c.w.ssthresh), (1000, 10_000));
        c.w.ssthresh = 1000;
        c.on_ack(1000, 1000, t, rtt);
        assert_eq!(c.w.cwnd, 2000);
        c.on_ack(1000, 1000, t, rtt);
        assert_eq!(c.w.cwnd, 2000);
        c.on_ack(1000, 1000, t, rtt);
        assert_eq!(c.w.cwnd, 3000);
    }

    #[test]
    fn fast_recovery_halves() {
        let mut c = Congestion::new(10, 1000, Algorithm::NewReno);
        c.on_recovery_start(10_000, 10_000, false, 1000, Instant::ZERO);
        assert_eq!((c.w.ssthresh, c.w.cwnd), (5000, 8000));
        c.on_dup_ack_in_recovery(1000);
        assert_eq!(c.w.cwnd, 9000);
        c.on_recovery_end(1000);
        assert_eq!(c.w.cwnd, 5000);
    }
}
