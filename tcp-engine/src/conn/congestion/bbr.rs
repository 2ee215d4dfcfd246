//! Model-based congestion control after BBR (draft-ietf-ccwg-bbr, "BBR v1" behaviour), in
//! integer arithmetic and without pacing
//!
//! Loss-based algorithms read every lost segment as congestion, so 1 % random loss keeps
//! their window near 1.2/√p segments (about 12) whatever the path could carry. BBR instead
//! builds a model of the path from what the ACKs show:
//!
//! - **BtlBw**, the bottleneck bandwidth: the largest delivery rate measured over the last
//!   5 to 10 round trips (§4.5.2, a windowed max filter kept as two halves);
//! - **RTprop**, the round-trip propagation delay: the smallest RTT sample of the last 10 s
//!   (§4.5.3);
//!
//! and keeps `cwnd` at `cwnd_gain × BtlBw × RTprop`. A loss changes the window only while it
//! is being repaired (packet conservation for one round, §4.6.4.4; one segment after a
//! retransmission timeout), so random loss costs the time of its repair, not a window
//! reduction.
//!
//! Delivery rate is sampled once per round trip (bytes delivered, cumulatively or by SACK,
//! between the ACK that starts a round and the one that covers the round's last segment,
//! over the time between them), which needs no per-segment state. This engine does not
//! pace: the window alone limits sending, so the Drain phase waits for the flight to fall
//! to one BDP instead of slowing the pacing rate.

use crate::seq::SeqNumber;
use crate::time::Instant;

use super::{AckSample, Window};

/// RTprop filter length (§4.5.3: 10 s)
const MIN_RTT_WINDOW_MS: u32 = 10_000;
/// Time spent at the minimum window in ProbeRTT (§4.3.4.3: 200 ms)
const PROBE_RTT_MS: u32 = 200;
/// Rounds per half of the BtlBw filter (two halves: a 10-round window, §4.5.2.2)
const BW_HALF_ROUNDS: u8 = 5;
/// Startup ends after this many rounds without 25 % bandwidth growth (§4.3.1.2)
const FULL_BW_ROUNDS: u8 = 3;
/// Window gain in Startup (2/ln 2 ≈ 2.89, §4.3.1.1), in 1/1024ths
const STARTUP_GAIN: u64 = 2959;
/// Window gain in ProbeBW (§4.3.3: 2), in 1/1024ths
const PROBE_BW_GAIN: u64 = 2048;
/// The smallest window: four segments (§4.6.4.2 BBRMinPipeCwnd)
const MIN_SEGMENTS: u32 = 4;

/// BBR's phases (§4.3)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Phase {
    /// Grow the window each round until the delivery rate stops growing
    #[default]
    Startup,
    /// Let the queue Startup built drain: no growth until the flight is one BDP
    Drain,
    /// Steady state: a window of two BDPs
    ProbeBw,
    /// Four segments for 200 ms so the RTT filter sees the empty path again
    ProbeRtt,
}

/// BBR's per-connection state (36 bytes)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bbr {
    /// Max delivery rate (bytes/s) in the current and the previous half of the filter
    bw: [u32; 2],
    /// Smallest RTT seen in the filter window, microseconds (0: none yet)
    min_rtt_us: u32,
    /// When `min_rtt_us` was taken, milliseconds (wrapping)
    min_rtt_at_ms: u32,
    /// The round ends when this sequence number is delivered
    round_end: SeqNumber,
    /// When the round started, microseconds (wrapping)
    round_start_us: u32,
    /// Bytes delivered when the round started (wrapping)
    round_delivered: u32,
    /// Startup: the bandwidth that last grew by 25 %; ProbeRTT: when it ends (ms)
    phase_mark: u32,
    phase: Phase,
    /// Rounds completed in the current half of the bandwidth filter
    bw_rounds: u8,
    /// Startup: rounds without 25 % growth
    flat_rounds: u8,
    /// Packet conservation: the first round of recovery (§4.6.4.4)
    conserving: bool,
}

fn ms(t: Instant) -> u32 {
    (t.total_micros() / 1000) as u32
}

impl Bbr {
    /// The current phase
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The bottleneck bandwidth estimate, bytes per second (0: none yet)
    pub fn btl_bw(&self) -> u32 {
        self.bw[0].max(self.bw[1])
    }

    /// The round-trip propagation delay estimate, microseconds (0: none yet)
    pub fn rt_prop_us(&self) -> u32 {
        self.min_rtt_us
    }

    /// The estimated bandwidth-delay product in bytes, once both estimates exist
    pub fn bdp(&self) -> Option<u32> {
        let (bw, rtt) = (u64::from(self.btl_bw()), u64::from(self.min_rtt_us));
        (bw != 0 && rtt != 0).then(|| (bw * rtt / 1_000_000).min(u64::from(u32::MAX)) as u32)
    }

