//! The interpreter: one engine on a virtual clock driven by the script
//!
//! Before an event at time T the clock advances to T, firing every engine deadline on the
//! way in order; everything the engine emits is queued with its emission time. A `>` line
//! takes the oldest queued segment, advancing the clock through further deadlines (up to the
//! latest time the line allows) when none is queued. A blocking call is a pending call,
//! retried after every change, whose completion time is checked when it completes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tcp_engine::conn::CloseReason;
use tcp_engine::engine::{ConnHandle, Engine, EngineStorage, Limits, ListenerHandle};

use super::ast::{Action, Direction, Event, Script, SyscallSpec, Timing, When};
use super::profile::Settings;
use super::report::{Failure, RunOptions};

/// Default `--tolerance_usecs`
const DEFAULT_TOLERANCE_US: u64 = 4_000;
/// How far a `*` line may wait for its segment
const ANY_TIME_LIMIT_US: u64 = 600_000_000;

/// A segment the engine emitted, not yet matched
#[derive(Debug, Clone)]
pub(crate) struct Emitted {
    pub(crate) at: u64,
    pub(crate) bytes: Vec<u8>,
}

/// One connection as the script sees it: its ports and the two ISNs
#[derive(Debug, Clone, Default)]
pub(crate) struct Flow {
    pub(crate) local_port: u16,
    pub(crate) remote_port: u16,
    /// The engine's ISN, learned from its first SYN or SYN-ACK (0 until then)
    pub(crate) local_isn: Option<u32>,
    /// The peer's ISN as written in the script's SYN
    pub(crate) remote_isn: Option<u32>,
    pub(crate) handle: Option<ConnHandle>,
    /// Opened by `connect`
    pub(crate) active: bool,
    /// An inbound SYN has been seen on it
    pub(crate) saw_syn: bool,
    /// Script TS val → engine TS val, from matched outbound segments
    pub(crate) ts_map: Vec<(u32, u32)>,
    /// Timestamps were on the engine's SYN or SYN-ACK
    pub(crate) ts_on: bool,
    /// Bytes the application wrote / read so far (stream offsets of the data patterns)
    pub(crate) written: u64,
    pub(crate) read: u64,
}

/// What an engine connection told the application
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ConnInfo {
    /// Pending socket error (`SO_ERROR`), cleared when read
    pub(crate) error: Option<&'static str>,
    pub(crate) closed: Option<CloseReason>,
    pub(crate) established: bool,
}

/// A socket's kind
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sock {
    Fresh,
    Bound(u16),
    Listening(ListenerHandle, u16),
    Conn(ConnHandle, usize),
}

/// A file descriptor
#[derive(Debug, Clone)]
pub(crate) struct Socket {
    pub(crate) sock: Sock,
    pub(crate) nonblocking: bool,
    pub(crate) linger_zero: bool,
    pub(crate) shut_rd: bool,
    pub(crate) shut_wr: bool,
    pub(crate) nodelay: bool,
    /// `TCP_KEEPINIT`, applied when the socket connects
    pub(crate) keepinit: Option<std::time::Duration>,
}

/// A blocking call still waiting
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) line: usize,
    pub(crate) text: String,
    pub(crate) spec: SyscallSpec,
    pub(crate) fd: i32,
    /// Expected return time and its tolerance
    pub(crate) end: u64,
    pub(crate) tolerance: u64,
    /// Bytes still to write, for a blocking write
    pub(crate) remaining: usize,
}

