//! [`Stream`]: one connection, with `Read` and `Write`

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::task::Poll;
use std::time::{Duration, Instant as StdInstant};

use tcp_engine::conn::{ConnStats, RecvError, State};
use tcp_engine::engine::ConnHandle;

use crate::error;
use crate::stack::{block_on, SharedRef};

/// A TCP connection of a [`Stack`](crate::Stack), like `std::net::TcpStream`
///
/// Blocking by default: `read` waits for data (`Ok(0)` at the end of the stream), `write`
/// waits for room in the send buffer and returns how much it queued. Either drives the whole
/// stack while it waits. Errors: `ConnectionReset` after an RST, `TimedOut` when
/// retransmissions give up, `BrokenPipe` when writing after [`Shutdown::Write`] or after the
/// connection closed, `WouldBlock` in non-blocking mode or when a timeout passes.
///
/// Dropping the stream closes it gracefully (FIN after the queued data; unread data is
/// answered with RST, as Linux does). [`Stream::abort`] resets it instead.
#[derive(Debug)]
pub struct Stream {
    shared: SharedRef,
    handle: ConnHandle,
    local: SocketAddr,
    peer: SocketAddr,
    nonblocking: bool,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    read_shut: bool,
}

impl Stream {
    pub(crate) fn new(shared: SharedRef, handle: ConnHandle) -> Self {
        let (local, peer) = match shared.borrow_mut().driver.engine().tuple(handle) {
            Ok(t) => (
                SocketAddr::new(t.local_addr, t.local_port),
                SocketAddr::new(t.remote_addr, t.remote_port),
            ),
            Err(_) => {
                let none = SocketAddr::from(([0, 0, 0, 0], 0));
                (none, none)
            }
        };
        Self {
            shared,
            handle,
            local,
            peer,
            nonblocking: false,
            read_timeout: None,
            write_timeout: None,
            read_shut: false,
        }
    }

    /// The engine's handle of this connection
    pub fn handle(&self) -> ConnHandle {
        self.handle
    }

    /// The engine's end
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The peer's end
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The connection's state (RFC 9293 names when displayed)
    pub fn state(&self) -> io::Result<State> {
        let mut s = self.shared.borrow_mut();
        s.driver
            .engine()
            .state(self.handle)
            .map_err(|_| error::not_connected())
    }

    /// RTT, RTO, congestion window, retransmissions, bytes and segments
    pub fn stats(&self) -> io::Result<ConnStats> {
        let mut s = self.shared.borrow_mut();
        s.driver
            .engine()
            .conn_stats(self.handle)
            .map_err(|_| error::not_connected())
    }

    /// Bytes written and not yet acknowledged by the peer
    pub fn unacked(&self) -> usize {
        let mut s = self.shared.borrow_mut();
        s.driver.engine().send_queue(self.handle).unwrap_or(0)
    }

    /// In non-blocking mode `read`, `write` and `wait_sent` return `WouldBlock` instead of
    /// waiting
    pub fn set_nonblocking(&mut self, on: bool) {
        self.nonblocking = on;
    }

    /// Give up a blocking `read` with `WouldBlock` after `timeout` (`None`: wait forever)
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// Give up a blocking `write` with `WouldBlock` after `timeout` (`None`: wait forever)
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// Turn Nagle's algorithm on or off (the stack's default is off, like `TCP_NODELAY`)
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        let mut s = self.shared.borrow_mut();
        s.driver
            .engine()
            .set_nagle(self.handle, !nodelay)
            .map_err(|_| error::not_connected())
    }

    /// Shut down reading, writing or both. `Write` sends FIN after the queued data and keeps
    /// receiving (a half-close); `Read` makes further reads return end of stream.
    pub fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.read_shut = true;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            let mut s = self.shared.borrow_mut();
            let r = s.driver.engine().shutdown(self.handle);
            s.driver.flush();
            r.map_err(|e| io::Error::new(io::ErrorKind::NotConnected, e))?;
        }
        Ok(())
    }

    /// Reset the connection (RST, no TIME-WAIT), like closing with `SO_LINGER` 0
    pub fn abort(self) {
        if let Ok(mut s) = self.shared.try_borrow_mut() {
            let _ = s.driver.engine().abort(self.handle);
            s.driver.flush();
        }
        // Drop then finds the connection gone and has nothing to do.
    }

    /// Wait until the peer has acknowledged everything written so far
    pub fn wait_sent(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let h = self.handle;
        self.wait(timeout, |d| match d.engine().send_queue(h) {
            Ok(0) => Poll::Ready(Ok(())),
            Ok(_) => match d.engine().state(h) {
                Ok(State::Closed) => Poll::Ready(Err(error::not_connected())),
                _ => Poll::Pending,
            },
            Err(_) => Poll::Ready(Err(error::not_connected())),
        })
    }

    fn wait<T>(
        &self,
        timeout: Option<Duration>,
        mut attempt: impl FnMut(&mut crate::Driver) -> Poll<io::Result<T>>,
    ) -> io::Result<T> {
        if self.nonblocking {
            let mut s = self.shared.borrow_mut();
            let r = attempt(&mut s.driver);
            s.driver.flush();
            return match r {
                Poll::Ready(r) => r,
                Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
            };
        }
        let deadline = timeout.map(|t| StdInstant::now() + t);
        block_on(&self.shared, deadline, io::ErrorKind::WouldBlock, attempt)
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.read_shut {
            return Ok(0);
        }
        let h = self.handle;
        self.wait(self.read_timeout, |d| match d.engine().recv(h, buf) {
            Ok(n) => Poll::Ready(Ok(n)),
            Err(RecvError::WouldBlock) => Poll::Pending,
            Err(RecvError::Closed(r)) => Poll::Ready(Err(error::closed(r))),
            Err(RecvError::InvalidHandle) => Poll::Ready(Err(error::not_connected())),
        })
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let h = self.handle;
        self.wait(self.write_timeout, |d| match d.engine().send(h, buf) {
            Ok(0) => Poll::Pending,
            Ok(n) => Poll::Ready(Ok(n)),
            Err(e) => Poll::Ready(Err(error::send(e))),
        })
    }

    /// Sends what the engine may send now; does not wait for acknowledgements (see
    /// [`Stream::wait_sent`])
    fn flush(&mut self) -> io::Result<()> {
        self.shared.borrow_mut().driver.flush();
        Ok(())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // A drop from inside an event hook cannot borrow the stack; the connection then stays
        // open until the stack goes away, which is the lesser evil.
        if let Ok(mut s) = self.shared.try_borrow_mut() {
            let _ = s.driver.engine().close(self.handle);
            s.driver.flush();
        }
    }
}
