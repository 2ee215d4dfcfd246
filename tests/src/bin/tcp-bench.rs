//! `tcp-bench`: our engine and smoltcp 0.14 measured side by side (see `tcp_tests::bench`)
//!
//! ```text
//! cargo run --release -p tcp-tests --bin tcp-bench -- [bulk|churn|idle|lossy|size|all] [--json]
//!     --stack both|ours|smoltcp|baseline   which stacks run (baseline: the application's
//!                                           byte checking alone, for instruction counts)
//!     --bytes N[K|M]   bulk transfer size (default 64M)
//!     --conns N        churn connections (default 2000)
//!     --runs N         bulk/idle/churn repetitions, the best is kept (default 3)
//!     --seeds N        lossy seeds (default 20)
//!     --idle A,B,..    idle connection counts (default 0,10,100,1000,10000)
//!     --idle-bytes N   transfer size beside the idle connections (default 8M)
//! ```
//!
//! Progress goes to stderr; the table (or JSON lines) to stdout.
//!
//! # Instruction counts
//!
//! `tests/bench-callgrind.sh` runs `bulk` and `churn` for each stack alone under
//! `valgrind --tool=callgrind` with
//! `GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295` (so glibc's `rep movsb`
//! copies are counted per byte for both stacks), at two sizes, and prints the marginal
//! instructions per byte and per connection (the difference between the two sizes divided by
//! the difference in bytes or connections, which cancels start-up and connection setup; for
//! bulk the application's own byte checking, measured with `--stack baseline`, is shown and
//! subtracted):
//!
//! ```text
//! tests/bench-callgrind.sh            # prints the figures and our top functions
//! ```

use std::process::ExitCode;

use tcp_tests::bench::{bulk, churn, lossy, report, size, Figure, Stacks, MIB};

struct Args {
    workload: String,
    json: bool,
    stacks: Stacks,
    bytes: u64,
    conns: usize,
    runs: usize,
    seeds: u64,
    idle: Vec<usize>,
    idle_bytes: u64,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mul) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 1024),
        Some(b'M' | b'm') => (&s[..s.len() - 1], MIB),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .map(|n| n * mul)
        .map_err(|e| format!("bad size {s:?}: {e}"))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        workload: "all".into(),
        json: false,
        stacks: Stacks::Both,
        bytes: 64 * MIB,
        conns: 2000,
        runs: 3,
        seeds: 20,
        idle: vec![0, 10, 100, 1000, 10_000],
        idle_bytes: 8 * MIB,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--json" => a.json = true,
            "--stack" => {
                a.stacks = match value()?.as_str() {
                    "both" => Stacks::Both,
                    "ours" => Stacks::Ours,
                    "smoltcp" => Stacks::Smoltcp,
                    "baseline" | "none" => Stacks::Baseline,
                    s => return Err(format!("unknown stack {s:?}")),
                }
            }
            "--bytes" => a.bytes = parse_size(&value()?)?,
            "--idle-bytes" => a.idle_bytes = parse_size(&value()?)?,
            "--conns" => a.conns = value()?.parse().map_err(|e| format!("--conns: {e}"))?,
            "--runs" => a.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--seeds" => a.seeds = value()?.parse().map_err(|e| format!("--seeds: {e}"))?,
            "--idle" => {
                a.idle = value()?
                    .split(',')
                    .map(|n| n.trim().parse().map_err(|e| format!("--idle: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "-h" | "--help" => {
                return Err(
                    "usage: tcp-bench [bulk|churn|idle|lossy|size|all] [--json] \
                     [--stack both|ours|smoltcp|baseline] [--bytes N] [--conns N] [--runs N] \
                     [--seeds N] [--idle A,B,..] [--idle-bytes N]"
                        .into(),
                )
            }
            w if !w.starts_with('-') => a.workload = w.into(),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(a)
}

fn run(a: &Args) -> Result<Vec<Figure>, Box<dyn std::error::Error>> {
    let all = a.workload == "all";
    let mut figures = Vec::new();
    let mut emit = |new: Vec<Figure>| {
        if a.json {
            for f in &new {
                println!("{}", report::json(f));
            }
        }
        figures.extend(new);
    };
    if !["all", "bulk", "churn", "idle", "lossy", "size"].contains(&a.workload.as_str()) {
        return Err(format!("unknown workload {:?}", a.workload).into());
    }
    if all || a.workload == "size" {
        emit(size::size());
    }
    if all || a.workload == "bulk" {
        eprintln!(
            "bulk: {} MiB client -> server, best of {}",
            a.bytes / MIB,
            a.runs
        );
        emit(bulk::bulk(a.stacks, a.bytes, a.runs)?);
    }
    if all || a.workload == "churn" {
        eprintln!("churn: {} sequential connections", a.conns);
        if a.stacks == Stacks::Baseline {
            emit(Vec::new());
        } else {
            emit(churn::churn(a.stacks, a.conns, a.runs)?);
        }
    }
    if all || a.workload == "idle" {
        let mib = a.idle_bytes / MIB;
        eprintln!("idle: {mib} MiB beside {:?} idle connections", a.idle);
        emit(bulk::idle(a.stacks, &a.idle, a.idle_bytes, a.runs)?);
    }
    if all || a.workload == "lossy" {
        eprintln!(
            "lossy: 8 MiB, 1% loss each way, 5 ms one-way, {} seeds",
            a.seeds
        );
        emit(lossy::lossy(a.stacks, a.seeds)?);
    }
    Ok(figures)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(figures) => {
            if !args.json {
                print!("{}", report::table(&figures));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tcp-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
