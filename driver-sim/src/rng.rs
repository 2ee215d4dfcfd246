//! Seeded, platform-independent randomness.
//!
//! Every direction of every link has its own ChaCha8 stream, derived from the
//! network's seed and the ordered host pair. Each packet sent draws exactly
//! [`Draws`]' worth of words from its direction's stream, whatever the
//! configuration and whatever happens to the packet. So:
//!
//! - the same seed and the same sends give the same fates on every platform;
//! - traffic in one direction never changes the fates in another;
//! - changing one probability does not shift the dice of the other decisions.
//!
//! Only the raw `u64` stream of `rand_chacha` is used; the mapping from words
//! to decisions is done here with integer arithmetic and exact float
//! comparisons, so it cannot change with a `rand` release.

use std::collections::BTreeSet;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::HostId;

/// The random stream of one direction.
#[derive(Debug, Clone)]
pub(crate) struct DirRng(ChaCha8Rng);

impl DirRng {
    /// The stream of packets from `from` to `to` in a network seeded `seed`.
    pub(crate) fn new(seed: u64, from: HostId, to: HostId) -> Self {
        let mut mix = SplitMix64(seed);
        let mut key = [0u8; 32];
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&mix.next_u64().to_le_bytes());
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream((u64::from(from.get()) << 32) | u64::from(to.get()));
        Self(rng)
    }

    /// The dice for one packet.
    pub(crate) fn draws(&mut self) -> Draws {
        Draws {
            loss: self.0.next_u64(),
            duplicate: self.0.next_u64(),
            reorder: self.0.next_u64(),
            corrupt: self.0.next_u64(),
            jitter: self.0.next_u64(),
            corrupt_seed: self.0.next_u64(),
        }
    }
}

/// The random words one packet's fate is decided with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Draws {
    pub(crate) loss: u64,
    pub(crate) duplicate: u64,
    pub(crate) reorder: u64,
    pub(crate) corrupt: u64,
    pub(crate) jitter: u64,
    pub(crate) corrupt_seed: u64,
}

/// True with probability `p` for a uniformly random `word`, to a resolution
/// of 2^-64. `p <= 0` (or NaN) is never, `p >= 1` always.
pub(crate) fn chance(word: u64, p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    if p.is_nan() || p <= 0.0 {
        return false;
    }
    // Exact: multiplying by 2^64 only changes the exponent; the cast rounds
    // toward zero and saturates.
    let threshold = (p * 18_446_744_073_709_551_616.0) as u64;
    word < threshold
}

/// A value in `0..=max` from a uniformly random `word` (by widening
/// multiplication; the bias is below `max / 2^64`).
pub(crate) fn up_to(word: u64, max: u64) -> u64 {
    let span = u128::from(max) + 1;
    ((u128::from(word) * span) >> 64) as u64
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator used to expand
/// seeds.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Flips `count` distinct bits of `packet` (all of them if it has fewer),
/// chosen from `seed`. Returns how many bits were flipped.
pub(crate) fn flip_bits(packet: &mut [u8], count: u32, seed: u64) -> u64 {
    let total = (packet.len() as u64).saturating_mul(8);
    let k = u64::from(count).min(total);
    let mut rng = SplitMix64(seed);
    // Floyd's algorithm: k distinct positions in 0..total, k draws.
    let mut chosen = BTreeSet::new();
    for j in (total - k)..total {
        let t = up_to(rng.next_u64(), j);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    for &bit in &chosen {
        // `bit < total`, so the index is in bounds.
        if let Some(byte) = packet.get_mut((bit / 8) as usize) {
            *byte ^= 1 << (bit % 8);
        }
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chance_edges() {
        for w in [0, 1, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
            assert!(!chance(w, 0.0));
            assert!(!chance(w, -1.0));
            assert!(!chance(w, f64::NAN));
            assert!(chance(w, 1.0));
            assert!(chance(w, 2.0));
        }
        // The resolution is 2^-64: smaller probabilities are never.
        assert!(!chance(0, f64::MIN_POSITIVE));
        assert!(chance(0, 1e-18));
        assert!(chance(u64::MAX / 2, 0.5));
        assert!(!chance(1 << 63, 0.5));
        // The largest f64 below 1 is 1 - 2^-53: a threshold of 2^64 - 2^11.
        let almost = 1.0 - f64::EPSILON / 2.0;
        assert!(chance(u64::MAX - 2048, almost));
        assert!(!chance(u64::MAX - 2047, almost));
    }

    #[test]
    fn up_to_stays_in_range() {
        for max in [0, 1, 7, 1_000, u64::MAX] {
            for w in [0, 1, 12_345, u64::MAX / 3, u64::MAX] {
                assert!(up_to(w, max) <= max);
            }
        }
        assert_eq!(up_to(0, 10), 0);
        assert_eq!(up_to(u64::MAX, 10), 10);
        assert_eq!(up_to(u64::MAX, u64::MAX), u64::MAX);
        assert_eq!(up_to(u64::MAX / 2, 1), 0);
        assert_eq!(up_to(1 << 63, 1), 1);
    }

    #[test]
    fn splitmix_known_answer() {
        // Reference values of SplitMix64 seeded with 0.
        let mut r = SplitMix64(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let a = || DirRng::new(42, HostId(0), HostId(1));
        let (mut x, mut y) = (a(), a());
        for _ in 0..10 {
            assert_eq!(x.draws().loss, y.draws().loss);
        }
        let mut other_dir = DirRng::new(42, HostId(1), HostId(0));
        let mut other_seed = DirRng::new(43, HostId(0), HostId(1));
        let first = a().draws().loss;
        assert_ne!(first, other_dir.draws().loss);
        assert_ne!(first, other_seed.draws().loss);
    }

    #[test]
    fn flips_exactly_the_requested_distinct_bits() {
        for (len, count, want) in [(0, 1, 0), (1, 1, 1), (1, 8, 8), (1, 100, 8), (60, 3, 3)] {
            for seed in 0..50 {
                let mut p = vec![0u8; len];
                assert_eq!(flip_bits(&mut p, count, seed), want);
                let ones: u64 = p.iter().map(|b| u64::from(b.count_ones())).sum();
                assert_eq!(ones, want, "len {len} count {count} seed {seed}");
            }
        }
    }
}
