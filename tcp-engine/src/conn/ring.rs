//! Ring buffer bookkeeping over caller-provided bytes
//!
//! The connection keeps only the read position and length; the bytes live in storage the
//! caller owns (a slice of the engine's buffer pool, or the embedder's own arrays).

/// Start and length of the filled part of a ring of `cap` bytes
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Ring {
    start: u32,
    len: u32,
}

/// `pos` reduced into `0..cap` (`cap > 0`): positions are sums of two values below the
/// capacity, so one subtraction does it without a division on every segment
#[inline]
fn wrap(pos: usize, cap: usize) -> usize {
    if pos < cap {
        pos
    } else if pos - cap < cap {
        pos - cap
    } else {
        pos % cap
    }
}

impl Ring {
    /// Bytes held
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether it is empty
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left in a ring of `buf.len()` bytes
    pub(crate) fn free(&self, buf: &[u8]) -> usize {
        buf.len().saturating_sub(self.len())
    }

    /// Append as much of `data` as fits; returns how much was taken
    pub(crate) fn enqueue(&mut self, buf: &mut [u8], data: &[u8]) -> usize {
        let n = data.len().min(self.free(buf));
        let written = self.write_at(buf, self.len(), &data[..n]);
        self.len += written as u32;
        written
    }

    /// Write `data` at `offset` from the start without changing the length (for out-of-order
    /// data); `offset` must not be inside the filled part. Writes what fits, returns how much
    pub(crate) fn write_at(&self, buf: &mut [u8], offset: usize, data: &[u8]) -> usize {
        let cap = buf.len();
        if offset >= cap || offset < self.len() {
            return 0;
        }
        let n = data.len().min(cap - offset);
        let mut pos = wrap(self.start as usize + offset, cap);
        let mut done = 0;
        while done < n {
            let chunk = (n - done).min(cap - pos);
            buf[pos..pos + chunk].copy_from_slice(&data[done..done + chunk]);
            done += chunk;
            pos = 0;
        }
        n
    }

    /// Grow the filled part by `n` bytes already written past it (clamped to the capacity)
    pub(crate) fn commit(&mut self, buf: &[u8], n: usize) {
        self.len = (self.len() + n).min(buf.len()) as u32;
    }

    /// Copy bytes starting `offset` into the filled part into `out`; returns how many
    pub(crate) fn peek(&self, buf: &[u8], offset: usize, out: &mut [u8]) -> usize {
        let cap = buf.len();
        if offset >= self.len() || cap == 0 {
            return 0;
        }
        let n = out.len().min(self.len() - offset);
        let mut pos = wrap(self.start as usize + offset, cap);
        let mut done = 0;
        while done < n {
            let chunk = (n - done).min(cap - pos);
            out[done..done + chunk].copy_from_slice(&buf[pos..pos + chunk]);
            done += chunk;
            pos = 0;
        }
        n
    }

    /// The filled bytes from `offset` as up to two slices (for zero-copy reads)
    pub(crate) fn slices<'b>(&self, buf: &'b [u8], offset: usize) -> (&'b [u8], &'b [u8]) {
        let cap = buf.len();
        if offset >= self.len() || cap == 0 {
            return (&[], &[]);
        }
        let n = self.len() - offset;
        let pos = wrap(self.start as usize + offset, cap);
        let first = n.min(cap - pos);
        (&buf[pos..pos + first], &buf[..n - first])
    }

    /// Keep only the first `n` bytes (drop from the back)
    pub(crate) fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n as u32);
    }

    /// Drop `n` bytes from the front
    pub(crate) fn consume(&mut self, buf: &[u8], n: usize) {
        let n = n.min(self.len());
        if buf.is_empty() {
            return;
        }
        self.start = wrap(self.start as usize + n, buf.len()) as u32;
        // The start keeps moving even when the ring empties: out-of-order data may already
        // sit past the filled part, at offsets counted from here.
        self.len -= n as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    #[test]
    fn wraps_and_reads_back() {
        let mut buf = [0u8; 8];
        let mut r = Ring::default();
        assert_eq!(r.enqueue(&mut buf, b"abcdef"), 6);
        r.consume(&buf, 4);
        assert_eq!(r.enqueue(&mut buf, b"ghijklmn"), 6);
        let mut out = [0u8; 8];
        assert_eq!(r.peek(&buf, 0, &mut out), 8);
        assert_eq!(&out, b"efghijkl");
        let (a, b) = r.slices(&buf, 1);
        assert_eq!([a, b].concat(), b"fghijkl");
    }

    #[test]
    fn out_of_order_write_then_commit() {
        let mut buf = [0u8; 8];
        let mut r = Ring::default();
        r.enqueue(&mut buf, b"ab");
        assert_eq!(r.write_at(&mut buf, 4, b"ef"), 2);
        assert_eq!(r.write_at(&mut buf, 2, b"cd"), 2);
        r.commit(&buf, 4);
        let mut out = [0u8; 6];
        r.peek(&buf, 0, &mut out);
        assert_eq!(&out, b"abcdef");
        assert_eq!(r.write_at(&mut buf, 7, b"xyz"), 1);
        assert_eq!(r.write_at(&mut buf, 9, b"xyz"), 0);
    }

    proptest! {
        #[test]
        fn behaves_like_a_deque(ops in proptest::collection::vec((any::<bool>(), 0usize..20), 0..60)) {
            let mut buf = [0u8; 16];
            let mut r = Ring::default();
            let mut model: VecDeque<u8> = VecDeque::new();
            let mut next = 0u8;
            for (push, n) in ops {
                if push {
                    let data: Vec<u8> = (0..n).map(|i| next.wrapping_add(i as u8)).collect();
                    let took = r.enqueue(&mut buf, &data);
                    prop_assert_eq!(took, n.min(16 - model.len()));
                    model.extend(&data[..took]);
                    next = next.wrapping_add(took as u8);
                } else {
                    r.consume(&buf, n);
                    for _ in 0..n.min(model.len()) { model.pop_front(); }
                }
                let mut out = [0u8; 16];
                let got = r.peek(&buf, 0, &mut out);
                let expect: Vec<u8> = model.iter().copied().collect();
                prop_assert_eq!(&out[..got], expect.as_slice());
            }
        }
    }
}
