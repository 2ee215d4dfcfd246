//! The state of one direction of a link: its dice, its bottleneck queue and
//! its in-order arrival clock. Deciding a packet's fate and timing happens
//! here; the bytes and the in-flight queue are the network's business.

use std::collections::VecDeque;

use crate::link::LinkConfig;
use crate::outcome::Fate;
use crate::rng::{chance, up_to, DirRng};
use crate::HostId;

/// Picoseconds per microsecond. The bottleneck is timed in picoseconds so
/// that serialisation times that are not whole microseconds do not add up to
/// a rate error.
const PS_PER_US: u128 = 1_000_000;

/// What was decided for one packet, before its bytes are touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// `Delivered` or a drop reason.
    pub(crate) fate: Fate,
    /// Arrival of the packet (meaningless when dropped).
    pub(crate) arrival_us: u64,
    /// Arrival of the duplicated copy, if any.
    pub(crate) duplicate_us: Option<u64>,
    pub(crate) reordered: bool,
    /// Bits to flip, and the seed choosing them (0 bits: not corrupted).
    pub(crate) corrupt_bits: u32,
    pub(crate) corrupt_seed: u64,
}

/// A packet accepted by the bottleneck that has not started serialising.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    start_ps: u128,
    len: usize,
}

/// Mutable state of one direction.
#[derive(Debug, Clone)]
pub(crate) struct DirState {
    rng: DirRng,
    /// When the bottleneck finishes serialising everything accepted so far.
    busy_until_ps: u128,
    /// Accepted packets still waiting for the bottleneck, in start order.
    waiting: VecDeque<Waiting>,
    waiting_bytes: usize,
    /// Latest arrival given to a packet that was not reordered: later
    /// packets never arrive before it.
    last_in_order_us: u64,
}

impl DirState {
    pub(crate) fn new(seed: u64, from: HostId, to: HostId) -> Self {
        Self {
            rng: DirRng::new(seed, from, to),
            busy_until_ps: 0,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            last_in_order_us: 0,
        }
    }

    /// Decides the fate and timing of a `len`-byte packet sent at `now_us`.
    ///
    /// Order: MTU, partition, bottleneck queue (tail drop), serialisation,
    /// random loss, then corruption, duplication, reordering and jitter for a
    /// packet that gets through.
    pub(crate) fn plan(&mut self, cfg: &LinkConfig, now_us: u64, len: usize) -> Plan {
        // Always draw, so every packet uses the same amount of the stream.
        let d = self.rng.draws();
        let mut plan = Plan {
            fate: Fate::Delivered,
            arrival_us: 0,
            duplicate_us: None,
            reordered: false,
            corrupt_bits: 0,
            corrupt_seed: d.corrupt_seed,
        };
        if len > cfg.mtu {
            plan.fate = Fate::TooBig;
            return plan;
        }
        if cfg.is_partitioned(now_us) {
            plan.fate = Fate::Partitioned;
            return plan;
        }
        let Some(departure_us) = self.transmit(cfg, now_us, len) else {
            plan.fate = Fate::TailDropped;
            return plan;
        };
        if chance(d.loss, cfg.loss) {
            plan.fate = Fate::Lost;
            return plan;
        }
        if len > 0 && chance(d.corrupt, cfg.corrupt) {
            plan.corrupt_bits = cfg.corrupt_bits;
        }
        let jitter = up_to(d.jitter, cfg.jitter_us);
        let natural = departure_us
            .saturating_add(cfg.delay_us)
            .saturating_add(jitter);
        plan.reordered = chance(d.reorder, cfg.reorder);
        plan.arrival_us = if plan.reordered {
            natural.saturating_add(cfg.reorder_delay_us)
        } else {
            self.last_in_order_us = self.last_in_order_us.max(natural);
            self.last_in_order_us
        };
        if chance(d.duplicate, cfg.duplicate) {
            plan.duplicate_us = Some(plan.arrival_us.saturating_add(cfg.duplicate_delay_us));
        }
        plan
    }

    /// Puts a packet through the bottleneck: `None` if it is tail-dropped,
    /// else the time its last bit leaves (`now_us` on an unlimited link).
    fn transmit(&mut self, cfg: &LinkConfig, now_us: u64, len: usize) -> Option<u64> {
        let Some(rate) = cfg.rate_bps.filter(|&r| r > 0) else {
            return Some(now_us);
        };
        let now_ps = u128::from(now_us) * PS_PER_US;
        while let Some(w) = self.waiting.front() {
            if w.start_ps > now_ps {
                break;
            }
            self.waiting_bytes = self.waiting_bytes.saturating_sub(w.len);
            self.waiting.pop_front();
        }
        let busy = self.busy_until_ps > now_ps;
        if busy && self.waiting_bytes.saturating_add(len) > cfg.queue_limit_bytes {
            return None;
        }
        let start_ps = self.busy_until_ps.max(now_ps);
        let finish_ps = start_ps.saturating_add(serialisation_ps(len, rate));
        self.busy_until_ps = finish_ps;
        if busy {
            self.waiting.push_back(Waiting { start_ps, len });
            self.waiting_bytes = self.waiting_bytes.saturating_add(len);
        }
        Some(u64::try_from(finish_ps.div_ceil(PS_PER_US)).unwrap_or(u64::MAX))
    }
}

