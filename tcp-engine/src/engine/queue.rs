//! A bounded FIFO over caller storage, for events and reply segments

use managed::ManagedSlice;

/// FIFO of `T` in a ring of `Option<T>`; pushing onto a full queue drops the new item
#[derive(Debug)]
pub(crate) struct Queue<'a, T: Copy> {
    ring: ManagedSlice<'a, Option<T>>,
    head: usize,
    len: usize,
    /// Items refused because the queue was full
    pub(crate) dropped: u64,
}

impl<'a, T: Copy> Queue<'a, T> {
    pub(crate) fn new(mut ring: ManagedSlice<'a, Option<T>>) -> Self {
        ring.fill(None);
        Self {
            ring,
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, item: T) -> bool {
        let cap = self.ring.len();
        if self.len == cap {
            self.dropped = self.dropped.wrapping_add(1);
            return false;
        }
        let at = self.head + self.len; // both below `cap`
        self.ring[if at >= cap { at - cap } else { at }] = Some(item);
        self.len += 1;
        true
    }

    #[inline]
    pub(crate) fn front(&self) -> Option<T> {
        if self.len == 0 {
            None
        } else {
            self.ring[self.head]
        }
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        let item = self.front()?;
        self.ring[self.head] = None;
        self.head += 1;
        if self.head == self.ring.len() {
            self.head = 0;
        }
        self.len -= 1;
        Some(item)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn fifo_bounded_and_counted() {
        let mut q = Queue::new(ManagedSlice::Owned(vec![None; 2]));
        assert!(q.push(1) && q.push(2));
        assert!(!q.push(3));
        assert_eq!(q.dropped, 1);
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(1), Some(2), None));
        assert!(q.push(4));
        assert_eq!((q.len(), q.front()), (1, Some(4)));
    }
}
