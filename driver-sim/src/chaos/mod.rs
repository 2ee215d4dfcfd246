//! `tcp-sim chaos`: random scenarios, one per seed, checked against every invariant.
//!
//! Each seed decides a whole case ([`ChaosCase::from_seed`]): the link's faults (loss,
//! duplication, reordering, delay and jitter, a bottleneck, corruption, a partition, the MTU),
//! IPv4 or IPv6, each engine's options (window scaling, timestamps, SACK, Nagle, delayed ACK,
//! congestion control, buffers, MSL, keep-alive, the RFC 1337 guard) and the applications'
//! scripts (bytes each way, when to connect, who closes first, both, half-close, abort, a
//! late reader, no listener, simultaneous open). The run is then checked ([`violations`]):
//!
//! - both sides reach ESTABLISHED, or the opener reports refused or timed out;
//! - what each application read is a prefix of what the other sent (SHA-256), all of it when
//!   both closed gracefully;
//! - every state change is an edge of the transition table; nothing new is sent after a FIN;
//!   no ACK acknowledges unsent data; the advertised right window edge never moves left;
//! - TIME-WAIT lasts 2·MSL from its start or from the last retransmitted FIN that restarted
//!   it, computed per host from the trace;
//! - the run ends quiet (not stalled, before a 4-hour deadline) with no connection left (but
//!   a handle the application still holds after a reset or timeout, as a socket), no
//!   TIME-WAIT entry and no timer.
//!
//! ```
//! use driver_sim::chaos::{check_seed, run_seeds, SeedRange};
//! assert!(check_seed(7).passed());
//! let report = run_seeds(SeedRange { start: 0, end: 4 }, 2, |_, _| {});
//! assert_eq!((report.seeds, report.failures.len()), (4, 0));
//! ```

mod case;
mod check;
mod progress;
mod runner;

use core::fmt;
use std::io::Write;

use clap::{Args, ValueEnum};

pub use case::{ChaosCase, Ending, CASE_DEADLINE_US};
pub use check::violations;
pub use progress::Progress;
pub use runner::{check_seed, run_case, run_seeds, CaseResult, ChaosReport, Outcome};

use crate::render::{json_lines, ladder, summary_text, LadderOptions};

/// A half-open range of seeds, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedRange {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl SeedRange {
    /// How many seeds.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Parses `A..B` (B excluded), `A..=B` or a single seed `A`.