/// Picoseconds to put `len` bytes on a `rate` bit/s wire, rounded down (the
/// error is below 1 ps per packet, and exact totals stay exact: three packets
/// of 266 666 666.67 ps end at 800 µs, not 800 µs + 1 ps).
fn serialisation_ps(len: usize, rate: u64) -> u128 {
    let bits_ps = (len as u128)
        .saturating_mul(8)
        .saturating_mul(1_000_000_000_000);
    bits_ps / u128::from(rate.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rated(rate: u64, queue: usize) -> LinkConfig {
        LinkConfig {
            rate_bps: Some(rate),
            queue_limit_bytes: queue,
            ..LinkConfig::default()
        }
    }

    fn dir() -> DirState {
        DirState::new(0, HostId(0), HostId(1))
    }

    #[test]
    fn serialisation_times() {
        // 1500 B at 1 Mbit/s is 12 ms; at 1 Gbit/s, 12 µs.
        assert_eq!(serialisation_ps(1500, 1_000_000), 12_000 * PS_PER_US);
        assert_eq!(serialisation_ps(1500, 1_000_000_000), 12 * PS_PER_US);
        assert_eq!(serialisation_ps(0, 1), 0);
        // 1 byte at 3 bit/s: 8/3 s, rounded down to the picosecond.
        assert_eq!(serialisation_ps(1, 3), 2_666_666_666_666);
        assert!(serialisation_ps(usize::MAX, 1) > 0);
    }

    #[test]
    fn back_to_back_packets_do_not_accumulate_rounding() {
        // 100 B at 3 Mbit/s is 266.67 µs: ten of them take 2666.67 µs, not
        // the 2670 µs that rounding each to the microsecond would give.
        let cfg = rated(3_000_000, usize::MAX);
        let mut d = dir();
        let t: Vec<_> = (0..10).map(|_| d.transmit(&cfg, 0, 100)).collect();
        assert_eq!(t[..3], [Some(267), Some(534), Some(800)]);
        assert_eq!(t[9], Some(2_667));
    }

    #[test]
    fn idle_link_always_accepts_and_queue_counts_waiting_bytes_only() {
        let cfg = rated(1_000_000, 3_000);
        let mut d = dir();
        // In service, then two waiting (3000 bytes), then full.
        assert_eq!(d.transmit(&cfg, 0, 1500), Some(12_000));
        assert_eq!(d.transmit(&cfg, 0, 1500), Some(24_000));
        assert_eq!(d.transmit(&cfg, 0, 1500), Some(36_000));
        assert_eq!(d.transmit(&cfg, 0, 1), None);
        // At 12 ms the second starts serialising: 1500 bytes wait.
        assert_eq!(d.transmit(&cfg, 12_000, 1500), Some(48_000));
        assert_eq!(d.transmit(&cfg, 12_000, 1), None);
        // Long after, the link is idle: even a packet over the limit goes.
        let no_buffer = rated(1_000_000, 0);
        assert_eq!(d.transmit(&no_buffer, 100_000, 1500), Some(112_000));
        assert_eq!(d.transmit(&no_buffer, 100_000, 1), None);
    }

    #[test]
    fn unlimited_link_departs_at_once() {
        let mut d = dir();
        assert_eq!(d.transmit(&LinkConfig::default(), 77, 9000), Some(77));
    }

    #[test]
    fn in_order_arrivals_never_decrease() {
        let cfg = LinkConfig {
            delay_us: 1_000,
            jitter_us: 5_000,
            ..LinkConfig::default()
        };
        let mut d = dir();
        let mut last = 0;
        for now in 0..2_000 {
            let p = d.plan(&cfg, now, 100);
            assert_eq!(p.fate, Fate::Delivered);
            assert!(p.arrival_us >= last && p.arrival_us >= now + 1_000);
            assert!(p.arrival_us <= now + 6_000);
            last = p.arrival_us;
        }
    }

    #[test]
    fn time_going_backwards_does_not_panic() {
        let cfg = rated(8_000, 10);
        let mut d = dir();
        for now in [1_000_000, 5, 0, u64::MAX, 3] {
            let _ = d.plan(&cfg, now, 10);
        }
    }
}
