//! The interpreter of an [`AppScript`]: one host's application, making calls on its engine.

use core::net::{IpAddr, SocketAddr};

use tcp_engine::conn::{CloseReason, ConnStats, FourTuple, RecvError, State};
use tcp_engine::engine::{ConnHandle, Engine, ListenerHandle};
use tcp_engine::time::Instant;

use super::data::{Sha256Digest, StreamHash};
use super::script::{AppScript, Read, When};

/// The running application of one host.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) script: AppScript,
    /// Everything the application will send.
    data: Vec<u8>,
    pub(crate) data_digest: Sha256Digest,
    /// Bytes of `data` the engine accepted.
    pub(crate) written: usize,
    pub(crate) rx: StreamHash,
    pub(crate) eof: bool,
    pub(crate) listener: Option<ListenerHandle>,
    listen_tried: bool,
    connect_tried: bool,
    /// The connection the application works with.
    pub(crate) main: Option<ConnHandle>,
    /// The first connection seen in this host's events, for hosts that never got a main one.
    pub(crate) first_seen: Option<ConnHandle>,
    established: bool,
    shutdown_done: bool,
    close_done: bool,
    abort_done: bool,
    /// The last state reported for the main (or first seen) connection.
    pub(crate) last_state: Option<State>,
    pub(crate) close_reason: Option<CloseReason>,
    /// The last statistics read while the connection was live.
    pub(crate) stats: Option<ConnStats>,
    pub(crate) tuple: Option<FourTuple>,
    /// Application calls that failed, in words.
    pub(crate) errors: Vec<String>,
}

impl App {
    pub(crate) fn new(script: AppScript, data: Vec<u8>) -> Self {
        Self {
            script,
            data_digest: Sha256Digest::of(&data),
            data,
            written: 0,
            rx: StreamHash::default(),
            eof: false,
            listener: None,
            listen_tried: false,
            connect_tried: false,
            main: None,
            first_seen: None,
            established: false,
            shutdown_done: false,
            close_done: false,
            abort_done: false,
            last_state: None,
            close_reason: None,
            stats: None,
            tuple: None,
            errors: Vec::new(),
        }
    }

    /// Bytes the application means to send.
    pub(crate) fn data_len(&self) -> usize {
        self.data.len()
    }

    /// The connection whose state the host reports.
    pub(crate) fn tracked(&self) -> Option<ConnHandle> {
        self.main.or(self.first_seen)
    }

    /// Whether events for `h` concern the tracked connection (or may become it).
    fn is_tracked(&mut self, h: ConnHandle) -> bool {
        if self.main.is_none() && self.first_seen.is_none() {
            self.first_seen = Some(h);
        }
        self.tracked() == Some(h)
    }

    pub(crate) fn on_state(&mut self, h: ConnHandle, to: State) {
        if self.is_tracked(h) {
            self.last_state = Some(to);
            if to.is_synchronized() {
                self.established = true;
            }
        }
    }

    pub(crate) fn on_closed(&mut self, h: ConnHandle, reason: CloseReason) {
        if self.is_tracked(h) {
            self.close_reason = Some(reason);
        }
    }

    /// Reads the main connection's statistics while it is live.
    pub(crate) fn sample(&mut self, eng: &Engine<'_>) {
        if let Some(h) = self.tracked() {
            if let Ok(s) = eng.conn_stats(h) {
                self.stats = Some(s);
            }
            if let Ok(t) = eng.tuple(h) {
                self.tuple = Some(t);
            }
        }
    }

    /// The next simulated time (after `now`) at which the script has something to do.
    pub(crate) fn next_time(&self, now: u64) -> Option<u64> {
        self.script.times().filter(|&t| t > now).min()
    }

    fn holds(&self, when: When, now: u64, eng: &Engine<'_>, h: ConnHandle) -> bool {
        let queued = self.written == self.data.len();
        match when {
            When::At(t) => now >= t,
            When::Established => self.established,
            When::Queued => queued,
            When::Acked => self.established && queued && eng.send_queue(h) == Ok(0),
            When::PeerClosed => self.eof,
        }
    }

    /// A graceful shutdown or close waits for the connection to be established and the data
    /// to be queued, unless it is timed.
    fn graceful(&self, when: When, now: u64, eng: &Engine<'_>, h: ConnHandle) -> bool {
        self.holds(when, now, eng, h)
            && (matches!(when, When::At(_))
                || (self.established && self.written == self.data.len()))
    }

