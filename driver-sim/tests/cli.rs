//! The `tcp-sim` binary: the demo, the scenario list, JSON lines, pcap and SVG files, help,
//! and exit status 2 on bad arguments.

use std::path::PathBuf;
use std::process::{Command, Output};

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

fn temp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}", std::process::id()))
}

#[test]
fn no_arguments_runs_the_demo() {
    let o = tcp_sim(&[]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.starts_with("tcp-sim demo: "), "{out}");
    for want in [
        "A 10.0.0.1:",
        "B 10.0.0.2:80",
        "SYN-SENT",
        "S  seq 0 win 65535 <mss 1460,ws 1,sack,ts>",
        "TIME-WAIT",
        "LAST-ACK",
        "Summary: ",
        "A → B      65536 bytes sent,     65536 received, intact",
        "B → A      65536 bytes sent,     65536 received, intact",
        "data intact       yes",
        "final states      A CLOSED (normal), B CLOSED (normal)",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    // The same run again gives the same bytes.
    assert_eq!(stdout(&tcp_sim(&[])), out);
}

#[test]
fn scenarios_are_listed_one_per_line() {
    let o = tcp_sim(&["scenarios"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for name in [
        "demo",
        "handshake",
        "transfer",
        "half-close",
        "simultaneous-open",
        "simultaneous-close",
        "abort",
        "refused",
        "lost-syn",
        "lost-synack",
        "lost-final-ack",
        "fin-wait-2-timeout",
        "zero-window",
        "keepalive",
    ] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed"));
        assert!(line.len() > name.len() + 10, "{line}");
    }
}

#[test]
fn json_lines_show_both_sides_through_closing_and_time_wait() {
    let o = tcp_sim(&[
        "run",
        "--scenario",
        "simultaneous-close",
        "--format",
        "json",
    ]);
    assert!(o.status.success());
    let out = stdout(&o);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let first_seg = out.lines().find(|l| l.contains("\"ev\":\"seg\"")).unwrap();
    assert!(
        first_seg.starts_with("{\"t_us\":0,\"ev\":\"seg\",\"src\":\"A\",\"dst\":\"B\",\"flags\":\"S\",\"seq\":0,\"ack\":0,\"len\":0,\"win\":65535,\"fate\":\"delivered\"}"),
        "{first_seg}"
    );
    for host in ["A", "B"] {
        let path: Vec<&str> = lines
            .iter()
            .filter(|v| v["ev"] == "state" && v["host"] == host)
            .map(|v| v["to"].as_str().unwrap())
            .collect();
        let tail = &path[path.len() - 4..];
        assert_eq!(
            tail,
            ["FIN-WAIT-1", "CLOSING", "TIME-WAIT", "CLOSED"],
            "{host}"
        );
        let at = |s: &str| {
            lines
                .iter()
                .find(|v| v["ev"] == "state" && v["host"] == host && v["to"] == s)
                .unwrap()["t_us"]
                .as_u64()
                .unwrap()
        };
        assert_eq!(at("CLOSED") - at("TIME-WAIT"), 60_000_000, "2·MSL");
    }
    let summary = lines.last().unwrap();
    assert_eq!(summary["ev"], "summary");
    assert_eq!(summary["intact"], true);
    assert_eq!(summary["final"]["A"], "CLOSED");
    assert_eq!(summary["final"]["B"], "CLOSED");
    for key in [
        "bytes_a_to_b",
        "bytes_b_to_a",
        "retransmissions",
        "duration_us",
    ] {
        assert!(summary[key].is_u64(), "{key}");
    }
}

#[test]
fn json_marks_targeted_losses_as_lost() {
    let o = tcp_sim(&["run", "-s", "lost-syn", "--format", "json", "--absolute"]);
    let out = stdout(&o);
    let first: Value =
        serde_json::from_str(out.lines().find(|l| l.contains("seg")).unwrap()).unwrap();
    assert_eq!(first["fate"], "lost");
    assert_eq!(first["cause"], "rule");
    assert_ne!(first["seq"], 0, "absolute sequence numbers");
}

#[test]
fn pcap_holds_the_handshake() {
    let path = temp("handshake.pcap");
    let o = tcp_sim(&["run", "-s", "transfer", "--pcap", path.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let bytes = std::fs::read(&path).unwrap();
    let cap = driver_pcap_replay::read_capture(&bytes).unwrap();
    assert!(cap.is_complete());
    assert!(cap.skipped.is_empty());
    let flags: Vec<u8> = cap.segments.iter().map(|s| s.tcp[13]).collect();
    // SYN, SYN-ACK, ACK.
    assert_eq!(flags[..2], [0x02, 0x12]);
    assert_eq!(flags[2] & 0x17, 0x10);
    let (a, b) = (&cap.segments[0], &cap.segments[1]);
    assert_eq!((a.src, a.dst), (b.dst, b.src));
    assert_eq!(a.timestamp_us, 0);
    assert_eq!(b.timestamp_us, 10_000);
    if let Ok(t) = Command::new("tshark")
        .args([
            "-r",
            path.to_str().unwrap(),
            "-Y",
            "_ws.malformed || _ws.expert.severity == error",
        ])
        .output()
    {
        if t.status.success() {
            assert_eq!(stdout(&t), "", "tshark finds malformed packets");
        }
    }
    let _ = std::fs::remove_file(path);
}

#[test]
fn svg_draws_the_time_sequence_graph() {
    let path = temp("demo.svg");
    let o = tcp_sim(&["--seed", "4", "--svg", path.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
    for want in [
        "A → B",
        "B → A",
        "retransmission",
        "ACK + window",
        "time (ms)",
    ] {
        assert!(svg.contains(want), "missing {want}");
    }
    let _ = std::fs::remove_file(path);
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["scenarios", "--help"],
        &["help", "run"],
    ] {
        let o = tcp_sim(args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("Usage: tcp-sim"), "{args:?}");
    }
    let run_help = stdout(&tcp_sim(&["run", "--help"]));
    for opt in [
        "--scenario",
        "--loss",
        "--dup",
        "--reorder",
        "--corrupt",
        "--delay",
        "--jitter",
        "--rate",
        "--mtu",
        "--bytes",
        "--seed",
        "--msl",
        "--format",
        "--pcap",
        "--svg",
    ] {
        assert!(run_help.contains(opt), "{opt} undocumented");
    }
}

#[test]
fn bad_arguments_exit_with_status_2_and_say_why() {
    for (args, why) in [
        (&["run", "--loss", "2"][..], "probability"),
        (&["run", "--dup", "-0.1"], "probability"),
        (&["run", "--reorder", "abc"], "not a number"),
        (&["--corrupt", "NaN"], "not a number"),
        (&["run", "--scenario", "nope"], "unknown scenario `nope`"),
        (&["run", "--mtu", "10"], "--mtu"),
        (&["run", "--rate", "0"], "rate"),
        (&["run", "--format", "xml"], "xml"),
        (&["run", "--bogus"], "--bogus"),
        (&["frobnicate"], "frobnicate"),
    ] {
        let o = tcp_sim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn unwritable_output_file_is_an_error() {
    let o = tcp_sim(&[
        "run",
        "-s",
        "handshake",
        "--pcap",
        "/nonexistent-dir/x.pcap",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent-dir/x.pcap"));
}