/// The interpreter's state
pub(crate) struct Runner {
    pub(crate) settings: Settings,
    pub(crate) opts: RunOptions,
    pub(crate) engine: Option<Engine<'static>>,
    /// A setting line that changed the configuration after the engine started
    pub(crate) late_setting: Option<usize>,
    pub(crate) now: u64,
    pub(crate) queue: VecDeque<Emitted>,
    pub(crate) fds: BTreeMap<i32, Socket>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) current: Option<usize>,
    pub(crate) conns: HashMap<ConnHandle, ConnInfo>,
    pub(crate) pending: Option<Pending>,
    /// A failure found while something else ran (a blocking call returning wrongly)
    pub(crate) deferred: Option<Failure>,
    /// Actual time of the previous event, and scheduled time of the previous inbound packet
    pub(crate) last_actual: u64,
    pub(crate) last_inbound: Option<u64>,
    pub(crate) tolerance_us: u64,
    pub(crate) tolerance_percent: f64,
    pub(crate) strict_segments: bool,
    pub(crate) ts_tick_us: Option<u64>,
    pub(crate) non_fatal_syscalls: bool,
    pub(crate) local_ip: IpAddr,
    pub(crate) remote_ip: IpAddr,
    pub(crate) next_port: u16,
    pub(crate) notes: Vec<String>,
    pub(crate) trace: Vec<String>,
}

/// `Err` of most steps: the failure that ends the script
pub(crate) type Step<T = ()> = Result<T, Failure>;

pub(crate) fn fail<T>(ev: &Event, reason: impl Into<String>) -> Step<T> {
    Err(Failure::at(ev.line, &ev.text, reason))
}

