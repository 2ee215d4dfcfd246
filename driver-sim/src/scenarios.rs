//! Named scenarios: the textbook TCP situations, ready to run over a configurable link.
//!
//! Every scenario puts host `A` (the client, `10.0.0.1`) and host `B` (the server,
//! `10.0.0.2`) on a link with a 10 ms one-way delay (20 ms RTT) unless told otherwise, and
//! scripts their applications; [`ScenarioOptions`] change the link, the amount of data, the
//! seed and the MSL.
//!
//! ```
//! use driver_sim::scenarios::{find, ScenarioOptions};
//! let mut sim = find("simultaneous-close").unwrap().build(&ScenarioOptions::default())?;
//! let summary = sim.run();
//! assert_eq!(summary.host(0).unwrap().final_state.name(), "CLOSED");
//! # Ok::<(), driver_sim::ConfigError>(())
//! ```

use core::time::Duration;

use tcp_engine::conn::{KeepAlive, State};
use tcp_engine::engine::EngineConfig;
use tcp_engine::wire::TcpFlags;

use crate::sim::{AppScript, DropRule, Read, Sim, When};
use crate::{ConfigError, LinkConfig};

/// The server's port.
pub const PORT: u16 = 80;

/// One-way delay of every scenario's link unless [`ScenarioOptions::delay_us`] says
/// otherwise: 10 ms, a 20 ms RTT.
pub const DEFAULT_DELAY_US: u64 = 10_000;

/// Changes to a scenario's defaults; `None` keeps the scenario's own value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioOptions {
    /// Seed of the network's dice, the data and the ISN secrets.
    pub seed: u64,
    /// Loss probability, each way.
    pub loss: Option<f64>,
    /// Duplication probability, each way.
    pub duplicate: Option<f64>,
    /// Reordering probability, each way (a reordered packet is held back one extra one-way
    /// delay, at least 1 ms).
    pub reorder: Option<f64>,
    /// Corruption probability, each way (one bit flipped).
    pub corrupt: Option<f64>,
    /// One-way delay in µs.
    pub delay_us: Option<u64>,
    /// Jitter bound in µs.
    pub jitter_us: Option<u64>,
    /// Bottleneck rate in bit/s.
    pub rate_bps: Option<u64>,
    /// Link MTU in bytes (the engines' MSS follows it).
    pub mtu: Option<usize>,
    /// Bytes each sending application sends.
    pub bytes: Option<usize>,
    /// Maximum segment lifetime: TIME-WAIT lasts twice this.
    pub msl: Option<Duration>,
    /// IPv6 addresses instead of IPv4.
    pub ipv6: bool,
}

/// What a scenario's builder gets.
#[derive(Debug, Clone, PartialEq)]
struct Setup {
    bytes: usize,
    engine: EngineConfig,
}

/// A named scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Its name, as `tcp-sim run --scenario` takes it.
    pub name: &'static str,
    /// One line saying what happens and how it ends.
    pub about: &'static str,
    /// Bytes each sending application sends unless [`ScenarioOptions::bytes`] says otherwise.
    pub default_bytes: usize,
    /// Loss probability unless [`ScenarioOptions::loss`] says otherwise.
    pub default_loss: f64,
    build: fn(&mut Sim, &Setup),
}

