//! [`Stack`]: the device and the engine behind a std-like socket API
//!
//! # Design
//!
//! The stack is single-threaded. [`Stack`], its [`Listener`]s and [`Stream`]s share one
//! `Rc<RefCell<Shared>>` holding the [`Driver`] (device + engine + path), so none of them is
//! `Send`: create and use them on one thread. There is no background thread: **every
//! blocking call drives the whole stack while it waits** — a `read` on one stream also
//! completes other handshakes, acknowledges and retransmits on every other connection — and
//! returns as soon as its own condition holds. A program that serves many connections at once
//! uses the non-blocking mode instead ([`Stream::set_nonblocking`],
//! [`Listener::set_nonblocking`]) and calls [`Stack::poll`] between rounds of work, like an
//! event loop.
//!
//! Streams close gracefully when dropped (FIN after the queued data); the exchange that
//! follows needs the stack to keep running, so a program about to exit calls
//! [`Stack::linger`] first. Dropping the last handle to the stack closes the device, which the
//! kernel then removes.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::BorrowedFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant as StdInstant};

use tcp_engine::conn::{RecvError, State};
use tcp_engine::engine::Engine;

use crate::config::StackConfig;
use crate::driver::{Driver, DriverStats, EventHook};
use crate::error;
use crate::listener::Listener;
use crate::stream::Stream;

/// Longest sleep while an interrupt flag is set, so that a signal that lands just before
/// poll(2) is noticed quickly
const INTERRUPT_CHECK: Duration = Duration::from_millis(100);

/// What the stack, listeners and streams share
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) driver: Driver,
    interrupt: Option<Arc<AtomicBool>>,
}

pub(crate) type SharedRef = Rc<RefCell<Shared>>;

/// Drive the stack until `attempt` is ready, `deadline` passes (`Err(timeout_kind)`) or the
/// interrupt flag is raised (`Err(Interrupted)`)
pub(crate) fn block_on<T>(
    shared: &SharedRef,
    deadline: Option<StdInstant>,
    timeout_kind: io::ErrorKind,
    mut attempt: impl FnMut(&mut Driver) -> Poll<io::Result<T>>,
) -> io::Result<T> {
    let mut s = shared.borrow_mut();
    loop {
        if let Poll::Ready(r) = attempt(&mut s.driver) {
            s.driver.flush();
            return r;
        }
        if s.interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            return Err(error::interrupted());
        }
        let mut wait = match deadline {
            None => None,
            Some(d) => match d.checked_duration_since(StdInstant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Err(io::Error::new(timeout_kind, "timed out")),
            },
        };
        if s.interrupt.is_some() {
            wait = Some(wait.map_or(INTERRUPT_CHECK, |w| w.min(INTERRUPT_CHECK)));
        }
        s.driver.turn(wait, &[])?;
    }
}

/// A TCP/IP stack on a TUN device: the kernel on one side, the engine on the other
///
/// Cloning gives another handle to the same stack. See the [module docs](self) for how the
/// single-threaded design works.
#[derive(Debug, Clone)]
pub struct Stack {
    shared: SharedRef,
}

/// Counters of the stack's three layers
#[derive(Debug, Clone)]
pub struct StackStats {
    /// The driver's: packets read and written, drops by reason
    pub driver: DriverStats,
    /// The engine's: segments, resets, drops by reason
    pub engine: tcp_engine::engine::EngineStats,
    /// The impairment model's, when there is one
    pub path: Option<driver_sim::NetStats>,
}

impl Stack {
    /// Create and configure the device in the calling thread's network namespace
    ///
    /// Needs root or `CAP_NET_ADMIN` and `/dev/net/tun`; the error says which is missing
    /// (kind `PermissionDenied` or `NotFound`).
    pub fn new(config: StackConfig) -> io::Result<Self> {
        let driver = Driver::new(config)?;
        Ok(Self {
            shared: Rc::new(RefCell::new(Shared {
                driver,
                interrupt: None,
            })),
        })
    }

    /// The interface name
    pub fn device(&self) -> String {
        self.shared.borrow().driver.device().to_owned()
    }

    /// The configuration in force
    pub fn config(&self) -> StackConfig {
        self.shared.borrow().driver.config().clone()
    }

    /// The engine's addresses (IPv4 first)
    pub fn local_addrs(&self) -> Vec<IpAddr> {
        let c = self.config();
        [c.v4, c.v6]
            .into_iter()
            .flatten()
            .map(|s| s.engine)
            .collect()
    }

    /// Accept connections to `port` on every engine address (IPv4 and IPv6)
    pub fn listen(&self, port: u16) -> io::Result<Listener> {
        Listener::new(self.shared.clone(), port)
    }

