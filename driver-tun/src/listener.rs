//! [`Listener`]: accepts connections to one port on every engine address

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::Poll;

use tcp_engine::engine::{AcceptError, ListenError, ListenerHandle};

use crate::stack::{block_on, SharedRef};
use crate::stream::Stream;

/// Connections waiting to be accepted, per address family
const BACKLOG: u16 = 128;

/// A listening port of a [`Stack`](crate::Stack), like `std::net::TcpListener`
///
/// It listens on the engine's IPv4 and IPv6 addresses at once. Dropping it stops listening;
/// connections not yet accepted are reset.
#[derive(Debug)]
pub struct Listener {
    shared: SharedRef,
    handles: Vec<ListenerHandle>,
    port: u16,
    nonblocking: bool,
}

fn listen_error(e: ListenError) -> io::Error {
    let kind = match e {
        ListenError::InUse => io::ErrorKind::AddrInUse,
        ListenError::TableFull => io::ErrorKind::OutOfMemory,
        ListenError::InvalidAddress => io::ErrorKind::InvalidInput,
    };
    io::Error::new(kind, e)
}

impl Listener {
    pub(crate) fn new(shared: SharedRef, port: u16) -> io::Result<Self> {
        let mut s = shared.borrow_mut();
        let (v4, v6) = {
            let c = s.driver.config();
            (c.v4.is_some(), c.v6.is_some())
        };
        let mut handles = Vec::new();
        let wildcards = [
            (v4, IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            (v6, IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        ];
        for (_, ip) in wildcards.into_iter().filter(|(on, _)| *on) {
            match s.driver.engine().listen(SocketAddr::new(ip, port), BACKLOG) {
                Ok(h) => handles.push(h),
                Err(e) => {
                    for h in handles {
                        let _ = s.driver.engine().unlisten(h);
                    }
                    return Err(listen_error(e));
                }
            }
        }
        drop(s);
        Ok(Self {
            shared,
            handles,
            port,
            nonblocking: false,
        })
    }

    /// The port
    pub fn port(&self) -> u16 {
        self.port
    }

    /// In non-blocking mode `accept` returns `WouldBlock` when nobody is waiting
    pub fn set_nonblocking(&mut self, on: bool) {
        self.nonblocking = on;
    }

    /// The next established connection and its peer's address; blocks (driving the stack)
    /// until one arrives
    pub fn accept(&self) -> io::Result<(Stream, SocketAddr)> {
        let handles = &self.handles;
        let attempt = |d: &mut crate::Driver| {
            for l in handles {
                match d.engine().accept(*l) {
                    Ok(c) => return Poll::Ready(Ok(c)),
                    Err(AcceptError::WouldBlock) => {}
                    Err(AcceptError::InvalidHandle) => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::NotConnected,
                            "listener closed",
                        )))
                    }
                }
            }
            Poll::Pending
        };
        let conn = if self.nonblocking {
            match attempt(&mut self.shared.borrow_mut().driver) {
                Poll::Ready(r) => r?,
                Poll::Pending => return Err(io::ErrorKind::WouldBlock.into()),
            }
        } else {
            block_on(&self.shared, None, io::ErrorKind::TimedOut, attempt)?
        };
        let stream = Stream::new(self.shared.clone(), conn);
        let peer = stream.peer_addr();
        Ok((stream, peer))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Ok(mut s) = self.shared.try_borrow_mut() {
            for h in &self.handles {
                let _ = s.driver.engine().unlisten(*h);
            }
            s.driver.flush();
        }
    }
}
