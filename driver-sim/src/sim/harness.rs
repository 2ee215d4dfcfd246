//! The simulation: engines on hosts, joined by the [`Network`], driven from one virtual clock.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use driver_pcap_replay::ip_packet;
use tcp_engine::conn::{Event, State};
use tcp_engine::engine::{Disposition, DropReason, Engine, EngineConfig, EngineStorage, Limits};
use tcp_engine::time::Instant;
use tcp_engine::wire::{ChecksumCheck, TcpRepr};

use super::app::App;
use super::data::payload;
use super::drop_rule::DropRule;
use super::flow::FlowTracker;
use super::ip::tcp_payload;
use super::script::AppScript;
use super::summary::{host_summary, RunEnd, Summary};
use super::trace::{primary_fate, DropCause, SegmentRecord, StateRecord, TraceEvent};
use crate::{Arrival, Fate, HostId, Network};

/// Default [`Sim::set_deadline`]: one hour of simulated time.
pub const DEFAULT_DEADLINE_US: u64 = 3_600_000_000;

/// Steps at one instant after which the run is declared [`RunEnd::Stalled`].
const MAX_STEPS_AT_ONE_INSTANT: u32 = 10_000;

/// One simulated host: an address, an engine and an application.
#[derive(Debug)]
struct Node {
    addr: IpAddr,
    engine: Engine<'static>,
    app: App,
}

/// A whole simulation: hosts with engines and scripted applications, a [`Network`] between
/// them, a virtual clock and the trace.
///
/// The run loop always jumps the clock to the earliest of: a packet arrival, an engine
/// deadline, a scripted action. At each instant it delivers what arrives (IP header stripped),
/// fires due timers, lets the applications act, and sends everything the engines emit through
/// the [drop rules](DropRule) and the network, recording each segment and each state change.
///
/// ```
/// use driver_sim::sim::{AppScript, Sim, When};
/// use driver_sim::LinkConfig;
///
/// let mut sim = Sim::new(7);
/// sim.network_mut().set_default_link(LinkConfig { delay_us: 10_000, ..LinkConfig::default() })?;
/// let a = sim.add_host(AppScript::connect_to(1, 80).sending(5_000).close_when(When::Acked));
/// let b = sim.add_host(AppScript::listen_on(80).close_when(When::PeerClosed));
/// let summary = sim.run();
/// assert!(summary.intact());
/// assert_eq!(summary.bytes(a, b), 5_000);
/// assert_eq!(summary.host(a).unwrap().final_state.name(), "CLOSED"); // after TIME-WAIT
/// # Ok::<(), driver_sim::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Sim {
    seed: u64,
    now: u64,
    deadline_us: u64,
    ipv6: bool,
    net: Network,
    nodes: Vec<Node>,
    rules: Vec<DropRule>,
    flows: FlowTracker,
    trace: Vec<TraceEvent>,
    end: Option<RunEnd>,
    rule_drops: u64,
    ip_drops: u64,
    bad_checksums: u64,
}

/// The name of host number `index`: `A`, `B`, ... `Z`, then `H26`, `H27`, ...
#[must_use]
pub fn host_name(index: u32) -> String {
    match char::from_u32(u32::from(b'A') + index) {
        Some(c) if index < 26 => c.to_string(),
        _ => format!("H{index}"),
    }
}

