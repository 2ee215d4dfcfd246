//! Congestion control (RFC 5681), with the algorithm chosen per connection at run time
//!
//! The window counts bytes. Slow start is shared (RFC 5681 §3.1, with appropriate byte
//! counting L = 1 MSS); congestion avoidance and the reaction to loss belong to the
//! algorithm, behind the [`CongestionControl`] trait: [`NewReno`] (RFC 5681, RFC 6582) and
//! [`Cubic`] (RFC 9438, integer arithmetic). The connection holds a [`Controller`], an enum
//! over the built-in algorithms, so choosing one per connection needs no allocation.

mod cubic;
mod newreno;

use core::time::Duration;

pub use cubic::Cubic;
pub use newreno::NewReno;

use crate::time::Instant;

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
}

/// The built-in algorithms, dispatched without allocation
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// NewReno
    NewReno(NewReno),
    /// CUBIC
    Cubic(Cubic),
}

impl Controller {
    /// A fresh controller for `algorithm`
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::NewReno => Self::NewReno(NewReno::default()),
            Algorithm::Cubic => Self::Cubic(Cubic::default()),
        }
    }

    fn get(&mut self) -> &mut dyn CongestionControl {
        match self {
            Self::NewReno(c) => c,
            Self::Cubic(c) => c,
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

    /// New data was acknowledged outside recovery
    pub(crate) fn on_ack(&mut self, acked: u32, mss: u32, now: Instant, rtt: Duration) {
        if self.w.cwnd < self.w.ssthresh {
            // Slow start with appropriate byte counting, L = 2·SMSS (RFC 3465 §2.2): an ACK
            // that covers several segments (delayed or coalesced ACKs) grows the window by
            // up to two segments.
            self.w.cwnd = self.w.cwnd.saturating_add(acked.min(2 * mss));
        } else {
            self.ctl.get().on_ack(&mut self.w, acked, mss, now, rtt);
        }
    }

    /// Loss detected by duplicate ACKs; the window inflated by the three segments that left
    /// the network (RFC 5681 §3.2 step 3, used by NewReno recovery)
    pub(crate) fn on_fast_retransmit(&mut self, flight: u32, mss: u32, now: Instant) {
        self.ctl.get().on_congestion(&mut self.w, flight, mss, now);
        self.w.cwnd = self.w.ssthresh.saturating_add(3 * mss);
    }

    /// Each further duplicate ACK in NewReno recovery inflates the window (RFC 6582 step 4)
    pub(crate) fn on_dup_ack_in_recovery(&mut self, mss: u32) {
        self.w.cwnd = self.w.cwnd.saturating_add(mss);
    }

    /// A partial ACK deflates by the amount acked (RFC 6582 §3.2 step 5)
    pub(crate) fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        self.w.cwnd = self
            .w
            .cwnd
            .saturating_sub(acked)
            .saturating_add(mss)
            .max(mss);
    }

    /// Recovery ended with a full ACK (RFC 6582 §3.2 step 6)
    pub(crate) fn on_recovery_end(&mut self, flight: u32, mss: u32) {
        self.w.cwnd = self.w.ssthresh.min(flight.saturating_add(mss)).max(mss);
    }

    /// The retransmission timer expired
    pub(crate) fn on_timeout(&mut self, flight: u32, mss: u32, now: Instant) {
        self.ctl.get().on_timeout(&mut self.w, flight, mss, now);
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
        c.on_fast_retransmit(10_000, 1000, Instant::ZERO);
        assert_eq!((c.w.ssthresh, c.w.cwnd), (5000, 8000));
        c.on_dup_ack_in_recovery(1000);
        assert_eq!(c.w.cwnd, 9000);
        c.on_recovery_end(6000, 1000);
        assert_eq!(c.w.cwnd, 5000);
    }
}
