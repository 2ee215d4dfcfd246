//! Engine errors as `io::Error`s, with the kinds std's sockets use

use std::io;

use tcp_engine::conn::{CloseReason, SendError};
use tcp_engine::engine::ConnectError;

/// Why a connection ended, as the error a socket call would return
pub fn closed(reason: CloseReason) -> io::Error {
    let (kind, msg) = match reason {
        CloseReason::Refused => (io::ErrorKind::ConnectionRefused, "connection refused"),
        CloseReason::Reset => (io::ErrorKind::ConnectionReset, "connection reset by peer"),
        CloseReason::TimedOut => (io::ErrorKind::TimedOut, "connection timed out"),
        CloseReason::Aborted => (io::ErrorKind::ConnectionAborted, "connection aborted"),
        CloseReason::Normal => (io::ErrorKind::BrokenPipe, "connection closed"),
        CloseReason::Unreachable => (io::ErrorKind::Other, "peer unreachable (ICMP)"),
        _ => (io::ErrorKind::Other, "connection ended"),
    };
    io::Error::new(kind, msg)
}

/// `send` refused: the connection ended, or this side already shut down writing
pub fn send(e: SendError) -> io::Error {
    match e {
        SendError::Closed(r) => closed(r),
        SendError::InvalidState(s) => io::Error::new(
            io::ErrorKind::BrokenPipe,
            format!("cannot write in state {s} (shut down for writing?)"),
        ),
        SendError::InvalidHandle => not_connected(),
    }
}

/// `connect` could not even start
pub fn connect(e: ConnectError) -> io::Error {
    let kind = match e {
        ConnectError::InvalidAddress => io::ErrorKind::InvalidInput,
        ConnectError::NoPortAvailable => io::ErrorKind::AddrNotAvailable,
        ConnectError::InUse => io::ErrorKind::AddrInUse,
        ConnectError::TableFull => io::ErrorKind::OutOfMemory,
    };
    io::Error::new(kind, e)
}

/// The connection is gone from the engine's table
pub fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "not connected")
}

/// A blocking call gave up because the stack's interrupt flag was raised
pub fn interrupted() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "interrupted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_map_to_socket_error_kinds() {
        assert_eq!(
            closed(CloseReason::Refused).kind(),
            io::ErrorKind::ConnectionRefused
        );
        assert_eq!(
            closed(CloseReason::Reset).kind(),
            io::ErrorKind::ConnectionReset
        );
        assert_eq!(
            closed(CloseReason::TimedOut).kind(),
            io::ErrorKind::TimedOut
        );
        assert_eq!(
            send(SendError::Closed(CloseReason::Normal)).kind(),
            io::ErrorKind::BrokenPipe
        );
        assert_eq!(
            connect(ConnectError::NoPortAvailable).kind(),
            io::ErrorKind::AddrNotAvailable
        );
    }
}
