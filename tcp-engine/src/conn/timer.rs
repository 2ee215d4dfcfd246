//! A connection's timers: a fixed table of optional deadlines (quinn's shape)

use crate::time::Instant;

/// The timers of one connection
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) enum Timer {
    /// Retransmission of SYN, SYN-ACK, data or FIN (RFC 6298)
    Retransmit = 0,
    /// Zero-window probe (RFC 9293 §3.8.6.1)
    Persist = 1,
    /// Delayed acknowledgment (RFC 9293 §3.8.6.3)
    DelayedAck = 2,
    /// Keep-alive idle and probe interval (RFC 9293 §3.8.4)
    KeepAlive = 3,
    /// TIME-WAIT 2·MSL, or the FIN-WAIT-2 timeout of an orphaned connection
    Linger = 4,
}

const COUNT: usize = 5;

/// Deadlines in microseconds; `u64::MAX` means stopped
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerTable {
    at: [u64; COUNT],
}

impl TimerTable {
    /// All timers stopped
    pub(crate) const fn new() -> Self {
        Self {
            at: [u64::MAX; COUNT],
        }
    }

    /// Arm `timer` for `at`
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.at[timer as usize] = at.total_micros().min(u64::MAX - 1);
    }

    /// Arm `timer` for `at` microseconds
    #[inline]
    pub(crate) fn set_micros(&mut self, timer: Timer, at: u64) {
        self.at[timer as usize] = at.min(u64::MAX - 1);
    }

    /// Stop `timer`
    pub(crate) fn stop(&mut self, timer: Timer) {
        self.at[timer as usize] = u64::MAX;
    }

    /// The deadline of `timer`, if armed
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        let at = self.at[timer as usize];
        (at != u64::MAX).then(|| Instant::from_micros(at))
    }

    /// Whether `timer` is armed and due at `now`
    pub(crate) fn is_due(&self, timer: Timer, now: Instant) -> bool {
        let at = self.at[timer as usize];
        at != u64::MAX && at <= now.total_micros()
    }

    /// Stop every timer
    pub(crate) fn stop_all(&mut self) {
        self.at = [u64::MAX; COUNT];
    }

    /// The earliest armed deadline
    pub(crate) fn next(&self) -> Option<Instant> {
        let at = self.at.iter().copied().min().unwrap_or(u64::MAX);
        (at != u64::MAX).then(|| Instant::from_micros(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_wins_and_stop_clears() {
        let mut t = TimerTable::new();
        assert_eq!(t.next(), None);
        t.set(Timer::KeepAlive, Instant::from_secs(10));
        t.set(Timer::Retransmit, Instant::from_secs(1));
        assert_eq!(t.next(), Some(Instant::from_secs(1)));
        assert!(t.is_due(Timer::Retransmit, Instant::from_secs(1)));
        assert!(!t.is_due(Timer::KeepAlive, Instant::from_secs(1)));
        t.stop(Timer::Retransmit);
        assert_eq!(t.next(), Some(Instant::from_secs(10)));
        t.stop_all();
        assert_eq!(t.get(Timer::KeepAlive), None);
    }
}
