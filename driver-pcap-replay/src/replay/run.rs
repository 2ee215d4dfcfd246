//! Driving the engine through a script in virtual time.

use std::collections::BTreeMap;

use tcp_engine::conn::{ConnConfig, Event as ConnEvent, State};
use tcp_engine::engine::{
    ConnHandle, Disposition, Engine, EngineConfig, EngineStorage, Limits, ListenerHandle,
};
use tcp_engine::time::Instant;
use tcp_engine::wire::{ChecksumCheck, TcpFlags, TcpRepr};

use super::rewrite::Translator;
use super::script::{FinKind, Script};
use super::{ReplayOptions, Role};
use crate::flows::Flow;

/// Receive buffer: large, so the engine's window never limits the recorded peer.
const RX_BUFFER: usize = 4 << 20;
/// Send buffer; the application retries what did not fit.
const TX_BUFFER: usize = 1 << 20;
/// Timer firings allowed while virtual time crosses one gap between segments.
const TIMERS_PER_GAP: usize = 10_000;
/// Rounds of event/application/transmit work after one input.
const SERVICE_ROUNDS: usize = 64;

/// A segment the engine sent.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    /// Virtual time in microseconds.
    pub time_us: u64,
    /// The whole TCP segment.
    pub bytes: Vec<u8>,
    /// Source and destination addresses.
    pub src: std::net::IpAddr,
    pub dst: std::net::IpAddr,
}

/// What running a script produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub sent: Vec<Sent>,
    pub engine_isn: Option<u32>,
    pub states: Vec<State>,
    pub peer_segments: usize,
    pub dispositions: BTreeMap<String, usize>,
    pub notes: Vec<String>,
}

struct Runner {
    engine: Engine<'static>,
    now: Instant,
    listener: Option<ListenerHandle>,
    conn: Option<ConnHandle>,
    pending: Vec<u8>,
    fin: Option<FinKind>,
    fin_done: bool,
    tr: Translator,
    out: Outcome,
    buf: Vec<u8>,
    engine_rsts: usize,
    recorded_rsts: usize,
    other_conns: usize,
    max_sent: usize,
}

fn engine_config(script: &Script<'_>, options: &ReplayOptions) -> EngineConfig {
    let mut conn = ConnConfig {
        nagle: options.nagle,
        ..ConnConfig::default()
    };
    if let Some(o) = script.recorded_syn_options {
        // Offer what the recorded side offered, so that the comparison is fair.
        conn.mss = o.mss.unwrap_or(conn.mss).max(64);
        conn.window_scaling = o.window_scale.is_some();
        conn.timestamps = o.timestamps.is_some();
        conn.sack = o.sack_permitted;
    }
    EngineConfig {
        conn,
        rx_buffer: RX_BUFFER,
        tx_buffer: TX_BUFFER,
        // Captures often carry offloaded (wrong) checksums; ours are recomputed anyway.
        verify_checksums: false,
        ..EngineConfig::default()
    }
}

/// Runs the script and collects what the engine sent.
pub(crate) fn run(script: &Script<'_>, flow: &Flow, options: &ReplayOptions) -> Outcome {
    let config = engine_config(script, options);
    let limits = Limits {
        connections: 4,
        time_wait: 4,
        listeners: 2,
        events: 4096,
        replies: 256,
    };
    let storage = EngineStorage::owned(&limits, config.rx_buffer, config.tx_buffer);
    let engine = match Engine::new(config, storage) {
        Ok(e) => e,
        Err(e) => {
            return Outcome {
                notes: vec![format!("engine refused its storage: {e}")],
                ..Outcome::default()
            }
        }
    };
    let mut r = Runner {
        engine,
        now: Instant::ZERO,
        listener: None,
        conn: None,
        pending: Vec::new(),
        fin: None,
        fin_done: false,
        tr: Translator::new(script.recorded_isn),
        out: Outcome::default(),
        buf: vec![0; 70_000],
        engine_rsts: 0,
        recorded_rsts: 0,
        other_conns: 0,
        max_sent: options.max_steps.saturating_mul(4).max(64),
    };
    if options.role == Role::Server {
        match r.engine.listen(flow.server, 8) {
            Ok(l) => r.listener = Some(l),
            Err(e) => r
                .out
                .notes
                .push(format!("listen on {} failed: {e}", flow.server)),
        }
    }
    for ev in &script.events {
        r.advance(Instant::from_micros(ev.time_us));
        if ev.recorded {
            r.recorded(ev, flow, options.role);
        } else {
            let bytes = r.tr.rewrite(ev.seg, &ev.view);
            let d = r
                .engine
                .handle_segment(r.now, ev.seg.src, ev.seg.dst, &bytes);
            r.out.peer_segments += 1;
            *r.out.dispositions.entry(disposition_name(d)).or_default() += 1;
            r.service();
        }
    }
    let end = r.now + options.tail;
    r.advance(end);
    if r.other_conns > 0 {
        r.out.notes.push(format!(
            "{} other engine connection(s) were opened (a new SYN after the first connection)",
            r.other_conns
        ));
    }
    if r.out.sent.len() >= r.max_sent {
        r.out.notes.push(format!(
            "stopped recording engine segments at {}",
            r.max_sent
        ));
    }
    r.out.engine_isn = r.tr.engine_isn;
    r.out
}

