//! What the engine tells the application

use super::State;

/// Why a connection ended
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CloseReason {
    /// Both sides closed and every FIN was acknowledged
    Normal,
    /// The peer refused the connection (RST in reply to our SYN)
    Refused,
    /// The peer reset the connection
    Reset,
    /// Retransmissions, keep-alives or a linger timer gave up
    TimedOut,
    /// The application aborted it (RST sent)
    Aborted,
    /// An ICMP hard error said the peer cannot be reached (RFC 9293 §3.9.2.2, SHLD-26)
    Unreachable,
}

/// Something that happened on a connection
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// The state changed (every change is reported, in order)
    StateChanged {
        /// State before
        from: State,
        /// State after
        to: State,
    },
    /// The handshake completed
    Established,
    /// Data arrived that the application has not read yet
    Readable,
    /// Send buffer space opened up after a `send` was cut short
    Writable,
    /// The peer sent FIN: after the buffered data, `recv` returns 0
    PeerClosed,
    /// The connection ended; its handle stays valid for `state` until it is reused
    Closed(CloseReason),
    /// Retransmissions reached the R1 threshold: delivery is in trouble, the connection goes
    /// on (RFC 9293 §3.8.3, SHLD-9)
    DeliveryTrouble,
    /// An ICMP soft error about this connection; it goes on (MUST-47, MUST-56, SHLD-25)
    SoftError(SoftError),
}

/// A soft (non-fatal) error reported by ICMP (RFC 9293 §3.9.2.2)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SoftError {
    /// Destination unreachable with a soft code (network, host or source route failed)
    Unreachable,
    /// Time exceeded in transit
    TimeExceeded,
    /// Parameter problem
    ParameterProblem,
}

/// An ICMP or ICMPv6 error about a segment this host sent, as decoded by the driver
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IcmpError {
    /// Source quench: ignored (MUST-55)
    SourceQuench,
    /// A soft error: reported, the connection goes on (MUST-56)
    Soft(SoftError),
    /// A hard error (destination unreachable, codes 2–4 for ICMP): the connection is
    /// aborted (SHLD-26)
    Hard,
}

impl IcmpError {
    /// Classify an ICMPv4 error by type and code (RFC 9293 §3.9.2.2); `None` for messages
    /// that are not errors about a segment
    pub fn from_icmpv4(kind: u8, code: u8) -> Option<Self> {
        match (kind, code) {
            (4, _) => Some(Self::SourceQuench),
            (3, 0 | 1 | 5) => Some(Self::Soft(SoftError::Unreachable)),
            (3, 2..=4) => Some(Self::Hard),
            (3, _) => Some(Self::Soft(SoftError::Unreachable)),
            (11, _) => Some(Self::Soft(SoftError::TimeExceeded)),
            (12, _) => Some(Self::Soft(SoftError::ParameterProblem)),
            _ => None,
        }
    }

    /// Classify an ICMPv6 error by type and code (RFC 9293 §3.9.2.2, RFC 4443 §3)
    pub fn from_icmpv6(kind: u8, code: u8) -> Option<Self> {
        match (kind, code) {
            (1, 0 | 3) => Some(Self::Soft(SoftError::Unreachable)),
            (1, 1 | 4) => Some(Self::Hard),
            (1, _) => Some(Self::Soft(SoftError::Unreachable)),
            (3, _) => Some(Self::Soft(SoftError::TimeExceeded)),
            (4, _) => Some(Self::Soft(SoftError::ParameterProblem)),
            _ => None,
        }
    }
}

/// Where a connection puts its events
pub trait EventSink {
    /// Record one event
    fn push(&mut self, event: Event);
}

impl<F: FnMut(Event)> EventSink for F {
    fn push(&mut self, event: Event) {
        self(event)
    }
}