    /// Opens the script's listener, once; returns whether it opened now.
    pub(crate) fn open_listener(&mut self, eng: &mut Engine<'_>, my_addr: IpAddr) -> bool {
        let (Some(port), false) = (self.script.listen, self.listen_tried) else {
            return false;
        };
        self.listen_tried = true;
        match eng.listen(SocketAddr::new(my_addr, port), 16) {
            Ok(l) => {
                self.listener = Some(l);
                true
            }
            Err(e) => {
                self.errors.push(format!("listen on port {port}: {e}"));
                false
            }
        }
    }

    /// Runs the script at `now`; `addr_of` gives a host's address. Returns whether it made
    /// any call that may have changed the engine.
    pub(crate) fn run(
        &mut self,
        now: u64,
        eng: &mut Engine<'_>,
        my_addr: IpAddr,
        addr_of: &dyn Fn(u32) -> Option<IpAddr>,
    ) -> bool {
        let t = Instant::from_micros(now);
        let mut acted = false;
        if let (Some(c), false) = (self.script.connect, self.connect_tried) {
            if now >= c.at_us {
                self.connect_tried = true;
                acted = true;
                let remote = addr_of(c.to).map(|ip| SocketAddr::new(ip, c.port));
                let result = match (remote, c.from_port) {
                    (None, _) => Err(format!("connect: no host number {}", c.to)),
                    (Some(r), None) => eng.connect(t, my_addr, r).map_err(|e| e.to_string()),
                    (Some(r), Some(p)) => eng
                        .connect_from(t, SocketAddr::new(my_addr, p), r)
                        .map_err(|e| e.to_string()),
                };
                match result {
                    Ok(h) => {
                        self.main = Some(h);
                        self.first_seen = None;
                    }
                    Err(e) => self.errors.push(e),
                }
            }
        }
        if let Some(l) = self.listener {
            while let Ok(h) = eng.accept(l) {
                acted = true;
                if self.main.is_none() {
                    self.main = Some(h);
                    if self.first_seen != Some(h) {
                        self.first_seen = None;
                        self.last_state = eng.state(h).ok();
                    }
                    self.established = true;
                } else {
                    // The application serves one connection: others are turned away.
                    let _ = eng.close(h);
                }
            }
        }
        if let Some(h) = self.main {
            acted |= self.drive(now, eng, h);
        }
        self.sample(eng);
        acted
    }

    /// Sends, reads, shuts down, closes or aborts the main connection as the script says.
    fn drive(&mut self, now: u64, eng: &mut Engine<'_>, h: ConnHandle) -> bool {
        if self.close_done || self.abort_done {
            return false;
        }
        let mut acted = false;
        if !self.established && eng.state(h).is_ok_and(State::is_synchronized) {
            self.established = true;
        }
        if self.written < self.data.len()
            && !self.shutdown_done
            && self.holds(self.script.send_when, now, eng, h)
        {
            if let Ok(n) = eng.send(h, &self.data[self.written..]) {
                self.written += n;
                acted |= n > 0;
            }
        }
        let reading = match self.script.read {
            Read::Always => true,
            Read::From(t) => now >= t,
            Read::Never => false,
        };
        if reading && !self.eof {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match eng.recv(h, &mut buf) {
                    Ok(0) => {
                        self.eof = true;
                        acted = true;
                        break;
                    }
                    Ok(n) => {
                        self.rx.update(&buf[..n]);
                        acted = true;
                    }
                    Err(RecvError::WouldBlock) | Err(_) => break,
                }
            }
        }
        if let Some(w) = self.script.abort {
            if self.holds(w, now, eng, h) {
                self.sample(eng);
                self.abort_done = true;
                if let Err(e) = eng.abort(h) {
                    self.errors.push(format!("abort: {e}"));
                }
                return true;
            }
        }
        if let Some(w) = self.script.shutdown {
            if !self.shutdown_done && self.graceful(w, now, eng, h) {
                self.shutdown_done = true;
                acted = true;
                if let Err(e) = eng.shutdown(h) {
                    self.errors.push(format!("shutdown: {e:?}"));
                }
            }
        }
        if let Some(w) = self.script.close {
            if self.graceful(w, now, eng, h) {
                self.sample(eng);
                self.close_done = true;
                acted = true;
                if let Err(e) = eng.close(h) {
                    self.errors.push(format!("close: {e:?}"));
                }
            }
        }
        acted
    }
}