impl Scenario {
    /// A simulation set up for this scenario, ready to [`run`](Sim::run).
    ///
    /// # Errors
    ///
    /// The link configuration the options make is invalid (a probability outside `0..=1`,
    /// a zero rate or MTU).
    pub fn build(&self, opts: &ScenarioOptions) -> Result<Sim, ConfigError> {
        let delay_us = opts.delay_us.unwrap_or(DEFAULT_DELAY_US);
        let reorder = opts.reorder.unwrap_or(0.0);
        let link = LinkConfig {
            loss: opts.loss.unwrap_or(self.default_loss),
            duplicate: opts.duplicate.unwrap_or(0.0),
            reorder,
            reorder_delay_us: if reorder > 0.0 {
                delay_us.max(1_000)
            } else {
                0
            },
            corrupt: opts.corrupt.unwrap_or(0.0),
            delay_us,
            jitter_us: opts.jitter_us.unwrap_or(0),
            rate_bps: opts.rate_bps,
            mtu: opts.mtu.unwrap_or(crate::DEFAULT_MTU),
            ..LinkConfig::default()
        };
        link.validate()?;
        let mut sim = Sim::new(opts.seed);
        sim.set_ipv6(opts.ipv6);
        sim.network_mut().set_default_link(link.clone())?;
        let mut engine = Sim::default_engine_config();
        if let Some(msl) = opts.msl {
            engine.conn.msl = msl;
        }
        // The MSS a host on this link would advertise: MTU minus the IP and TCP headers.
        let ip = if opts.ipv6 { 40 } else { 20 };
        engine.conn.mss = link.mtu.saturating_sub(ip + 20).clamp(1, 65_535) as u16;
        let setup = Setup {
            bytes: opts.bytes.unwrap_or(self.default_bytes),
            engine,
        };
        (self.build)(&mut sim, &setup);
        Ok(sim)
    }
}

/// A client that sends, half-closes once its data is queued, and closes at the end of the
/// server's stream.
fn client(bytes: usize) -> AppScript {
    AppScript::connect_to(1, PORT)
        .sending(bytes)
        .shutdown_when(When::Queued)
        .close_when(When::PeerClosed)
}

/// A server that sends and closes at the end of the client's stream.
fn server(bytes: usize) -> AppScript {
    AppScript::listen_on(PORT)
        .sending(bytes)
        .close_when(When::PeerClosed)
}

fn pair(sim: &mut Sim, s: &Setup, a: AppScript, b: AppScript) {
    sim.add_host_with(s.engine, a);
    sim.add_host_with(s.engine, b);
}

const KIB: usize = 1024;

