//! The virtual clock: advancing through the engine's deadlines, collecting what it sends
//! and what it reports

use tcp_engine::conn::{CloseReason, Event as EngineEvent};
use tcp_engine::engine::Engine;
use tcp_engine::time::Instant;

use super::ast::Event;
use super::run::{fail, secs, Emitted, Runner, Step};

/// Timer firings per advance before the engine is declared stuck
const TIMER_BUDGET: usize = 1_000_000;

impl Runner {
    /// Advance the clock to `t` (never backwards), firing deadlines on the way
    pub(crate) fn advance_to(&mut self, t: u64, ev: &Event) -> Step {
        if !self.advance_raw(t) {
            return fail(ev, "the engine's timers keep firing without time passing");
        }
        Ok(())
    }

    /// Advance to `t`; false if the engine's deadlines never moved past it
    pub(crate) fn advance_raw(&mut self, t: u64) -> bool {
        let mut budget = TIMER_BUDGET;
        while let Some(d) = self.engine.as_ref().and_then(Engine::poll_timeout) {
            let d = d.total_micros();
            if d > t {
                break;
            }
            if budget == 0 {
                return false;
            }
            budget -= 1;
            self.now = self.now.max(d);
            let now = Instant::from_micros(self.now);
            if let Some(e) = self.engine.as_mut() {
                e.handle_timeout(now);
            }
            self.settle();
        }
        self.now = self.now.max(t);
        self.settle();
        true
    }

    /// The oldest unmatched segment, waiting through deadlines up to `limit` for one
    pub(crate) fn next_segment(&mut self, limit: u64) -> Option<Emitted> {
        let mut budget = TIMER_BUDGET;
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            let d = self.engine.as_ref().and_then(Engine::poll_timeout)?;
            let d = d.total_micros().max(self.now);
            if d > limit || budget == 0 {
                return None;
            }
            budget -= 1;
            self.advance_raw(d);
        }
    }

    /// Read events, send what is ready, retry the pending call, until nothing changes
    pub(crate) fn settle(&mut self) {
        let mut buf = vec![0u8; 65_600];
        for _ in 0..10_000 {
            let now = Instant::from_micros(self.now);
            self.drain_events();
            let Some(engine) = self.engine.as_mut() else {
                return;
            };
            let before = self.queue.len();
            while let Some(t) = engine.poll_transmit(now, &mut buf) {
                self.queue.push_back(Emitted {
                    at: self.now,
                    bytes: buf[..t.len].to_vec(),
                });
            }
            if self.opts.trace {
                for i in before..self.queue.len() {
                    let what = self.describe_emitted(&self.queue[i]);
                    self.trace
                        .push(format!("{} engine sent {what}", secs(self.now)));
                }
            }
            self.drain_events();
            if !self.retry_pending() {
                return;
            }
        }
    }

    fn drain_events(&mut self) {
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        while let Some((h, e)) = engine.poll_event() {
            let info = self.conns.entry(h).or_default();
            match e {
                EngineEvent::Established => info.established = true,
                EngineEvent::Closed(reason) => {
                    info.closed = Some(reason);
                    info.error = match reason {
                        CloseReason::Reset => Some("ECONNRESET"),
                        CloseReason::Refused => Some("ECONNREFUSED"),
                        CloseReason::TimedOut => Some("ETIMEDOUT"),
                        _ => info.error,
                    };
                }
                _ => {}
            }
        }
    }
}
