//! Many connections: the table, listeners, demultiplexing and the sans-IO loop
//!
//! # The loop
//!
//! The [`Engine`] is driven by four kinds of calls; any order is safe, this one is best:
//!
//! 1. feed every segment that arrived: [`Engine::handle_segment`];
//! 2. fire timers: [`Engine::handle_timeout`] (early or repeated calls are harmless);
//! 3. make application calls ([`Engine::connect`], [`Engine::send`], [`Engine::recv`], ...)
//!    and read [`Engine::poll_event`] until it returns `None`;
//! 4. call [`Engine::poll_transmit`] until it returns `None`, sending each segment;
//! 5. sleep until [`Engine::poll_timeout`] or the next segment, whichever comes first.
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use core::net::{IpAddr, Ipv4Addr, SocketAddr};
//! use tcp_engine::engine::{Engine, EngineConfig, EngineStorage, Limits};
//! use tcp_engine::time::Instant;
//!
//! let config = EngineConfig::default();
//! let storage = EngineStorage::owned(&Limits::default(), config.rx_buffer, config.tx_buffer);
//! let mut engine = Engine::new(config, storage).unwrap();
//! let server: SocketAddr = (Ipv4Addr::new(10, 0, 0, 2), 80).into();
//! let me = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
//! let conn = engine.connect(Instant::ZERO, me, server).unwrap();
//! let mut buf = [0u8; 1500];
//! let syn = engine.poll_transmit(Instant::ZERO, &mut buf).unwrap();
//! assert_eq!(syn.dst, server.ip());
//! assert!(engine.poll_timeout().is_some()); // the SYN's retransmission timer
//! # let _ = conn;
//! # }
//! ```

mod app;
mod cookies;
mod deadline_heap;
mod index;
mod input;
mod isn;
mod queue;
mod settle;
mod stats;
mod storage;
mod time_wait;

use core::net::IpAddr;

pub use app::{AcceptError, ConnectError, HandleError, ListenError};
pub use stats::{Disposition, DropReason, EngineStats};
pub use storage::{ConnSlot, EngineStorage, EventSlot, Limits, ListenerSlot, ReplySlot};
pub use time_wait::TimeWaitEntry;

use deadline_heap::DeadlineHeap;
use index::{Entry, Index};
use isn::Keys;
use queue::Queue;
use storage::{Owner, NONE};
use time_wait::TimeWaitTable;

use crate::conn::{Buffers, ConnConfig, Connection, Event, FourTuple, State};
use crate::seq::SeqNumber;
use crate::time::Instant;
use crate::wire::{TcpFlags, TcpOptions, TcpRepr};

/// A connection, checked by generation: a stale handle is an error, never another connection
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl ConnHandle {
    /// The slot number (for logs; not unique over time)
    pub fn slot(&self) -> u32 {
        self.index
    }
}

/// A listener, checked by generation
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ListenerHandle {
    pub(crate) index: u16,
    pub(crate) generation: u32,
}

/// Puts a connection's events on the engine's queue under its handle
pub(crate) struct Sink<'q, 'a> {
    events: &'q mut Queue<'a, (ConnHandle, Event)>,
    handle: ConnHandle,
}

impl crate::conn::EventSink for Sink<'_, '_> {
    fn push(&mut self, event: Event) {
        let _ = self.events.push((self.handle, event));
    }
}

/// A segment that `poll_transmit` wrote
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub struct Transmit {
    /// Source address for the IP header
    pub src: IpAddr,
    /// Destination address for the IP header
    pub dst: IpAddr,
    /// Bytes written at the start of the caller's buffer (a whole TCP segment)
    pub len: usize,
}

/// A reply segment the engine sends on its own: RST, or an ACK from TIME-WAIT
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplySegment {
    tuple: FourTuple,
    seq: SeqNumber,
    ack: SeqNumber,
    flags: TcpFlags,
    /// The window field
    window: u16,
    /// For a SYN-cookie SYN-ACK: the options we answer with
    syn: Option<TcpOptions>,
}

