//! The 4-tuple index: open addressing with linear probing over caller storage
//!
//! Lookup, insert and remove cost O(1) expected, whatever the number of connections: no
//! scan. Entries name a connection slot or a TIME-WAIT entry; the 4-tuple itself stays in
//! the slot, so an entry is four bytes. Removal shifts later entries back (no tombstones), so
//! probe chains never grow with churn.

use managed::ManagedSlice;

/// What an index entry points at
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A connection slot
    Conn(u32),
    /// A TIME-WAIT entry
    TimeWait(u32),
}

const EMPTY: u32 = 0;
const TW_BIT: u32 = 1 << 31;

impl Entry {
    fn encode(self) -> u32 {
        match self {
            Self::Conn(i) => i + 1,
            Self::TimeWait(i) => (i + 1) | TW_BIT,
        }
    }

    fn decode(raw: u32) -> Option<Self> {
        match raw {
            EMPTY => None,
            r if r & TW_BIT != 0 => Some(Self::TimeWait((r & !TW_BIT) - 1)),
            r => Some(Self::Conn(r - 1)),
        }
    }
}

/// The index table
#[derive(Debug)]
pub(crate) struct Index<'a> {
    table: ManagedSlice<'a, u32>,
    len: usize,
}

impl<'a> Index<'a> {
    /// An empty index over `table` (any length; keep it at least twice the entries it holds)
    pub(crate) fn new(mut table: ManagedSlice<'a, u32>) -> Self {
        table.fill(EMPTY);
        Self { table, len: 0 }
    }

    #[cfg(test)]
    /// Entries held
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn home(&self, hash: u64) -> usize {
        // Multiply-shift range reduction: the table need not be a power of two.
        ((u128::from(hash) * self.table.len() as u128) >> 64) as usize
    }

    /// Find the entry for `hash` whose tuple `matches`
    pub(crate) fn find(&self, hash: u64, mut matches: impl FnMut(Entry) -> bool) -> Option<Entry> {
        let n = self.table.len();
        if n == 0 {
            return None;
        }
        let mut i = self.home(hash);
        for _ in 0..n {
            let e = Entry::decode(self.table[i])?;
            if matches(e) {
                return Some(e);
            }
            i = if i + 1 == n { 0 } else { i + 1 };
        }
        None
    }

    /// Insert an entry (the caller made sure its tuple is absent); false when full
    pub(crate) fn insert(&mut self, hash: u64, entry: Entry) -> bool {
        let n = self.table.len();
        if self.len + 1 >= n {
            return false; // keep one empty bucket so probes end
        }
        let mut i = self.home(hash);
        while self.table[i] != EMPTY {
            i = if i + 1 == n { 0 } else { i + 1 };
        }
        self.table[i] = entry.encode();
        self.len += 1;
        true
    }

    /// Remove `entry` stored under `hash`; `hash_of` gives the hash of any other entry so
    /// that later entries can move back into the hole
    pub(crate) fn remove(
        &mut self,
        hash: u64,
        entry: Entry,
        mut hash_of: impl FnMut(Entry) -> u64,
    ) -> bool {
        let n = self.table.len();
        if n == 0 {
            return false;
        }
        let raw = entry.encode();
        let mut i = self.home(hash);
        let mut found = false;
        for _ in 0..n {
            match self.table[i] {
                EMPTY => break,
                r if r == raw => {
                    found = true;
                    break;
                }
                _ => i = if i + 1 == n { 0 } else { i + 1 },
            }
        }
        if !found {
            return false;
        }
        // Backward-shift deletion.
        let mut hole = i;
        let mut j = i;
        loop {
            j = if j + 1 == n { 0 } else { j + 1 };
            let Some(e) = Entry::decode(self.table[j]) else {
                break;
            };
            let home = self.home(hash_of(e));
            // Move e into the hole if its home is not cyclically in (hole, j]. (Cyclic
            // distances of indices below `n`: one conditional subtraction, no division.)
            let cyclic = |d: usize| if d >= n { d - n } else { d };
            let dist_home = cyclic(j + n - home);
            let dist_hole = cyclic(j + n - hole);
            if dist_home >= dist_hole {
                self.table[hole] = self.table[j];
                hole = j;
            }
        }
        self.table[hole] = EMPTY;
        self.len -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::vec;

    // Hash = key with collisions forced by a small modulus.
    fn h(k: u32) -> u64 {
        u64::from(k % 7).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((any::<bool>(), 0u32..40), 0..300)) {
            let mut idx = Index::new(ManagedSlice::Owned(vec![0; 61]));
            let mut model = BTreeMap::new();
            for (insert, k) in ops {
                if insert && !model.contains_key(&k) {
                    prop_assert!(idx.insert(h(k), Entry::Conn(k)));
                    model.insert(k, ());
                } else if !insert {
                    let removed = idx.remove(h(k), Entry::Conn(k), |e| match e {
                        Entry::Conn(x) | Entry::TimeWait(x) => h(x),
                    });
                    prop_assert_eq!(removed, model.remove(&k).is_some());
                }
                prop_assert_eq!(idx.len(), model.len());
                for key in 0..40u32 {
                    let found = idx.find(h(key), |e| e == Entry::Conn(key));
                    prop_assert_eq!(found.is_some(), model.contains_key(&key));
                }
            }
        }
    }

    #[test]
    fn time_wait_entries_are_distinct() {
        let mut idx = Index::new(ManagedSlice::Owned(vec![0; 8]));
        assert!(idx.insert(1, Entry::Conn(0)));
        assert!(idx.insert(1, Entry::TimeWait(0)));
        assert_eq!(
            idx.find(1, |e| e == Entry::TimeWait(0)),
            Some(Entry::TimeWait(0))
        );
        assert!(idx.remove(1, Entry::Conn(0), |_| 1));
        assert_eq!(
            idx.find(1, |e| e == Entry::TimeWait(0)),
            Some(Entry::TimeWait(0))
        );
    }
}