/// Every scenario, in the order `tcp-sim scenarios` lists them.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "demo",
        about: "A connects to B, 64 KiB each way over 20 ms RTT and 2% loss each way, both close",
        default_bytes: 64 * KIB,
        default_loss: 0.02,
        build: |sim, s| pair(sim, s, client(s.bytes), server(s.bytes)),
    },
    Scenario {
        name: "handshake",
        about: "three-way handshake: SYN, SYN-ACK, ACK; both stay ESTABLISHED",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            let a = AppScript::connect_to(1, PORT).sending(s.bytes);
            pair(sim, s, a, AppScript::listen_on(PORT));
        },
    },
    Scenario {
        name: "transfer",
        about: "A sends 32 KiB to B, half-closes, both close; A waits in TIME-WAIT for 2 MSL",
        default_bytes: 32 * KIB,
        default_loss: 0.0,
        build: |sim, s| pair(sim, s, client(s.bytes), server(0)),
    },
    Scenario {
        name: "half-close",
        about: "A sends and shuts down; B keeps sending in CLOSE-WAIT after A's FIN, then closes",
        default_bytes: 16 * KIB,
        default_loss: 0.0,
        build: |sim, s| {
            let b = AppScript::listen_on(PORT)
                .sending(s.bytes)
                .send_when(When::PeerClosed)
                .close_when(When::Acked);
            pair(sim, s, client(s.bytes), b);
        },
    },
    Scenario {
        name: "simultaneous-open",
        about: "A and B connect to each other at once: both go SYN-SENT, SYN-RECEIVED, ESTABLISHED",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            let a = AppScript::connect_to(1, 6000)
                .from_port(5000)
                .sending(s.bytes)
                .shutdown_when(When::Acked)
                .close_when(When::PeerClosed);
            let b = AppScript::connect_to(0, 5000)
                .from_port(6000)
                .sending(s.bytes)
                .close_when(When::PeerClosed);
            pair(sim, s, a, b);
        },
    },
    Scenario {
        name: "simultaneous-close",
        about: "both close at 500 ms, FINs cross: both pass through CLOSING and TIME-WAIT",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            let a = AppScript::connect_to(1, PORT)
                .sending(s.bytes)
                .close_when(When::At(500_000));
            let b = AppScript::listen_on(PORT)
                .sending(s.bytes)
                .close_when(When::At(500_000));
            pair(sim, s, a, b);
        },
    },
    Scenario {
        name: "abort",
        about: "A aborts once its data is acknowledged: RST, no TIME-WAIT; B's connection is reset",
        default_bytes: 4 * KIB,
        default_loss: 0.0,
        build: |sim, s| {
            let a = AppScript::connect_to(1, PORT)
                .sending(s.bytes)
                .abort_when(When::Acked);
            pair(sim, s, a, AppScript::listen_on(PORT));
        },
    },
    Scenario {
        name: "refused",
        about:
            "A sends a SYN to a port where nothing listens: B answers RST, A's connect is refused",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            let a = AppScript::connect_to(1, PORT).sending(s.bytes);
            pair(sim, s, a, AppScript::idle());
        },
    },
    Scenario {
        name: "lost-syn",
        about: "A's first SYN is lost: A sends it again after the initial RTO (1 s)",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            let a = AppScript::connect_to(1, PORT).sending(s.bytes);
            pair(sim, s, a, AppScript::listen_on(PORT));
            sim.add_drop_rule(DropRule::first(0, TcpFlags::SYN));
        },
    },
    Scenario {
        name: "lost-synack",
        about: "B's first SYN-ACK is lost: the SYN or the SYN-ACK is retransmitted after 1 s",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            let a = AppScript::connect_to(1, PORT).sending(s.bytes);
            pair(sim, s, a, AppScript::listen_on(PORT));
            sim.add_drop_rule(DropRule::first(1, TcpFlags::SYN | TcpFlags::ACK));
        },
    },
    Scenario {
        name: "lost-final-ack",
        about: "A's last ACK is lost: B retransmits its FIN and A, in TIME-WAIT, ACKs it again",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            pair(sim, s, client(s.bytes), server(0));
            sim.add_drop_rule(
                DropRule::first(0, TcpFlags::ACK)
                    .in_state(State::TimeWait)
                    .with_payload(false),
            );
        },
    },
    Scenario {
        name: "fin-wait-2-timeout",
        about: "A closes, B never does: A's orphaned connection leaves FIN-WAIT-2 after 60 s",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            let a = AppScript::connect_to(1, PORT)
                .sending(s.bytes)
                .close_when(When::Acked);
            pair(sim, s, a, AppScript::listen_on(PORT));
        },
    },
    Scenario {
        name: "zero-window",
        about: "B reads nothing until 5 s: its 8 KiB window closes, A probes, then all 32 KiB flow",
        default_bytes: 32 * KIB,
        default_loss: 0.0,
        build: |sim, s| {
            sim.add_host_with(s.engine, client(s.bytes));
            let small = EngineConfig {
                rx_buffer: 8 * KIB,
                ..s.engine
            };
            sim.add_host_with(small, server(0).reading(Read::From(5_000_000)));
        },
    },
    Scenario {
        name: "keepalive",
        about: "the path dies at 1 s; A's keep-alive (idle 10 s, 3 probes 2 s apart) ends it",
        default_bytes: 0,
        default_loss: 0.0,
        build: |sim, s| {
            let mut ka = s.engine;
            ka.conn.keep_alive = Some(KeepAlive {
                idle: Duration::from_secs(10),
                interval: Duration::from_secs(2),
                probes: 3,
            });
            sim.add_host_with(ka, AppScript::connect_to(1, PORT).sending(s.bytes));
            sim.add_host_with(s.engine, AppScript::listen_on(PORT));
            let net = sim.network_mut();
            for (from, to) in [(0, 1), (1, 0)] {
                let (from, to) = (crate::HostId(from), crate::HostId(to));
                let mut link = net.link(from, to).clone();
                link.partitions.push((1_000_000, u64::MAX));
                // The link was validated when the default was set; a partition keeps it valid.
                let _ = net.set_link(from, to, link);
            }
        },
    },
];

/// The scenario called `name`.
#[must_use]
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// The names of all scenarios.
pub fn names() -> impl Iterator<Item = &'static str> {
    SCENARIOS.iter().map(|s| s.name)
}
