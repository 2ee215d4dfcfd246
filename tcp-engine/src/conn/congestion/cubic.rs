//! CUBIC congestion avoidance (RFC 9438), in integer arithmetic
//!
//! Times are milliseconds and windows bytes. With C = 0.4 and β = 0.7 (RFC 9438 §4.1, §4.6):
//! W_cubic(t) = C·(t − K)³ + W_max (eq. 1, scaled by the MSS), K = ∛(W_max·(1 − β)/C)
//! (eq. 2), and the Reno-friendly estimate W_est grows by α = 3(1 − β)/(1 + β) segments per
//! RTT (§4.3). No floating point: it stays cheap on a Cortex-M without an FPU.

use core::time::Duration;

use super::{CongestionControl, Window};
use crate::time::Instant;

/// β × 1000
const BETA_MILLI: u64 = 700;

/// CUBIC's per-connection state
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cubic {
    /// Window before the last reduction (bytes)
    w_max: u32,
    /// The window the cubic curve starts from in this epoch (bytes)
    origin: u32,
    /// K in milliseconds
    k_ms: u32,
    /// Reno-friendly estimate (bytes)
    w_est: u32,
    /// Start of the current congestion-avoidance epoch, milliseconds + 1 (0: none)
    epoch_ms: u32,
}

/// Integer cube root (floor)
fn cbrt(x: u64) -> u64 {
    let mut lo = 0u64;
    let mut hi = 2_642_246u64; // ∛(2^64) rounded up
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if mid
            .checked_mul(mid)
            .and_then(|m| m.checked_mul(mid))
            .is_some_and(|c| c <= x)
        {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

impl Cubic {
    /// W_cubic(t) in bytes, `t_ms` since the epoch start (RFC 9438 eq. 1)
    pub fn w_cubic(&self, t_ms: u64, mss: u32) -> u32 {
        let d = i128::from(t_ms.min(1 << 22) as i64 - i64::from(self.k_ms));
        // C·d³ segments with d in ms: 0.4 · d³ / 10⁹ = 4·d³ / 10¹⁰
        let grow = 4 * d * d * d * i128::from(mss) / 10_000_000_000;
        (i128::from(self.origin) + grow).clamp(i128::from(mss), i128::from(u32::MAX)) as u32
    }

    /// K in milliseconds
    pub fn k_ms(&self) -> u32 {
        self.k_ms
    }

    fn start_epoch(&mut self, w: &Window, mss: u32, now: Instant) {
        self.epoch_ms = (now.total_millis() as u32).wrapping_add(1).max(1);
        if w.cwnd < self.w_max {
            // K = ∛((W_max − cwnd) / C) seconds, in segments: ∛(Δ/mss · 2.5 · 10⁹) ms
            let delta = u64::from(self.w_max - w.cwnd);
            self.k_ms = cbrt(delta.saturating_mul(2_500_000_000) / u64::from(mss.max(1))) as u32;
            self.origin = self.w_max;
        } else {
            self.k_ms = 0;
            self.origin = w.cwnd;
        }
        self.w_est = w.cwnd;
    }
}

impl CongestionControl for Cubic {
    fn on_ack(&mut self, w: &mut Window, acked: u32, mss: u32, now: Instant, rtt: Duration) {
        if self.epoch_ms == 0 {
            self.start_epoch(w, mss, now);
        }
        let t_ms = u64::from((now.total_millis() as u32).wrapping_sub(self.epoch_ms - 1));
        let rtt_ms = rtt.as_millis().min(60_000) as u64;
        // Reno-friendly region (§4.3): W_est += α · acked / cwnd segments, α = 0.529.
        let est_grow = u64::from(acked) * u64::from(mss) * 529 / (1000 * u64::from(w.cwnd.max(1)));
        self.w_est = self.w_est.saturating_add(est_grow as u32);
        let cubic_now = self.w_cubic(t_ms, mss);
        if cubic_now < self.w_est {
            w.cwnd = w.cwnd.max(self.w_est);
            return;
        }
        // Concave and convex regions (§4.4, §4.5): aim for W_cubic(t + RTT), at most 1.5·cwnd.
        let target = self
            .w_cubic(t_ms + rtt_ms, mss)
            .min(w.cwnd.saturating_add(w.cwnd / 2));
        if target > w.cwnd {
            let inc = u64::from(target - w.cwnd) * u64::from(acked) / u64::from(w.cwnd.max(1));
            w.cwnd = w.cwnd.saturating_add((inc as u32).max(1));
        }
    }

    fn on_congestion(&mut self, w: &mut Window, _flight: u32, mss: u32, _now: Instant) {
        // Fast convergence (§4.7): release bandwidth when the window stopped growing.
        self.w_max = if w.cwnd < self.w_max {
            (u64::from(w.cwnd) * (1000 + BETA_MILLI) / 2000) as u32
        } else {
            w.cwnd
        };
        w.ssthresh = ((u64::from(w.cwnd) * BETA_MILLI / 1000) as u32).max(2 * mss);
        w.cwnd = w.ssthresh;
        self.epoch_ms = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_cube_root() {
        assert_eq!(cbrt(0), 0);
        assert_eq!(cbrt(26), 2);
        assert_eq!(cbrt(27), 3);
        assert_eq!(cbrt(u64::MAX), 2_642_245);
    }

    /// The window after a loss follows W(t) = max(W_cubic(t), W_est(t)) of RFC 9438 within 5%
    /// Covers: MAY-18
    #[test]
    fn window_follows_rfc9438_formula() {
        let mss = 1000u32;
        let rtt_ms = 100u64;
        let mut c = Cubic::default();
        let mut w = Window {
            cwnd: 100 * mss,
            ssthresh: u32::MAX,
        };
        c.on_congestion(&mut w, 100 * mss, mss, Instant::ZERO);
        assert_eq!(w.cwnd, 70 * mss); // β = 0.7
                                      // K = ∛(W_max·(1−β)/C) = ∛(100·0.3/0.4) = ∛75 ≈ 4.217 s
        c.on_ack(&mut w, 0, mss, Instant::ZERO, Duration::from_millis(rtt_ms));
        assert!((4200..4230).contains(&c.k_ms()), "K = {} ms", c.k_ms());
        // Feed one window of ACKs per RTT for 8 seconds and compare with the formula.
        let mut t = 0u64;
        while t < 8_000 {
            t += rtt_ms;
            let segs = w.cwnd / mss;
            for _ in 0..segs {
                c.on_ack(
                    &mut w,
                    mss,
                    mss,
                    Instant::from_millis(t),
                    Duration::from_millis(rtt_ms),
                );
            }
            let d = (t as f64 - 4217.0) / 1000.0;
            let cubic = 100.0 + 0.4 * d * d * d;
            let expect = cubic.max(70.0) * f64::from(mss);
            let got = f64::from(w.cwnd);
            if t > 1000 {
                // Tolerance: 5 % (the window chases W_cubic(t + RTT) one RTT at a time).
                let err = (got - expect).abs() / expect;
                assert!(
                    err < 0.05,
                    "t={t} ms: cwnd {got} vs formula {expect:.0} ({:.1} %)",
                    err * 100.0
                );
            }
        }
        assert!(
            w.cwnd > 100 * mss,
            "past K the window grows beyond W_max (convex region)"
        );
    }
}