    /// The window the model asks for in the current phase, once it has estimates
    fn target(&self, mss: u32) -> Option<u32> {
        let bdp = self.bdp()?;
        let gain = match self.phase {
            Phase::Startup => STARTUP_GAIN,
            Phase::Drain => 1024,
            Phase::ProbeBw | Phase::ProbeRtt => PROBE_BW_GAIN,
        };
        // Plus a few segments for delayed and stretched ACKs (§4.6.4.2 quantum allowance).
        let w = u64::from(bdp) * gain / 1024 + 3 * u64::from(mss);
        Some(w.min(u64::from(u32::MAX)) as u32)
    }

    /// An RTT sample: update RTprop; enter ProbeRTT when the estimate has expired (§4.3.4)
    pub(super) fn on_rtt(&mut self, w: &mut Window, rtt_us: u32, now: Instant, mss: u32) {
        let now_ms = ms(now);
        let expired = now_ms.wrapping_sub(self.min_rtt_at_ms) > MIN_RTT_WINDOW_MS;
        if self.min_rtt_us == 0 || rtt_us.max(1) <= self.min_rtt_us || expired {
            self.min_rtt_us = rtt_us.max(1);
            self.min_rtt_at_ms = now_ms;
            if expired && matches!(self.phase, Phase::ProbeBw | Phase::Drain) {
                self.phase = Phase::ProbeRtt;
                self.phase_mark = now_ms.wrapping_add(PROBE_RTT_MS);
                w.ssthresh = w.cwnd; // the window to return to
                w.cwnd = w.cwnd.min(MIN_SEGMENTS * mss);
            }
        }
    }

    /// An acceptable ACK: take a bandwidth sample at the end of each round, move between
    /// phases, and set the window (§4.2, §4.6.4.6)
    pub(super) fn on_sample(&mut self, w: &mut Window, s: &AckSample) {
        let now_us = (s.now.total_micros() as u32).max(1);
        if self.round_start_us == 0 || !s.delivered_seq.lt(self.round_end) {
            self.end_round(s, now_us);
        }
        let floor = MIN_SEGMENTS * s.mss;
        if self.phase == Phase::ProbeRtt {
            w.cwnd = w.cwnd.min(floor);
            if (ms(s.now).wrapping_sub(self.phase_mark) as i32) >= 0 {
                self.phase = Phase::ProbeBw;
                self.min_rtt_at_ms = ms(s.now);
                w.cwnd = w.cwnd.max(w.ssthresh);
            }
            return;
        }
        if self.phase == Phase::Drain && self.bdp().is_some_and(|b| s.inflight <= b) {
            self.phase = Phase::ProbeBw;
        }
        let grown = w.cwnd.saturating_add(s.acked);
        match self.target(s.mss) {
            // First round of recovery: one segment out for each one delivered (§4.6.4.4).
            _ if self.conserving => w.cwnd = w.cwnd.max(s.inflight.saturating_add(s.acked)),
            // No model yet: grow as slow start does.
            None if self.phase == Phase::Startup => w.cwnd = grown,
            None => {}
            // Startup grows while below its (2.89 BDP) target, and never shrinks to it.
            Some(t) if self.phase == Phase::Startup && w.cwnd < t => w.cwnd = grown,
            Some(_) if self.phase == Phase::Startup => {}
            Some(t) => w.cwnd = grown.min(t),
        }
        w.cwnd = w.cwnd.max(floor);
    }

    fn end_round(&mut self, s: &AckSample, now_us: u32) {
        let delivered = s.delivered.wrapping_sub(self.round_delivered);
        let elapsed = now_us.wrapping_sub(self.round_start_us);
        // A scoreboard reset (timeout) can make `delivered` go back: no sample then.
        if self.round_start_us != 0 && elapsed > 0 && delivered < 1 << 31 {
            let bw = u64::from(delivered) * 1_000_000 / u64::from(elapsed);
            self.bw[0] = self.bw[0].max(bw.min(u64::from(u32::MAX)) as u32);
            self.bw_rounds += 1;
            if self.bw_rounds >= BW_HALF_ROUNDS {
                self.bw = [0, self.bw[0]];
                self.bw_rounds = 0;
            }
            self.conserving = false;
            if self.phase == Phase::Startup {
                self.check_full_pipe();
            }
        }
        self.round_end = s.snd_max;
        self.round_start_us = now_us;
        self.round_delivered = s.delivered;
    }

    /// Startup ends when three rounds bring less than 25 % more bandwidth (§4.3.1.2)
    fn check_full_pipe(&mut self) {
        let bw = self.btl_bw();
        if u64::from(bw) * 4 >= u64::from(self.phase_mark) * 5 {
            self.phase_mark = bw;
            self.flat_rounds = 0;
        } else {
            self.flat_rounds += 1;
            if self.flat_rounds >= FULL_BW_ROUNDS {
                self.phase = Phase::Drain;
                self.phase_mark = 0;
            }
        }
    }

    /// Loss recovery starts: remember the window, conserve packets for one round
    pub(super) fn on_recovery_start(&mut self, w: &mut Window, pipe: u32, mss: u32) {
        w.ssthresh = w.cwnd;
        w.cwnd = pipe.saturating_add(mss).max(MIN_SEGMENTS * mss);
        self.conserving = true;
    }

