//! NewReno congestion avoidance (RFC 5681 §3.1, RFC 6582)

use core::time::Duration;

use super::{CongestionControl, Window};
use crate::time::Instant;

/// One MSS per RTT in congestion avoidance, halving on loss
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NewReno {
    /// Bytes acknowledged toward the next one-MSS increase (byte counting, RFC 5681 eq. 3)
    acked_accum: u32,
}

impl CongestionControl for NewReno {
    fn on_ack(&mut self, w: &mut Window, acked: u32, mss: u32, _now: Instant, _rtt: Duration) {
        self.acked_accum = self.acked_accum.saturating_add(acked);
        if self.acked_accum >= w.cwnd {
            self.acked_accum -= w.cwnd;
            w.cwnd = w.cwnd.saturating_add(mss);
        }
    }

    fn on_congestion(&mut self, w: &mut Window, flight: u32, mss: u32, _now: Instant) {
        // RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS)
        w.ssthresh = (flight / 2).max(2 * mss);
        w.cwnd = w.ssthresh;
        self.acked_accum = 0;
    }
}
