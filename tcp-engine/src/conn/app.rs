//! Application calls on one connection (RFC 9293 §3.9.1): send, receive, close, abort

use super::{
    Buffers, CloseError, CloseReason, ConnConfig, Connection, EventSink, Flags, RecvError, Reply,
    SendError, State, Timer, Trigger,
};
use crate::time::Instant;

impl Connection {
    /// Queue data to send; returns how much fit in the send buffer (MUST-60: it is sent
    /// without waiting for a push)
    pub fn send(&mut self, bufs: &mut Buffers<'_>, data: &[u8]) -> Result<usize, SendError> {
        if let Some(reason) = self.close_reason {
            return Err(SendError::Closed(reason));
        }
        if !self.state.may_send() || self.flags.contains(Flags::FIN_QUEUED) {
            return Err(SendError::InvalidState(self.state));
        }
        let n = self.tx.enqueue(bufs.tx, data);
        if n < data.len() {
            self.flags |= Flags::WANT_WRITABLE;
        }
        Ok(n)
    }

    /// FLUSH (RFC 9293 §3.9.1.7, MAY-14): discard queued data not yet sent, keeping what is
    /// in flight so the sequence numbers stay in step; returns how many bytes were dropped
    pub fn flush(&mut self) -> usize {
        let sent = self.snd_max.bytes_after(self.data_start()) as usize;
        let before = self.tx.len();
        if self.flags.contains(Flags::FIN_SENT) {
            return 0;
        }
        self.tx.truncate(sent);
        before - self.tx.len()
    }

    /// Free room in the send buffer
    pub fn send_capacity(&self, bufs: &Buffers<'_>) -> usize {
        self.tx.free(bufs.tx)
    }

    /// Read received data into `out`; `Ok(0)` at the end of the stream, like `read(2)`
    pub fn recv(
        &mut self,
        now: Instant,
        bufs: &mut Buffers<'_>,
        out: &mut [u8],
        cfg: &ConnConfig,
    ) -> Result<usize, RecvError> {
        let n = self.rx.peek(bufs.rx, 0, out);
        self.consume_received(now, bufs, n, cfg)
    }

    /// Read received data in place: `f` sees the readable bytes as up to two slices and
    /// returns how many it consumed (zero-copy variant of [`Connection::recv`])
    pub fn recv_with(
        &mut self,
        now: Instant,
        bufs: &mut Buffers<'_>,
        cfg: &ConnConfig,
        f: impl FnOnce(&[u8], &[u8]) -> usize,
    ) -> Result<usize, RecvError> {
        let (a, b) = self.rx.slices(bufs.rx, 0);
        let n = f(a, b).min(a.len() + b.len());
        self.consume_received(now, bufs, n, cfg)
    }

    fn consume_received(
        &mut self,
        now: Instant,
        bufs: &mut Buffers<'_>,
        n: usize,
        cfg: &ConnConfig,
    ) -> Result<usize, RecvError> {
        if n == 0 {
            if let Some(r @ (CloseReason::Reset | CloseReason::Refused | CloseReason::TimedOut)) =
                self.close_reason
            {
                return Err(RecvError::Closed(r));
            }
            if self.flags.contains(Flags::FIN_RECEIVED) || self.state == State::Closed {
                return Ok(0);
            }
            self.flags.remove(Flags::READABLE_SENT);
            return Err(RecvError::WouldBlock);
        }
        self.rx.consume(bufs.rx, n);
        if self.rx.is_empty() {
            self.flags.remove(Flags::READABLE_SENT);
        }
        // Receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39): announce the opened
        // window once the right edge can move by at least min(buffer / 2, MSS) beyond the
        // edge last advertised.
        let edge = self.rcv_nxt + self.rx_window(bufs.rx.len(), self.rx.len());
        let threshold = (bufs.rx.len() as u32 / 2).min(u32::from(cfg.mss));
        if self.state.may_receive() && edge.bytes_after(self.rcv_adv) >= threshold {
            self.flags |= Flags::ACK_NOW;
        }
        let _ = now;
        Ok(n)
    }

    /// Half-close (RFC 9293 §3.10.4 for the sending side): FIN after the queued data, and
    /// keep receiving
    pub fn shutdown(&mut self, sink: &mut impl EventSink) -> Result<(), CloseError> {
        match self.state {
            State::SynSent => {
                self.finish(Trigger::Close, CloseReason::Aborted, sink);
                Ok(())
            }
            State::SynReceived | State::Established | State::CloseWait => {
                if !self.flags.contains(Flags::FIN_QUEUED) {
                    self.flags |= Flags::FIN_QUEUED;
                    self.transition(Trigger::Close, sink);
                }
                Ok(())
            }
            State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait => Ok(()),
            State::Closed | State::Listen => Err(CloseError::InvalidState(self.state)),
        }
    }

    /// Close (RFC 9293 §3.10.4): like [`Connection::shutdown`], and the application will not
    /// read any more. Unread data, or data arriving later, resets the connection (SHLD-3).
    pub fn close(&mut self, now: Instant, cfg: &ConnConfig, sink: &mut impl EventSink) {
        self.flags |= Flags::RELEASED;
        if self.state == State::Closed {
            return;
        }
        if !self.rx.is_empty() && self.state.is_synchronized() {
            self.flags |= Flags::RST_NOW;
            return;
        }
        let _ = self.shutdown(sink);
        if self.state == State::FinWait2 {
            self.timers.set(Timer::Linger, now + cfg.fin_wait_2_timeout);
        }
    }

    /// Abort (RFC 9293 §3.10.5, like `SO_LINGER` 0): returns the RST to send, if any, and
    /// ends the connection at once without TIME-WAIT
    pub fn abort(&mut self, sink: &mut impl EventSink) -> Option<Reply> {
        self.flags |= Flags::RELEASED;
        if self.state == State::Closed {
            return None;
        }
        let rst = matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        )
        .then_some(Reply::Rst {
            seq: self.snd_max,
            ack: None,
        });
        self.finish(Trigger::Abort, CloseReason::Aborted, sink);
        rst
    }
}
