//! Sequence numbers: 32-bit modular arithmetic (RFC 9293 §3.4)
//!
//! Sequence numbers live on a circle of 2^32 values. "Less than" only means something for two
//! numbers less than 2^31 apart: `a < b` when `b - a`, taken modulo 2^32, lies in `1..2^31`.
//! Every operation here is total: no pair of inputs can make it panic (smoltcp's subtraction
//! panicked on peer-controlled numbers; this one cannot).

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence number, compared and added modulo 2^32
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The raw 32-bit value
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The signed distance from `other` to `self`: positive when `self` is after `other`
    ///
    /// Exactly 2^31 apart gives `i32::MIN`; the two numbers are then unordered.
    pub const fn distance(self, other: Self) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `self - other` as a byte count when `self` is at or after `other`, else zero
    pub const fn bytes_after(self, other: Self) -> u32 {
        let d = self.distance(other);
        if d > 0 {
            d as u32
        } else {
            0
        }
    }

    /// RFC 9293 `a < b`
    pub const fn lt(self, other: Self) -> bool {
        let d = self.distance(other);
        d < 0 && d != i32::MIN
    }

    /// RFC 9293 `a =< b`
    pub const fn le(self, other: Self) -> bool {
        self.0 == other.0 || self.lt(other)
    }

    /// RFC 9293 `a > b`
    pub const fn gt(self, other: Self) -> bool {
        other.lt(self)
    }

    /// RFC 9293 `a >= b`
    pub const fn ge(self, other: Self) -> bool {
        other.le(self)
    }

    /// The later of two numbers (`self` when they are unordered)
    pub const fn max(self, other: Self) -> Self {
        if other.gt(self) {
            other
        } else {
            self
        }
    }

    /// The earlier of two numbers (`self` when they are unordered)
    pub const fn min(self, other: Self) -> Self {
        if other.lt(self) {
            other
        } else {
            self
        }
    }

    /// Window membership (RFC 9293 §3.4): `start =< self < start + len`
    ///
    /// A zero-length window holds nothing. `len` is taken modulo 2^32 like every other
    /// sequence quantity; windows of 2^31 bytes or more are not meaningful (RFC 7323 §2.3).
    pub const fn in_window(self, start: Self, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }

    /// Range membership: `start =< self =< end` on the circle, walking forward from `start`
    pub const fn between_inclusive(self, start: Self, end: Self) -> bool {
        self.0.wrapping_sub(start.0) <= end.0.wrapping_sub(start.0)
    }
}

impl PartialOrd for SeqNumber {
    /// Ordered only within 2^31; exactly 2^31 apart is unordered (`None`)
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.distance(*other) {
            0 => Some(Ordering::Equal),
            i32::MIN => None,
            d if d < 0 => Some(Ordering::Less),
            _ => Some(Ordering::Greater),
        }
    }
}

impl Add<u32> for SeqNumber {
    type Output = Self;
    fn add(self, rhs: u32) -> Self {
        Self(self.0.wrapping_add(rhs))
    }
}

impl Add<usize> for SeqNumber {
    type Output = Self;
    /// Adds modulo 2^32 (the high bits of a 64-bit `usize` are dropped)
    fn add(self, rhs: usize) -> Self {
        Self(self.0.wrapping_add(rhs as u32))
    }
}

impl AddAssign<u32> for SeqNumber {
    fn add_assign(&mut self, rhs: u32) {
        *self = *self + rhs;
    }
}

impl AddAssign<usize> for SeqNumber {
    fn add_assign(&mut self, rhs: usize) {
        *self = *self + rhs;
    }
}

impl Sub<u32> for SeqNumber {
    type Output = Self;
    fn sub(self, rhs: u32) -> Self {
        Self(self.0.wrapping_sub(rhs))
    }
}

impl Sub for SeqNumber {
    type Output = i32;
    /// The signed distance, see [`SeqNumber::distance`]
    fn sub(self, rhs: Self) -> i32 {
        self.distance(rhs)
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HALF: u32 = 1 << 31;

    #[test]
    fn wraps_around_zero() {
        let a = SeqNumber(u32::MAX - 1);
        let b = a + 4u32;
        assert_eq!(b, SeqNumber(2));
        assert!(a.lt(b) && b.gt(a) && a < b);
        assert_eq!(b - a, 4);
        assert_eq!(a - b, -4);
        assert!(SeqNumber(0).in_window(a, 3));
        assert!(!SeqNumber(1).in_window(a, 3));
        assert!(!a.in_window(a, 0));
    }

    #[test]
    fn half_circle_is_unordered() {
        let a = SeqNumber(7);
        let b = a + HALF;
        assert_eq!(a.partial_cmp(&b), None);
        assert!(!a.lt(b) && !b.lt(a) && !a.le(b) && !b.le(a));
    }

    proptest! {
        #[test]
        fn add_then_distance(a in any::<u32>(), n in 0u32..HALF) {
            let a = SeqNumber(a);
            prop_assert_eq!((a + n) - a, n as i32);
            prop_assert_eq!((a + n).bytes_after(a), n);
            prop_assert_eq!((a + n) - n, a);
        }

        #[test]
        fn forward_is_greater(a in any::<u32>(), n in 1u32..HALF) {
            let a = SeqNumber(a);
            let b = a + n;
            prop_assert!(b.gt(a) && a.lt(b) && b.ge(a) && a.le(b));
            prop_assert!(!b.lt(a) && !a.gt(b));
            prop_assert_eq!(a.partial_cmp(&b), Some(Ordering::Less));
            prop_assert_eq!(a.max(b), b);
            prop_assert_eq!(b.min(a), a);
        }

        #[test]
        fn comparisons_antisymmetric(a in any::<u32>(), b in any::<u32>()) {
            let (a, b) = (SeqNumber(a), SeqNumber(b));
            prop_assert!(!(a.lt(b) && b.lt(a)));
            prop_assert_eq!(a.le(b) && b.le(a), a == b);
            prop_assert_eq!(a.partial_cmp(&b).map(Ordering::reverse), b.partial_cmp(&a));
            prop_assert_eq!(a.lt(b), a.partial_cmp(&b) == Some(Ordering::Less));
            // never panics, whatever the pair
            let _ = (a - b, a.bytes_after(b), a + b.0, a - b.0);
        }

        #[test]
        fn window_membership(start in any::<u32>(), len in 0u32..HALF, off in any::<u32>()) {
            let start = SeqNumber(start);
            let s = start + off;
            prop_assert_eq!(s.in_window(start, len), off < len);
            if len > 0 && off < len {
                prop_assert!(s.ge(start) && s.lt(start + len));
                prop_assert!(s.between_inclusive(start, start + (len - 1)));
            }
        }
    }
}