/// Engine settings
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Settings every new connection starts with
    pub conn: ConnConfig,
    /// Receive buffer per connection, in bytes
    pub rx_buffer: usize,
    /// Send buffer per connection, in bytes
    pub tx_buffer: usize,
    /// Half-open connections per listener (the SYN queue)
    pub syn_backlog: u16,
    /// Secret for ISNs (RFC 6528), ephemeral ports and the index hash: draw it from a
    /// random source at start-up
    pub secret: [u8; 16],
    /// Ephemeral port range for `connect`, inclusive (RFC 6335: 49152–65535)
    pub ephemeral_ports: (u16, u16),
    /// Verify checksums of arriving segments (turn off only behind checksum offload)
    pub verify_checksums: bool,
    /// Answer SYNs with SYN cookies when a listener's SYN queue is full (RFC 4987)
    pub syn_cookies: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            conn: ConnConfig::default(),
            rx_buffer: 64 * 1024,
            tx_buffer: 64 * 1024,
            syn_backlog: 128,
            secret: [0x5a; 16],
            ephemeral_ports: (49152, 65535),
            verify_checksums: true,
            syn_cookies: true,
        }
    }
}

/// Why `Engine::new` refused the storage
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StorageError {
    /// `buffers` is shorter than connections × (rx_buffer + tx_buffer)
    BuffersTooSmall,
    /// `deadlines` or `deadline_pos` is shorter than `connections`
    DeadlinesTooSmall,
    /// `index` cannot hold every connection and TIME-WAIT entry
    IndexTooSmall,
    /// More than 2^31 connection slots or TIME-WAIT entries
    TooManySlots,
}

impl core::fmt::Display for StorageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BuffersTooSmall => "buffer storage smaller than connections x (rx + tx)",
            Self::DeadlinesTooSmall => "deadline storage smaller than the connection table",
            Self::IndexTooSmall => "index smaller than connections + TIME-WAIT entries + 1",
            Self::TooManySlots => "more than 2^31 slots",
        })
    }
}

impl core::error::Error for StorageError {}

/// The TCP engine: many connections behind one sans-IO interface (see the module docs)
#[derive(Debug)]
pub struct Engine<'a> {
    config: EngineConfig,
    keys: Keys,
    now: Instant,
    slots: managed::ManagedSlice<'a, ConnSlot>,
    buffers: managed::ManagedSlice<'a, u8>,
    listeners: managed::ManagedSlice<'a, ListenerSlot>,
    index: Index<'a>,
    time_wait: TimeWaitTable<'a>,
    deadlines: DeadlineHeap<'a>,
    events: Queue<'a, (ConnHandle, Event)>,
    replies: Queue<'a, ReplySegment>,
    free_head: u32,
    dirty_head: u32,
    dirty_tail: u32,
    live: usize,
    port_counter: u32,
    /// The slot the last segment went to (a cache in front of the index)
    last_slot: u32,
    stats: EngineStats,
}

impl<'a> Engine<'a> {
    /// An engine over `storage`, whose lengths are its limits
    pub fn new(config: EngineConfig, storage: EngineStorage<'a>) -> Result<Self, StorageError> {
        let EngineStorage {
            mut connections,
            buffers,
            time_wait,
            index,
            listeners,
            events,
            replies,
            deadlines,
            deadline_pos,
        } = storage;
        let n = connections.len();
        if n >= 1 << 31 || time_wait.len() >= 1 << 31 {
            return Err(StorageError::TooManySlots);
        }
        let per = config.rx_buffer.saturating_add(config.tx_buffer);
        if buffers.len() < n.saturating_mul(per) {
            return Err(StorageError::BuffersTooSmall);
        }
        if deadlines.len() < n || deadline_pos.len() < n {
            return Err(StorageError::DeadlinesTooSmall);
        }
        if index.len() <= n + time_wait.len() {
            return Err(StorageError::IndexTooSmall);
        }
        // Thread the free list through the slots.
        for (i, s) in connections.iter_mut().enumerate() {
            *s = ConnSlot::EMPTY;
            s.next = if i + 1 < n { (i + 1) as u32 } else { NONE };
        }
        Ok(Self {
            keys: Keys::new(config.secret),
            config,
            now: Instant::ZERO,
            slots: connections,
            buffers,
            listeners,
            index: Index::new(index),
            time_wait: TimeWaitTable::new(time_wait),
            deadlines: DeadlineHeap::new(deadlines, deadline_pos),
            events: Queue::new(events),
            replies: Queue::new(replies),
            free_head: if n > 0 { 0 } else { NONE },
            dirty_head: NONE,
            dirty_tail: NONE,
            live: 0,
            port_counter: 0,
            last_slot: NONE,
            stats: EngineStats::default(),
        })
    }

