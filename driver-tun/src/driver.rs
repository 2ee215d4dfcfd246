//! The poll loop: the device, the engine, the path between them and the real clock
//!
//! One [`Driver::turn`] sends what the engine has queued, sleeps in poll(2) until the device
//! is readable, an extra descriptor is, the engine's `poll_timeout` or the model's next
//! arrival comes (whichever is first, capped by the caller's wait), then feeds every packet
//! read, delivers what the model lets through, fires the engine's timers and sends again.

use std::fs::File;
use std::io::{self, BufWriter};
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use driver_pcap_replay::PcapWriter;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use tcp_engine::conn::{Event, FourTuple};
use tcp_engine::engine::{ConnHandle, Engine, EngineStorage};
use tcp_engine::time::Instant;

use crate::config::StackConfig;
use crate::ip::{self, Reject, HEADROOM};
use crate::netlink::Netlink;
use crate::path::{Direction, Path};
use crate::tun::TunDevice;

/// Packets read from the device per turn before the engine gets to send
const READ_BATCH: usize = 64;

/// Counters of the driver (the engine counts its own drops in `Engine::stats`)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// IP packets read from the device
    pub packets_read: u64,
    /// IP packets written to the device
    pub packets_written: u64,
    /// TCP segments handed to the engine
    pub segments_in: u64,
    /// Dropped: neither IPv4 nor IPv6
    pub bad_version: u64,
    /// Dropped: header or length fields that do not fit the packet
    pub malformed: u64,
    /// Dropped: wrong IPv4 header checksum
    pub bad_header_checksum: u64,
    /// Dropped: IP fragments
    pub fragments: u64,
    /// Dropped: not TCP (ICMP, UDP, the kernel's IPv6 chatter...)
    pub not_tcp: u64,
    /// Dropped: TCP to an address that is not the engine's
    pub not_ours: u64,
    /// Packets the device refused to take
    pub write_errors: u64,
}

impl DriverStats {
    /// Every packet read and not given to the engine
    pub fn dropped(&self) -> u64 {
        self.bad_version
            + self.malformed
            + self.bad_header_checksum
            + self.fragments
            + self.not_tcp
            + self.not_ours
    }

    fn count(&mut self, r: Reject) {
        let c = match r {
            Reject::BadVersion => &mut self.bad_version,
            Reject::Malformed => &mut self.malformed,
            Reject::BadHeaderChecksum => &mut self.bad_header_checksum,
            Reject::Fragment => &mut self.fragments,
            Reject::NotTcp => &mut self.not_tcp,
        };
        *c += 1;
    }
}

/// One engine event with the connection's addresses, for logs
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnEvent {
    /// The connection
    pub handle: ConnHandle,
    /// Its addresses, when the engine still knows them
    pub tuple: Option<FourTuple>,
    /// What happened
    pub event: Event,
}

/// A callback for every engine event; it must not call back into the stack
pub type EventHook = Box<dyn FnMut(&ConnEvent)>;

/// The device, the engine and the path between them
pub struct Driver {
    tun: TunDevice,
    engine: Engine<'static>,
    path: Path,
    config: StackConfig,
    start: std::time::Instant,
    pcap: Option<PcapWriter<BufWriter<File>>>,
    hook: Option<EventHook>,
    tuples: std::collections::HashMap<ConnHandle, FourTuple>,
    stats: DriverStats,
    /// Transmit buffer: the engine writes at `HEADROOM`, the IP header goes before it
    buf: Vec<u8>,
    /// Receive buffer for one packet from the device
    rx: Vec<u8>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("device", &self.tun.name())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn config_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

impl Driver {
    /// Create and configure the device in the calling thread's network namespace, and the
    /// engine with an ISN secret from the OS random source
    pub fn new(mut config: StackConfig) -> io::Result<Self> {
        let mut secret = [0u8; 16];
        getrandom::fill(&mut secret).map_err(|e| io::Error::other(e.to_string()))?;
        config.engine.secret = secret;
        // The largest segment that fits the device's MTU under an IPv4 header; over IPv6 the
        // kernel's own MTU keeps its segments 20 bytes smaller.
        config.engine.conn.mss = config.mtu.saturating_sub(40).max(536);
        let path = Path::new(config.impairment.as_ref()).map_err(config_error)?;
        let storage = EngineStorage::owned(
            &config.limits,
            config.engine.rx_buffer,
            config.engine.tx_buffer,
        );
        let engine = Engine::new(config.engine, storage).map_err(config_error)?;
        let pcap = match &config.pcap {
            None => None,
            Some(p) => {
                let f = File::create(p).map_err(|e| {
                    io::Error::new(e.kind(), format!("pcap file {}: {e}", p.display()))
                })?;
                Some(PcapWriter::new(BufWriter::new(f))?)
            }
        };
        let tun = TunDevice::create(&config.device)?;
        configure(&tun, &config)?;
        Ok(Self {
            tun,
            engine,
            path,
            config,
            start: std::time::Instant::now(),
            pcap,
            hook: None,
            tuples: Default::default(),
            stats: DriverStats::default(),
            buf: vec![0; HEADROOM + 65_536],
            rx: vec![0; 65_536],
        })
    }

