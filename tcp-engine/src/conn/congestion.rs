//! Congestion control (RFC 5681 NewReno)
//!
//! The window counts bytes. Slow start below `ssthresh`, congestion avoidance above it
//! (one MSS per RTT, counted with byte accumulation), halving on loss (RFC 5681 §3.1,
//! RFC 6582), one segment after a timeout.

/// Congestion state of one connection
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Congestion {
    /// Congestion window in bytes
    pub(crate) cwnd: u32,
    /// Slow-start threshold in bytes
    pub(crate) ssthresh: u32,
    /// Bytes acknowledged toward the next congestion-avoidance increase
    acked_accum: u32,
}

impl Congestion {
    /// Initial window of `iw` segments (RFC 6928) and an unlimited threshold (RFC 5681 §3.1)
    pub(crate) fn new(iw: u16, mss: u32) -> Self {
        Self {
            cwnd: u32::from(iw.max(1)).saturating_mul(mss),
            ssthresh: u32::MAX,
            acked_accum: 0,
        }
    }

    /// Reset the initial window once the MSS is known
    pub(crate) fn set_initial(&mut self, iw: u16, mss: u32) {
        self.cwnd = u32::from(iw.max(1)).saturating_mul(mss);
    }

    /// New data was acknowledged outside recovery
    pub(crate) fn on_ack(&mut self, acked: u32, mss: u32) {
        if self.cwnd < self.ssthresh {
            // Slow start: grow by what was acked, at most one MSS per ACK (RFC 5681 §3.1, ABC L=1)
            self.cwnd = self.cwnd.saturating_add(acked.min(mss));
        } else {
            self.acked_accum = self.acked_accum.saturating_add(acked);
            if self.acked_accum >= self.cwnd {
                self.acked_accum -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(mss);
            }
        }
    }

    /// Loss detected by duplicate ACKs: halve (RFC 5681 eq. 4) and enter fast recovery
    pub(crate) fn on_fast_retransmit(&mut self, flight: u32, mss: u32) {
        self.ssthresh = (flight / 2).max(2 * mss);
        self.cwnd = self.ssthresh.saturating_add(3 * mss);
        self.acked_accum = 0;
    }

    /// Each further duplicate ACK in fast recovery inflates the window (RFC 6582 §3.2 step 3)
    pub(crate) fn on_dup_ack_in_recovery(&mut self, mss: u32) {
        self.cwnd = self.cwnd.saturating_add(mss);
    }

    /// A partial ACK in recovery deflates by the amount acked (RFC 6582 §3.2 step 5)
    pub(crate) fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        self.cwnd = self.cwnd.saturating_sub(acked).saturating_add(mss).max(mss);
    }

    /// Recovery ended with a full ACK (RFC 6582 §3.2 step 6)
    pub(crate) fn on_recovery_end(&mut self, flight: u32, mss: u32) {
        self.cwnd = self.ssthresh.min(flight.saturating_add(mss)).max(mss);
    }

    /// The retransmission timer expired (RFC 5681 eq. 4, §3.1: cwnd = 1 segment)
    pub(crate) fn on_timeout(&mut self, flight: u32, mss: u32) {
        self.ssthresh = (flight / 2).max(2 * mss);
        self.cwnd = mss;
        self.acked_accum = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = Congestion::new(10, 1000);
        assert_eq!(c.cwnd, 10_000);
        c.on_ack(1000, 1000);
        assert_eq!(c.cwnd, 11_000);
        c.on_timeout(20_000, 1000);
        assert_eq!((c.cwnd, c.ssthresh), (1000, 10_000));
        c.ssthresh = 1000;
        c.on_ack(1000, 1000);
        assert_eq!(c.cwnd, 2000);
        c.on_ack(1000, 1000);
        assert_eq!(c.cwnd, 2000);
        c.on_ack(1000, 1000);
        assert_eq!(c.cwnd, 3000);
    }

    #[test]
    fn fast_recovery_halves() {
        let mut c = Congestion::new(10, 1000);
        c.on_fast_retransmit(10_000, 1000);
        assert_eq!((c.ssthresh, c.cwnd), (5000, 8000));
        c.on_dup_ack_in_recovery(1000);
        assert_eq!(c.cwnd, 9000);
        c.on_recovery_end(6000, 1000);
        assert_eq!(c.cwnd, 5000);
    }
}
