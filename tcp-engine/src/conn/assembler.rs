//! Out-of-order reassembly bookkeeping for the receive buffer
//!
//! RFC 9293 §3.10.7.4 (SHLD-31) asks a receiver to keep segments that arrive beyond
//! RCV.NXT, and RFC 2018 lets it report them to the sender as SACK blocks. The
//! [`Assembler`] only records *which* bytes have arrived; the bytes themselves live in the
//! caller's receive buffer. Every position is an offset relative to the in-order point
//! (RCV.NXT), never a sequence number.

/// Upper bound on the number of disjoint ranges an [`Assembler`] can track
pub(crate) const MAX_RANGES: usize = 8;

/// Most SACK blocks [`Assembler::sack_ranges`] reports (what fits in a TCP option area)
pub(crate) const MAX_SACK_BLOCKS: usize = 4;

/// Error from [`Assembler::add`]: recording the data would need more ranges than allowed
///
/// The caller must drop the data; the sender will retransmit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// Set of byte ranges received beyond the in-order point, with SACK recency
///
/// Invariants: the first `len` entries of `ranges` are sorted, non-empty, non-overlapping
/// and non-adjacent; `len <= max_ranges`; the first `len` entries of `recency` are a
/// permutation of `0..len`, 0 being the most recently touched range.
#[derive(Debug, Clone)]
pub(crate) struct Assembler<const N: usize = MAX_RANGES> {
    /// Received ranges as `(start, end)` offsets, `end` exclusive
    ranges: [(u32, u32); N],
    /// Recency rank of the range at the same index (0 = most recently touched)
    recency: [u8; N],
    /// Number of live entries in `ranges` and `recency`
    len: u8,
    /// Runtime bound on `len`, in `1..=N`
    max_ranges: u8,
}

impl<const N: usize> Assembler<N> {
    /// An empty assembler that tracks at most `max_ranges` disjoint ranges
    ///
    /// `max_ranges` is clamped to `1..=N` (`N` is at most 255).
    pub(crate) const fn new(max_ranges: u8) -> Self {
        let max_ranges = if max_ranges == 0 {
            1
        } else if max_ranges as usize > N {
            N as u8
        } else {
            max_ranges
        };
        Self {
            ranges: [(0, 0); N],
            recency: [0; N],
            len: 0,
            max_ranges,
        }
    }

    /// Record that bytes `[offset, offset + len)` arrived
    ///
    /// The new range is merged with every range it overlaps or touches, and the result
    /// becomes the most recently touched range (reported first by
    /// [`sack_ranges`](Self::sack_ranges)). Data that merges into existing ranges is always
    /// accepted. Data that needs a range of its own when `max_ranges` are already in use is
    /// not recorded and `Err(Full)` is returned, except data at offset 0: that is always
    /// accepted, evicting the range farthest from the in-order point (reneging on it, which
    /// RFC 2018 §8 allows; the sender retransmits it) so the connection cannot stall.
    ///
    /// Zero-length data is a no-op. Bytes at offsets past `u32::MAX` cannot be represented
    /// and are ignored (the range is clamped).
    pub(crate) fn add(&mut self, offset: u32, len: u32) -> Result<(), Full> {
        let start = offset;
        let end = offset.saturating_add(len);
        if start == end {
            return Ok(());
        }
        let mut n = usize::from(self.len);
        // The first range that overlaps or touches `[start, end)`...
        let first = self.ranges[..n]
            .iter()
            .position(|&(_, e)| e >= start)
            .unwrap_or(n);
        // ...and the first one past it that neither overlaps nor touches it.
        let last = self.ranges[..n]
            .iter()
            .position(|&(s, _)| s > end)
            .unwrap_or(n);
        if first < last {
            let merged = (
                start.min(self.ranges[first].0),
                end.max(self.ranges[last - 1].1),
            );
            self.ranges[first] = merged;
            self.ranges.copy_within(last..n, first + 1);
            self.recency.copy_within(last..n, first + 1);
            n -= last - first - 1;
            self.len = n as u8;
            self.touch(first);
            return Ok(());
        }
        if n >= usize::from(self.max_ranges) {
            if start != 0 || n == 0 {
                return Err(Full);
            }
            // Evict the farthest range; `first` is 0 here since the new range starts at 0.
            n -= 1;
            self.len = n as u8;
            self.normalize();
        }
        self.ranges.copy_within(first..n, first + 1);
        self.recency.copy_within(first..n, first + 1);
        self.ranges[first] = (start, end);
        self.recency[first] = u8::MAX;
        self.len = (n + 1) as u8;
        self.touch(first);
        Ok(())
    }

