//! Retransmission timeout estimation (RFC 6298)

use core::time::Duration;

use crate::seq::SeqNumber;
use crate::time::Instant;

/// The one segment being timed for an RTT sample (RFC 6298 §3, Karn's rule), in 8 bytes
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RttTimer {
    seq: SeqNumber,
    /// When it was sent, microseconds (wrapping) plus one; 0 when nothing is timed (a send
    /// at the one microsecond in 2^32 that would store 0 just goes untimed)
    sent_plus_one: u32,
}

impl RttTimer {
    /// The segment starting at `seq` is being timed, if any
    pub(crate) fn seq(&self) -> Option<SeqNumber> {
        (self.sent_plus_one != 0).then_some(self.seq)
    }

    /// Time the segment starting at `seq`, sent at `now`
    pub(crate) fn start(&mut self, seq: SeqNumber, now: Instant) {
        self.seq = seq;
        self.sent_plus_one = (now.total_micros() as u32).wrapping_add(1);
    }

    /// Stop timing (the segment was resent, or a sample was taken)
    pub(crate) fn stop(&mut self) {
        self.sent_plus_one = 0;
    }

    /// Time since the timed segment was sent
    pub(crate) fn elapsed(&self, now: Instant) -> Duration {
        let sent = self.sent_plus_one.wrapping_sub(1);
        let us = (now.total_micros() as u32).wrapping_sub(sent);
        Duration::from_micros(if us > u32::MAX / 2 { 0 } else { u64::from(us) })
    }
}

/// Smoothed RTT, RTT variance and the RTO derived from them
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RttEstimator {
    /// SRTT in microseconds (0 before the first sample)
    srtt: u32,
    /// RTTVAR in microseconds
    rttvar: u32,
    /// RTO before backoff, in microseconds
    rto: u32,
    /// Number of consecutive backoffs (RFC 6298 §5.5)
    backoff: u8,
    has_sample: bool,
}

/// Clock granularity G of RFC 6298 §2: the engine's clock counts microseconds, but a floor of
/// 1 ms keeps the variance term meaningful on very fast links.
const GRANULARITY_US: u32 = 1_000;

fn micros(d: Duration) -> u32 {
    u32::try_from(crate::time::duration_micros(d)).unwrap_or(u32::MAX)
}

impl RttEstimator {
    /// No sample yet: RTO is the initial value (RFC 6298 §2.1, 1 s by default)
    pub(crate) fn new(initial_rto: Duration) -> Self {
        Self {
            srtt: 0,
            rttvar: 0,
            rto: micros(initial_rto),
            backoff: 0,
            has_sample: false,
        }
    }

    /// Take an RTT measurement (RFC 6298 §2.2, §2.3); callers apply Karn's rule (§3)
    pub(crate) fn sample(&mut self, rtt: Duration, min_rto: Duration, max_rto: Duration) {
        let r = micros(rtt);
        if self.has_sample {
            // RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|; SRTT <- 7/8 SRTT + 1/8 R'
            let err = self.srtt.abs_diff(r);
            self.rttvar = ((u64::from(self.rttvar) * 3 + u64::from(err)) / 4) as u32;
            self.srtt = ((u64::from(self.srtt) * 7 + u64::from(r)) / 8) as u32;
        } else {
            self.srtt = r;
            self.rttvar = r / 2;
            self.has_sample = true;
        }
        let k_var = self.rttvar.saturating_mul(4).max(GRANULARITY_US);
        let rto = self.srtt.saturating_add(k_var);
        self.rto = rto.clamp(micros(min_rto), micros(max_rto).max(micros(min_rto)));
        self.backoff = 0;
    }

    /// Double the timeout after it expired (RFC 6298 §5.5)
    pub(crate) fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// Forget the backoff (new data was acknowledged)
    pub(crate) fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// The current timeout, backoff included, capped at `max_rto`; `slop` is added to
    /// timeouts from samples or backoff (FreeBSD `rexmit_slop`)
    pub(crate) fn rto(&self, max_rto: Duration, slop: Duration) -> Duration {
        Duration::from_micros(self.rto_micros(max_rto, slop))
    }

    /// [`RttEstimator::rto`] in microseconds
    #[inline]
    pub(crate) fn rto_micros(&self, max_rto: Duration, slop: Duration) -> u64 {
        let mut shifted = u64::from(self.rto) << u32::from(self.backoff.min(32));
        if self.has_sample || self.backoff > 0 {
            shifted += u64::from(micros(slop));
        }
        shifted.min(u64::from(micros(max_rto)))
    }

    /// The smoothed RTT in microseconds, if measured
    #[inline]
    pub(crate) fn srtt_micros(&self) -> Option<u64> {
        self.has_sample.then_some(u64::from(self.srtt))
    }

    /// The smoothed RTT, if measured
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.has_sample
            .then(|| Duration::from_micros(u64::from(self.srtt)))
    }

    /// How many times in a row the timer has backed off
    pub(crate) fn backoffs(&self) -> u8 {
        self.backoff
    }

    /// The RTT variance
    pub(crate) fn rttvar(&self) -> Duration {
        Duration::from_micros(u64::from(self.rttvar))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rtt_timer_measures_exactly_and_across_the_wrap() {
        let mut t = RttTimer::default();
        assert_eq!(t.seq(), None);
        t.start(SeqNumber(7), Instant::ZERO);
        assert_eq!(t.seq(), Some(SeqNumber(7)));
        assert_eq!(
            t.elapsed(Instant::from_millis(20)),
            Duration::from_millis(20)
        );
        let near_wrap = Instant::from_micros((1 << 32) - 5);
        t.start(SeqNumber(9), near_wrap);
        let later = Instant::from_micros((1 << 32) + 995);
        assert_eq!(t.elapsed(later), Duration::from_micros(1000));
        t.stop();
        assert_eq!(t.seq(), None);
    }

    const MIN: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(60);

    /// Covers: MUST-19
    #[test]
    fn initial_rto_is_one_second_and_backs_off() {
        let mut e = RttEstimator::new(Duration::from_secs(1));
        assert_eq!(e.rto(MAX, Duration::ZERO), Duration::from_secs(1));
        e.back_off();
        e.back_off();
        assert_eq!(e.rto(MAX, Duration::ZERO), Duration::from_secs(4));
        for _ in 0..40 {
            e.back_off();
        }
        assert_eq!(e.rto(MAX, Duration::ZERO), MAX);
    }

    /// Covers: MUST-18
    #[test]
    fn first_and_later_samples_follow_rfc6298() {
        let mut e = RttEstimator::new(Duration::from_secs(1));
        e.sample(Duration::from_millis(100), Duration::from_millis(1), MAX);
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.rttvar(), Duration::from_millis(50));
        assert_eq!(e.rto(MAX, Duration::ZERO), Duration::from_millis(300));
        e.sample(Duration::from_millis(200), Duration::from_millis(1), MAX);
        // RTTVAR = 3/4*50 + 1/4*100 = 62.5; SRTT = 7/8*100 + 1/8*200 = 112.5
        assert_eq!(e.rttvar(), Duration::from_micros(62_500));
        assert_eq!(e.srtt(), Some(Duration::from_micros(112_500)));
        // The 1 s minimum (RFC 6298 §2.4) applies by default.
        e.sample(Duration::from_millis(10), MIN, MAX);
        assert_eq!(e.rto(MAX, Duration::ZERO), MIN);
    }
}