    /// Recovery ended: back to at least the window before it (§4.6.4.4)
    pub(super) fn on_recovery_end(&mut self, w: &mut Window) {
        self.conserving = false;
        w.cwnd = w.cwnd.max(w.ssthresh);
    }

    /// Retransmission timeout: one segment, the model kept (§4.6.4.5)
    pub(super) fn on_timeout(&mut self, w: &mut Window, mss: u32) {
        w.ssthresh = w.cwnd;
        w.cwnd = mss;
        self.conserving = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    /// A path delivering `rate` bytes per 10 ms round trip, fed one ACK per round
    struct Path {
        bbr: Bbr,
        w: Window,
        now_us: u64,
        delivered: u32,
        seq: SeqNumber,
    }

    impl Path {
        fn new() -> Self {
            Self {
                bbr: Bbr::default(),
                w: Window {
                    cwnd: 10 * MSS,
                    ssthresh: u32::MAX,
                },
                now_us: 1_000,
                delivered: 0,
                seq: SeqNumber(5000),
            }
        }

        /// One round trip in which `bytes` are delivered, then the ACK ending it
        fn round(&mut self, bytes: u32) {
            self.now_us += 10_000;
            self.delivered = self.delivered.wrapping_add(bytes);
            let now = Instant::from_micros(self.now_us);
            self.bbr.on_rtt(&mut self.w, 10_000, now, MSS);
            let sample = AckSample {
                now,
                acked: bytes,
                delivered: self.delivered,
                delivered_seq: self.seq + bytes,
                // One round's worth in flight, as on a path delivering `bytes` per RTT.
                snd_max: self.seq + bytes + bytes,
                inflight: bytes,
                mss: MSS,
            };
            self.seq += bytes;
            self.bbr.on_sample(&mut self.w, &sample);
        }
    }

    /// §4.5: BtlBw and RTprop from the samples; Startup ends after three flat rounds
    /// (§4.3.1.2), and the window settles at two BDPs plus the ACK allowance (§4.6.4.2)
    #[test]
    fn model_and_phases_follow_the_path() {
        let mut p = Path::new();
        p.round(0); // the first ACK starts the first round
        for _ in 0..4 {
            p.round(100_000); // 10 MB/s
        }
        assert_eq!(p.bbr.btl_bw(), 10_000_000);
        assert_eq!(p.bbr.rt_prop_us(), 10_000);
        assert_eq!(p.bbr.bdp(), Some(100_000));
        assert_ne!(p.bbr.phase(), Phase::Startup, "three rounds without growth");
        for _ in 0..3 {
            p.round(100_000);
        }
        assert_eq!(p.bbr.phase(), Phase::ProbeBw);
        assert_eq!(p.w.cwnd, 2 * 100_000 + 3 * MSS);
    }

    /// §4.6.4.4: a loss conserves packets for a round, then the window comes back; random
    /// loss does not shrink the model
    #[test]
    fn loss_costs_a_round_not_the_window() {
        let mut p = Path::new();
        for _ in 0..12 {
            p.round(100_000);
        }
        let before = p.w.cwnd;
        p.bbr.on_recovery_start(&mut p.w, 50_000, MSS);
        assert_eq!(p.w.cwnd, 51_000, "packet conservation");
        p.round(100_000);
        p.bbr.on_recovery_end(&mut p.w);
        assert_eq!(p.w.cwnd, before);
        p.bbr.on_timeout(&mut p.w, MSS);
        assert_eq!(p.w.cwnd, MSS, "one segment after a timeout (RFC 5681 §3.1)");
        for _ in 0..8 {
            p.round(100_000);
        }
        assert_eq!(p.w.cwnd, before, "grows back to the model's window");
    }

    /// §4.3.4: RTprop not refreshed for 10 s: four segments for 200 ms, then the old window
    #[test]
    fn probe_rtt_after_ten_seconds() {
        let mut p = Path::new();
        for _ in 0..12 {
            p.round(100_000);
        }
        let before = p.w.cwnd;
        // 10 s of slightly higher RTT samples: the 10 ms minimum is not seen again.
        for _ in 0..1001 {
            p.now_us += 10_000;
            let now = Instant::from_micros(p.now_us);
            p.bbr.on_rtt(&mut p.w, 11_000, now, MSS);
            if p.bbr.phase() == Phase::ProbeRtt {
                break;
            }
        }
        assert_eq!(p.bbr.phase(), Phase::ProbeRtt);
        assert_eq!(p.w.cwnd, 4 * MSS);
        let mut rounds = 0;
        while p.bbr.phase() == Phase::ProbeRtt && rounds < 100 {
            p.round(4 * MSS);
            rounds += 1;
            if p.bbr.phase() == Phase::ProbeRtt {
                assert_eq!(p.w.cwnd, 4 * MSS);
            }
        }
        assert_eq!(rounds, 20, "200 ms of 10 ms rounds");
        assert_eq!(p.bbr.phase(), Phase::ProbeBw);
        assert_eq!(p.w.cwnd, before, "the window from before ProbeRTT");
    }
}