    /// The settings the stack runs with (the secret is the random one)
    pub fn config(&self) -> &StackConfig {
        &self.config
    }

    /// The device's name
    pub fn device(&self) -> &str {
        self.tun.name()
    }

    /// The engine, for application calls
    pub fn engine(&mut self) -> &mut Engine<'static> {
        &mut self.engine
    }

    /// The engine, read-only
    pub fn engine_ref(&self) -> &Engine<'static> {
        &self.engine
    }

    /// The driver's counters
    pub fn stats(&self) -> DriverStats {
        self.stats
    }

    /// The impairment model's counters, when there is one
    pub fn path_stats(&self) -> Option<&driver_sim::NetStats> {
        self.path.stats()
    }

    /// Call `hook` for every engine event from now on
    pub fn set_event_hook(&mut self, hook: Option<EventHook>) {
        self.hook = hook;
    }

    /// The engine's clock: microseconds since the driver started
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.now_us())
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Send everything the engine has queued and report its events
    pub fn flush(&mut self) {
        self.drain_events();
        loop {
            let now = self.now();
            let Some(t) = self.engine.poll_transmit(now, &mut self.buf[HEADROOM..]) else {
                break;
            };
            let Some(start) = ip::encapsulate(&mut self.buf, t.src, t.dst, t.len) else {
                continue;
            };
            let packet = self.buf[start..HEADROOM + t.len].to_vec();
            self.capture(&packet);
            let now_us = now.total_micros();
            if let Some(p) = self.path.send(now_us, Direction::ToKernel, packet) {
                self.write(&p);
            }
        }
        self.drain_events();
    }

    fn drain_events(&mut self) {
        while let Some((handle, event)) = self.engine.poll_event() {
            let tuple = match self.engine.tuple(handle) {
                Ok(t) => {
                    self.tuples.insert(handle, t);
                    Some(t)
                }
                Err(_) => self.tuples.get(&handle).copied(),
            };
            if matches!(event, Event::Closed(_)) {
                self.tuples.remove(&handle);
            }
            if let Some(hook) = self.hook.as_mut() {
                hook(&ConnEvent {
                    handle,
                    tuple,
                    event,
                });
            }
        }
    }

    fn write(&mut self, packet: &[u8]) {
        match self.tun.send(packet) {
            Ok(()) => self.stats.packets_written += 1,
            Err(_) => self.stats.write_errors += 1,
        }
    }

    fn capture(&mut self, packet: &[u8]) {
        if let Some(w) = self.pcap.as_mut() {
            let ts = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
            if w.write_packet(ts, packet).is_err() {
                // A full disk must not stop the stack: stop capturing.
                self.pcap = None;
            }
        }
    }

    /// Give one IP packet that reached the engine's side to the engine
    fn deliver(&mut self, packet: &[u8]) {
        let seg = match ip::parse(packet) {
            Ok(s) => s,
            Err(r) => return self.stats.count(r),
        };
        if !self.is_ours(seg.dst) {
            self.stats.not_ours += 1;
            return;
        }
        self.stats.segments_in += 1;
        let now = self.now();
        let (src, dst) = (seg.src, seg.dst);
        let _ = self.engine.handle_segment(now, src, dst, seg.tcp);
        self.capture(packet);
    }

    fn is_ours(&self, dst: IpAddr) -> bool {
        [self.config.v4, self.config.v6]
            .iter()
            .flatten()
            .any(|s| s.engine == dst)
    }

    /// One round of the loop (see the module docs); `wait` caps the sleep (`None`: until
    /// something happens). Returns which of `extra` became readable (or hung up).
    pub fn turn(&mut self, wait: Option<Duration>, extra: &[BorrowedFd<'_>]) -> io::Result<u64> {
        self.flush();
        let timeout = self.sleep_time(wait);
        let mut ready = 0u64;
        let tun_readable = {
            let mut fds = Vec::with_capacity(1 + extra.len());
            fds.push(PollFd::new(self.tun.as_fd(), PollFlags::POLLIN));
            fds.extend(extra.iter().map(|fd| PollFd::new(*fd, PollFlags::POLLIN)));
            match nix::poll::poll(&mut fds, timeout) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
            let hit = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
            for (i, f) in fds.iter().skip(1).enumerate().take(64) {
                if hit(f) {
                    ready |= 1 << i;
                }
            }
            hit(&fds[0])
        };
        if tun_readable {
            self.read_batch()?;
        }
        self.deliver_arrivals();
        let now = self.now();
        if self.engine.poll_timeout().is_some_and(|t| t <= now) {
            self.engine.handle_timeout(now);
        }
        self.flush();
        Ok(ready)
    }

    fn sleep_time(&self, wait: Option<Duration>) -> PollTimeout {
        let now = self.now_us();
        let engine = self.engine.poll_timeout().map(Instant::total_micros);
        let due = [engine, self.path.next_arrival()]
            .into_iter()
            .flatten()
            .min()
            .map(|t| Duration::from_micros(t.saturating_sub(now)));
        let sleep = match (due, wait) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match sleep {
            None => PollTimeout::NONE,
            // Round up: waking a little late is harmless, waking early spins.
            Some(d) => {
                let ms = d.as_micros().div_ceil(1000);
                PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
            }
        }
    }

    fn read_batch(&mut self) -> io::Result<()> {
        let mut packet = std::mem::take(&mut self.rx);
        let r = self.read_into(&mut packet);
        self.rx = packet;
        r
    }

    fn read_into(&mut self, packet: &mut [u8]) -> io::Result<()> {
        for _ in 0..READ_BATCH {
            let n = match self.tun.recv(packet) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.stats.packets_read += 1;
            let now_us = self.now_us();
            if self.path.is_modelled() {
                let _ = self
                    .path
                    .send(now_us, Direction::ToEngine, packet[..n].to_vec());
            } else {
                self.deliver(&packet[..n]);
            }
        }
        Ok(())
    }

    fn deliver_arrivals(&mut self) {
        let now_us = self.now_us();
        while let Some((dir, packet)) = self.path.poll(now_us) {
            match dir {
                Direction::ToEngine => self.deliver(&packet),
                Direction::ToKernel => self.write(&packet),
            }
        }
    }
}

/// Addresses, MTU, link up, and a host route to the engine when its address is outside the
/// kernel's prefix
fn configure(tun: &TunDevice, config: &StackConfig) -> io::Result<()> {
    let mut nl = Netlink::open()?;
    let index = Netlink::link_index(tun.name())?;
    let what =
        |step: &str, e: io::Error| io::Error::new(e.kind(), format!("{}: {step}: {e}", tun.name()));
    nl.set_link_up(index, Some(u32::from(config.mtu)))
        .map_err(|e| what("link up", e))?;
    for s in [config.v4, config.v6].into_iter().flatten() {
        nl.add_address(index, s.kernel, s.prefix)
            .map_err(|e| what(&format!("address {}/{}", s.kernel, s.prefix), e))?;
        if !s.contains(s.engine) {
            let host = if s.engine.is_ipv4() { 32 } else { 128 };
            nl.add_route(index, s.engine, host)
                .map_err(|e| what(&format!("route to {}", s.engine), e))?;
        }
    }
    Ok(())
}