/// A short name for a disposition: `accepted`, `reset`, `dropped:out_of_window`, ...
/// (the variant's name, so that variants added to the engine need no change here).
fn disposition_name(d: Disposition) -> String {
    if let Disposition::Dropped(r) = d {
        return format!("dropped:{}", r.name());
    }
    let debug = format!("{d:?}");
    let name = debug.split(['(', ' ', '{']).next().unwrap_or("");
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Runner {
    /// Fires every timer due up to `t`, then sets the clock to `t`.
    fn advance(&mut self, t: Instant) {
        for _ in 0..TIMERS_PER_GAP {
            match self.engine.poll_timeout() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.engine.handle_timeout(self.now);
                    self.service();
                }
                _ => break,
            }
        }
        self.now = self.now.max(t);
        self.engine.handle_timeout(self.now);
        self.service();
    }

    /// The application's part at a segment the recorded side sent.
    fn recorded(&mut self, ev: &super::script::Event<'_>, flow: &Flow, role: Role) {
        if let Ok(r) =
            TcpRepr::parse_bytes(&ev.seg.tcp, &ev.seg.src, &ev.seg.dst, ChecksumCheck::Skip)
        {
            if let Some((tsval, _)) = r.options.timestamps {
                self.tr.recorded_stamp(tsval, self.now.total_millis());
            }
        }
        if ev.app.connect && role == Role::Client {
            match self.engine.connect_from(self.now, flow.client, flow.server) {
                Ok(h) => self.conn = Some(h),
                Err(e) => self.out.notes.push(format!("connect failed: {e}")),
            }
        }
        self.pending.extend_from_slice(&ev.app.data);
        if ev.app.fin.is_some() {
            self.fin = ev.app.fin;
        }
        self.service();
        if ev.app.rst {
            self.recorded_rsts += 1;
            if self.engine_rsts < self.recorded_rsts {
                // The recorded application aborted: the engine had no reason to reset.
                // A RST before the handshake completed is the stack's (or an
                // injected one), not the application's: only a synchronized
                // connection is aborted.
                if let Some(c) = self.conn {
                    if self.engine.state(c).is_ok_and(State::is_synchronized) {
                        let _ = self.engine.abort(c);
                    }
                }
                self.service();
            }
        }
    }

    /// Events, accepts, application calls and transmissions until nothing moves.
    fn service(&mut self) {
        for _ in 0..SERVICE_ROUNDS {
            let mut moved = false;
            while let Some((h, ev)) = self.engine.poll_event() {
                moved = true;
                self.on_event(h, ev);
            }
            if let Some(l) = self.listener {
                while let Ok(h) = self.engine.accept(l) {
                    moved = true;
                    if self.conn.is_none() {
                        self.conn = Some(h);
                    }
                }
            }
            moved |= self.app();
            while self.out.sent.len() < self.max_sent {
                let Some(t) = self.engine.poll_transmit(self.now, &mut self.buf) else {
                    break;
                };
                moved = true;
                let bytes = self.buf.get(..t.len).unwrap_or(&[]).to_vec();
                self.note_sent(&bytes, t.src, t.dst);
                self.out.sent.push(Sent {
                    time_us: self.now.total_micros(),
                    bytes,
                    src: t.src,
                    dst: t.dst,
                });
            }
            if !moved {
                break;
            }
        }
    }

    fn note_sent(&mut self, bytes: &[u8], src: std::net::IpAddr, dst: std::net::IpAddr) {
        let Ok(r) = TcpRepr::parse_bytes(bytes, &src, &dst, ChecksumCheck::Skip) else {
            return;
        };
        if r.flags.contains(TcpFlags::SYN) && self.tr.engine_isn.is_none() {
            self.tr.engine_isn = Some(r.seq_number.0);
        }
        if r.flags.contains(TcpFlags::RST) {
            self.engine_rsts += 1;
        }
        if let Some((tsval, _)) = r.options.timestamps {
            self.tr.engine_stamp(tsval, self.now.total_millis());
        }
    }

    fn on_event(&mut self, h: ConnHandle, ev: ConnEvent) {
        if self.conn.is_none() {
            self.conn = Some(h);
        }
        if self.conn != Some(h) {
            if matches!(
                ev,
                ConnEvent::StateChanged {
                    from: State::Listen,
                    ..
                }
            ) {
                self.other_conns += 1;
            }
            return;
        }
        if let ConnEvent::StateChanged { from, to } = ev {
            if self.out.states.is_empty() {
                self.out.states.push(from);
            }
            self.out.states.push(to);
        }
    }

    /// Reads what arrived, hands over pending data, ends the stream when due.
    fn app(&mut self) -> bool {
        let Some(c) = self.conn else { return false };
        let mut moved = false;
        while let Ok(n) = self.engine.recv_with(c, |a, b| a.len() + b.len()) {
            if n == 0 {
                break;
            }
            moved = true;
        }
        if !self.pending.is_empty() {
            if let Ok(n) = self.engine.send(c, &self.pending) {
                if n > 0 {
                    self.pending.drain(..n.min(self.pending.len()));
                    moved = true;
                }
            }
        }
        if let (Some(kind), false, true) = (self.fin, self.fin_done, self.pending.is_empty()) {
            self.fin_done = true;
            moved = true;
            let _ = match kind {
                FinKind::Shutdown => self.engine.shutdown(c),
                FinKind::Close => self.engine.close(c),
            };
        }
        moved
    }
}
