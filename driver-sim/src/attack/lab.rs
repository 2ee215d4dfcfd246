//! The attack bench: engines on a [`Network`], plus what the [`Sim`](crate::sim::Sim) does not
//! offer — segments injected straight into an engine (spoofed, from an off-path attacker) and
//! crafted peers that answer from outside the network.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use core::net::{IpAddr, Ipv4Addr};

use tcp_engine::engine::{Disposition, Engine, EngineConfig, EngineStorage, Limits};
use tcp_engine::time::Instant;

use crate::{HostId, LinkConfig, Network};

/// A peer outside the network, at its own address, that sees the segments sent to it and
/// answers with segments of its own.
pub trait Outside {
    /// A segment `seg` from `src` reached this peer at `now` (µs); returns the answers, each
    /// with the delay (µs) after which it reaches the sender.
    fn receive(&mut self, now: u64, src: IpAddr, seg: &[u8]) -> Vec<(u64, Vec<u8>)>;
}

/// A segment waiting to be handed to an engine.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Injection {
    at: u64,
    order: u64,
    host: usize,
    src: IpAddr,
    bytes: Vec<u8>,
}

/// Engines joined by a network, driven on a virtual clock by their owner (see the module
/// docs).
pub struct Lab {
    now: u64,
    net: Network,
    hosts: Vec<(IpAddr, Engine<'static>)>,
    outside: Vec<(IpAddr, Box<dyn Outside>)>,
    pending: BinaryHeap<Reverse<Injection>>,
    order: u64,
    buf: Vec<u8>,
    /// Segments sent to addresses nobody answers for (SYN-ACKs to spoofed sources, ...).
    pub unanswered: u64,
    /// Segments the engines sent, all hosts together.
    pub sent: u64,
}

impl core::fmt::Debug for Lab {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lab")
            .field("now", &self.now)
            .field("hosts", &self.hosts.len())
            .field("outside", &self.outside.len())
            .finish_non_exhaustive()
    }
}

impl Lab {
    /// An empty bench whose network (every link `link`) is seeded with `seed`.
    ///
    /// # Panics
    ///
    /// If `link` is invalid.
    #[must_use]
    pub fn new(seed: u64, link: LinkConfig) -> Self {
        let mut net = Network::new(seed);
        net.set_trace_enabled(false);
        #[allow(clippy::expect_used)]
        net.set_default_link(link).expect("a valid link");
        Self {
            now: 0,
            net,
            hosts: Vec::new(),
            outside: Vec::new(),
            pending: BinaryHeap::new(),
            order: 0,
            buf: vec![0; 65_536],
            unanswered: 0,
            sent: 0,
        }
    }

    /// Adds a host `10.0.0.n` with an engine of `config` over storage for `limits`; returns
    /// its index.
    ///
    /// # Panics
    ///
    /// If the engine refuses the storage (it cannot: it is sized for the configuration).
    pub fn add_host(&mut self, config: EngineConfig, limits: &Limits) -> usize {
        let n = self.hosts.len() + 1;
        let addr = IpAddr::V4(Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8));
        let storage = EngineStorage::owned(limits, config.rx_buffer, config.tx_buffer);
        #[allow(clippy::expect_used)]
        let engine = Engine::new(config, storage).expect("storage sized for its config");
        self.hosts.push((addr, engine));
        n - 1
    }

    /// Puts a crafted peer at `addr`, outside the network.
    pub fn add_outside(&mut self, addr: IpAddr, peer: Box<dyn Outside>) {
        self.outside.push((addr, peer));
    }

    /// The current time, µs.
    #[must_use]
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Host `i`'s address.
    #[must_use]
    pub fn addr(&self, i: usize) -> IpAddr {
        self.hosts[i].0
    }

    /// Host `i`'s engine.
    #[must_use]
    pub fn engine(&self, i: usize) -> &Engine<'static> {
        &self.hosts[i].1
    }

    /// Host `i`'s engine, for application calls.
    pub fn engine_mut(&mut self, i: usize) -> &mut Engine<'static> {
        &mut self.hosts[i].1
    }

    /// Hands `seg` from `src` to host `i` now, sends whatever it answers, and returns what
    /// the engine did with it.
    pub fn inject(&mut self, i: usize, src: IpAddr, seg: &[u8]) -> Disposition {
        let (dst, engine) = &mut self.hosts[i];
        let d = engine.handle_segment(Instant::from_micros(self.now), src, *dst, seg);
        self.transmit(i);
        d
    }

    /// Runs everything due up to `t` (µs): arrivals, timers, crafted peers' answers, each
    /// followed by `app(now, host, engine)` for every host and what the engines send. It
    /// starts with a step at the current time (so what application calls made since the last
    /// run is sent at once); the clock is left at `t`, where `app` runs once more.
    pub fn run_until(&mut self, t: u64, app: &mut dyn FnMut(u64, usize, &mut Engine<'static>)) {
        self.step(app);
        while let Some(next) = self.next_wakeup().filter(|&n| n <= t) {
            self.now = self.now.max(next);
            self.step(app);
        }
        self.now = self.now.max(t);
        self.step(app);
    }

    /// The earliest instant something is due.
    fn next_wakeup(&self) -> Option<u64> {
        let engines = self
            .hosts
            .iter()
            .filter_map(|(_, e)| e.poll_timeout().map(Instant::total_micros));
        let pending = self.pending.peek().map(|Reverse(p)| p.at);
        self.net
            .next_arrival()
            .into_iter()
            .chain(pending)
            .chain(engines)
            .min()
    }

    fn step(&mut self, app: &mut dyn FnMut(u64, usize, &mut Engine<'static>)) {
        let now = Instant::from_micros(self.now);
        while let Some(a) = self.net.poll_arrival(self.now) {
            let from = self.hosts.get(a.from.get() as usize).map(|h| h.0);
            if let (Some(src), Some((dst, e))) = (from, self.hosts.get_mut(a.to.get() as usize)) {
                e.handle_segment(now, src, *dst, &a.packet);
            }
        }
        while self
            .pending
            .peek()
            .is_some_and(|Reverse(p)| p.at <= self.now)
        {
            if let Some(Reverse(p)) = self.pending.pop() {
                let (dst, e) = &mut self.hosts[p.host];
                e.handle_segment(now, p.src, *dst, &p.bytes);
            }
        }
        for (_, e) in &mut self.hosts {
            if e.poll_timeout().is_some_and(|t| t <= now) {
                e.handle_timeout(now);
            }
        }
        for i in 0..self.hosts.len() {
            app(self.now, i, &mut self.hosts[i].1);
            self.transmit(i);
        }
    }

    /// Sends everything host `i` has to send.
    fn transmit(&mut self, i: usize) {
        let now = Instant::from_micros(self.now);
        while let Some(t) = self.hosts[i].1.poll_transmit(now, &mut self.buf) {
            let seg = &self.buf[..t.len];
            self.sent += 1;
            if let Some(to) = self.hosts.iter().position(|h| h.0 == t.dst) {
                let _ = self
                    .net
                    .send(self.now, HostId(i as u32), HostId(to as u32), seg.to_vec());
            } else if let Some((_, peer)) = self.outside.iter_mut().find(|(a, _)| *a == t.dst) {
                for (delay, bytes) in peer.receive(self.now, t.src, seg) {
                    self.order += 1;
                    self.pending.push(Reverse(Injection {
                        at: self.now + delay,
                        order: self.order,
                        host: i,
                        src: t.dst,
                        bytes,
                    }));
                }
            } else {
                self.unanswered += 1;
            }
        }
    }
}
