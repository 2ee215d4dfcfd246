//! Caller-provided storage for the engine, and its limits
//!
//! Every table is a [`ManagedSlice`]: borrowed arrays on bare metal, owned vectors with the
//! `alloc` feature (`EngineStorage::owned`). Their lengths are the engine's bounds.

use core::net::SocketAddr;

use managed::ManagedSlice;

use super::time_wait::TimeWaitEntry;
use super::{ConnHandle, ReplySegment};
use crate::conn::{Connection, Event};

/// Who owns a connection slot
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The application holds its handle
    App,
    /// Half-open on listener `n` (in its SYN queue)
    HalfOpen(u16),
    /// Established, waiting in listener `n`'s accept queue
    Queued(u16),
}

/// One connection slot
#[derive(Debug, Clone)]
pub struct ConnSlot {
    pub(crate) conn: Option<Connection>,
    pub(crate) generation: u32,
    pub(crate) owner: Owner,
    /// Next slot in the free list or in an accept queue
    pub(crate) next: u32,
    /// Next slot in the transmit-ready list
    pub(crate) dirty_next: u32,
    pub(crate) in_dirty: bool,
}

impl ConnSlot {
    /// An empty slot, to fill storage arrays
    pub const EMPTY: Self = Self {
        conn: None,
        generation: 0,
        owner: Owner::App,
        next: NONE,
        dirty_next: NONE,
        in_dirty: false,
    };
}

/// "No slot" in the intrusive lists
pub(crate) const NONE: u32 = u32::MAX;

/// A listening socket
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listener {
    pub(crate) local: SocketAddr,
    pub(crate) backlog: u16,
    pub(crate) half_open: u16,
    pub(crate) queued: u16,
    pub(crate) queue_head: u32,
    pub(crate) queue_tail: u32,
}

/// One listener slot
#[derive(Debug, Clone, Copy)]
pub struct ListenerSlot {
    pub(crate) listener: Option<Listener>,
    pub(crate) generation: u32,
}

impl ListenerSlot {
    /// An empty slot, to fill storage arrays
    pub const EMPTY: Self = Self {
        listener: None,
        generation: 0,
    };
}

/// A queued event
pub type EventSlot = Option<(ConnHandle, Event)>;

/// A queued reply segment (RST, TIME-WAIT ACK)
pub type ReplySlot = Option<ReplySegment>;

/// All the memory an engine uses, provided by the caller
///
/// Sizes: `buffers` holds `connections.len() × (rx_buffer + tx_buffer)` bytes (see
/// [`EngineConfig`](super::EngineConfig)); `index` should be at least twice
/// `connections.len() + time_wait.len()`; `deadlines` and `deadline_pos` as long as
/// `connections`.
#[derive(Debug)]
pub struct EngineStorage<'a> {
    /// Connection slots: the most connections open at once
    pub connections: ManagedSlice<'a, ConnSlot>,
    /// Send and receive buffers of every slot, back to back
    pub buffers: ManagedSlice<'a, u8>,
    /// TIME-WAIT entries
    pub time_wait: ManagedSlice<'a, TimeWaitEntry>,
    /// The 4-tuple index
    pub index: ManagedSlice<'a, u32>,
    /// Listener slots
    pub listeners: ManagedSlice<'a, ListenerSlot>,
    /// The event queue
    pub events: ManagedSlice<'a, EventSlot>,
    /// Replies waiting to be sent
    pub replies: ManagedSlice<'a, ReplySlot>,
    /// Timer heap entries
    pub deadlines: ManagedSlice<'a, (u64, u32)>,
    /// Timer heap positions
    pub deadline_pos: ManagedSlice<'a, u32>,
}

/// How many of each thing `EngineStorage::owned` (feature `alloc`) makes room for
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once (half-open ones included)
    pub connections: usize,
    /// TIME-WAIT entries
    pub time_wait: usize,
    /// Listeners
    pub listeners: usize,
    /// Queued events
    pub events: usize,
    /// Queued replies
    pub replies: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connections: 64,
            time_wait: 256,
            listeners: 8,
            events: 1024,
            replies: 64,
        }
    }
}

#[cfg(any(feature = "alloc", test))]
impl EngineStorage<'static> {
    /// Owned storage for `limits`, with `rx_buffer + tx_buffer` bytes per connection
    pub fn owned(limits: &Limits, rx_buffer: usize, tx_buffer: usize) -> Self {
        use alloc::vec;
        let n = limits.connections;
        Self {
            connections: ManagedSlice::Owned(vec![ConnSlot::EMPTY; n]),
            buffers: ManagedSlice::Owned(vec![0; n * (rx_buffer + tx_buffer)]),
            time_wait: ManagedSlice::Owned(vec![TimeWaitEntry::EMPTY; limits.time_wait]),
            index: ManagedSlice::Owned(vec![0; 2 * (n + limits.time_wait) + 1]),
            listeners: ManagedSlice::Owned(vec![ListenerSlot::EMPTY; limits.listeners]),
            events: ManagedSlice::Owned(vec![None; limits.events]),
            replies: ManagedSlice::Owned(vec![None; limits.replies]),
            deadlines: ManagedSlice::Owned(vec![(0, 0); n]),
            deadline_pos: ManagedSlice::Owned(vec![0; n]),
        }
    }
}