///
/// # Errors
///
/// A message when it is not such a range or the range is empty.
pub fn parse_seeds(s: &str) -> Result<SeedRange, String> {
    let num = |x: &str| {
        x.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{x}` is not a seed (a whole number from 0 to 2^64-1)"))
    };
    let range = if let Some((a, b)) = s.split_once("..=") {
        let end = num(b)?
            .checked_add(1)
            .ok_or_else(|| "the last seed is too large".to_string())?;
        SeedRange {
            start: num(a)?,
            end,
        }
    } else if let Some((a, b)) = s.split_once("..") {
        SeedRange {
            start: num(a)?,
            end: num(b)?,
        }
    } else {
        let start = num(s)?;
        SeedRange {
            start,
            end: start.saturating_add(1),
        }
    };
    if range.is_empty() {
        return Err(format!(
            "`{s}` holds no seed: write A..B with A < B (B is excluded), A..=B, or one seed"
        ));
    }
    Ok(range)
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Failing seeds with their replay commands, then the tally.
    Text,
    /// One JSON object per failing seed, then one for the tally (with `--verbose`: each
    /// seed's segments and state changes as JSON lines).
    Json,
}

/// Options of `tcp-sim chaos`.
#[derive(Debug, Clone, Args)]
pub struct ChaosArgs {
    /// Seeds to run: `A..B` (B excluded), `A..=B`, or one seed `A`.
    #[arg(long, value_name = "A..B", value_parser = parse_seeds, default_value = "0..1000")]
    pub seeds: SeedRange,
    /// Worker threads [default: the number of CPUs]; the results do not depend on it.
    #[arg(long, short = 'j', value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Show every seed's case, ladder diagram, summary and verdict (to replay a seed).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// No progress bar on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The command that replays `seed` with its ladder diagram.
#[must_use]
pub fn replay_command(seed: u64) -> String {
    format!(
        "tcp-sim chaos --seeds {seed}..{} --verbose",
        seed.saturating_add(1)
    )
}

/// Runs `tcp-sim chaos` as `args` say, writing to `out`; returns the exit status: 0 when
/// every seed passed, 1 when one failed (or writing failed).
pub fn execute(args: &ChaosArgs, out: &mut impl Write) -> i32 {
    let result = if args.verbose {
        verbose(args, out)
    } else {
        let jobs = args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        let mut bar = Progress::new(args.seeds.len(), !args.quiet);
        let report = run_seeds(args.seeds, jobs, |done, failed| bar.update(done, failed));
        bar.finish();
        write_report(args, jobs, &report, out).map(|()| report.failures.is_empty())
    };
    match result.and_then(|ok| out.flush().map(|()| ok)) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("tcp-sim: {e}");
            1
        }
    }
}

/// Every seed in turn, shown in full.
fn verbose(args: &ChaosArgs, out: &mut impl Write) -> std::io::Result<bool> {
    let mut all_ok = true;
    for seed in args.seeds.start..args.seeds.end {
        let (case, sim, summary, result) = run_case(seed);
        all_ok &= result.passed();
        match args.format {
            ReportFormat::Json => {
                write!(out, "{}", json_lines(sim.trace(), &summary, false))?;
                writeln!(out, "{}", result_json(&result))?;
            }
            ReportFormat::Text => {
                writeln!(out, "tcp-sim chaos {}", case.describe())?;
                writeln!(out)?;
                let opts = LadderOptions { absolute: false };
                write!(out, "{}", ladder(sim.trace(), &summary, opts))?;
                writeln!(out)?;
                write!(out, "{}", summary_text(&summary, sim.trace()))?;
                write_verdict(&result, out)?;
                writeln!(out)?;
            }
        }
    }
    Ok(all_ok)
}

fn write_verdict(r: &CaseResult, out: &mut impl Write) -> std::io::Result<()> {
    if r.passed() {
        writeln!(out, "PASS seed {} ({})", r.seed, r.outcome.name())
    } else {
        writeln!(out, "FAIL seed {}:", r.seed)?;
        for v in &r.violations {
            writeln!(out, "  - {v}")?;
        }
        writeln!(out, "  replay: {}", replay_command(r.seed))
    }
}

fn write_report(
    args: &ChaosArgs,
    jobs: usize,
    report: &ChaosReport,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let secs = report.elapsed.as_secs_f64();
    let failed = report.failures.len() as u64;
    match args.format {
        ReportFormat::Text => {
            for r in &report.failures {
                write_verdict(r, out)?;
            }
            writeln!(
                out,
                "chaos seeds {}: {} passed, {failed} failed in {secs:.1} s on {jobs} thread(s) \
                 ({:.0} seeds/s)",
                args.seeds,
                report.seeds - failed,
                report.seeds as f64 / secs.max(1e-9)
            )?;
            let tally: Vec<String> = Outcome::ALL
                .iter()
                .zip(report.outcomes)
                .filter(|(_, n)| *n > 0)
                .map(|(o, n)| format!("{n} {}", o.name().replace('_', " ")))
                .collect();
            writeln!(
                out,
                "outcomes: {}; {} segments, {:.1} simulated hours",
                tally.join(", "),
                report.segments,
                report.simulated_us as f64 / 3.6e9
            )
        }
        ReportFormat::Json => {
            for r in &report.failures {
                writeln!(out, "{}", result_json(r))?;
            }
            let outcomes: Vec<String> = Outcome::ALL
                .iter()
                .zip(report.outcomes)
                .map(|(o, n)| format!("\"{}\":{n}", o.name()))
                .collect();
            writeln!(
                out,
                "{{\"ev\":\"chaos\",\"seeds\":\"{}\",\"runs\":{},\"passed\":{},\"failed\":{failed},\
                 \"elapsed_s\":{secs:.3},\"jobs\":{jobs},\"segments\":{},\"simulated_us\":{},\
                 \"outcomes\":{{{}}}}}",
                args.seeds,
                report.seeds,
                report.seeds - failed,
                report.segments,
                report.simulated_us,
                outcomes.join(",")
            )
        }
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One seed's verdict as a JSON object.
fn result_json(r: &CaseResult) -> String {
    let v: Vec<String> = r.violations.iter().map(|s| json_string(s)).collect();
    format!(
        "{{\"ev\":\"seed\",\"seed\":{},\"passed\":{},\"outcome\":\"{}\",\"violations\":[{}],\
         \"replay\":{}}}",
        r.seed,
        r.passed(),
        r.outcome.name(),
        v.join(","),
        json_string(&replay_command(r.seed))
    )
}
