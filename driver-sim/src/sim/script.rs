//! What a scripted application does: open, send, read, shut down, close or abort.

/// When a scripted action takes place.
///
/// Conditions are checked whenever the host's application runs (after every segment,
/// timer and event), so an action happens at the first simulated instant its condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// At this simulated time, in µs (or at once, if the connection opens later).
    At(u64),
    /// Once the connection is established.
    Established,
    /// Once all the application's data is queued in the engine's send buffer.
    Queued,
    /// Once all the application's data is queued and acknowledged by the peer.
    Acked,
    /// Once the application has read the end of the peer's stream (`recv` returned 0).
    PeerClosed,
}

/// An active open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect {
    /// When to connect, in µs.
    pub at_us: u64,
    /// The host to connect to (its index: 0 is `A`, 1 is `B`, ...).
    pub to: u32,
    /// The remote port.
    pub port: u16,
    /// A fixed local port (`connect_from`); `None` picks an ephemeral one.
    pub from_port: Option<u16>,
}

/// When the application reads what arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Everything, as soon as it arrives.
    Always,
    /// Nothing before this simulated time (µs), then everything as it arrives: the receive
    /// window fills up meanwhile.
    From(u64),
    /// Never: the peer ends up facing a zero window.
    Never,
}

/// The script of one host's application.
///
/// The application owns one *main* connection: the one it opens with [`connect`](Self::connect),
/// or the first one its [`listen`](Self::listen)ing socket accepts (further ones are closed at
/// once). On it, it sends [`send_bytes`](Self::send_bytes) bytes of
/// [`payload`](super::payload) starting [`send_when`](Self::send_when), reads according to
/// [`read`](Self::read), and shuts down, closes or aborts when told.
///
/// A graceful [`shutdown`](Self::shutdown) or [`close`](Self::close) whose condition is not
/// [`When::At`] also waits until the connection is established and all the data is queued:
/// the application never abandons data it still has to write. After `close` or `abort` the application stops using the connection.
///
/// ```
/// use driver_sim::sim::{AppScript, When};
/// // A client that uploads 10 kB, half-closes, and closes once the server has finished.
/// let client = AppScript::connect_to(1, 80)
///     .sending(10_000)
///     .shutdown_when(When::Queued)
///     .close_when(When::PeerClosed);
/// assert_eq!(client.send_bytes, 10_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppScript {
    /// Listen on this port (from the start).
    pub listen: Option<u16>,
    /// Connect to another host.
    pub connect: Option<Connect>,
    /// Bytes to send on the main connection.
    pub send_bytes: usize,
    /// When to start sending (usually [`When::Established`]; data may be queued earlier).
    pub send_when: When,
    /// When to read.
    pub read: Read,
    /// Half-close (FIN after the queued data, keep reading).
    pub shutdown: Option<When>,
    /// Close (FIN after the queued data, stop reading, release the connection).
    pub close: Option<When>,
    /// Abort (RST, no TIME-WAIT).
    pub abort: Option<When>,
}

impl Default for AppScript {
    fn default() -> Self {
        Self::idle()
    }
}

impl AppScript {
    /// An application that does nothing: no listener, no connection (segments to it are
    /// refused with RST).
    #[must_use]
    pub const fn idle() -> Self {
        Self {
            listen: None,
            connect: None,
            send_bytes: 0,
            send_when: When::Established,
            read: Read::Always,
            shutdown: None,
            close: None,
            abort: None,
        }
    }

    /// A server listening on `port`.
    #[must_use]
    pub const fn listen_on(port: u16) -> Self {
        Self {
            listen: Some(port),
            ..Self::idle()
        }
    }

    /// A client connecting at time 0 to host number `host`, port `port`.
    #[must_use]
    pub const fn connect_to(host: u32, port: u16) -> Self {
        Self {
            connect: Some(Connect {
                at_us: 0,
                to: host,
                port,
                from_port: None,
            }),
            ..Self::idle()
        }
    }

    /// Connect at `at_us` instead of 0.
    #[must_use]
    pub const fn at(mut self, at_us: u64) -> Self {
        if let Some(c) = &mut self.connect {
            c.at_us = at_us;
        }
        self
    }

    /// Connect from this local port (`connect_from`), as simultaneous open needs.
    #[must_use]
    pub const fn from_port(mut self, port: u16) -> Self {
        if let Some(c) = &mut self.connect {
            c.from_port = Some(port);
        }
        self
    }

    /// Send `bytes` bytes once established.
    #[must_use]
    pub const fn sending(mut self, bytes: usize) -> Self {
        self.send_bytes = bytes;
        self
    }

    /// Start sending when `when` holds.
    #[must_use]
    pub const fn send_when(mut self, when: When) -> Self {
        self.send_when = when;
        self
    }

    /// Read as `read` says.
    #[must_use]
    pub const fn reading(mut self, read: Read) -> Self {
        self.read = read;
        self
    }

    /// Half-close when `when` holds.
    #[must_use]
    pub const fn shutdown_when(mut self, when: When) -> Self {
        self.shutdown = Some(when);
        self
    }

    /// Close when `when` holds.
    #[must_use]
    pub const fn close_when(mut self, when: When) -> Self {
        self.close = Some(when);
        self
    }

    /// Abort when `when` holds.
    #[must_use]
    pub const fn abort_when(mut self, when: When) -> Self {
        self.abort = Some(when);
        self
    }

    /// The simulated times (µs) at which this script has something to do, so the clock
    /// stops there even when the network and the engine are idle.
    pub(crate) fn times(&self) -> impl Iterator<Item = u64> + '_ {
        let at = |w: &Option<When>| match w {
            Some(When::At(t)) => Some(*t),
            _ => None,
        };
        [
            self.connect.map(|c| c.at_us),
            at(&Some(self.send_when)),
            match self.read {
                Read::From(t) => Some(t),
                _ => None,
            },
            at(&self.shutdown),
            at(&self.close),
            at(&self.abort),
        ]
        .into_iter()
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_compose() {
        let s = AppScript::connect_to(1, 80)
            .at(5)
            .from_port(4000)
            .sending(3)
            .reading(Read::From(9))
            .abort_when(When::At(20));
        assert_eq!(
            s.connect,
            Some(Connect {
                at_us: 5,
                to: 1,
                port: 80,
                from_port: Some(4000)
            })
        );
        let mut times: Vec<u64> = s.times().collect();
        times.sort_unstable();
        assert_eq!(times, [5, 9, 20]);
        assert_eq!(AppScript::listen_on(80).times().count(), 0);
        // `at` and `from_port` do nothing without a connect.
        assert_eq!(AppScript::listen_on(80).at(4).from_port(2).connect, None);
    }
}
