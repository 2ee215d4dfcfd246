//! SYN flood: spoofed SYNs from random addresses and ports, injected straight into a server
//! while legitimate clients on the network keep connecting (RFC 4987).

use core::mem::size_of;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use tcp_engine::conn::{CloseReason, Event, State};
use tcp_engine::engine::{
    ConnHandle, ConnSlot, DropReason, Engine, EngineConfig, Limits, TimeWaitEntry,
};
use tcp_engine::wire::TcpFlags;

use super::craft::{segment, syn_options, Dice};
use super::lab::Lab;
use crate::LinkConfig;

/// The server's port.
const PORT: u16 = 80;
/// Bytes of each legitimate request and response.
const MESSAGE: usize = 100;

/// How to run a SYN flood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynFlood {
    /// Spoofed SYNs.
    pub spoofed: u64,
    /// Spoofed SYNs per second of simulated time.
    pub rate: u64,
    /// Legitimate client hosts.
    pub clients: usize,
    /// Each client starts a connection this often (µs) while the flood lasts.
    pub interval_us: u64,
    /// SYN cookies on the server.
    pub cookies: bool,
    /// Seed of the attacker's dice and the network.
    pub seed: u64,
}

impl Default for SynFlood {
    fn default() -> Self {
        Self {
            spoofed: 1_000_000,
            rate: 10_000,
            clients: 4,
            interval_us: 500_000,
            cookies: true,
            seed: 1,
        }
    }
}

/// What a SYN flood did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynFloodReport {
    /// Spoofed SYNs injected.
    pub spoofed: u64,
    /// Simulated time the flood lasted, µs.
    pub flood_us: u64,
    /// Legitimate connections attempted.
    pub attempts: u64,
    /// Legitimate connections that exchanged a request and a response.
    pub succeeded: u64,
    /// Mean time from `connect` to ESTABLISHED of the successful ones, µs.
    pub mean_connect_us: u64,
    /// Most connections in the server's table at once (SYN queue included).
    pub connections_hwm: usize,
    /// Most TIME-WAIT entries at once.
    pub time_wait_hwm: usize,
    /// Bytes those held at the high-water mark: connections × (slot + buffers) plus
    /// TIME-WAIT entries × their size.
    pub memory_hwm: usize,
    /// Bytes of the server's connection and TIME-WAIT storage, fixed at start-up.
    pub memory_bound: usize,
    /// Bytes one connection holds: its slot plus its receive and send buffers.
    pub connection_bytes: usize,
    /// Bytes one TIME-WAIT entry holds.
    pub time_wait_bytes: usize,
    /// SYN-ACKs sent with a SYN cookie.
    pub cookies_sent: u64,
    /// Connections opened by a returning cookie.
    pub cookies_accepted: u64,
    /// SYNs dropped because the SYN queue was full (cookies off) or the table was.
    pub syns_dropped: u64,
}

impl SynFloodReport {
    /// The share of legitimate connections that succeeded, `0..=1`.
    #[must_use]
    pub fn success_share(&self) -> f64 {
        self.succeeded as f64 / self.attempts.max(1) as f64
    }
}

/// One legitimate connection, as its client sees it.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    handle: ConnHandle,
    started: u64,
    established: Option<u64>,
    received: usize,
    done: bool,
}

/// The applications: clients that connect, send a request and wait for the response; a server
/// that accepts, answers and closes.
#[derive(Debug, Default)]
struct Apps {
    server: Option<tcp_engine::engine::ListenerHandle>,
    served: Vec<(ConnHandle, usize)>,
    attempts: Vec<Vec<Attempt>>,
    next_start: Vec<u64>,
    succeeded: u64,
    connect_us: u64,
}

impl Apps {
    fn server(&mut self, e: &mut Engine<'static>) {
        while e.poll_event().is_some() {}
        if let Some(l) = self.server {
            while let Ok(h) = e.accept(l) {
                self.served.push((h, 0));
            }
        }
        let mut buf = [0u8; MESSAGE];
        self.served.retain_mut(|(h, got)| {
            while let Ok(n) = e.recv(*h, &mut buf) {
                if n == 0 {
                    break;
                }
                *got += n;
            }
            if *got >= MESSAGE {
                let _ = e.send(*h, &[0x5a; MESSAGE]);
                let _ = e.close(*h);
                return false;
            }
            !matches!(e.state(*h), Ok(State::Closed) | Err(_))
        });
    }

    fn client(&mut self, c: usize, now: u64, e: &mut Engine<'static>, me: IpAddr, to: SocketAddr) {
        let mut closed = Vec::new();
        while let Some((h, ev)) = e.poll_event() {
            if let Event::Closed(r) = ev {
                closed.push((h, r));
            }
        }
        let list = &mut self.attempts[c];
        for a in list.iter_mut().filter(|a| !a.done) {
            if a.established.is_none() && e.state(a.handle).is_ok_and(State::is_synchronized) {
                a.established = Some(now);
                let _ = e.send(a.handle, &[0xa5; MESSAGE]);
            }
            if a.established.is_none() {
                if closed.iter().any(|(h, _)| *h == a.handle) {
                    a.done = true; // refused or timed out while connecting
                    let _ = e.abort(a.handle);
                }
                continue;
            }
            let mut buf = [0u8; MESSAGE];
            while let Ok(n) = e.recv(a.handle, &mut buf) {
                if n == 0 {
                    break;
                }
                a.received += n;
            }
            if a.received >= MESSAGE {
                a.done = true;
                self.succeeded += 1;
                self.connect_us += a.established.unwrap_or(now) - a.started;
                let _ = e.close(a.handle);
            } else if closed
                .iter()
                .any(|(h, r)| *h == a.handle && *r != CloseReason::Normal)
            {
                a.done = true;
                let _ = e.abort(a.handle);
            }
        }
        if now >= self.next_start[c] && self.next_start[c] != u64::MAX {
            if let Ok(handle) = e.connect(tcp_engine::time::Instant::from_micros(now), me, to) {
                list.push(Attempt {
                    handle,
                    started: now,
                    established: None,
                    received: 0,
                    done: false,
                });
            }
        }
    }
}