    /// The configuration
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Engine-wide counters
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            events_dropped: self.events.dropped,
            replies_dropped: self.replies.dropped,
            ..self.stats
        }
    }

    /// Connections in the table (TIME-WAIT entries not included)
    pub fn connection_count(&self) -> usize {
        self.live
    }

    /// TIME-WAIT entries alive
    pub fn time_wait_count(&self) -> usize {
        self.time_wait.live()
    }

    /// Time never goes backwards: a smaller `now` counts as the last one seen
    fn clock(&mut self, now: Instant) -> Instant {
        self.now = self.now.max(now);
        self.now
    }

    /// The next event for the application
    ///
    /// May return something new after any `handle_*` call or application call.
    #[must_use]
    #[inline]
    pub fn poll_event(&mut self) -> Option<(ConnHandle, Event)> {
        self.events.pop()
    }

    /// The earliest time `handle_timeout` has work to do; O(1)
    ///
    /// May change after any `handle_*`, application or `poll_transmit` call.
    #[must_use]
    #[inline]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conn = self.deadlines.peek().map(|(t, _)| Instant::from_micros(t));
        let tw = self.time_wait.head(self.now).map(|(_, t)| t);
        match (conn, tw) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fire every timer due at `now`; calling it early or twice is harmless
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock(now);
        // Bounded: each due slot is handled at most twice per call.
        let mut budget = 2 * self.deadlines.len() + 1;
        while let Some((t, slot)) = self.deadlines.peek() {
            if t > now.total_micros() || budget == 0 {
                break;
            }
            budget -= 1;
            let before = Some(t);
            self.with_conn(slot, |conn, _, cfg, sink| {
                conn.handle_timeout(now, cfg, sink)
            });
            self.after_change(slot);
            if self.deadlines.get(slot) == before {
                // A timer that did not move would spin: push it a millisecond on.
                self.deadlines.set(slot, Some(t.saturating_add(1_000)));
            }
        }
        while let Some(i) = self.time_wait.expired_head(now) {
            self.end_time_wait(i);
        }
    }

    /// Write the next segment to send into `buf`
    ///
    /// Returns `None` when nothing is waiting (or `buf` is too small for the next one, which
    /// then stays queued). May return something new after any `handle_*` or application call.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let now = self.clock(now);
        if let Some(reply) = self.replies.front() {
            let t = self.emit_reply(&reply, buf)?;
            let _ = self.replies.pop();
            return Some(t);
        }
        while self.dirty_head != NONE {
            let slot = self.dirty_head;
            let sent = self.with_conn(slot, |conn, bufs, cfg, sink| {
                let len = conn.poll_transmit(now, bufs, cfg, buf, sink)?;
                Some(Transmit {
                    src: conn.tuple().local_addr,
                    dst: conn.tuple().remote_addr,
                    len,
                })
            });
            match sent.flatten() {
                Some(t) => {
                    self.stats.segments_out += 1;
                    self.settle(slot, true);
                    return Some(t);
                }
                None => {
                    self.pop_dirty();
                    self.update_deadline(slot);
                    self.reap(slot);
                }
            }
        }
        None
    }

    fn emit_reply(&mut self, r: &ReplySegment, buf: &mut [u8]) -> Option<Transmit> {
        let repr = TcpRepr {
            src_port: r.tuple.local_port,
            dst_port: r.tuple.remote_port,
            flags: r.flags,
            seq_number: r.seq,
            ack_number: r.ack,
            window_len: r.window,
            urgent_pointer: 0,
            options: r.syn.unwrap_or(TcpOptions::NONE),
            payload: &[],
        };
        let len = repr.emit(buf, &r.tuple.local_addr, &r.tuple.remote_addr)?;
        self.stats.segments_out += 1;
        if r.flags.contains(TcpFlags::RST) {
            self.stats.resets_sent += 1;
        }
        Some(Transmit {
            src: r.tuple.local_addr,
            dst: r.tuple.remote_addr,
            len,
        })
    }

    /// An ACK from a TIME-WAIT entry, repeating its last window
    fn queue_time_wait_ack(&mut self, e: &TimeWaitEntry) {
        let _ = self.replies.push(ReplySegment {
            tuple: e.tuple(),
            seq: e.snd_nxt,
            ack: e.rcv_nxt,
            flags: TcpFlags::ACK,
            window: e.window,
            syn: None,
        });
    }

    fn queue_reply(
        &mut self,
        tuple: FourTuple,
        seq: SeqNumber,
        ack: Option<SeqNumber>,
        flags: TcpFlags,
    ) {
        let flags = if ack.is_some() {
            flags | TcpFlags::ACK
        } else {
            flags
        };
        let _ = self.replies.push(ReplySegment {
            tuple,
            seq,
            ack: ack.unwrap_or(SeqNumber(0)),
            flags,
            window: 0,
            syn: None,
        });
    }

    /// Run `f` on the connection in `slot` with its buffers, the config and an event sink
    fn with_conn<R>(
        &mut self,
        slot: u32,
        f: impl FnOnce(&mut Connection, &mut Buffers<'_>, &ConnConfig, &mut Sink<'_, 'a>) -> R,
    ) -> Option<R> {
        let Self {
            slots,
            buffers,
            events,
            config,
            ..
        } = self;
        let s = slots.get_mut(slot as usize)?;
        let handle = ConnHandle {
            index: slot,
            generation: s.generation,
        };
        let conn = s.conn.as_mut()?;
        let (rx, tx) = (config.rx_buffer, config.tx_buffer);
        let base = slot as usize * (rx + tx);
        let (rx_buf, tx_buf) = buffers.get_mut(base..base + rx + tx)?.split_at_mut(rx);
        let mut bufs = Buffers {
            rx: rx_buf,
            tx: tx_buf,
        };
        let mut sink = Sink { events, handle };
        Some(f(conn, &mut bufs, &config.conn, &mut sink))
    }

    /// Free a slot; returns the index hash of the connection it held
    fn free_slot(&mut self, slot: u32) -> Option<u64> {
        let s = self.slots.get_mut(slot as usize)?;
        let conn = s.conn.take()?;
        if let Owner::HalfOpen(l) = s.owner {
            if let Some(listener) = self
                .listeners
                .get_mut(usize::from(l))
                .and_then(|x| x.listener.as_mut())
            {
                listener.half_open = listener.half_open.saturating_sub(1);
            }
        }
        s.generation = s.generation.wrapping_add(1);
        s.owner = Owner::App;
        s.next = self.free_head;
        self.free_head = slot;
        self.live -= 1;
        let hash = self.keys.index_hash(conn.tuple());
        self.index_remove(hash, Entry::Conn(slot));
        self.deadlines.set(slot, None);
        Some(hash)
    }

    fn index_remove(&mut self, hash: u64, entry: Entry) {
        let Self {
            index,
            slots,
            time_wait,
            keys,
            ..
        } = self;
        index.remove(hash, entry, |e| match e {
            Entry::Conn(i) => slots
                .get(i as usize)
                .and_then(|s| s.conn.as_ref())
                .map_or(0, |c| keys.index_hash(c.tuple())),
            Entry::TimeWait(i) => time_wait.get(i).map_or(0, |t| keys.index_hash(&t.tuple())),
        });
    }

    /// Replace a released connection in TIME-WAIT by a compact entry
    fn shrink_to_time_wait(&mut self, slot: u32) {
        let Some(s) = self.slots.get(slot as usize) else {
            return;
        };
        let Some(conn) = s.conn.as_ref() else { return };
        let handle = ConnHandle {
            index: slot,
            generation: s.generation,
        };
        let tuple = *conn.tuple();
        let (snd_nxt, rcv_nxt, window) = conn.time_wait_numbers();
        let expiry = conn.time_wait_deadline().unwrap_or(self.now);
        if let Some(old) = self.time_wait.would_evict() {
            self.stats.time_wait_evicted += 1;
            self.end_time_wait(old);
        }
        let freed = self.free_slot(slot);
        if let Some(i) = self
            .time_wait
            .push(&tuple, snd_nxt, rcv_nxt, window, expiry, handle)
        {
            // The same tuple, so the same hash as the slot's index entry had.
            let hash = freed.unwrap_or_else(|| self.keys.index_hash(&tuple));
            let _ = self.index.insert(hash, Entry::TimeWait(i));
        } else {
            // No TIME-WAIT storage at all: the connection simply ends.
            self.report_closed(handle);
        }
    }

    /// A TIME-WAIT entry ends (2·MSL passed, eviction, or an acceptable RST)
    fn end_time_wait(&mut self, i: u32) {
        let Some(e) = self.time_wait.get(i).copied() else {
            return;
        };
        let hash = self.keys.index_hash(&e.tuple());
        self.index_remove(hash, Entry::TimeWait(i));
        self.time_wait.kill(i);
        self.report_closed(e.handle);
    }

    fn report_closed(&mut self, handle: ConnHandle) {
        let _ = self.events.push((
            handle,
            Event::StateChanged {
                from: State::TimeWait,
                to: State::Closed,
            },
        ));
        let _ = self
            .events
            .push((handle, Event::Closed(crate::conn::CloseReason::Normal)));
    }
}

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod robustness_tests;
#[cfg(test)]
mod tests;
