//! What a workload needs from a stack, and the loop that drives two hosts over the link
//! with a virtual clock
//!
//! Each stack implements [`Net`]: two hosts (a client and a server) of that stack, joined by
//! a [`Link`]. The workloads are written once against this trait, so both stacks run exactly
//! the same application code. Time is virtual: when neither host nor the application has
//! anything to do, the clock jumps to the next packet arrival or timer, so wall time measures
//! CPU work only.

use super::link::{Link, Side};

/// What a `recv` call found
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recv {
    /// This many bytes were passed to the callback and consumed
    Data(usize),
    /// Nothing to read yet
    Empty,
    /// End of stream (the peer's FIN), or the connection is gone
    Eof,
}

/// Two hosts of one stack over the link
pub trait Net {
    /// A connection on one of the hosts
    type Conn: Copy;

    /// Stack name for reports
    fn name(&self) -> &'static str;
    /// Deliver every packet due at `now` to both hosts and fire due timers; true if any
    /// packet moved
    fn ingress(&mut self, now: u64, link: &mut Link) -> bool;
    /// Put everything the hosts want to send on the link; true if any packet moved
    fn egress(&mut self, now: u64, link: &mut Link) -> bool;
    /// The earliest timer of either host
    fn next_timer(&mut self, now: u64) -> Option<u64>;
    /// Make the server listen, with room for `backlog` connections waiting to be accepted
    fn listen(&mut self, backlog: usize);
    /// Get ready for `n` connections arriving at once (smoltcp: that many listening sockets)
    fn reserve(&mut self, n: usize);
    /// Open a connection from the client to the server
    fn connect(&mut self, now: u64) -> Self::Conn;
    /// A connection the server accepted, if any
    fn accept(&mut self) -> Option<Self::Conn>;
    /// Whether the connection is established
    fn is_established(&self, side: Side, c: Self::Conn) -> bool;
    /// Queue bytes; returns how many fit
    fn send(&mut self, side: Side, c: Self::Conn, data: &[u8]) -> usize;
    /// Read in place: `f` sees the readable bytes, which are all consumed
    fn recv(&mut self, side: Side, c: Self::Conn, f: &mut dyn FnMut(&[u8])) -> Recv;
    /// Close (FIN after the queued data)
    fn close(&mut self, side: Side, c: Self::Conn);
    /// Whether the connection is over for its host (closed, or in TIME-WAIT)
    fn is_finished(&self, side: Side, c: Self::Conn) -> bool;
    /// The application is done with a finished connection (smoltcp: reuse the socket)
    fn release(&mut self, side: Side, c: Self::Conn);
    /// Loss-recovery counters of a connection, where the stack keeps them
    fn recovery(&self, _side: Side, _c: Self::Conn) -> Option<Recovery> {
        None
    }
}

/// Loss-recovery counters of one connection
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recovery {
    /// Retransmission timeouts
    pub timeouts: u32,
    /// Fast retransmits
    pub fast_retransmits: u32,
    /// Segments sent again
    pub retransmissions: u32,
}

impl core::ops::AddAssign for Recovery {
    fn add_assign(&mut self, o: Self) {
        self.timeouts += o.timeouts;
        self.fast_retransmits += o.fast_retransmits;
        self.retransmissions += o.retransmissions;
    }
}

/// What the application did in one turn of the loop
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// The workload is complete
    Done,
    /// It made progress (call again before letting time pass)
    Busy,
    /// It waits for the network
    Idle,
}

/// Why a run did not complete
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// Nothing left to happen and the workload is not complete
    Stalled {
        /// Virtual time, microseconds
        at: u64,
    },
    /// The virtual time limit passed
    TimeLimit {
        /// Virtual time, microseconds
        at: u64,
    },
    /// Received bytes differed from what was sent
    Corrupt(String),
}

impl core::fmt::Display for RunError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Stalled { at } => write!(f, "stalled at t={:.3}s", *at as f64 / 1e6),
            Self::TimeLimit { at } => write!(f, "time limit at t={:.3}s", *at as f64 / 1e6),
            Self::Corrupt(s) => write!(f, "corrupt data: {s}"),
        }
    }
}

impl std::error::Error for RunError {}

/// The link and the virtual clock shared by a run
#[derive(Debug)]
pub struct World {
    /// The link between the hosts
    pub link: Link,
    /// Virtual time, microseconds
    pub now: u64,
    /// Virtual time after which a run fails
    pub limit: u64,
}

impl World {
    /// A world at time zero over `link`, failing runs past `limit_s` virtual seconds
    pub fn new(link: Link, limit_s: u64) -> Self {
        Self {
            link,
            now: 0,
            limit: limit_s * 1_000_000,
        }
    }

    /// Drive the hosts and the application `app` until it says [`Turn::Done`]
    pub fn run<N: Net>(
        &mut self,
        net: &mut N,
        mut app: impl FnMut(&mut N, u64) -> Turn,
    ) -> Result<(), RunError> {
        let mut spins = 0u32;
        loop {
            // The loop each stack documents: input, application calls, output.
            let mut moved = net.ingress(self.now, &mut self.link);
            let turn = app(net, self.now);
            moved |= net.egress(self.now, &mut self.link);
            match turn {
                Turn::Done => return Ok(()),
                Turn::Busy => continue,
                Turn::Idle if moved => {
                    spins = 0;
                    continue;
                }
                Turn::Idle => {}
            }
            let next = match (self.link.next_arrival(), net.next_timer(self.now)) {
                (Some(a), Some(b)) => a.min(b),
                (Some(t), None) | (None, Some(t)) => t,
                (None, None) => return Err(RunError::Stalled { at: self.now }),
            };
            if next > self.now {
                self.now = next;
                spins = 0;
            } else {
                // A timer that says "now" yet produced nothing: let a little time pass.
                spins += 1;
                if spins > 2 {
                    self.now += 100;
                }
            }
            if self.now > self.limit {
                return Err(RunError::TimeLimit { at: self.now });
            }
        }
    }
}
