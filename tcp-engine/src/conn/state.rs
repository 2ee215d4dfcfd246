//! The eleven connection states and the one table of legal transitions (RFC 9293 §3.3.2)
//!
//! Every state change in the crate goes through [`next_state`], which reads [`TRANSITIONS`];
//! the tests check every observed change against [`is_legal`], and drawing tools can render
//! the table as a diagram.

use core::fmt;

/// A connection state, spelled as in RFC 9293 when displayed
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// No connection
    Closed,
    /// Waiting for a SYN
    Listen,
    /// SYN sent, waiting for a matching SYN
    SynSent,
    /// SYN received and SYN sent, waiting for the ACK of our SYN
    SynReceived,
    /// Open: data flows both ways
    Established,
    /// We sent FIN, waiting for its ACK or the peer's FIN
    FinWait1,
    /// Our FIN is acknowledged, waiting for the peer's FIN
    FinWait2,
    /// The peer sent FIN; waiting for our application to close
    CloseWait,
    /// Both sent FIN at once; waiting for the ACK of ours
    Closing,
    /// The peer closed first, we sent FIN, waiting for its ACK
    LastAck,
    /// Both FINs acknowledged; waiting 2·MSL for stray segments to die
    TimeWait,
}

impl State {
    /// All eleven states, in RFC order
    pub const ALL: [Self; 11] = [
        Self::Closed,
        Self::Listen,
        Self::SynSent,
        Self::SynReceived,
        Self::Established,
        Self::FinWait1,
        Self::FinWait2,
        Self::CloseWait,
        Self::Closing,
        Self::LastAck,
        Self::TimeWait,
    ];

