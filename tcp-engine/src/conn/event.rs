//! What the engine tells the application

use super::State;

/// Why a connection ended
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
}

/// Something that happened on a connection
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
