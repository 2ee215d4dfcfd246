//! Blind in-window attacks (RFC 5961): an off-path attacker who knows the 4-tuples of
//! established connections but not their sequence numbers sends RSTs, SYNs and data with
//! random sequence and acknowledgment numbers, spoofing either end.

use std::collections::HashMap;

use core::net::SocketAddr;

use tcp_engine::conn::{CloseReason, Event, State};
use tcp_engine::engine::{ConnHandle, Disposition, DropReason, Engine, EngineConfig, Limits};
use tcp_engine::time::Instant;
use tcp_engine::wire::{TcpFlags, TcpOptions};

use super::craft::{segment, syn_options, Dice};
use super::lab::Lab;
use crate::LinkConfig;

/// The server's port.
const PORT: u16 = 80;
/// Bytes each side sends on each connection after the attack, to check the streams.
const AFTER: usize = 10_000;

/// How to run a blind attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blind {
    /// Blind segments in all: a third RSTs, a third SYNs, a third data.
    pub segments: u64,
    /// Established connections between the two hosts.
    pub connections: usize,
    /// Blind segments per second of simulated time.
    pub rate: u64,
    /// Seed of the attacker's dice and the network.
    pub seed: u64,
}

impl Default for Blind {
    fn default() -> Self {
        Self {
            segments: 1_000_000,
            connections: 8,
            rate: 10_000,
            seed: 1,
        }
    }
}

/// What a blind attack did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BlindReport {
    /// Blind RSTs, SYNs and data segments sent.
    pub rst: u64,
    /// Blind SYNs.
    pub syn: u64,
    /// Blind data segments.
    pub data: u64,
    /// Connections attacked.
    pub connections: usize,
    /// Connections that died (reset, or not ESTABLISHED after the attack).
    pub died: usize,
    /// Deaths RFC 5961 predicts: one blind RST in 2^32 carries the exact sequence number.
    pub expected_deaths: f64,
    /// Blind segments answered with a challenge ACK (RFC 5961 §3, §4).
    pub challenge_acks: u64,
    /// Blind segments that went over the challenge-ACK rate limit (dropped unanswered).
    pub challenges_limited: u64,
    /// Blind segments answered with an ordinary ACK (out of window, bad ACK, PAWS).
    pub other_acks: u64,
    /// Blind segments the connections accepted (injected data: stream corruption).
    pub accepted: u64,
    /// Connections whose data after the attack arrived intact both ways.
    pub intact_after: usize,
    /// Drops by reason on both hosts: out of window, challenged, bad ACK, PAWS, ignored.
    pub dropped: [u64; 5],
}

/// The applications: A opens the connections; B accepts; both read everything into
/// per-connection buffers and note resets.
#[derive(Debug, Default)]
struct Apps {
    listener: Option<tcp_engine::engine::ListenerHandle>,
    accepted: Vec<ConnHandle>,
    received: HashMap<(usize, ConnHandle), Vec<u8>>,
    eof: HashMap<(usize, ConnHandle), bool>,
    resets: usize,
}

impl Apps {
    fn run(&mut self, i: usize, e: &mut Engine<'static>, handles: &[ConnHandle]) {
        while let Some((_, ev)) = e.poll_event() {
            if ev == Event::Closed(CloseReason::Reset) {
                self.resets += 1;
            }
        }
        if let (1, Some(l)) = (i, self.listener) {
            while let Ok(h) = e.accept(l) {
                self.accepted.push(h);
            }
        }
        let mine: &[ConnHandle] = if i == 0 { handles } else { &self.accepted };
        let mut buf = [0u8; 4096];
        for &h in mine {
            loop {
                match e.recv(h, &mut buf) {
                    Ok(0) => {
                        self.eof.insert((i, h), true);
                        break;
                    }
                    Ok(n) => self
                        .received
                        .entry((i, h))
                        .or_default()
                        .extend_from_slice(&buf[..n]),
                    Err(_) => break,
                }
            }
        }
    }
}

/// The bytes host `host` sends on connection `k` after the attack.
fn data_for(host: usize, k: usize) -> Vec<u8> {
    (0..AFTER)
        .map(|i| (i as u8).wrapping_mul(31) ^ (k as u8) ^ (host as u8 * 0x80))
        .collect()
}

