//! One chaos case: a random scenario derived from a seed — the link's faults, the engines'
//! settings and the two applications' scripts — and the simulation that runs it.

use core::fmt::Write as _;
use core::time::Duration;

use tcp_engine::conn::{Algorithm, KeepAlive};
use tcp_engine::engine::EngineConfig;

use crate::rng::SplitMix64;
use crate::sim::{AppScript, Read, Sim, When};
use crate::{HostId, LinkConfig};

/// The server's port (and the client's, in a simultaneous open: 5000 → 6000).
const PORT: u16 = 80;

/// Simulated time after which a case is declared stuck, in µs: four hours.
pub const CASE_DEADLINE_US: u64 = 4 * 3600 * 1_000_000;

/// How the two applications end their conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client half-closes once its data is acknowledged; each closes at the end of the
    /// other's stream.
    ClientFirst,
    /// The server half-closes first.
    ServerFirst,
    /// Both half-close as soon as their data is queued: the FINs may cross.
    Both,
    /// The client sends and half-closes; the server only starts sending after the client's
    /// FIN (data keeps flowing the other way in CLOSE-WAIT), then closes.
    HalfClose,
    /// Host `0` (client) or `1` (server) aborts once its data is acknowledged.
    AbortWhenAcked(u32),
    /// Host `0` or `1` aborts at this simulated time (µs), whatever is happening then.
    AbortAt(u32, u64),
}

impl Ending {
    /// The host that aborts, if any.
    #[must_use]
    pub fn aborter(self) -> Option<u32> {
        match self {
            Self::AbortWhenAcked(h) | Self::AbortAt(h, _) => Some(h),
            _ => None,
        }
    }
}

/// Everything a seed decides.
#[derive(Debug, Clone, PartialEq)]
pub struct ChaosCase {
    /// The seed (also the network's and the data's).
    pub seed: u64,
    /// IPv6 addresses instead of IPv4.
    pub ipv6: bool,
    /// The link from `A` to `B`, and back unless [`reverse`](Self::reverse) says otherwise.
    pub link: LinkConfig,
    /// The link from `B` to `A`, when it has faults of its own.
    pub reverse: Option<LinkConfig>,
    /// Bytes the client (`A`) and the server (`B`) send.
    pub bytes: [usize; 2],
    /// When the client connects, in µs.
    pub connect_at_us: u64,
    /// How the conversation ends.
    pub ending: Ending,
    /// Whether `B` listens (if not, `A`'s SYN is refused).
    pub listen: bool,
    /// Both connect to each other from fixed ports instead (simultaneous open).
    pub simultaneous_open: bool,
    /// Per host: read nothing before this time (µs), so the receive window fills up.
    pub read_from: [Option<u64>; 2],
    /// Per host: the engine's settings.
    pub engines: [EngineConfig; 2],
}

/// A small deterministic dice box over SplitMix64.
struct Dice(SplitMix64);

impl Dice {
    fn word(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// A value in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + crate::rng::up_to(self.word(), hi.saturating_sub(lo))
    }
    /// A float in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.word() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        crate::rng::chance(self.word(), p)
    }
    /// `0` with probability `1 - p`, otherwise a uniform value below `max`.
    fn maybe(&mut self, p: f64, max: f64) -> f64 {
        if self.chance(p) {
            self.unit() * max
        } else {
            0.0
        }
    }
    /// A byte count: zero sometimes, otherwise spread over orders of magnitude up to `max`.
    fn bytes(&mut self, max: u64) -> usize {
        if self.chance(0.15) {
            return 0;
        }
        let exp = self.unit() * (max as f64).log2();
        (exp.exp2() as u64).clamp(1, max) as usize
    }
}