    /// Open a connection, blocking until it is established or fails (`ConnectionRefused` on
    /// RST, `TimedOut` when the SYN retries run out)
    pub fn connect(&self, addr: SocketAddr) -> io::Result<Stream> {
        self.connect_deadline(addr, None)
    }

    /// Like [`Stack::connect`], giving up with `TimedOut` after `timeout`
    pub fn connect_timeout(&self, addr: SocketAddr, timeout: Duration) -> io::Result<Stream> {
        self.connect_deadline(addr, Some(StdInstant::now() + timeout))
    }

    fn connect_deadline(
        &self,
        addr: SocketAddr,
        deadline: Option<StdInstant>,
    ) -> io::Result<Stream> {
        let local = self
            .shared
            .borrow()
            .driver
            .config()
            .engine_addr(addr.is_ipv6())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    "the stack has no address of that family",
                )
            })?;
        let handle = {
            let mut s = self.shared.borrow_mut();
            let now = s.driver.now();
            let h = s
                .driver
                .engine()
                .connect(now, local, addr)
                .map_err(error::connect)?;
            s.driver.flush();
            h
        };
        let r = block_on(&self.shared, deadline, io::ErrorKind::TimedOut, |d| match d
            .engine()
            .state(handle)
        {
            Ok(State::SynSent | State::SynReceived) => Poll::Pending,
            Ok(State::Closed) => {
                let mut probe = [0u8; 1];
                Poll::Ready(Err(match d.engine().recv(handle, &mut probe) {
                    Err(RecvError::Closed(r)) => error::closed(r),
                    _ => io::Error::new(io::ErrorKind::ConnectionAborted, "connect failed"),
                }))
            }
            Ok(_) => Poll::Ready(Ok(())),
            Err(_) => Poll::Ready(Err(error::not_connected())),
        });
        match r {
            Ok(()) => Ok(Stream::new(self.shared.clone(), handle)),
            Err(e) => {
                let mut s = self.shared.borrow_mut();
                let _ = s.driver.engine().abort(handle);
                s.driver.flush();
                Err(e)
            }
        }
    }

    /// Run one round of the loop: send, wait up to `timeout` (`None`: until something
    /// happens), receive, fire timers, send
    pub fn poll(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.poll_with(timeout, &[]).map(drop)
    }

    /// Like [`Stack::poll`], also waking up when one of `extra` becomes readable; bit `i` of
    /// the result is set when `extra[i]` is readable (or hung up). At most 64 descriptors.
    pub fn poll_with(
        &self,
        timeout: Option<Duration>,
        extra: &[BorrowedFd<'_>],
    ) -> io::Result<u64> {
        self.shared.borrow_mut().driver.turn(timeout, extra)
    }

    /// Drive the stack until every connection has finished closing (TIME-WAIT entries aside)
    /// or `timeout` passes; true if they all did
    pub fn linger(&self, timeout: Duration) -> io::Result<bool> {
        let deadline = StdInstant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(StdInstant::now());
            if self.connection_count() == 0 {
                return Ok(true);
            }
            if left.is_zero() {
                return Ok(false);
            }
            self.poll(Some(left.min(Duration::from_millis(50))))?;
        }
    }

    /// Connections in the engine's table (half-open and closing ones included)
    pub fn connection_count(&self) -> usize {
        self.shared.borrow().driver.engine_ref().connection_count()
    }

    /// Connections in TIME-WAIT
    pub fn time_wait_count(&self) -> usize {
        self.shared.borrow().driver.engine_ref().time_wait_count()
    }

    /// Make blocking calls return `ErrorKind::Interrupted` once `flag` is set (e.g. by a
    /// Ctrl-C handler); while a flag is installed they wake at least every 100 ms to check it
    pub fn set_interrupt(&self, flag: Option<Arc<AtomicBool>>) {
        self.shared.borrow_mut().interrupt = flag;
    }

    /// Call `hook` for every engine event (state changes, data, closes) from now on. The hook
    /// runs inside the stack and must not call back into it.
    pub fn set_event_hook(&self, hook: Option<EventHook>) {
        self.shared.borrow_mut().driver.set_event_hook(hook);
    }

    /// Counters of the driver, the engine and the impairment model
    pub fn stats(&self) -> StackStats {
        let s = self.shared.borrow();
        StackStats {
            driver: s.driver.stats(),
            engine: s.driver.engine_ref().stats(),
            path: s.driver.path_stats().cloned(),
        }
    }

    /// Run `f` on the engine itself, for calls this API does not wrap; segments it queues
    /// are sent right after
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine<'static>) -> R) -> R {
        let mut s = self.shared.borrow_mut();
        let r = f(s.driver.engine());
        s.driver.flush();
        r
    }
}