/// Runs a blind attack as `cfg` says.
///
/// # Panics
///
/// If B cannot listen or A cannot connect (they can: fresh engines).
#[must_use]
pub fn blind(cfg: &Blind) -> BlindReport {
    let link = LinkConfig {
        delay_us: 10_000,
        ..LinkConfig::default()
    };
    let mut lab = Lab::new(cfg.seed, link);
    let limits = Limits {
        connections: cfg.connections.max(1),
        ..Limits::default()
    };
    let (a, b) = (
        lab.add_host(EngineConfig::default(), &limits),
        lab.add_host(EngineConfig::default(), &limits),
    );
    let server = SocketAddr::new(lab.addr(b), PORT);
    #[allow(clippy::expect_used)]
    let mut apps = Apps {
        listener: Some(lab.engine_mut(b).listen(server, 64).expect("fresh engine")),
        ..Apps::default()
    };
    let me = lab.addr(a);
    #[allow(clippy::expect_used)]
    let handles: Vec<ConnHandle> = (0..cfg.connections)
        .map(|_| {
            lab.engine_mut(a)
                .connect(Instant::ZERO, me, server)
                .expect("a free slot")
        })
        .collect();
    let mut app = |_: u64, i: usize, e: &mut Engine<'static>| apps.run(i, e, &handles);
    lab.run_until(1_000_000, &mut app);
    // The 4-tuples the attacker knows: A's port on each connection.
    let ports: Vec<u16> = handles
        .iter()
        .map(|&h| lab.engine(a).tuple(h).map_or(0, |t| t.local_port))
        .collect();
    let mut report = BlindReport {
        connections: cfg.connections,
        ..BlindReport::default()
    };
    let mut dice = Dice::new(cfg.seed);
    let start = lab.now();
    for i in 0..cfg.segments {
        lab.run_until(start + i * 1_000_000 / cfg.rate.max(1), &mut app);
        let k = dice.below(cfg.connections.max(1) as u64) as usize;
        let client = SocketAddr::new(me, ports[k]);
        // Spoof either end towards the other.
        let (victim, src, dst) = if dice.word() & 1 == 0 {
            (b, client, server)
        } else {
            (a, server, client)
        };
        let (seq, ack) = (dice.u32(), dice.u32());
        let ts = (dice.word() & 1 == 0).then(|| (dice.u32(), dice.u32()));
        let opts = TcpOptions {
            timestamps: ts,
            ..TcpOptions::NONE
        };
        let seg = match i % 3 {
            0 => {
                report.rst += 1;
                segment(src, dst, TcpFlags::RST, (seq, 0), 0, TcpOptions::NONE, &[])
            }
            1 => {
                report.syn += 1;
                let o = syn_options(seq);
                segment(src, dst, TcpFlags::SYN, (seq, 0), 64_240, o, &[])
            }
            _ => {
                report.data += 1;
                let f = TcpFlags::ACK | TcpFlags::PSH;
                segment(src, dst, f, (seq, ack), 65_535, opts, &[0xEE; 64])
            }
        };
        let before = lab.sent;
        let d = lab.inject(victim, src.ip(), &seg);
        let answered = lab.sent > before;
        match d {
            Disposition::Dropped(DropReason::Challenged) if answered => report.challenge_acks += 1,
            Disposition::Dropped(DropReason::Challenged) => report.challenges_limited += 1,
            Disposition::Accepted(_) | Disposition::Opened(_) => report.accepted += 1,
            _ if answered => report.other_acks += 1,
            _ => {}
        }
    }
    let end = lab.now() + 1_000_000;
    lab.run_until(end, &mut app);
    let alive =
        |lab: &Lab, host: usize, h: ConnHandle| lab.engine(host).state(h) == Ok(State::Established);
    // B's handle for each of A's connections, found by A's port.
    let accepted: Vec<Option<ConnHandle>> = ports
        .iter()
        .map(|&p| {
            apps.accepted
                .iter()
                .copied()
                .find(|&h| lab.engine(b).tuple(h).is_ok_and(|t| t.remote_port == p))
        })
        .collect();
    report.died = handles
        .iter()
        .zip(&accepted)
        .filter(|(&ha, hb)| !alive(&lab, a, ha) || !hb.is_some_and(|hb| alive(&lab, b, hb)))
        .count();
    report.expected_deaths = report.rst as f64 / 4_294_967_296.0;
    for host in [a, b] {
        let s = lab.engine(host).stats();
        for (j, r) in [
            DropReason::OutOfWindow,
            DropReason::Challenged,
            DropReason::BadAck,
            DropReason::Paws,
            DropReason::Ignored,
        ]
        .into_iter()
        .enumerate()
        {
            report.dropped[j] += s.dropped(r);
        }
    }
    // Every connection still carries data both ways, unchanged, and closes.
    for (k, (&ha, hb)) in handles.iter().zip(&accepted).enumerate() {
        let _ = lab.engine_mut(a).send(ha, &data_for(a, k));
        let _ = lab.engine_mut(a).shutdown(ha);
        if let Some(hb) = *hb {
            let _ = lab.engine_mut(b).send(hb, &data_for(b, k));
            let _ = lab.engine_mut(b).shutdown(hb);
        }
    }
    let mut app = |_: u64, i: usize, e: &mut Engine<'static>| apps.run(i, e, &handles);
    lab.run_until(end + 120_000_000, &mut app);
    report.intact_after = handles
        .iter()
        .zip(&accepted)
        .enumerate()
        .filter(|(k, (&ha, hb))| {
            let Some(hb) = **hb else { return false };
            let got = |host, h| apps.received.get(&(host, h)).cloned().unwrap_or_default();
            got(a, ha) == data_for(b, *k)
                && got(b, hb) == data_for(a, *k)
                && apps.eof.get(&(a, ha)).copied().unwrap_or(false)
                && apps.eof.get(&(b, hb)).copied().unwrap_or(false)
        })
        .count();
    report
}
