//! Targeted losses: drop one specific segment, deterministically, before the network.

use core::fmt;

use tcp_engine::conn::State;
use tcp_engine::wire::TcpFlags;

use super::host_name;

/// Drops chosen segments before they reach the network, whatever its dice say.
///
/// A segment *matches* when it comes from host [`from`](Self::from), its flags are exactly
/// [`flags`](Self::flags), and the optional conditions hold. The [`nth`](Self::nth) match and
/// the `count - 1` after it are dropped; they appear in the trace with the fate `lost`.
///
/// ```
/// use driver_sim::sim::DropRule;
/// use tcp_engine::wire::TcpFlags;
/// let rule = DropRule::first(0, TcpFlags::SYN);
/// assert_eq!(rule.to_string(), "drop the 1st segment from A with flags S");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropRule {
    /// The sending host's index (0 is `A`).
    pub from: u32,
    /// The exact flags of the segment.
    pub flags: TcpFlags,
    /// Only while the sender's main connection is in this state (as last reported).
    pub in_state: Option<State>,
    /// Only segments with (`Some(true)`) or without (`Some(false)`) payload.
    pub has_payload: Option<bool>,
    /// Which match to drop first, counting from 1.
    pub nth: u32,
    /// How many consecutive matches to drop from the `nth` on.
    pub count: u32,
    matched: u32,
}

impl DropRule {
    /// Drop the first segment from host `from` whose flags are exactly `flags`.
    #[must_use]
    pub const fn first(from: u32, flags: TcpFlags) -> Self {
        Self {
            from,
            flags,
            in_state: None,
            has_payload: None,
            nth: 1,
            count: 1,
            matched: 0,
        }
    }

    /// Only while the sender's main connection is in `state`.
    #[must_use]
    pub const fn in_state(mut self, state: State) -> Self {
        self.in_state = Some(state);
        self
    }

    /// Only segments that carry data (`true`) or none (`false`).
    #[must_use]
    pub const fn with_payload(mut self, yes: bool) -> Self {
        self.has_payload = Some(yes);
        self
    }

    /// Drop the `nth` match (from 1) and the `count - 1` after it.
    #[must_use]
    pub const fn nth(mut self, nth: u32, count: u32) -> Self {
        self.nth = nth;
        self.count = count;
        self
    }

    /// Whether to drop this segment; counts it when it matches.
    pub(crate) fn check(
        &mut self,
        from: u32,
        flags: TcpFlags,
        payload: usize,
        state: Option<State>,
    ) -> bool {
        let matches = from == self.from
            && flags == self.flags
            && self.in_state.map_or(true, |s| state == Some(s))
            && self.has_payload.map_or(true, |p| p == (payload > 0));
        if !matches {
            return false;
        }
        self.matched = self.matched.saturating_add(1);
        self.matched >= self.nth && self.matched - self.nth < self.count
    }
}

impl fmt::Display for DropRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ord = |n: u32| match (n % 10, n % 100) {
            (1, x) if x != 11 => "st",
            (2, x) if x != 12 => "nd",
            (3, x) if x != 13 => "rd",
            _ => "th",
        };
        write!(f, "drop the {}{}", self.nth, ord(self.nth))?;
        if self.count > 1 {
            write!(
                f,
                " to {}{}",
                self.nth + self.count - 1,
                ord(self.nth + self.count - 1)
            )?;
        }
        write!(
            f,
            " segment from {} with flags {}",
            host_name(self.from),
            self.flags.letters()
        )?;
        match self.has_payload {
            Some(true) => f.write_str(" and data")?,
            Some(false) => f.write_str(" and no data")?,
            None => {}
        }
        if let Some(s) = self.in_state {
            write!(f, " in {s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_only_the_chosen_matches() {
        let mut r = DropRule::first(1, TcpFlags::ACK).nth(2, 2);
        let ack = TcpFlags::ACK;
        let got: Vec<bool> = [
            (1, ack),
            (0, ack),
            (1, TcpFlags::SYN | ack),
            (1, ack),
            (1, ack),
            (1, ack),
        ]
        .into_iter()
        .map(|(h, fl)| r.check(h, fl, 0, None))
        .collect();
        assert_eq!(got, [false, false, false, true, true, false]);
        assert_eq!(
            r.to_string(),
            "drop the 2nd to 3rd segment from B with flags A"
        );
    }

    #[test]
    fn state_and_payload_conditions() {
        let mut r = DropRule::first(0, TcpFlags::ACK)
            .in_state(State::TimeWait)
            .with_payload(false);
        assert!(!r.check(0, TcpFlags::ACK, 0, Some(State::Established)));
        assert!(!r.check(0, TcpFlags::ACK, 10, Some(State::TimeWait)));
        assert!(r.check(0, TcpFlags::ACK, 0, Some(State::TimeWait)));
        assert!(!r.check(0, TcpFlags::ACK, 0, Some(State::TimeWait)));
        assert_eq!(
            r.to_string(),
            "drop the 1st segment from A with flags A and no data in TIME-WAIT"
        );
    }
}