    /// Number of contiguous bytes available from offset 0 (0 if nothing starts at 0)
    pub(crate) fn front_len(&self) -> u32 {
        match self.ranges().next() {
            Some((0, end)) => end,
            _ => 0,
        }
    }

    /// Move the in-order point forward by `n` bytes
    ///
    /// Every range shifts down by `n`; whatever falls below offset 0 is dropped.
    pub(crate) fn advance(&mut self, n: u32) {
        if n == 0 {
            return;
        }
        let mut kept = 0;
        for i in 0..usize::from(self.len) {
            let (start, end) = self.ranges[i];
            if end <= n {
                continue;
            }
            self.ranges[kept] = (start.saturating_sub(n), end - n);
            self.recency[kept] = self.recency[i];
            kept += 1;
        }
        self.len = kept as u8;
        self.normalize();
    }

    /// Whether no range is recorded
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The recorded `(start, end)` ranges, sorted by offset, `end` exclusive
    pub(crate) fn ranges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.ranges[..usize::from(self.len)].iter().copied()
    }

    /// Up to `max` (at most [`MAX_SACK_BLOCKS`]) ranges to report as SACK blocks
    ///
    /// Ordered per RFC 2018 §4: the range holding the most recently added data first, then
    /// the others from most to least recently touched. A range starting at offset 0 is
    /// in-order data (the cumulative ACK covers it once the caller advances) and is skipped.
    /// Returns the blocks and how many of them are valid.
    pub(crate) fn sack_ranges(&self, max: usize) -> ([(u32, u32); MAX_SACK_BLOCKS], usize) {
        let mut out = [(0, 0); MAX_SACK_BLOCKS];
        let limit = max.min(MAX_SACK_BLOCKS);
        let n = usize::from(self.len);
        let mut count = 0;
        for rank in 0..n {
            if count >= limit {
                break;
            }
            let found = self.recency[..n]
                .iter()
                .position(|&r| usize::from(r) == rank);
            if let Some(i) = found {
                if self.ranges[i].0 != 0 {
                    out[count] = self.ranges[i];
                    count += 1;
                }
            }
        }
        (out, count)
    }

    /// Forget every recorded range
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Make the range at `idx` the most recently touched one
    fn touch(&mut self, idx: usize) {
        for r in &mut self.recency[..usize::from(self.len)] {
            *r = r.saturating_add(1);
        }
        if let Some(r) = self.recency.get_mut(idx) {
            *r = 0;
        }
        self.normalize();
    }

    /// Renumber the live recency ranks to `0..len`, keeping their order (ties by index)
    fn normalize(&mut self) {
        let n = usize::from(self.len);
        let old = self.recency;
        for i in 0..n {
            let key = (old[i], i);
            let rank = (0..n).filter(|&j| (old[j], j) < key).count();
            self.recency[i] = rank as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::vec::Vec;

    fn ranges(a: &Assembler) -> Vec<(u32, u32)> {
        a.ranges().collect()
    }

    fn sacks(a: &Assembler, max: usize) -> Vec<(u32, u32)> {
        let (blocks, n) = a.sack_ranges(max);
        blocks[..n].to_vec()
    }

    #[test]
    fn small_and_clamped() {
        assert!(core::mem::size_of::<Assembler>() <= 80);
        assert_eq!(Assembler::<MAX_RANGES>::new(0).max_ranges, 1);
        assert_eq!(Assembler::<MAX_RANGES>::new(3).max_ranges, 3);
        assert_eq!(
            Assembler::<MAX_RANGES>::new(200).max_ranges,
            MAX_RANGES as u8
        );
    }

    #[test]
    fn merges_overlapping_and_adjacent() {
        let mut a = Assembler::<MAX_RANGES>::new(8);
        assert!(a.is_empty());
        for off in [10, 20, 30] {
            a.add(off, 5).unwrap();
        }
        assert_eq!(ranges(&a), [(10, 15), (20, 25), (30, 35)]);
        a.add(15, 5).unwrap(); // touches both neighbours
        assert_eq!(ranges(&a), [(10, 25), (30, 35)]);
        a.add(5, 40).unwrap(); // swallows everything
        a.add(7, 3).unwrap(); // duplicate
        a.add(50, 0).unwrap(); // empty
        assert_eq!(ranges(&a), [(5, 45)]);
        assert_eq!(a.front_len(), 0);
        a.add(0, 5).unwrap();
        assert_eq!(a.front_len(), 45);
        a.advance(45);
        assert!(a.is_empty());
    }

    #[test]
    fn full_rejects_new_ranges_but_accepts_merges_and_offset_zero() {
        let mut a = Assembler::<MAX_RANGES>::new(2);
        a.add(10, 10).unwrap();
        a.add(30, 10).unwrap();
        assert_eq!(a.add(50, 10), Err(Full));
        assert_eq!(a.add(5, 2), Err(Full));
        assert_eq!(ranges(&a), [(10, 20), (30, 40)]);
        a.add(40, 5).unwrap();
        a.add(8, 2).unwrap();
        assert_eq!(ranges(&a), [(8, 20), (30, 45)]);
        // Offset 0 is always accepted: the farthest range goes.
        a.add(0, 3).unwrap();
        assert_eq!(ranges(&a), [(0, 3), (8, 20)]);
        assert_eq!(sacks(&a, 4), [(8, 20)]);
        let mut one = Assembler::<MAX_RANGES>::new(1);
        one.add(100, 10).unwrap();
        assert_eq!(one.add(50, 10), Err(Full));
        one.add(0, 10).unwrap();
        assert_eq!(one.front_len(), 10);
    }

    #[test]
    fn sack_order_is_most_recent_first() {
        let mut a = Assembler::<MAX_RANGES>::new(8);
        for off in [10, 30, 50, 70, 90] {
            a.add(off, 5).unwrap();
        }
        assert_eq!(sacks(&a, 4), [(90, 95), (70, 75), (50, 55), (30, 35)]);
        a.add(33, 4).unwrap(); // touches (30, 35)
        assert_eq!(sacks(&a, 3), [(30, 37), (90, 95), (70, 75)]);
        assert_eq!(sacks(&a, 0), []);
        assert_eq!(sacks(&a, 99).len(), MAX_SACK_BLOCKS);
        a.add(0, 12).unwrap(); // in order: not a SACK block
        assert_eq!(sacks(&a, 2), [(30, 37), (90, 95)]);
        a.advance(a.front_len());
        assert_eq!(sacks(&a, 1), [(15, 22)]); // was (30, 37)
    }

    #[test]
    fn edge_cases() {
        let mut a = Assembler::<MAX_RANGES>::new(8);
        a.add(10, 10).unwrap();
        a.add(30, 10).unwrap();
        a.advance(0);
        a.advance(15);
        assert_eq!(ranges(&a), [(0, 5), (15, 25)]);
        assert_eq!(a.front_len(), 5);
        a.advance(u32::MAX);
        assert!(a.is_empty());
        a.add(1, 1).unwrap();
        a.clear();
        assert!(a.is_empty());
        // Offsets past u32::MAX are clamped away.
        a.add(u32::MAX - 1, 10).unwrap();
        a.add(u32::MAX, 10).unwrap();
        assert_eq!(ranges(&a), [(u32::MAX - 1, u32::MAX)]);
        a.add(0, u32::MAX).unwrap();
        assert_eq!(a.front_len(), u32::MAX);
    }

    /// One step of the random workload
    #[derive(Debug, Clone)]
    enum Op {
        Add(u32, u32),
        Advance(u32),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            12 => (0u32..120, 0u32..20).prop_map(|(o, l)| Op::Add(o, l)),
            3 => (0u32..20).prop_map(|l| Op::Add(0, l)),
            3 => (0u32..30).prop_map(Op::Advance),
            1 => Just(Op::Clear),
        ]
    }

    /// Model: each received byte with the stamp of the last add that touched its range
    #[derive(Default)]
    struct Model {
        bytes: BTreeMap<u32, u64>,
    }

    /// Maximal runs of consecutive bytes as `(start, end, newest stamp)`
    fn runs(bytes: &BTreeMap<u32, u64>) -> Vec<(u32, u32, u64)> {
        let mut runs: Vec<(u32, u32, u64)> = Vec::new();
        for (&b, &t) in bytes {
            match runs.last_mut() {
                Some(last) if last.1 == b => {
                    last.1 = b + 1;
                    last.2 = last.2.max(t);
                }
                _ => runs.push((b, b + 1, t)),
            }
        }
        runs
    }

    impl Model {
        fn runs(&self) -> Vec<(u32, u32, u64)> {
            runs(&self.bytes)
        }

        fn add(&mut self, offset: u32, len: u32, max: usize, stamp: u64) -> Result<(), Full> {
            if len == 0 {
                return Ok(());
            }
            let before = self.runs();
            let mut next = self.bytes.clone();
            for b in offset..offset + len {
                next.entry(b).or_insert(0);
            }
            let grew = runs(&next).len() > before.len();
            if grew && before.len() >= max {
                if offset != 0 {
                    return Err(Full);
                }
                let (s, e, _) = *before.last().unwrap();
                for b in s..e {
                    next.remove(&b);
                }
            }
            self.bytes = next;
            let (s, e, _) = *self
                .runs()
                .iter()
                .find(|r| r.0 <= offset && offset < r.1)
                .unwrap();
            for b in s..e {
                self.bytes.insert(b, stamp);
            }
            Ok(())
        }

        fn advance(&mut self, n: u32) {
            self.bytes = self
                .bytes
                .iter()
                .filter(|(&b, _)| b >= n)
                .map(|(&b, &t)| (b - n, t))
                .collect();
        }

        fn sacks(&self, max: usize) -> Vec<(u32, u32)> {
            let mut runs: Vec<_> = self.runs().into_iter().filter(|r| r.0 != 0).collect();
            runs.sort_by_key(|r| core::cmp::Reverse(r.2));
            runs.iter()
                .take(max.min(MAX_SACK_BLOCKS))
                .map(|r| (r.0, r.1))
                .collect()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn matches_model(
            max in 0u8..=10,
            ops in prop::collection::vec(op(), 1..200),
            sack_max in 0usize..6,
        ) {
            let mut a = Assembler::<MAX_RANGES>::new(max);
            let mut m = Model::default();
            let limit = usize::from(max.clamp(1, MAX_RANGES as u8));
            for (stamp, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Add(o, l) => {
                        let want = m.add(o, l, limit, stamp as u64 + 1);
                        prop_assert_eq!(a.add(o, l), want);
                    }
                    Op::Advance(n) => {
                        a.advance(n);
                        m.advance(n);
                    }
                    Op::Clear => {
                        a.clear();
                        m.bytes.clear();
                    }
                }
                let want: Vec<_> = m.runs().iter().map(|r| (r.0, r.1)).collect();
                prop_assert_eq!(ranges(&a), want.clone());
                prop_assert!(want.len() <= limit);
                prop_assert_eq!(a.is_empty(), want.is_empty());
                let front = want.first().filter(|r| r.0 == 0).map_or(0, |r| r.1);
                prop_assert_eq!(a.front_len(), front);
                prop_assert_eq!(sacks(&a, sack_max), m.sacks(sack_max));
            }
        }
    }
}
