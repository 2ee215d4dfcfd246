//! Virtual time: the engine's only notion of "now".
//!
//! The engine never reads a clock. Every input carries an [`Instant`] chosen by the caller
//! (the real clock in `driver-tun`, a virtual clock in `driver-sim` and in tests). Instants are
//! microseconds since an arbitrary epoch picked by the caller; durations are
//! [`core::time::Duration`]. All arithmetic saturates, so no input can make it panic.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point in time, in microseconds since an epoch the caller chooses
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant {
    micros: u64,
}

impl Instant {
    /// The epoch itself
    pub const ZERO: Self = Self { micros: 0 };

    /// The instant `micros` microseconds after the epoch
    pub const fn from_micros(micros: u64) -> Self {
        Self { micros }
    }

    /// The instant `millis` milliseconds after the epoch (saturating)
    pub const fn from_millis(millis: u64) -> Self {
        Self {
            micros: millis.saturating_mul(1_000),
        }
    }

    /// The instant `secs` seconds after the epoch (saturating)
    pub const fn from_secs(secs: u64) -> Self {
        Self {
            micros: secs.saturating_mul(1_000_000),
        }
    }

    /// Microseconds since the epoch
    pub const fn total_micros(self) -> u64 {
        self.micros
    }

    /// Milliseconds since the epoch (truncated)
    pub const fn total_millis(self) -> u64 {
        self.micros / 1_000
    }

    /// The time elapsed from `earlier` to `self`, or zero if `earlier` is later
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros))
    }

    /// `self + d`, or `None` when it would not fit in 64 bits of microseconds
    pub fn checked_add(self, d: Duration) -> Option<Self> {
        let d = u64::try_from(d.as_micros()).ok()?;
        Some(Self {
            micros: self.micros.checked_add(d)?,
        })
    }
}

/// Microseconds of a duration, saturating at `u64::MAX`
///
/// Whole seconds times a million plus the sub-second microseconds, in 64-bit arithmetic
/// (`Duration::as_micros` works in 128 bits, and this runs for every timer set).
#[inline]
pub(crate) fn duration_micros(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_micros()))
}

impl Add<Duration> for Instant {
    type Output = Self;
    /// Saturates at the end of time instead of panicking
    fn add(self, rhs: Duration) -> Self {
        Self {
            micros: self.micros.saturating_add(duration_micros(rhs)),
        }
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Self;
    /// Saturates at the epoch instead of panicking
    fn sub(self, rhs: Duration) -> Self {
        Self {
            micros: self.micros.saturating_sub(duration_micros(rhs)),
        }
    }
}

impl Sub for Instant {
    type Output = Duration;
    /// Saturates at zero when `rhs` is later than `self`
    fn sub(self, rhs: Self) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.micros / 1_000_000,
            self.micros % 1_000_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn arithmetic_saturates() {
        let end = Instant::from_micros(u64::MAX);
        assert_eq!(end + Duration::from_secs(1), end);
        assert_eq!(Instant::ZERO - Duration::from_secs(1), Instant::ZERO);
        assert_eq!(Instant::ZERO - end, Duration::ZERO);
        assert_eq!(end.checked_add(Duration::from_micros(1)), None);
        assert_eq!(Instant::from_secs(u64::MAX), end);
    }

    #[test]
    fn conversions() {
        let t = Instant::from_millis(1_500);
        assert_eq!(t.total_micros(), 1_500_000);
        assert_eq!(t.total_millis(), 1_500);
        assert_eq!(t + Duration::from_millis(500), Instant::from_secs(2));
        assert_eq!(Instant::from_secs(2) - t, Duration::from_millis(500));
        assert_eq!(format!("{t}"), "1.500000s");
    }
}
