//! `tcp-sim attack`: attack runs against the engine's defences, with figures.
//!
//! - [`syn_flood`]: spoofed SYNs from random addresses and ports, injected straight into a
//!   server while legitimate clients keep connecting; the share of legitimate connections
//!   that succeed, and the server's memory high-water mark, with SYN cookies on and off.
//! - [`blind`]: RSTs, SYNs and data with random sequence numbers against established
//!   connections, spoofing either end (RFC 5961); deaths, challenge ACKs.
//! - [`slow_peer`]: peers that never ACK, advertise a zero window forever, or read one byte at
//!   a time; when the server lets go of them.
//!
//! They run on a small bench of their own ([`Lab`]): engines on the simulated
//! [`Network`](crate::Network), segments injected into an engine as an off-path attacker
//! would, and crafted peers outside the network.
//!
//! ```
//! use driver_sim::attack::{syn_flood, SynFlood};
//! let r = syn_flood(&SynFlood { spoofed: 2_000, ..SynFlood::default() });
//! assert_eq!(r.succeeded, r.attempts);
//! ```

mod blind;
mod craft;
mod lab;
mod report;
mod slow;
mod synflood;

use std::io::Write;

use clap::{Args, ValueEnum};

pub use blind::{blind, Blind, BlindReport};
pub use craft::{segment, syn_options, Dice};
pub use lab::{Lab, Outside};
pub use slow::{slow_peer, SlowPeer, SlowReport};
pub use synflood::{syn_flood, SynFlood, SynFloodReport};

/// Which attack to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AttackKind {
    /// Spoofed SYNs while legitimate clients connect, SYN cookies on and off.
    Synflood,
    /// Blind RSTs, SYNs and data with random sequence numbers against established
    /// connections.
    Blind,
    /// A peer with a zero window forever, and one that reads one byte at a time.
    Slowread,
    /// A peer that never ACKs, after its SYN and after its request.
    Neverack,
    /// All of them.
    All,
}

/// Options of `tcp-sim attack`.
#[derive(Debug, Clone, Args)]
pub struct AttackArgs {
    /// The attack to run.
    #[arg(long, value_enum, default_value_t = AttackKind::All)]
    pub kind: AttackKind,
    /// Spoofed SYNs (synflood) or blind segments (blind).
    #[arg(long, short = 'n', value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
    /// Seed of the attacker's dice and the network.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// How long the slow peers may hold on, in simulated seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 7200,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub horizon: u64,
}

/// Runs `tcp-sim attack` as `args` say, printing the figures to `out`; returns the exit
/// status (0, or 1 when writing failed).
pub fn execute(args: &AttackArgs, out: &mut impl Write) -> i32 {
    match run(args, out).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tcp-sim: {e}");
            1
        }
    }
}

fn run(args: &AttackArgs, out: &mut impl Write) -> std::io::Result<()> {
    let all = args.kind == AttackKind::All;
    if all || args.kind == AttackKind::Synflood {
        for cookies in [true, false] {
            let cfg = SynFlood {
                spoofed: args.count,
                cookies,
                seed: args.seed,
                ..SynFlood::default()
            };
            let started = std::time::Instant::now();
            let r = syn_flood(&cfg);
            report::syn_flood(out, &cfg, &r, started.elapsed())?;
        }
    }
    if all || args.kind == AttackKind::Blind {
        let cfg = Blind {
            segments: args.count,
            seed: args.seed,
            ..Blind::default()
        };
        let started = std::time::Instant::now();
        let r = blind(&cfg);
        report::blind(out, &cfg, &r, started.elapsed())?;
    }
    let horizon_us = args.horizon * 1_000_000;
    let slow: &[SlowPeer] = match args.kind {
        AttackKind::Slowread => &[SlowPeer::ZeroWindow, SlowPeer::OneByte],
        AttackKind::Neverack => &[SlowPeer::NeverAckSyn, SlowPeer::NeverAck],
        AttackKind::All => &[
            SlowPeer::NeverAckSyn,
            SlowPeer::NeverAck,
            SlowPeer::ZeroWindow,
            SlowPeer::OneByte,
        ],
        _ => &[],
    };
    if !slow.is_empty() {
        report::slow_header(out)?;
    }
    for &peer in slow {
        let cfg = tcp_engine::engine::EngineConfig::default();
        let r = slow_peer(peer, cfg, report::RESPONSE, horizon_us);
        report::slow(out, &r)?;
    }
    Ok(())
}
