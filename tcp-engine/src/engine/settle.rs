//! Bookkeeping after anything touched a connection: its timer deadline, the transmit list
//! (connections with something to send), promotion to the accept queue, and reaping
//! (freeing, or shrinking to a TIME-WAIT entry)

use super::storage::{Owner, NONE};
use super::Engine;
use crate::conn::{Connection, State};
use crate::time::Instant;

impl Engine<'_> {
    pub(super) fn push_dirty(&mut self, slot: u32) {
        let Some(s) = self.slots.get_mut(slot as usize) else {
            return;
        };
        if s.in_dirty {
            return;
        }
        s.in_dirty = true;
        s.dirty_next = NONE;
        if self.dirty_tail == NONE {
            self.dirty_head = slot;
        } else if let Some(t) = self.slots.get_mut(self.dirty_tail as usize) {
            t.dirty_next = slot;
        }
        self.dirty_tail = slot;
    }

    pub(super) fn pop_dirty(&mut self) {
        let head = self.dirty_head;
        let Some(s) = self.slots.get_mut(head as usize) else {
            return;
        };
        self.dirty_head = s.dirty_next;
        s.in_dirty = false;
        s.dirty_next = NONE;
        if self.dirty_head == NONE {
            self.dirty_tail = NONE;
        }
    }

    pub(super) fn update_deadline(&mut self, slot: u32) {
        let at = self
            .slots
            .get(slot as usize)
            .and_then(|s| s.conn.as_ref())
            .and_then(Connection::poll_at);
        self.deadlines.set(slot, at.map(Instant::total_micros));
    }

    /// Bookkeeping after anything touched a connection: queues, TIME-WAIT, freeing, timers
    pub(super) fn after_change(&mut self, slot: u32) {
        self.settle(slot, false);
    }

    /// [`Engine::after_change`]; `sent` says `slot` has just written a segment from the head
    /// of the transmit list, which it leaves as soon as it has nothing more to send (so the
    /// poll that ends a burst costs nothing)
    pub(super) fn settle(&mut self, slot: u32, sent: bool) {
        // The common case, decided with one look at the slot: an open connection that is
        // neither half-open nor closing down only needs its deadline and the dirty list.
        //
        // One with nothing to send stays off the transmit list: `poll_transmit` would only
        // find that out, at the price of a planning pass. A listed one that did not just send
        // stays listed (the check would cost more than the poll saves); one that just sent
        // leaves the list once it wants nothing more.
        let head = self.dirty_head;
        let settled = self.slots.get(slot as usize).and_then(|s| {
            let conn = s.conn.as_ref()?;
            let busy = matches!(s.owner, Owner::HalfOpen(_))
                || matches!(
                    conn.state(),
                    State::Closed | State::Listen | State::TimeWait
                );
            (!busy).then(|| {
                let move_list = if sent {
                    head == slot && !conn.wants_to_transmit()
                } else {
                    !s.in_dirty && conn.wants_to_transmit()
                };
                (conn.poll_at(), move_list)
            })
        });
        if let Some((at, move_list)) = settled {
            self.deadlines.set(slot, at.map(Instant::total_micros));
            match (move_list, sent) {
                (true, true) => self.pop_dirty(),
                (true, false) => self.push_dirty(slot),
                (false, _) => {}
            }
            return;
        }
        self.promote(slot);
        self.update_deadline(slot);
        if !self.reap(slot) {
            self.push_dirty(slot);
        }
    }

    /// A passive connection that completed its handshake moves to the accept queue
    fn promote(&mut self, slot: u32) {
        let Some(s) = self.slots.get(slot as usize) else {
            return;
        };
        let (Owner::HalfOpen(l), Some(conn)) = (s.owner, s.conn.as_ref()) else {
            return;
        };
        if !conn.state().is_synchronized() {
            return;
        }
        let Some(listener) = self
            .listeners
            .get_mut(usize::from(l))
            .and_then(|x| x.listener.as_mut())
        else {
            return;
        };
        listener.half_open = listener.half_open.saturating_sub(1);
        listener.queued = listener.queued.saturating_add(1);
        let tail = listener.queue_tail;
        listener.queue_tail = slot;
        if tail == NONE {
            listener.queue_head = slot;
        }
        if let Some(t) = self.slots.get_mut(tail as usize) {
            t.next = slot;
        }
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.owner = Owner::Queued(l);
            s.next = NONE;
        }
    }

    /// Free a connection nobody needs any more, or move it to TIME-WAIT; true if it left
    pub(super) fn reap(&mut self, slot: u32) -> bool {
        let Some(s) = self.slots.get(slot as usize) else {
            return false;
        };
        let Some(conn) = s.conn.as_ref() else {
            return true;
        };
        let orphan = conn.is_released() || matches!(s.owner, Owner::HalfOpen(_));
        match conn.state() {
            State::Closed | State::Listen if orphan => {
                self.free_slot(slot);
                true
            }
            // Once its last ACK is out, a released connection shrinks to a TIME-WAIT entry.
            State::TimeWait if conn.is_released() && conn.is_quiet() => {
                self.shrink_to_time_wait(slot);
                true
            }
            _ => false,
        }
    }
}
