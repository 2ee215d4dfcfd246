//! Running chaos cases: one seed (with its trace, for replay), or a range of seeds on worker
//! threads with the failures collected.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tcp_engine::conn::CloseReason;

use super::case::ChaosCase;
use super::check::violations;
use super::SeedRange;
use crate::sim::{Sim, Summary, TraceEvent};

/// How a case's conversation ended, for the tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Both sides closed normally.
    Graceful,
    /// One side aborted.
    Aborted,
    /// The opener's SYN was refused.
    Refused,
    /// A connection was reset by its peer.
    Reset,
    /// A connection timed out.
    TimedOut,
    /// Anything else (a failing case, usually).
    Other,
}

impl Outcome {
    /// Every outcome, in tally order.
    pub const ALL: [Self; 6] = [
        Self::Graceful,
        Self::Aborted,
        Self::Refused,
        Self::Reset,
        Self::TimedOut,
        Self::Other,
    ];

    /// A lower-case name: `graceful`, `aborted`, `refused`, `reset`, `timed_out`, `other`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Graceful => "graceful",
            Self::Aborted => "aborted",
            Self::Refused => "refused",
            Self::Reset => "reset",
            Self::TimedOut => "timed_out",
            Self::Other => "other",
        }
    }

    fn of(summary: &Summary) -> Self {
        let reasons: Vec<Option<CloseReason>> =
            summary.hosts.iter().map(|h| h.close_reason).collect();
        let any = |r: CloseReason| reasons.contains(&Some(r));
        if reasons.iter().all(|r| *r == Some(CloseReason::Normal)) {
            Self::Graceful
        } else if any(CloseReason::Aborted) {
            Self::Aborted
        } else if any(CloseReason::Refused) {
            Self::Refused
        } else if any(CloseReason::TimedOut) {
            Self::TimedOut
        } else if any(CloseReason::Reset) {
            Self::Reset
        } else {
            Self::Other
        }
    }
}

/// What one seed gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The seed.
    pub seed: u64,
    /// The invariants it broke (empty: it passed).
    pub violations: Vec<String>,
    /// How the conversation ended.
    pub outcome: Outcome,
    /// Segments that entered the link.
    pub segments: u64,
    /// Simulated time, in µs.
    pub simulated_us: u64,
}

impl CaseResult {
    /// Whether every invariant held.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Runs seed `seed`'s case and checks it; returns the case, the finished simulation (for its
/// trace), the summary and the verdict.
#[must_use]
pub fn run_case(seed: u64) -> (ChaosCase, Sim, Summary, CaseResult) {
    let case = ChaosCase::from_seed(seed);
    let mut sim = case.build();
    let summary = sim.run();
    let result = CaseResult {
        seed,
        violations: violations(&case, &sim, &summary),
        outcome: Outcome::of(&summary),
        segments: sim
            .trace()
            .iter()
            .filter(|e| matches!(e, TraceEvent::Segment(_)))
            .count() as u64,
        simulated_us: summary.duration_us,
    };
    (case, sim, summary, result)
}

/// Runs and checks seed `seed`; a panic (in the engine or the harness) is a violation too.
#[must_use]
pub fn check_seed(seed: u64) -> CaseResult {
    catch_unwind(AssertUnwindSafe(|| run_case(seed).3)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        CaseResult {
            seed,
            violations: vec![format!("panicked: {msg}")],
            outcome: Outcome::Other,
            segments: 0,
            simulated_us: 0,
        }
    })
}

/// The tally of a range of seeds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChaosReport {
    /// Seeds run.
    pub seeds: u64,
    /// The failing seeds' results, in seed order.
    pub failures: Vec<CaseResult>,
    /// Cases per outcome, indexed as [`Outcome::ALL`].
    pub outcomes: [u64; 6],
    /// Segments over all cases.
    pub segments: u64,
    /// Simulated time over all cases, in µs.
    pub simulated_us: u64,
    /// Wall-clock time the run took.
    pub elapsed: Duration,
}

impl ChaosReport {
    fn add(&mut self, r: CaseResult) {
        self.seeds += 1;
        self.segments += r.segments;
        self.simulated_us += r.simulated_us;
        if let Some(i) = Outcome::ALL.iter().position(|o| *o == r.outcome) {
            self.outcomes[i] += 1;
        }
        if !r.passed() {
            self.failures.push(r);
        }
    }
}

/// Runs every seed of `seeds` on `jobs` threads (each seed is deterministic, whatever thread
/// runs it); `progress(done, failed)` is called on this thread after each seed.
#[must_use]
pub fn run_seeds(seeds: SeedRange, jobs: usize, mut progress: impl FnMut(u64, u64)) -> ChaosReport {
    let started = std::time::Instant::now();
    let next = AtomicU64::new(seeds.start);
    let mut report = ChaosReport::default();
    let (tx, rx) = mpsc::channel::<CaseResult>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= seeds.end || seed < seeds.start {
                    break;
                }
                if tx.send(check_seed(seed)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for r in rx {
            report.add(r);
            progress(report.seeds, report.failures.len() as u64);
        }
    });
    report.failures.sort_by_key(|r| r.seed);
    report.elapsed = started.elapsed();
    report
}
