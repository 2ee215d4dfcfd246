//! Indexed binary min-heap of per-slot deadlines over caller-provided storage
//!
//! The engine keeps one entry per connection slot that has a timer armed, so the earliest
//! deadline is found in O(1) and one slot's deadline is inserted, moved or removed in
//! O(log n), without allocating.

use managed::ManagedSlice;

/// Marker in `pos` for a slot that has no deadline
const ABSENT: u32 = u32::MAX;

/// Min-heap of `(deadline, slot)` with a slot → heap position index
///
/// Invariants: `heap[..len]` is a binary min-heap on the deadline; for every entry
/// `heap[i] = (_, s)`, `pos[s] == i`; every other `pos` entry is [`ABSENT`].
#[derive(Debug)]
pub(crate) struct DeadlineHeap<'a> {
    /// `(deadline in microseconds, slot)` entries; the first `len` form the heap
    heap: ManagedSlice<'a, (u64, u32)>,
    /// Heap position of each slot, or [`ABSENT`]
    pos: ManagedSlice<'a, u32>,
    /// Number of entries in the heap
    len: usize,
}

impl<'a> DeadlineHeap<'a> {
    /// An empty heap over `heap` and `pos`; slots are `0..pos.len()`
    ///
    /// At most `min(heap.len(), pos.len())` slots can hold a deadline at once; size `heap`
    /// at least as long as `pos` so every slot can. Every `pos` entry is overwritten.
    pub(crate) fn new(heap: ManagedSlice<'a, (u64, u32)>, mut pos: ManagedSlice<'a, u32>) -> Self {
        pos.fill(ABSENT);
        Self { heap, pos, len: 0 }
    }

    /// Set the deadline of `slot`: insert it, move it, or with `None` remove it
    ///
    /// Returns whether `slot` now has the requested deadline: `false` (and nothing changes)
    /// when `slot` is out of range, or when inserting into a heap already holding as many
    /// entries as it can.
    #[inline]
    pub(crate) fn set(&mut self, slot: u32, deadline: Option<u64>) -> bool {
        // The common case on every segment, checked inline: nothing moves.
        match (self.pos.get(slot as usize), deadline) {
            (Some(&ABSENT), None) => return true,
            (Some(&at), Some(d))
                if at != ABSENT && self.heap.get(at as usize).map(|e| e.0) == Some(d) =>
            {
                return true
            }
            _ => {}
        }
        self.set_moving(slot, deadline)
    }

    /// [`DeadlineHeap::set`] when the deadline changes: insert, sift or remove
    #[inline(never)]
    fn set_moving(&mut self, slot: u32, deadline: Option<u64>) -> bool {
        let Some(&at) = self.pos.get(slot as usize) else {
            return false;
        };
        match (at, deadline) {
            (ABSENT, None) => true,
            (ABSENT, Some(deadline)) => {
                if self.len >= self.capacity() {
                    return false;
                }
                let i = self.len;
                self.len += 1;
                self.place(i, (deadline, slot));
                self.sift_up(i);
                true
            }
            (at, Some(deadline)) => {
                let i = at as usize;
                let old = self.heap[i].0;
                if old == deadline {
                    return true; // the common case on every segment: nothing moves
                }
                self.heap[i].0 = deadline;
                if deadline < old {
                    self.sift_up(i);
                } else {
                    self.sift_down(i);
                }
                true
            }
            (at, None) => {
                let i = at as usize;
                self.pos[slot as usize] = ABSENT;
                self.len -= 1;
                if i < self.len {
                    let moved = self.heap[self.len];
                    self.place(i, moved);
                    self.sift_up(i);
                    self.sift_down(i);
                }
                true
            }
        }
    }

    /// The earliest `(deadline, slot)`; among equal deadlines, any one of them
    #[inline]
    pub(crate) fn peek(&self) -> Option<(u64, u32)> {
        self.heap[..self.len].first().copied()
    }

    /// The deadline of `slot`, if it has one (`None` for an out-of-range slot too)
    pub(crate) fn get(&self, slot: u32) -> Option<u64> {
        match self.pos.get(slot as usize) {
            Some(&ABSENT) | None => None,
            Some(&at) => self.heap.get(at as usize).map(|&(deadline, _)| deadline),
        }
    }

    /// Number of slots with a deadline
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    /// Whether no slot has a deadline
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most entries the heap can hold (positions must also fit in a `u32` below [`ABSENT`])
    fn capacity(&self) -> usize {
        self.heap.len().min(self.pos.len()).min(ABSENT as usize)
    }

    /// Store `entry` at heap index `i` and record its position
    fn place(&mut self, i: usize, entry: (u64, u32)) {
        self.heap[i] = entry;
        self.pos[entry.1 as usize] = i as u32;
    }

