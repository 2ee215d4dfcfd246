//! `tcp-sim chaos`: a range of random scenarios holds every invariant, the checker catches a
//! broken one, runs are deterministic, and the command line replays seeds and reports in text
//! and JSON.

use std::process::{Command, Output};

use driver_sim::chaos::{
    check_seed, parse_seeds, replay_command, run_case, run_seeds, violations, ChaosCase, SeedRange,
};
use serde_json::Value;

fn tcp_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcp-sim"))
        .args(args)
        .output()
        .expect("tcp-sim runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn two_hundred_seeds_hold_every_invariant() {
    let report = run_seeds(SeedRange { start: 0, end: 200 }, 2, |_, _| {});
    assert_eq!(report.seeds, 200);
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|r| format!("seed {}: {:?}", r.seed, r.violations))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    // The range exercises more than the happy path.
    let [graceful, aborted, refused, ..] = report.outcomes;
    assert!(
        graceful > 100 && aborted > 10 && refused > 0,
        "{:?}",
        report.outcomes
    );
}

#[test]
fn the_checker_catches_a_wrong_time_wait() {
    // Find a graceful case, then claim the engines used another MSL: TIME-WAIT no longer
    // matches 2·MSL and the checker must say so.
    let (mut case, sim, summary, result) = (0..50)
        .map(run_case)
        .find(|(_, _, _, r)| r.passed() && r.outcome == driver_sim::chaos::Outcome::Graceful)
        .expect("a graceful case among the first 50 seeds");
    assert!(violations(&case, &sim, &summary).is_empty(), "{result:?}");
    for e in &mut case.engines {
        e.conn.msl *= 2;
    }
    let v = violations(&case, &sim, &summary);
    assert!(v.iter().any(|s| s.contains("TIME-WAIT")), "{v:?}");
}

#[test]
fn the_checker_catches_missing_data() {
    let (mut case, sim, summary, _) = (0..50)
        .map(run_case)
        .find(|(c, _, _, r)| {
            r.passed() && r.outcome == driver_sim::chaos::Outcome::Graceful && c.bytes[0] > 0
        })
        .expect("a graceful case with data among the first 50 seeds");
    case.bytes[0] += 1; // A "sent" one byte more than B read
    let v = violations(&case, &sim, &summary);
    assert!(v.iter().any(|s| s.contains("closed gracefully")), "{v:?}");
}

#[test]
fn a_seed_is_deterministic() {
    assert_eq!(ChaosCase::from_seed(42), ChaosCase::from_seed(42));
    assert_ne!(ChaosCase::from_seed(42), ChaosCase::from_seed(43));
    let (_, a, _, ra) = run_case(42);
    let (_, b, _, rb) = run_case(42);
    assert_eq!(a.trace(), b.trace());
    assert_eq!(ra, rb);
    assert_eq!(check_seed(42), ra);
}

#[test]
fn seed_ranges_parse() {
    let r = |s| parse_seeds(s).map(|r| (r.start, r.end));
    assert_eq!(r("3..10"), Ok((3, 10)));
    assert_eq!(r("3..=10"), Ok((3, 11)));
    assert_eq!(r("7"), Ok((7, 8)));
    assert!(r("10..3").is_err());
    assert!(r("5..5").is_err());
    assert!(r("a..b").is_err());
    assert!(r("18446744073709551615..=18446744073709551615").is_err());
    assert_eq!(
        replay_command(1234),
        "tcp-sim chaos --seeds 1234..1235 --verbose"
    );
}

#[test]
fn the_command_reports_and_exits_zero() {
    let o = tcp_sim(&["chaos", "--seeds", "10..30", "--jobs", "2"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    assert!(
        out.contains("chaos seeds 10..30: 20 passed, 0 failed"),
        "{out}"
    );
    assert!(out.contains("outcomes: "), "{out}");
}

#[test]
fn verbose_replays_a_seed_with_its_ladder() {
    let o = tcp_sim(&["chaos", "--seeds", "3..4", "--verbose"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    for want in [
        "tcp-sim chaos seed 3: ",
        "t (ms)",
        "Summary: ",
        "PASS seed 3",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
}

#[test]
fn json_ends_with_the_tally() {
    let o = tcp_sim(&["chaos", "--seeds", "0..5", "--format", "json", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    let last: Value = serde_json::from_str(out.lines().last().expect("a line")).expect("JSON");
    assert_eq!(last["ev"], "chaos");
    assert_eq!(last["runs"], 5);
    assert_eq!(last["failed"], 0);
    let verbose = tcp_sim(&["chaos", "--seeds", "1", "--format", "json", "--verbose"]);
    for line in stdout(&verbose).lines() {
        let _: Value = serde_json::from_str(line).expect("every line is JSON");
    }
}

#[test]
fn bad_arguments_exit_two() {
    for args in [
        &["chaos", "--seeds", "9..2"][..],
        &["chaos", "--seeds", "x"],
        &["chaos", "--jobs", "0"],
        &["chaos", "--format", "xml"],
    ] {
        let o = tcp_sim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
    }
    let help = tcp_sim(&["chaos", "--help"]);
    assert!(stdout(&help).contains("--seeds"));
}