impl ChaosCase {
    /// The case seed `seed` stands for. The same seed always gives the same case.
    #[must_use]
    pub fn from_seed(seed: u64) -> Self {
        let mut d = Dice(SplitMix64(seed ^ 0xC4A0_5C4A_05C4_A05C));
        let ipv6 = d.chance(0.5);
        let delay_us = d.range(500, 50_000);
        let reorder = d.maybe(0.4, 0.2);
        let long_partition = d.chance(0.05);
        let mut partitions = Vec::new();
        if long_partition {
            // Long enough for SYNs, keep-alives or retransmissions to give up.
            let start = d.range(0, 20_000_000);
            partitions.push((start, start + d.range(30_000_000, 400_000_000)));
        } else if d.chance(0.4) {
            let start = d.range(0, 5_000_000);
            partitions.push((start, start + d.range(50_000, 5_000_000)));
        }
        let mtu = if d.chance(0.2) {
            d.range(300, 1500) as usize
        } else {
            1500
        };
        let link = draw_link(&mut d, delay_us, reorder, mtu, partitions);
        let bytes = [d.bytes(1 << 20), d.bytes(1 << 20)];
        let connect_at_us = d.range(0, 2_000_000);
        let ending = match d.range(0, 9) {
            0 | 1 => Ending::ClientFirst,
            2 | 3 => Ending::ServerFirst,
            4 | 5 => Ending::Both,
            6 => Ending::HalfClose,
            7 => Ending::AbortWhenAcked(d.range(0, 1) as u32),
            _ => Ending::AbortAt(d.range(0, 1) as u32, connect_at_us + d.range(0, 3_000_000)),
        };
        let listen = !d.chance(0.04);
        let simultaneous_open = listen && d.chance(0.04);
        let read_from = [
            d.chance(0.15).then(|| d.range(0, 5_000_000)),
            d.chance(0.15).then(|| d.range(0, 5_000_000)),
        ];
        let header = if ipv6 { 60 } else { 40 };
        let mss = (mtu - header) as u16;
        // A long partition, or an abort whose RST is lost, can leave one side established
        // with nothing to send while the other is gone: keep-alive is what finds that out.
        let half_open = long_partition || ending.aborter().is_some();
        let engines = [
            engine(&mut d, mss, half_open),
            engine(&mut d, mss, half_open),
        ];
        // Sometimes the way back has faults of its own, or a one-way partition.
        let reverse = d.chance(0.25).then(|| {
            let partitions = if d.chance(0.5) {
                link.partitions.clone()
            } else if d.chance(0.5) {
                let start = d.range(0, 5_000_000);
                vec![(start, start + d.range(50_000, 5_000_000))]
            } else {
                Vec::new()
            };
            let (delay, reorder) = (d.range(500, 50_000), d.maybe(0.4, 0.2));
            draw_link(&mut d, delay, reorder, mtu, partitions)
        });
        Self {
            seed,
            ipv6,
            link,
            reverse,
            bytes,
            connect_at_us,
            ending,
            listen,
            simultaneous_open,
            read_from,
            engines,
        }
    }

    /// The two application scripts: `A` (the client) and `B` (the server).
    #[must_use]
    pub fn scripts(&self) -> [AppScript; 2] {
        let (mut a, mut b) = if self.simultaneous_open {
            (
                AppScript::connect_to(1, 6000).from_port(5000),
                AppScript::connect_to(0, 5000).from_port(6000),
            )
        } else if self.listen {
            (AppScript::connect_to(1, PORT), AppScript::listen_on(PORT))
        } else {
            (AppScript::connect_to(1, PORT), AppScript::idle())
        };
        a = a.at(self.connect_at_us).sending(self.bytes[0]);
        b = b.at(self.connect_at_us).sending(self.bytes[1]);
        // Whoever closes first half-closes, then closes at the end of the peer's stream:
        // closing outright while the peer still sends would rightly reset (SHLD-3).
        let first = |s: AppScript, w| s.shutdown_when(w).close_when(When::PeerClosed);
        let second = |s: AppScript| s.close_when(When::PeerClosed);
        let (a, b) = match self.ending {
            Ending::ClientFirst => (first(a, When::Acked), second(b)),
            Ending::ServerFirst => (second(a), first(b, When::Acked)),
            Ending::Both => (first(a, When::Queued), first(b, When::Queued)),
            Ending::HalfClose => (
                first(a, When::Queued),
                b.send_when(When::PeerClosed).close_when(When::PeerClosed),
            ),
            Ending::AbortWhenAcked(0) => (a.abort_when(When::Acked), second(b)),
            Ending::AbortWhenAcked(_) => (second(a), b.abort_when(When::Acked)),
            Ending::AbortAt(h, t) => {
                let abort = |s: AppScript| s.abort_when(When::At(t));
                if h == 0 {
                    (abort(first(a, When::Acked)), second(b))
                } else {
                    (second(a), abort(first(b, When::Acked)))
                }
            }
        };
        let read = |s: AppScript, from: Option<u64>| match from {
            Some(t) => s.reading(Read::From(t)),
            None => s,
        };
        [read(a, self.read_from[0]), read(b, self.read_from[1])]
    }

    /// The simulation of this case, ready to run.
    ///
    /// # Panics
    ///
    /// If the generated link is invalid (it cannot be: every value is drawn in range).
    #[must_use]
    pub fn build(&self) -> Sim {
        let mut sim = Sim::new(self.seed);
        sim.set_ipv6(self.ipv6);
        sim.set_deadline(CASE_DEADLINE_US);
        #[allow(clippy::expect_used)]
        sim.network_mut()
            .set_default_link(self.link.clone())
            .expect("chaos links are drawn in range");
        if let Some(back) = &self.reverse {
            #[allow(clippy::expect_used)]
            sim.network_mut()
                .set_link(HostId(1), HostId(0), back.clone())
                .expect("chaos links are drawn in range");
        }
        let [a, b] = self.scripts();
        sim.add_host_with(self.engines[0], a);
        sim.add_host_with(self.engines[1], b);
        sim
    }

    /// The MSL host `host` uses, in µs.
    #[must_use]
    pub fn msl_us(&self, host: u32) -> u64 {
        self.engines
            .get(host as usize)
            .map_or(0, |e| e.conn.msl.as_micros() as u64)
    }

