//! The `tcp-sim` command line: parsing (clap) and running.
//!
//! `tcp-sim` with no arguments runs the demo; `tcp-sim scenarios` lists the scenarios;
//! `tcp-sim run --scenario NAME [options]` runs one. Run options are also accepted without
//! the `run` subcommand (`tcp-sim --seed 7` is the demo with seed 7).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::render::{
    json_lines, ladder, summary_text, time_sequence_svg, write_pcap, LadderOptions,
};
use crate::scenarios::{self, Scenario, ScenarioOptions, SCENARIOS};
use crate::sim::DEFAULT_DEADLINE_US;

/// The seed runs use unless `--seed` says otherwise.
pub const DEFAULT_SEED: u64 = 25;

/// `tcp-sim`: watch TCP work over a simulated lossy network.
#[derive(Debug, Parser)]
#[command(
    name = "tcp-sim",
    version,
    about = "Watch TCP work: runs the sans-IO engine over a simulated lossy network and draws what happened",
    long_about = "Runs two TCP engines over a deterministic simulated network (loss, duplication, \
reordering, delay, jitter, bandwidth, corruption, MTU) and draws the conversation as a ladder \
diagram, then a summary. With no arguments: the demo (A connects to B over a 20 ms RTT link with \
2% loss each way, 64 KiB each way, both close).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do (default: run the demo).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `run`, for the demo.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// List the scenarios, one per line.
    Scenarios,
    /// Run one scenario and show what happened.
    Run(RunArgs),
    /// Run packetdrill scripts against the engine: PASS or FAIL per script with the first
    /// mismatch, then `N passed, M failed`.
    Pkt(crate::packetdrill::PktArgs),
    /// Random scenarios, one per seed, checked against every invariant; failing seeds are
    /// listed with the command that replays them.
    Chaos(crate::chaos::ChaosArgs),
    /// Attack runs against the engine's defences (SYN flood, blind RST/SYN/data, slow and
    /// never-ACKing peers), with figures.
    Attack(crate::attack::AttackArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The ladder diagram, then a summary.
    Text,
    /// One JSON object per line: segments, state changes, then the summary.
    Json,
}

/// Options of a run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The scenario to run (`tcp-sim scenarios` lists them).
    #[arg(long, short = 's', value_name = "NAME", default_value = "demo", value_parser = scenario)]
    pub scenario: String,
    /// Loss probability each way, 0..1 (0.02 is 2%) [default: the scenario's, 0 but for the demo's 0.02].
    #[arg(long, value_name = "P", value_parser = probability, allow_negative_numbers = true)]
    pub loss: Option<f64>,
    /// Duplication probability each way, 0..1.
    #[arg(long, value_name = "P", value_parser = probability, allow_negative_numbers = true)]
    pub dup: Option<f64>,
    /// Reordering probability each way, 0..1 (a reordered packet arrives one delay later).
    #[arg(long, value_name = "P", value_parser = probability, allow_negative_numbers = true)]
    pub reorder: Option<f64>,
    /// Corruption probability each way, 0..1 (one bit flipped; the checksum catches it).
    #[arg(long, value_name = "P", value_parser = probability, allow_negative_numbers = true)]
    pub corrupt: Option<f64>,
    /// One-way delay in milliseconds [default: 10, a 20 ms RTT].
    #[arg(long, value_name = "MS", value_parser = milliseconds, allow_negative_numbers = true)]
    pub delay: Option<u64>,
    /// Jitter bound in milliseconds (added uniformly to the delay; never reorders).
    #[arg(long, value_name = "MS", value_parser = milliseconds, allow_negative_numbers = true)]
    pub jitter: Option<u64>,
    /// Bottleneck rate in Mbit/s [default: unlimited].
    #[arg(long, value_name = "MBIT", value_parser = mbit, allow_negative_numbers = true)]
    pub rate: Option<u64>,
    /// Link MTU in bytes, 128..=65535; the hosts' MSS follows it (the engine's floor is 64
    /// bytes, so smaller links could not carry a full segment) [default: 1500].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(128..))]
    pub mtu: Option<u16>,
    /// Bytes each sending application sends [default: the scenario's].
    #[arg(long, value_name = "N")]
    pub bytes: Option<usize>,
    /// Seed of the simulation: the same seed gives the same run (the default one shows the
    /// demo recovering from a loss each way, by fast retransmit and by timeout).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Maximum segment lifetime in seconds; TIME-WAIT lasts twice this [default: 30].
    #[arg(long, value_name = "SECONDS", value_parser = seconds, allow_negative_numbers = true)]
    pub msl: Option<f64>,
    /// Stop after this much simulated time, in seconds, if not done before [default: 3600].
    #[arg(long, value_name = "SECONDS", value_parser = seconds, allow_negative_numbers = true)]
    pub until: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Absolute sequence and acknowledgment numbers (default: relative to each side's ISN).
    #[arg(long)]
    pub absolute: bool,
    /// IPv6 addresses (fd00::1, fd00::2) instead of IPv4 (10.0.0.1, 10.0.0.2).
    #[arg(long)]
    pub ipv6: bool,
    /// Also write every segment that entered the link to this pcap file (raw IP).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Also draw the time-sequence graph to this SVG file.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

fn scenario(s: &str) -> Result<String, String> {
    match scenarios::find(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(format!(
            "unknown scenario `{s}`; the scenarios are: {}",
            scenarios::names().collect::<Vec<_>>().join(", ")
        )),
    }
}

fn number(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("`{s}` is not a number")),
    }
}