impl Sim {
    /// An empty simulation whose network and data are seeded with `seed`; IPv4 addresses.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            now: 0,
            deadline_us: DEFAULT_DEADLINE_US,
            ipv6: false,
            net: Network::new(seed),
            nodes: Vec::new(),
            rules: Vec::new(),
            flows: FlowTracker::default(),
            trace: Vec::new(),
            end: None,
            rule_drops: 0,
            ip_drops: 0,
            bad_checksums: 0,
        }
    }

    /// Give hosts added from now on IPv6 addresses (`fd00::1`, `fd00::2`, ...) instead of
    /// IPv4 ones (`10.0.0.1`, `10.0.0.2`, ...).
    pub fn set_ipv6(&mut self, yes: bool) {
        self.ipv6 = yes;
    }

    /// Stop the run at this simulated time (µs) if it is not quiet before.
    pub fn set_deadline(&mut self, deadline_us: u64) {
        self.deadline_us = deadline_us;
    }

    /// The network, to configure links.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// The network.
    #[must_use]
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The engine settings hosts get from [`add_host`](Self::add_host): the engine's defaults
    /// with 64 KiB buffers. (Each host's ISN secret is derived from the seed.)
    #[must_use]
    pub fn default_engine_config() -> EngineConfig {
        EngineConfig::default()
    }

    /// Adds a host with [`default_engine_config`](Self::default_engine_config) running
    /// `script`; returns its index (0 for the first, named `A`).
    pub fn add_host(&mut self, script: AppScript) -> u32 {
        self.add_host_with(Self::default_engine_config(), script)
    }

    /// Adds a host with its own engine settings. Its `secret` is replaced by one derived from
    /// the seed and the host's index, so ISNs differ between hosts and seeds.
    ///
    /// # Panics
    ///
    /// If the engine refuses its own owned storage (it cannot: the storage is sized for the
    /// configuration).
    pub fn add_host_with(&mut self, mut config: EngineConfig, script: AppScript) -> u32 {
        let index = self.nodes.len() as u32;
        let n = index + 1;
        let addr = if self.ipv6 {
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n as u16))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8))
        };
        let mut secret = [0u8; 16];
        for (i, chunk) in secret.chunks_mut(8).enumerate() {
            let word = payload(self.seed ^ 0x005E_C2E7, index * 2 + i as u32, 8);
            chunk.copy_from_slice(&word);
        }
        config.secret = secret;
        let limits = Limits {
            connections: 16,
            time_wait: 16,
            listeners: 4,
            events: 4096,
            replies: 64,
        };
        let storage = EngineStorage::owned(&limits, config.rx_buffer, config.tx_buffer);
        #[allow(clippy::expect_used)]
        let engine = Engine::new(config, storage).expect("owned storage fits its own limits");
        let data = payload(self.seed, index, script.send_bytes);
        self.nodes.push(Node {
            addr,
            engine,
            app: App::new(script, data),
        });
        index
    }

    /// Adds a drop rule, checked for every segment before the network sees it.
    pub fn add_drop_rule(&mut self, rule: DropRule) {
        self.rules.push(rule);
    }

    /// The drop rules, with their match counts.
    #[must_use]
    pub fn drop_rules(&self) -> &[DropRule] {
        &self.rules
    }

    /// Host `index`'s address.
    #[must_use]
    pub fn addr(&self, index: u32) -> Option<IpAddr> {
        self.nodes.get(index as usize).map(|n| n.addr)
    }

    /// Host `index`'s engine.
    #[must_use]
    pub fn engine(&self, index: u32) -> Option<&Engine<'static>> {
        self.nodes.get(index as usize).map(|n| &n.engine)
    }

    /// How many hosts there are.
    #[must_use]
    pub fn host_count(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// The current simulated time, in µs.
    #[must_use]
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Everything recorded so far, in order.
    #[must_use]
    pub fn trace(&self) -> &[TraceEvent] {
        &self.trace
    }

    /// Segments that arrived with a bad TCP checksum (corrupted on the link) and that the
    /// engines dropped.
    #[must_use]
    pub fn bad_checksums(&self) -> u64 {
        self.bad_checksums
    }

    /// Runs until quiet or the deadline, and sums up.
    pub fn run(&mut self) -> Summary {
        self.run_until(self.deadline_us);
        self.summary()
    }

    /// Runs until nothing is left to do or the next thing to do is after `until_us`; returns
    /// how it stopped. The clock is left at the last instant something happened when quiet,
    /// at `until_us` when the deadline came first.
    pub fn run_until(&mut self, until_us: u64) -> RunEnd {
        let mut same_instant = 0u32;
        let end = loop {
            self.step();
            let Some(next) = self.next_wakeup() else {
                break RunEnd::Quiet;
            };
            if next > until_us {
                // Nothing happens before the next event: the clock may stand at the deadline.
                self.now = self.now.max(until_us);
                break RunEnd::Deadline;
            }
            if next <= self.now {
                same_instant += 1;
                if same_instant > MAX_STEPS_AT_ONE_INSTANT {
                    break RunEnd::Stalled;
                }
            } else {
                same_instant = 0;
                self.now = next;
            }
        };
        self.end = Some(end);
        end
    }

    /// The earliest instant something is due: an arrival, an engine deadline or a script.
    fn next_wakeup(&self) -> Option<u64> {
        let engines = self
            .nodes
            .iter()
            .filter_map(|n| n.engine.poll_timeout().map(Instant::total_micros));
        let apps = self.nodes.iter().filter_map(|n| n.app.next_time(self.now));
        self.net
            .next_arrival()
            .into_iter()
            .chain(engines)
            .chain(apps)
            .min()
    }

    /// Everything due at `self.now`.
    fn step(&mut self) {
        let now = self.now;
        self.open_listeners();
        while let Some(arrival) = self.net.poll_arrival(now) {
            self.deliver(arrival);
        }
        for i in 0..self.nodes.len() {
            let node = &mut self.nodes[i];
            if node
                .engine
                .poll_timeout()
                .is_some_and(|t| t.total_micros() <= now)
            {
                node.engine.handle_timeout(Instant::from_micros(now));
                self.drain_events(i);
            }
        }
        for _ in 0..MAX_STEPS_AT_ONE_INSTANT {
            let mut progress = false;
            for i in 0..self.nodes.len() {
                progress |= self.run_app(i);
                progress |= self.drain_events(i) > 0;
            }
            for i in 0..self.nodes.len() {
                progress |= self.transmit_all(i);
                progress |= self.drain_events(i) > 0;
                let node = &mut self.nodes[i];
                node.app.sample(&node.engine);
            }
            if !progress {
                break;
            }
        }
    }

    /// Opens the listeners that are not open yet: servers are up before any client acts.
    fn open_listeners(&mut self) {
        for i in 0..self.nodes.len() {
            let node = &mut self.nodes[i];
            if node.app.open_listener(&mut node.engine, node.addr) {
                self.trace.push(TraceEvent::State(StateRecord {
                    t_us: self.now,
                    host: i as u32,
                    conn: None,
                    from: State::Closed,
                    to: State::Listen,
                    reason: None,
                }));
            }
        }
    }

    fn run_app(&mut self, i: usize) -> bool {
        let addrs: Vec<IpAddr> = self.nodes.iter().map(|n| n.addr).collect();
        let node = &mut self.nodes[i];
        node.app.run(self.now, &mut node.engine, node.addr, &|h| {
            addrs.get(h as usize).copied()
        })
    }

    /// Records host `i`'s pending events; returns how many there were.
    fn drain_events(&mut self, i: usize) -> usize {
        let mut n = 0;
        let now = self.now;
        while let Some((h, event)) = self.nodes[i].engine.poll_event() {
            n += 1;
            let app = &mut self.nodes[i].app;
            match event {
                Event::StateChanged { from, to } => {
                    app.on_state(h, to);
                    self.trace.push(TraceEvent::State(StateRecord {
                        t_us: now,
                        host: i as u32,
                        conn: Some(h),
                        from,
                        to,
                        reason: None,
                    }));
                }
                Event::Closed(reason) => {
                    app.on_closed(h, reason);
                    let last = self.trace.iter_mut().rev().find_map(|e| match e {
                        TraceEvent::State(s) if s.host == i as u32 && s.conn == Some(h) => Some(s),
                        _ => None,
                    });
                    if let Some(s) = last.filter(|s| s.to == State::Closed) {
                        s.reason = Some(reason);
                    }
                }
                _ => {}
            }
        }
        n
    }

    /// A packet reaches its host: IP unwraps it, the engine takes the segment.
    fn deliver(&mut self, arrival: Arrival) {
        let Some(node) = self.nodes.get_mut(arrival.to.get() as usize) else {
            return;
        };
        let Some((src, dst, tcp)) = tcp_payload(&arrival.packet) else {
            self.ip_drops += 1;
            return;
        };
        let d = node
            .engine
            .handle_segment(Instant::from_micros(self.now), src, dst, tcp);
        if matches!(d, Disposition::Dropped(DropReason::BadChecksum)) {
            self.bad_checksums += 1;
        }
        self.drain_events(arrival.to.get() as usize);
        let node = &mut self.nodes[arrival.to.get() as usize];
        node.app.sample(&node.engine);
    }

    /// Sends everything host `i`'s engine has to send; returns whether there was anything.
    fn transmit_all(&mut self, i: usize) -> bool {
        let mut buf = vec![0u8; 65_536];
        let mut any = false;
        loop {
            let now = Instant::from_micros(self.now);
            let Some(t) = self.nodes[i].engine.poll_transmit(now, &mut buf) else {
                return any;
            };
            any = true;
            // State changes that writing the segment caused come before it in the trace.
            self.drain_events(i);
            self.send_segment(i, t.src, t.dst, &buf[..t.len]);
        }
    }

    /// Puts one segment on the link (or drops it by rule) and records it.
    fn send_segment(&mut self, i: usize, src: IpAddr, dst: IpAddr, seg: &[u8]) {
        let now = self.now;
        let to = self
            .nodes
            .iter()
            .position(|n| n.addr == dst)
            .map_or(u32::MAX, |p| p as u32);
        let packet = ip_packet(src, dst, seg);
        let Ok(r) = TcpRepr::parse_bytes(seg, &src, &dst, ChecksumCheck::Skip) else {
            // The engine only emits well-formed segments; if not, still carry the bytes.
            let _ = self.net.send(now, HostId(i as u32), HostId(to), packet);
            return;
        };
        let state = self.nodes[i].app.last_state;
        let mut by_rule = false;
        for rule in &mut self.rules {
            by_rule |= rule.check(i as u32, r.flags, r.payload.len(), state);
        }
        let (fate, cause, outcome) = if by_rule {
            self.rule_drops += 1;
            (Fate::Lost, Some(DropCause::Rule), None)
        } else {
            let out = self
                .net
                .send(now, HostId(i as u32), HostId(to), packet.clone());
            (primary_fate(&out), DropCause::of(out.fate), Some(out))
        };
        let (src_addr, dst_addr) = (
            SocketAddr::new(src, r.src_port),
            SocketAddr::new(dst, r.dst_port),
        );
        let seen = self.flows.observe(src_addr, dst_addr, &r);
        let ends = [(i as u32, src_addr), (to, dst_addr)];
        let record = SegmentRecord::new(now, ends, &r, seen, (fate, cause), outcome, packet);
        self.trace.push(TraceEvent::Segment(record));
    }

    /// The summary of the run so far.
    #[must_use]
    pub fn summary(&self) -> Summary {
        let addrs: Vec<IpAddr> = self.nodes.iter().map(|n| n.addr).collect();
        let hosts = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| host_summary(i as u32, &addrs, &n.app, &self.trace))
            .collect();
        Summary {
            hosts,
            duration_us: self.now,
            end: self.end.unwrap_or(RunEnd::Deadline),
            net: *self.net.stats(),
            rule_drops: self.rule_drops,
            ip_drops: self.ip_drops,
        }
    }
}