    /// Move the entry at `i` up while it is earlier than its parent
    fn sift_up(&mut self, mut i: usize) {
        let entry = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / 2;
            let up = self.heap[parent];
            if up.0 <= entry.0 {
                break;
            }
            self.place(i, up);
            i = parent;
        }
        self.place(i, entry);
    }

    /// Move the entry at `i` down while a child is earlier than it
    fn sift_down(&mut self, mut i: usize) {
        let entry = self.heap[i];
        loop {
            let left = 2 * i + 1;
            if left >= self.len {
                break;
            }
            let right = left + 1;
            let child = if right < self.len && self.heap[right].0 < self.heap[left].0 {
                right
            } else {
                left
            };
            let down = self.heap[child];
            if entry.0 <= down.0 {
                break;
            }
            self.place(i, down);
            i = child;
        }
        self.place(i, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::vec;

    /// Check the heap and index invariants
    fn check(h: &DeadlineHeap<'_>) {
        for i in 1..h.len {
            assert!(h.heap[(i - 1) / 2].0 <= h.heap[i].0, "heap order at {i}");
        }
        let mut present = 0;
        for (slot, &at) in h.pos.iter().enumerate() {
            if at != ABSENT {
                present += 1;
                assert_eq!(h.heap[at as usize].1 as usize, slot);
            }
        }
        assert_eq!(present, h.len);
    }

    #[test]
    fn basic() {
        let mut heap = [(0, 0); 4];
        let mut pos = [7; 4];
        let mut h = DeadlineHeap::new((&mut heap[..]).into(), (&mut pos[..]).into());
        assert!(h.is_empty());
        assert_eq!(h.peek(), None);
        assert!(h.set(2, Some(50)));
        assert!(h.set(0, Some(30)));
        assert!(h.set(3, Some(40)));
        assert_eq!(h.peek(), Some((30, 0)));
        assert!(h.set(0, Some(60))); // later
        assert_eq!(h.peek(), Some((40, 3)));
        assert!(h.set(2, Some(10))); // earlier
        assert_eq!(h.peek(), Some((10, 2)));
        assert!(h.set(2, None));
        assert!(h.set(2, None)); // already absent
        assert_eq!((h.get(2), h.get(0), h.len()), (None, Some(60), 2));
        assert!(!h.set(4, Some(1))); // out of range
        assert!(!h.set(u32::MAX, None));
        assert_eq!(h.get(4), None);
        check(&h);
        for slot in [3, 0] {
            assert!(h.set(slot, None));
        }
        assert!(h.is_empty());
        assert_eq!(h.peek(), None);
    }

    #[test]
    fn short_heap_storage_refuses_inserts_when_full() {
        let mut heap = [(0, 0); 2];
        let mut pos = [0; 5];
        let mut h = DeadlineHeap::new((&mut heap[..]).into(), (&mut pos[..]).into());
        assert!(h.set(4, Some(9)));
        assert!(h.set(1, Some(8)));
        assert!(!h.set(0, Some(1)));
        assert_eq!(h.get(0), None);
        assert!(h.set(4, Some(7))); // moving is fine when full
        assert_eq!(h.peek(), Some((7, 4)));
        assert!(h.set(1, None));
        assert!(h.set(0, Some(1)));
        assert_eq!(h.peek(), Some((1, 0)));
        check(&h);

        let mut h = DeadlineHeap::new(ManagedSlice::Borrowed(&mut []), (&mut pos[..]).into());
        assert!(!h.set(0, Some(1)));
        assert!(h.set(0, None));
        assert_eq!(h.peek(), None);
    }

    /// One step of the random workload
    #[derive(Debug, Clone)]
    enum Op {
        Set(u32, u64),
        Remove(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Slots 64..70 are out of range; small deadlines force ties.
        prop_oneof![
            4 => (0u32..70, 0u64..1000).prop_map(|(s, d)| Op::Set(s, d)),
            1 => (0u32..70, prop_oneof![Just(0u64), Just(u64::MAX)]).prop_map(|(s, d)| Op::Set(s, d)),
            2 => (0u32..70).prop_map(Op::Remove),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn matches_model(ops in prop::collection::vec(op(), 1..400), heap_len in 0usize..80) {
            const SLOTS: usize = 64;
            let mut heap = vec![(0u64, 0u32); heap_len];
            let mut pos = vec![0u32; SLOTS];
            let mut h = DeadlineHeap::new((&mut heap[..]).into(), (&mut pos[..]).into());
            let cap = heap_len.min(SLOTS);
            let mut model: BTreeMap<u32, u64> = BTreeMap::new();
            for op in ops {
                let (slot, deadline) = match op {
                    Op::Set(s, d) => (s, Some(d)),
                    Op::Remove(s) => (s, None),
                };
                let want = if slot as usize >= SLOTS {
                    false
                } else if let Some(d) = deadline {
                    if model.contains_key(&slot) || model.len() < cap {
                        model.insert(slot, d);
                        true
                    } else {
                        false
                    }
                } else {
                    model.remove(&slot);
                    true
                };
                prop_assert_eq!(h.set(slot, deadline), want);
                check(&h);
                prop_assert_eq!(h.len(), model.len());
                prop_assert_eq!(h.is_empty(), model.is_empty());
                let min = model.values().min().copied();
                prop_assert_eq!(h.peek().map(|(d, _)| d), min);
                if let Some((d, s)) = h.peek() {
                    prop_assert_eq!(model.get(&s), Some(&d));
                }
                for s in 0..SLOTS as u32 + 2 {
                    prop_assert_eq!(h.get(s), model.get(&s).copied());
                }
            }
        }
    }
}
