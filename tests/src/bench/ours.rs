//! Our engine on both hosts: two [`Engine`]s whose TCP segments travel in IPv4 datagrams
//! (built and checked by [`super::ipv4`], so both stacks carry the same headers)

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use tcp_engine::conn::{Algorithm, RecvError, State};
use tcp_engine::engine::{ConnHandle, Engine, EngineConfig, EngineStorage, Limits, ListenerHandle};
use tcp_engine::time::Instant;

use super::ipv4;
use super::link::{Link, Side};
use super::net::{Net, Recovery, Recv};
use super::{BUFFER, CLIENT_IP, SERVER_IP, SERVER_PORT};

/// How to build the two engines
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OursConfig {
    /// Congestion control of every connection
    pub congestion: Algorithm,
    /// Connection slots per engine
    pub connections: usize,
    /// TIME-WAIT entries per engine
    pub time_wait: usize,
}

impl Default for OursConfig {
    fn default() -> Self {
        Self {
            congestion: Algorithm::NewReno,
            connections: 8,
            time_wait: 16,
        }
    }
}

/// Two of our engines over the link
#[derive(Debug)]
pub struct Ours {
    hosts: [Engine<'static>; 2],
    ips: [Ipv4Addr; 2],
    listener: Option<ListenerHandle>,
    ip_id: u16,
}

fn engine(cfg: &OursConfig, seed: u8) -> Engine<'static> {
    let mut config = EngineConfig {
        rx_buffer: BUFFER,
        tx_buffer: BUFFER,
        secret: [seed; 16],
        verify_checksums: true,
        ..EngineConfig::default()
    };
    config.conn.congestion = cfg.congestion;
    let limits = Limits {
        connections: cfg.connections,
        time_wait: cfg.time_wait,
        listeners: 1,
        events: 4096,
        replies: 256,
    };
    let storage = EngineStorage::owned(&limits, BUFFER, BUFFER);
    Engine::new(config, storage).expect("engine storage")
}

impl Ours {
    /// Two fresh engines
    pub fn new(cfg: OursConfig) -> Self {
        Self {
            hosts: [engine(&cfg, 1), engine(&cfg, 2)],
            ips: [CLIENT_IP, SERVER_IP],
            listener: None,
            ip_id: 0,
        }
    }

    /// The engine of one host
    pub fn engine(&self, side: Side) -> &Engine<'static> {
        &self.hosts[side.index()]
    }

    fn ingress_host(&mut self, side: Side, now: u64, link: &mut Link) -> bool {
        let t = Instant::from_micros(now);
        let engine = &mut self.hosts[side.index()];
        let (rx, _) = link.ends(side);
        let mut moved = false;
        while let Some(p) = rx.pop_due(now) {
            if let Some((src, dst, seg)) = ipv4::parse(&p.buf[..p.len]) {
                let _ = engine.handle_segment(t, IpAddr::V4(src), IpAddr::V4(dst), seg);
            }
            rx.recycle(p.buf);
            moved = true;
        }
        if engine.poll_timeout().is_some_and(|d| d <= t) {
            engine.handle_timeout(t);
        }
        while engine.poll_event().is_some() {}
        moved
    }

    fn egress_host(&mut self, side: Side, now: u64, link: &mut Link) -> bool {
        let t = Instant::from_micros(now);
        let engine = &mut self.hosts[side.index()];
        let (_, tx) = link.ends(side);
        let mut moved = false;
        while engine.poll_event().is_some() {}
        loop {
            let mut buf = tx.buffer();
            let Some(out) = engine.poll_transmit(t, &mut buf[ipv4::HEADER..]) else {
                tx.recycle(buf);
                break;
            };
            let (IpAddr::V4(src), IpAddr::V4(dst)) = (out.src, out.dst) else {
                unreachable!("IPv4 only");
            };
            self.ip_id = self.ip_id.wrapping_add(1);
            ipv4::write_header(&mut buf[..], src, dst, out.len, self.ip_id);
            tx.push(now, buf, ipv4::HEADER + out.len);
            moved = true;
        }
        moved
    }
}

impl Net for Ours {
    type Conn = ConnHandle;

    fn name(&self) -> &'static str {
        "ours"
    }

    fn ingress(&mut self, now: u64, link: &mut Link) -> bool {
        let a = self.ingress_host(Side::Client, now, link);
        let b = self.ingress_host(Side::Server, now, link);
        a | b
    }

    fn egress(&mut self, now: u64, link: &mut Link) -> bool {
        let a = self.egress_host(Side::Client, now, link);
        let b = self.egress_host(Side::Server, now, link);
        a | b
    }

    fn next_timer(&mut self, _now: u64) -> Option<u64> {
        let a = self.hosts[0].poll_timeout();
        let b = self.hosts[1].poll_timeout();
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(Instant::total_micros)
    }

    fn listen(&mut self, backlog: usize) {
        let local = SocketAddr::new(IpAddr::V4(self.ips[1]), SERVER_PORT);
        let backlog = backlog.min(usize::from(u16::MAX)) as u16;
        self.listener = Some(self.hosts[1].listen(local, backlog).expect("listen"));
    }

    fn reserve(&mut self, _n: usize) {}

    fn connect(&mut self, now: u64) -> ConnHandle {
        let remote = SocketAddr::new(IpAddr::V4(self.ips[1]), SERVER_PORT);
        self.hosts[0]
            .connect(Instant::from_micros(now), IpAddr::V4(self.ips[0]), remote)
            .expect("connect")
    }

    fn accept(&mut self) -> Option<ConnHandle> {
        self.hosts[1].accept(self.listener?).ok()
    }

    fn is_established(&self, side: Side, c: ConnHandle) -> bool {
        self.hosts[side.index()].state(c) == Ok(State::Established)
    }

    fn send(&mut self, side: Side, c: ConnHandle, data: &[u8]) -> usize {
        self.hosts[side.index()].send(c, data).unwrap_or(0)
    }

    fn recv(&mut self, side: Side, c: ConnHandle, f: &mut dyn FnMut(&[u8])) -> Recv {
        let r = self.hosts[side.index()].recv_with(c, |a, b| {
            f(a);
            f(b);
            a.len() + b.len()
        });
        match r {
            Ok(0) => Recv::Eof,
            Ok(n) => Recv::Data(n),
            Err(RecvError::WouldBlock) => Recv::Empty,
            Err(_) => Recv::Eof,
        }
    }

    fn close(&mut self, side: Side, c: ConnHandle) {
        let _ = self.hosts[side.index()].close(c);
    }

    fn is_finished(&self, side: Side, c: ConnHandle) -> bool {
        // A released connection leaves the table once closed or shrunk to TIME-WAIT.
        matches!(
            self.hosts[side.index()].state(c),
            Err(_) | Ok(State::Closed | State::TimeWait)
        )
    }

    fn release(&mut self, _side: Side, _c: ConnHandle) {}

    fn recovery(&self, side: Side, c: ConnHandle) -> Option<Recovery> {
        let s = self.hosts[side.index()].conn_stats(c).ok()?;
        Some(Recovery {
            timeouts: s.timeouts,
            fast_retransmits: s.fast_retransmits,
            retransmissions: s.retransmissions,
        })
    }
}