    /// The RFC 9293 name (`SYN-SENT`, `FIN-WAIT-1`, ...)
    pub const fn name(self) -> &'static str {
        match self {
            Self::Closed => "CLOSED",
            Self::Listen => "LISTEN",
            Self::SynSent => "SYN-SENT",
            Self::SynReceived => "SYN-RECEIVED",
            Self::Established => "ESTABLISHED",
            Self::FinWait1 => "FIN-WAIT-1",
            Self::FinWait2 => "FIN-WAIT-2",
            Self::CloseWait => "CLOSE-WAIT",
            Self::Closing => "CLOSING",
            Self::LastAck => "LAST-ACK",
            Self::TimeWait => "TIME-WAIT",
        }
    }

    /// Whether the sequence numbers of both sides are known (RFC 9293 §3.3.2)
    pub const fn is_synchronized(self) -> bool {
        !matches!(
            self,
            Self::Closed | Self::Listen | Self::SynSent | Self::SynReceived
        )
    }

    /// Whether the application may still queue data to send
    pub const fn may_send(self) -> bool {
        matches!(
            self,
            Self::SynSent | Self::SynReceived | Self::Established | Self::CloseWait
        )
    }

    /// Whether data from the peer may still arrive
    pub const fn may_receive(self) -> bool {
        matches!(
            self,
            Self::SynSent | Self::SynReceived | Self::Established | Self::FinWait1 | Self::FinWait2
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What makes a connection change state
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Trigger {
    /// The application opens a listener (passive OPEN)
    PassiveOpen,
    /// The application connects (active OPEN): SYN sent
    ActiveOpen,
    /// A SYN arrives (at a listener, or crossing ours: simultaneous open)
    RecvSyn,
    /// A SYN-ACK acknowledging our SYN arrives
    RecvSynAck,
    /// The ACK of our SYN arrives
    RecvAckOfSyn,
    /// The application closes or shuts down its sending side
    Close,
    /// The peer's FIN arrives
    RecvFin,
    /// The ACK of our FIN arrives
    RecvAckOfFin,
    /// The peer's FIN arrives together with the ACK of ours
    RecvFinAckOfFin,
    /// An acceptable RST arrives, or a SYN to a passive half-open connection
    RecvReset,
    /// The application aborts (RST sent)
    Abort,
    /// Retransmissions or a user timeout gave up
    Timeout,
    /// 2·MSL passed in TIME-WAIT, or the FIN-WAIT-2 timer expired
    TimerExpired,
}

use State::*;
use Trigger::*;

/// Every legal transition: (from, trigger, to)
///
/// `RecvReset` from SYN-RECEIVED goes back to LISTEN for a passive open (RFC 9293 §3.10.7.4,
/// first check); the engine then frees the half-open entry, the listener itself stays.
pub const TRANSITIONS: &[(State, Trigger, State)] = &[
    (Closed, PassiveOpen, Listen),
    (Closed, ActiveOpen, SynSent),
    (Listen, RecvSyn, SynReceived),
    (Listen, Close, Closed),
    (SynSent, RecvSyn, SynReceived),
    (SynSent, RecvSynAck, Established),
    (SynSent, Close, Closed),
    (SynSent, RecvReset, Closed),
    (SynSent, Abort, Closed),
    (SynSent, Timeout, Closed),
    (SynReceived, RecvAckOfSyn, Established),
    (SynReceived, Close, FinWait1),
    (SynReceived, RecvReset, Listen),
    (SynReceived, RecvReset, Closed),
    (SynReceived, Abort, Closed),
    (SynReceived, Timeout, Closed),
    (Established, Close, FinWait1),
    (Established, RecvFin, CloseWait),
    (Established, RecvReset, Closed),
    (Established, Abort, Closed),
    (Established, Timeout, Closed),
    (FinWait1, RecvAckOfFin, FinWait2),
    (FinWait1, RecvFin, Closing),
    (FinWait1, RecvFinAckOfFin, TimeWait),
    (FinWait1, RecvReset, Closed),
    (FinWait1, Abort, Closed),
    (FinWait1, Timeout, Closed),
    (FinWait2, RecvFin, TimeWait),
    (FinWait2, RecvReset, Closed),
    (FinWait2, Abort, Closed),
    (FinWait2, Timeout, Closed),
    (FinWait2, TimerExpired, Closed),
    (CloseWait, Close, LastAck),
    (CloseWait, RecvReset, Closed),
    (CloseWait, Abort, Closed),
    (CloseWait, Timeout, Closed),
    (Closing, RecvAckOfFin, TimeWait),
    (Closing, RecvReset, Closed),
    (Closing, Abort, Closed),
    (Closing, Timeout, Closed),
    (LastAck, RecvAckOfFin, Closed),
    (LastAck, RecvReset, Closed),
    (LastAck, Abort, Closed),
    (LastAck, Timeout, Closed),
    (TimeWait, RecvReset, Closed),
    (TimeWait, TimerExpired, Closed),
    (TimeWait, Abort, Closed),
];

/// Number of triggers (the variants of [`Trigger`])
const TRIGGERS: usize = 13;

/// [`TRANSITIONS`] indexed by (from, trigger), built at compile time: a bit per state the
/// table allows (bit `State as usize`), and the first listed of them (the answer of
/// [`next_state`]), so a state change looks up one cell instead of scanning the table
static OUTCOMES: [[(u16, u8); TRIGGERS]; State::ALL.len()] = outcomes();

/// No state (in [`OUTCOMES`])
const NO_STATE: u8 = u8::MAX;

const fn outcomes() -> [[(u16, u8); TRIGGERS]; State::ALL.len()] {
    let mut t = [[(0u16, NO_STATE); TRIGGERS]; State::ALL.len()];
    let mut i = 0;
    while i < TRANSITIONS.len() {
        let (from, trigger, to) = TRANSITIONS[i];
        let (bits, first) = t[from as usize][trigger as usize];
        let first = if first == NO_STATE { to as u8 } else { first };
        t[from as usize][trigger as usize] = (bits | 1 << to as u16, first);
        i += 1;
    }
    t
}

/// The state `trigger` leads to from `from`, when the table allows a single one
///
/// `(SYN-RECEIVED, RecvReset)` has two outcomes (back to LISTEN for a passive open, CLOSED for
/// an active one); the first listed is returned and callers pick with [`next_state_to`].
pub fn next_state(from: State, trigger: Trigger) -> Option<State> {
    let (_, first) = OUTCOMES[from as usize][trigger as usize];
    State::ALL.get(usize::from(first)).copied()
}

/// `Some(to)` when `(from, trigger, to)` is in the table
pub fn next_state_to(from: State, trigger: Trigger, to: State) -> Option<State> {
    let (bits, _) = OUTCOMES[from as usize][trigger as usize];
    (bits & (1 << to as u16) != 0).then_some(to)
}

/// Whether `from → to` is an edge of the table, whatever the trigger
pub fn is_legal(from: State, to: State) -> bool {
    TRANSITIONS.iter().any(|&(f, _, t)| f == from && t == to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn every_state_is_reachable_and_closed_is_reachable_from_all() {
        for s in State::ALL {
            if s != Closed {
                assert!(
                    TRANSITIONS.iter().any(|&(_, _, to)| to == s),
                    "{s} unreachable"
                );
            }
            if !matches!(s, Closed | Listen) {
                assert!(
                    TRANSITIONS.iter().any(|&(f, _, to)| f == s && to == Closed),
                    "{s} cannot close"
                );
            }
        }
    }

    #[test]
    fn textbook_edges() {
        assert_eq!(next_state(FinWait1, RecvFinAckOfFin), Some(TimeWait));
        assert_eq!(next_state(FinWait1, RecvFin), Some(Closing));
        assert_eq!(next_state(Closing, RecvAckOfFin), Some(TimeWait));
        assert_eq!(next_state(SynSent, RecvSyn), Some(SynReceived));
        assert_eq!(next_state_to(SynReceived, RecvReset, Listen), Some(Listen));
        assert!(!is_legal(Established, TimeWait));
        assert!(!is_legal(Closed, Established));
    }

    /// Every trigger, in declaration order
    const ALL_TRIGGERS: [Trigger; TRIGGERS] = [
        PassiveOpen,
        ActiveOpen,
        RecvSyn,
        RecvSynAck,
        RecvAckOfSyn,
        Close,
        RecvFin,
        RecvAckOfFin,
        RecvFinAckOfFin,
        RecvReset,
        Abort,
        Timeout,
        TimerExpired,
    ];

    #[test]
    fn lookup_tables_equal_the_transition_list() {
        for (i, s) in State::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
        for (i, t) in ALL_TRIGGERS.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
        for from in State::ALL {
            for trigger in ALL_TRIGGERS {
                let first = TRANSITIONS
                    .iter()
                    .find(|(f, t, _)| *f == from && *t == trigger)
                    .map(|&(_, _, to)| to);
                assert_eq!(next_state(from, trigger), first, "{from} {trigger:?}");
                for to in State::ALL {
                    let listed = TRANSITIONS.contains(&(from, trigger, to));
                    assert_eq!(next_state_to(from, trigger, to), listed.then_some(to));
                }
            }
        }
    }

    #[test]
    fn names_are_rfc_spelling() {
        assert_eq!(State::FinWait1.to_string(), "FIN-WAIT-1");
        assert_eq!(State::SynReceived.to_string(), "SYN-RECEIVED");
    }
}