/// Runs a SYN flood as `cfg` says.
///
/// # Panics
///
/// If the server cannot listen (it can: it is a fresh engine).
#[must_use]
pub fn syn_flood(cfg: &SynFlood) -> SynFloodReport {
    let link = LinkConfig {
        delay_us: 10_000,
        ..LinkConfig::default()
    };
    let mut lab = Lab::new(cfg.seed, link);
    let server_cfg = EngineConfig {
        syn_cookies: cfg.cookies,
        ..EngineConfig::default()
    };
    let server_limits = Limits {
        connections: 256,
        time_wait: 512,
        listeners: 1,
        events: 8192,
        replies: 256,
    };
    let server = lab.add_host(server_cfg, &server_limits);
    let mut client_cfg = EngineConfig::default();
    // A user who gives up after 15 s (SYNs at 0, 1, 3 and 7 s).
    client_cfg.conn.syn_retries = 3;
    let client_limits = Limits {
        connections: 64,
        time_wait: 128,
        ..Limits::default()
    };
    for _ in 0..cfg.clients {
        lab.add_host(client_cfg, &client_limits);
    }
    let to = SocketAddr::new(lab.addr(server), PORT);
    #[allow(clippy::expect_used)]
    let listener = lab
        .engine_mut(server)
        .listen(to, 64)
        .expect("a fresh engine listens");
    let addrs: Vec<IpAddr> = (0..=cfg.clients).map(|i| lab.addr(i)).collect();
    let flood_us = cfg.spoofed * 1_000_000 / cfg.rate.max(1);
    let mut apps = Apps {
        server: Some(listener),
        attempts: vec![Vec::new(); cfg.clients + 1],
        next_start: (0..=cfg.clients)
            .map(|c| c as u64 * cfg.interval_us / cfg.clients.max(1) as u64)
            .collect(),
        ..Apps::default()
    };
    let interval = cfg.interval_us.max(1);
    let mut app = |now: u64, i: usize, e: &mut Engine<'static>| {
        if i == server {
            apps.server(e);
        } else {
            apps.client(i, now, e, addrs[i], to);
            if now >= apps.next_start[i] {
                apps.next_start[i] = if now + interval < flood_us {
                    apps.next_start[i] + interval
                } else {
                    u64::MAX
                };
            }
        }
    };
    let per_conn = size_of::<ConnSlot>() + server_cfg.rx_buffer + server_cfg.tx_buffer;
    let mut report = SynFloodReport {
        spoofed: cfg.spoofed,
        flood_us,
        memory_bound: server_limits.connections * per_conn
            + server_limits.time_wait * size_of::<TimeWaitEntry>(),
        connection_bytes: per_conn,
        time_wait_bytes: size_of::<TimeWaitEntry>(),
        ..SynFloodReport::default()
    };
    let mut dice = Dice::new(cfg.seed);
    for i in 0..cfg.spoofed {
        lab.run_until(i * 1_000_000 / cfg.rate.max(1), &mut app);
        let w = dice.word();
        let src_ip = Ipv4Addr::from(0xC612_0000 | (w as u32 & 0x1_ffff)); // 198.18.0.0/15
        let src = SocketAddr::new(IpAddr::V4(src_ip), 1024 + ((w >> 32) % 64_512) as u16);
        let syn = segment(
            src,
            to,
            TcpFlags::SYN,
            (dice.u32(), 0),
            64_240,
            syn_options(dice.u32()),
            &[],
        );
        let _ = lab.inject(server, src.ip(), &syn);
        let e = lab.engine(server);
        let (c, tw) = (e.connection_count(), e.time_wait_count());
        report.connections_hwm = report.connections_hwm.max(c);
        report.time_wait_hwm = report.time_wait_hwm.max(tw);
        report.memory_hwm = report
            .memory_hwm
            .max(c * per_conn + tw * size_of::<TimeWaitEntry>());
    }
    // Let every attempt finish: the clients give up within 15 s.
    lab.run_until(flood_us + 20_000_000, &mut app);
    let stats = lab.engine(server).stats();
    report.attempts = apps.attempts.iter().map(|a| a.len() as u64).sum();
    report.succeeded = apps.succeeded;
    report.mean_connect_us = apps.connect_us / apps.succeeded.max(1);
    report.cookies_sent = stats.syn_cookies_sent;
    report.cookies_accepted = stats.syn_cookies_accepted;
    report.syns_dropped =
        stats.dropped(DropReason::ListenQueueFull) + stats.dropped(DropReason::TableFull);
    report
}