/// Seconds with microseconds, for messages
pub(crate) fn secs(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

impl Runner {
    pub(crate) fn new(settings: Settings, opts: RunOptions) -> Self {
        Self {
            tolerance_percent: settings.tolerance_percent,
            settings,
            opts,
            engine: None,
            late_setting: None,
            now: 0,
            queue: VecDeque::new(),
            fds: BTreeMap::new(),
            flows: Vec::new(),
            current: None,
            conns: HashMap::new(),
            pending: None,
            deferred: None,
            last_actual: 0,
            last_inbound: None,
            tolerance_us: DEFAULT_TOLERANCE_US,
            strict_segments: false,
            ts_tick_us: None,
            non_fatal_syscalls: false,
            local_ip: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
            remote_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            next_port: 48_000,
            notes: Vec::new(),
            trace: Vec::new(),
        }
    }

    /// Run the whole script
    pub(crate) fn run(&mut self, script: &Script) -> Step {
        for opt in &script.options {
            self.option(opt.line, &opt.name, opt.value.as_deref())?;
        }
        let mut last_time = 0;
        for ev in &script.events {
            self.event(ev)?;
            self.take_deferred()?;
            last_time = self.now;
        }
        self.finish(last_time)
    }

    fn option(&mut self, line: usize, name: &str, value: Option<&str>) -> Step {
        let text = format!(
            "--{name}{}",
            value.map_or(String::new(), |v| format!("={v}"))
        );
        let bad = |why: &str| Err(Failure::at(line, &text, why));
        let num = |v: Option<&str>| v.and_then(|v| v.parse::<f64>().ok());
        match name {
            "tolerance_usecs" => match num(value) {
                Some(v) if v >= 0.0 => self.tolerance_us = v as u64,
                _ => return bad("expected a number of microseconds"),
            },
            "tolerance_percent" => match num(value) {
                Some(v) if v >= 0.0 => self.tolerance_percent = v,
                _ => return bad("expected a percentage"),
            },
            "ip_version" => match value {
                Some("ipv4") => {}
                Some("ipv6") => {
                    self.local_ip = IpAddr::V6(Ipv6Addr::new(0xfd3d, 0, 0, 0, 0, 0, 0, 1));
                    self.remote_ip = IpAddr::V6(Ipv6Addr::new(0xfd3d, 0, 0, 0, 0, 0, 0, 2));
                    self.settings.engine.conn.mss = 1440;
                }
                _ => return bad("only ipv4 and ipv6 are supported"),
            },
            "mtu" => match num(value) {
                Some(v) if (128.0..=65535.0).contains(&v) => {
                    let ip = if self.local_ip.is_ipv4() { 40 } else { 60 };
                    self.settings.engine.conn.mss = v as u16 - ip;
                }
                _ => return bad("expected an MTU of 128 to 65535"),
            },
            "tcp_ts_tick_usecs" => match num(value) {
                Some(v) if v > 0.0 => self.ts_tick_us = Some(v as u64),
                _ => return bad("expected a tick in microseconds"),
            },
            "strict_segments" => self.strict_segments = true,
            "non_fatal" => match value {
                Some(v) if v.split(',').all(|x| x == "syscall") => self.non_fatal_syscalls = true,
                _ => return bad("only --non_fatal=syscall is supported"),
            },
            // Addresses and packetdrill's own segment size do not change the engine.
            "local_ip" | "remote_ip" | "gateway_ip" | "netmask_ip" | "mss" | "bind_port"
            | "speed" | "wire_client" | "wire_server" | "verbose" => {}
            _ => return bad("unknown option"),
        }
        Ok(())
    }

    /// The time base of the next event: the previous event's actual time, or for two
    /// inbound packets in a row the previous one's scheduled time
    fn base(&self, ev: &Event) -> u64 {
        match (&ev.action, self.last_inbound) {
            (Action::Packet(p), Some(t)) if p.dir == Direction::Inbound => t,
            _ => self.last_actual,
        }
    }

    pub(crate) fn resolve(w: When, base: u64) -> u64 {
        match w {
            When::Abs(t) => t,
            When::Rel(d) => base + d,
        }
    }

    /// packetdrill's tolerance for something scheduled at `t`
    pub(crate) fn tolerance(&self, t: u64) -> u64 {
        let span = t.saturating_sub(self.last_actual) as f64;
        self.tolerance_us
            .max((span * self.tolerance_percent / 100.0) as u64)
    }

    fn event(&mut self, ev: &Event) -> Step {
        let base = self.base(ev);
        if self.opts.trace {
            self.trace
                .push(format!("{} line {}: {}", secs(self.now), ev.line, ev.text));
        }
        match &ev.action {
            Action::Packet(p) if p.dir == Direction::Outbound => {
                let (lo, hi) = match ev.timing {
                    Timing::At(w) => {
                        let t = Self::resolve(w, base);
                        let tol = self.tolerance(t);
                        (t.saturating_sub(tol), t + tol)
                    }
                    Timing::Range(a, b) => {
                        let (a, b) = (Self::resolve(a, base), Self::resolve(b, base));
                        (a.saturating_sub(self.tolerance(a)), b + self.tolerance(b))
                    }
                    Timing::Any => (0, self.now + ANY_TIME_LIMIT_US),
                    Timing::Blocking(..) => return fail(ev, "a packet cannot block"),
                };
                let at = self.outbound(ev, p, lo, hi)?;
                self.last_actual = at;
                self.last_inbound = None;
            }
            Action::Packet(p) => {
                let Timing::At(w) = ev.timing else {
                    return fail(
                        ev,
                        "an inbound packet needs one time (no `*`, `~` or `...`)",
                    );
                };
                let t = Self::resolve(w, base);
                self.advance_to(t, ev)?;
                self.inbound(ev, p)?;
                self.last_actual = self.now;
                self.last_inbound = Some(t);
            }
            Action::Syscall(call) => {
                let (start, end) = match ev.timing {
                    Timing::At(w) => (Self::resolve(w, base), None),
                    Timing::Any => (self.now, None),
                    Timing::Blocking(w, end) => {
                        let end = match w {
                            When::Abs(_) => end,
                            When::Rel(_) => base + end,
                        };
                        (Self::resolve(w, base), Some(end))
                    }
                    Timing::Range(..) => return fail(ev, "a system call needs one time"),
                };
                self.advance_to(start, ev)?;
                self.last_actual = self.now;
                self.last_inbound = None;
                self.syscall(ev, call, end)?;
            }
            Action::Shell(cmd) => {
                let t = self.point(ev, base)?;
                self.advance_to(t, ev)?;
                self.last_actual = self.now;
                self.last_inbound = None;
                self.shell(ev, cmd)?;
            }
            Action::Python(code) => {
                let t = self.point(ev, base)?;
                self.advance_to(t, ev)?;
                self.last_actual = self.now;
                self.last_inbound = None;
                self.python(ev, code)?;
            }
        }
        // Whatever the event made the engine want to send goes out now.
        self.settle();
        Ok(())
    }

    fn point(&self, ev: &Event, base: u64) -> Step<u64> {
        match ev.timing {
            Timing::At(w) => Ok(Self::resolve(w, base)),
            Timing::Any => Ok(self.now),
            _ => fail(ev, "this event needs one time"),
        }
    }

    fn take_deferred(&mut self) -> Step {
        match self.deferred.take() {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    /// After the last event: a blocking call must still return in time
    fn finish(&mut self, last_time: u64) -> Step {
        if let Some(p) = self.pending.clone() {
            let limit = p.end + p.tolerance;
            while self.pending.is_some() {
                match self.engine.as_ref().and_then(Engine::poll_timeout) {
                    Some(d) if d.total_micros() <= limit => {
                        let t = d.total_micros();
                        self.advance_raw(t);
                    }
                    _ => break,
                }
                self.take_deferred()?;
            }
            if self.pending.is_some() {
                return Err(Failure::at(
                    p.line,
                    &p.text,
                    format!(
                        "the call had not returned by {} (expected at {})",
                        secs(limit),
                        secs(p.end)
                    ),
                ));
            }
        }
        if self.opts.strict {
            if let Some(e) = self.queue.iter().find(|e| e.at <= last_time) {
                let what = self.describe_emitted(e);
                return Err(Failure::at(
                    0,
                    "",
                    format!(
                        "strict: the engine sent `{what}` at {} and no line expected it",
                        secs(e.at)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The engine, created at its first use with the settings made so far
    pub(crate) fn engine(&mut self, ev: &Event) -> Step<&mut Engine<'static>> {
        if self.engine.is_none() {
            // The MSS is final now (--mtu, --ip_version): FreeBSD's buffer rounding uses it.
            self.settings.apply_rx_rounding();
            if let Err((line, reason)) = self.settings.check() {
                return Err(Failure::at(line, "", reason));
            }
            let cfg = self.settings.engine;
            let limits = Limits {
                connections: 8,
                time_wait: 16,
                listeners: 4,
                events: 1024,
                replies: 64,
            };
            let storage = EngineStorage::owned(&limits, cfg.rx_buffer, cfg.tx_buffer);
            match Engine::new(cfg, storage) {
                Ok(e) => self.engine = Some(e),
                Err(e) => return fail(ev, format!("the engine refused its storage: {e}")),
            }
        }
        Ok(self.engine.as_mut().expect("created above"))
    }

    /// A new socket after a setting line changed the configuration of a running engine
    pub(crate) fn check_late_setting(&self, ev: &Event) -> Step {
        match (self.late_setting, &self.engine) {
            (Some(line), Some(e)) if *e.config() != self.settings.engine => fail(
                ev,
                format!(
                    "line {line} changed the engine configuration after the engine started; \
                     the interpreter runs one engine per script"
                ),
            ),
            _ => Ok(()),
        }
    }

    /// The lowest free file descriptor, from 3
    pub(crate) fn new_fd(&mut self, sock: Sock) -> i32 {
        let fd = (3..).find(|fd| !self.fds.contains_key(fd)).unwrap_or(3);
        self.fds.insert(
            fd,
            Socket {
                sock,
                nonblocking: false,
                linger_zero: false,
                shut_rd: false,
                shut_wr: false,
                nodelay: false,
                keepinit: None,
            },
        );
        fd
    }
}