fn probability(s: &str) -> Result<f64, String> {
    let p = number(s)?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!(
            "{p} is not a probability: give a fraction between 0 and 1 (0.02 for 2%)"
        ))
    }
}

fn milliseconds(s: &str) -> Result<u64, String> {
    let ms = number(s)?;
    if (0.0..=86_400_000.0).contains(&ms) {
        Ok((ms * 1000.0).round() as u64)
    } else {
        Err(format!("{ms} ms is out of range (0 to one day)"))
    }
}

fn seconds(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if (0.0..=1e9).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} s is out of range (0 to 1e9)"))
    }
}

fn mbit(s: &str) -> Result<u64, String> {
    let m = number(s)?;
    if m > 0.0 && m <= 1e7 {
        Ok(((m * 1e6).round() as u64).max(1))
    } else {
        Err(format!("{m} Mbit/s is not a rate: give a positive number"))
    }
}

/// Runs the command line; returns the exit status (0, or 1 when writing failed).
#[must_use]
pub fn execute(cli: Cli) -> i32 {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match cli.command {
        Some(Command::Scenarios) => list(&mut out),
        Some(Command::Run(args)) => run(&args, &mut out),
        Some(Command::Pkt(args)) => return crate::packetdrill::execute(&args, &mut out),
        Some(Command::Chaos(args)) => return crate::chaos::execute(&args, &mut out),
        Some(Command::Attack(args)) => return crate::attack::execute(&args, &mut out),
        None => run(&cli.run, &mut out),
    };
    match result.and_then(|()| out.flush().map_err(|e| e.to_string())) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("tcp-sim: {e}");
            1
        }
    }
}

fn list(out: &mut impl Write) -> Result<(), String> {
    for s in SCENARIOS {
        writeln!(out, "{:<20} {}", s.name, s.about).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What the options mean for a scenario.
#[must_use]
pub fn scenario_options(args: &RunArgs) -> ScenarioOptions {
    ScenarioOptions {
        seed: args.seed,
        loss: args.loss,
        duplicate: args.dup,
        reorder: args.reorder,
        corrupt: args.corrupt,
        delay_us: args.delay,
        jitter_us: args.jitter,
        rate_bps: args.rate,
        mtu: args.mtu.map(usize::from),
        bytes: args.bytes,
        msl: args.msl.map(core::time::Duration::from_secs_f64),
        ipv6: args.ipv6,
    }
}

/// Runs one scenario as `args` say, writing the ladder and summary or the JSON lines to
/// `out`, and the pcap and SVG files if asked.
///
/// # Errors
///
/// A message when the link configuration is refused or a file cannot be written.
pub fn run(args: &RunArgs, out: &mut impl Write) -> Result<(), String> {
    let sc: &Scenario = scenarios::find(&args.scenario)
        .ok_or_else(|| format!("unknown scenario `{}`", args.scenario))?;
    let mut sim = sc
        .build(&scenario_options(args))
        .map_err(|e| e.to_string())?;
    let deadline = args
        .until
        .map_or(DEFAULT_DEADLINE_US, |s| (s * 1e6).round() as u64);
    sim.set_deadline(deadline);
    let summary = sim.run();
    let trace = sim.trace();
    let io = |e: io::Error| e.to_string();
    match args.format {
        Format::Text => {
            writeln!(out, "tcp-sim {}: {}", sc.name, sc.about).map_err(io)?;
            let link = sim.network().link(crate::HostId(0), crate::HostId(1));
            let mut desc = format!(
                "link: {} ms one way, loss {}%",
                link.delay_us as f64 / 1000.0,
                link.loss * 100.0
            );
            for (name, p) in [
                ("duplication", link.duplicate),
                ("reordering", link.reorder),
                ("corruption", link.corrupt),
            ] {
                if p > 0.0 {
                    desc.push_str(&format!(", {name} {}%", p * 100.0));
                }
            }
            if link.jitter_us > 0 {
                desc.push_str(&format!(", jitter {} ms", link.jitter_us as f64 / 1000.0));
            }
            if let Some(r) = link.rate_bps {
                desc.push_str(&format!(", {} Mbit/s", r as f64 / 1e6));
            }
            desc.push_str(&format!(", MTU {}; seed {}", link.mtu, args.seed));
            writeln!(out, "{desc}").map_err(io)?;
            for rule in sim.drop_rules() {
                writeln!(out, "targeted loss: {rule}").map_err(io)?;
            }
            writeln!(out).map_err(io)?;
            let opts = LadderOptions {
                absolute: args.absolute,
            };
            write!(out, "{}", ladder(trace, &summary, opts)).map_err(io)?;
            writeln!(out).map_err(io)?;
            write!(out, "{}", summary_text(&summary, trace)).map_err(io)?;
        }
        Format::Json => {
            write!(out, "{}", json_lines(trace, &summary, args.absolute)).map_err(io)?
        }
    }
    if let Some(path) = &args.pcap {
        let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        write_pcap(trace, BufWriter::new(file))
            .and_then(|mut w| w.flush())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.svg {
        let title = format!(
            "tcp-sim {} (seed {}): time-sequence graph",
            sc.name, args.seed
        );
        let svg = time_sequence_svg(trace, &title).map_err(|e| e.to_string())?;
        std::fs::write(path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