    /// One paragraph saying what the case is.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut s = format!(
            "seed {}: {}, {}",
            self.seed,
            if self.ipv6 { "IPv6" } else { "IPv4" },
            link_text(&self.link)
        );
        if let Some(back) = &self.reverse {
            let _ = write!(s, "\n  way back (B → A): {}", link_text(back));
        }
        let _ = write!(
            s,
            "\n  A sends {} B, B sends {}; connect at {:.3} s; ending {:?}",
            self.bytes[0],
            self.bytes[1],
            self.connect_at_us as f64 / 1e6,
            self.ending
        );
        if !self.listen {
            s.push_str("; nothing listens");
        }
        if self.simultaneous_open {
            s.push_str("; simultaneous open");
        }
        for (h, r) in self.read_from.iter().enumerate() {
            if let Some(t) = r {
                let _ = write!(s, "; {} reads from {:.3} s", host(h), *t as f64 / 1e6);
            }
        }
        for (h, e) in self.engines.iter().enumerate() {
            let c = &e.conn;
            let _ = write!(
                s,
                "\n  {}: rx/tx {}/{} B, MSS {}, MSL {} s, ws {}, ts {}, sack {}, nagle {}, \
                 delayed ACK {}, {:?}, keep-alive {}, RFC 1337 guard {}",
                host(h),
                e.rx_buffer,
                e.tx_buffer,
                c.mss,
                c.msl.as_secs(),
                c.window_scaling,
                c.timestamps,
                c.sack,
                c.nagle,
                c.delayed_ack.is_some(),
                c.congestion,
                c.keep_alive.is_some(),
                c.time_wait_rst_guard
            );
        }
        s
    }
}

fn host(h: usize) -> &'static str {
    if h == 0 {
        "A"
    } else {
        "B"
    }
}

/// A host's engine settings: the defaults with random options, buffers, MSL and timers.
fn engine(d: &mut Dice, mss: u16, keep_alive: bool) -> EngineConfig {
    let mut e = Sim::default_engine_config();
    let buf = [4 * 1024, 16 * 1024, 64 * 1024, 64 * 1024];
    e.rx_buffer = buf[d.range(0, 3) as usize];
    e.tx_buffer = buf[d.range(0, 3) as usize];
    let c = &mut e.conn;
    c.mss = mss;
    c.msl = Duration::from_secs([1, 5, 30][d.range(0, 2) as usize]);
    c.window_scaling = d.chance(0.8);
    c.timestamps = d.chance(0.8);
    c.sack = d.chance(0.8);
    c.nagle = d.chance(0.7);
    if d.chance(0.3) {
        c.delayed_ack = None;
    }
    c.congestion = match d.range(0, 9) {
        0..=2 => Algorithm::Cubic,
        3..=5 => Algorithm::Bbr,
        _ => Algorithm::NewReno,
    };
    c.time_wait_rst_guard = d.chance(0.5);
    if keep_alive || d.chance(0.1) {
        c.keep_alive = Some(KeepAlive {
            idle: Duration::from_secs(d.range(10, 120)),
            interval: Duration::from_secs(d.range(1, 20)),
            probes: d.range(3, 9) as u8,
        });
    }
    e
}

/// A link with random faults: loss, duplication, reordering, jitter, a bottleneck, corruption.
fn draw_link(
    d: &mut Dice,
    delay_us: u64,
    reorder: f64,
    mtu: usize,
    partitions: Vec<(u64, u64)>,
) -> LinkConfig {
    LinkConfig {
        loss: d.maybe(0.7, 0.2),
        duplicate: d.maybe(0.4, 0.05),
        reorder,
        reorder_delay_us: if reorder > 0.0 {
            d.range(1_000, 20_000)
        } else {
            0
        },
        delay_us,
        jitter_us: if d.chance(0.5) { d.range(0, 10_000) } else { 0 },
        rate_bps: d.chance(0.3).then(|| d.range(1_000_000, 100_000_000)),
        corrupt: d.maybe(0.4, 0.03),
        mtu,
        partitions,
        ..LinkConfig::default()
    }
}

/// A link's faults in words.
fn link_text(l: &LinkConfig) -> String {
    let mut s = format!("{} ms one way", l.delay_us as f64 / 1000.0);
    for (name, p) in [
        ("loss", l.loss),
        ("duplication", l.duplicate),
        ("reordering", l.reorder),
        ("corruption", l.corrupt),
    ] {
        if p > 0.0 {
            let _ = write!(s, ", {name} {:.2}%", p * 100.0);
        }
    }
    if l.jitter_us > 0 {
        let _ = write!(s, ", jitter {} ms", l.jitter_us as f64 / 1000.0);
    }
    if let Some(r) = l.rate_bps {
        let _ = write!(s, ", {:.1} Mbit/s", r as f64 / 1e6);
    }
    let _ = write!(s, ", MTU {}", l.mtu);
    for (from, to) in &l.partitions {
        let _ = write!(
            s,
            ", partition {:.3}..{:.3} s",
            *from as f64 / 1e6,
            *to as f64 / 1e6
        );
    }
    s
}
