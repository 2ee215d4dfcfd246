//! `tcp-sim pkt`: PASS/FAIL per script with the first mismatch, the summary line, and the
//! exit status (0 all passed, 1 some failed, 2 bad arguments or unreadable paths).

use std::path::PathBuf;
use std::process::{Command, Output};

fn tcp_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcp-sim"))
        .args(args)
        .output()
        .expect("tcp-sim runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

/// A fresh folder with scripts of our own
fn scripts(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pkt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).expect("temp folder");
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write script");
    }
    dir
}

const GOOD: &str = "
 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
";

#[test]
fn all_passing_scripts_exit_zero() {
    let dir = scripts(
        "good",
        &[("a.pkt", GOOD), ("sub/b.pkt", GOOD), ("notes.txt", "x")],
    );
    let o = tcp_sim(&["pkt", dir.to_str().expect("UTF-8 path")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("PASS ") && out.contains("a.pkt [rfc]"),
        "{out}"
    );
    assert!(out.contains("sub/b.pkt [rfc]"), "{out}");
    assert!(out.ends_with("2 passed, 0 failed\n"), "{out}");
}

#[test]
fn a_failing_script_shows_its_first_mismatch_and_exits_one() {
    let bad = GOOD.replace("win 65535 <mss 1460>\n+.1", "win 1000 <mss 1460>\n+.1");
    let dir = scripts("bad", &[("good.pkt", GOOD), ("bad.pkt", &bad)]);
    let o = tcp_sim(&[
        "pkt",
        "--profile",
        "linux",
        dir.to_str().expect("UTF-8 path"),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL ") && out.contains("bad.pkt [linux]"),
        "{out}"
    );
    assert!(
        out.contains("line 6: +0 > S. 0:0(0) ack 1 win 1000 <mss 1460>"),
        "{out}"
    );
    assert!(out.contains("window 65535, expected 1000"), "{out}");
    assert!(
        out.contains("PASS ") && out.contains("good.pkt [linux]"),
        "{out}"
    );
    assert!(out.ends_with("1 passed, 1 failed\n"), "{out}");
}

#[test]
fn trace_shows_events_and_segments() {
    let dir = scripts("trace", &[("a.pkt", GOOD)]);
    let file = dir.join("a.pkt");
    let o = tcp_sim(&["pkt", "--trace", file.to_str().expect("UTF-8 path")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("| 0.000000 line 6: +0 > S. 0:0(0) ack 1 win 65535 <mss 1460>"),
        "{out}"
    );
    assert!(out.contains("engine sent S. "), "{out}");
}

#[test]
fn bad_arguments_and_unreadable_paths_exit_two() {
    let o = tcp_sim(&["pkt", "/no/such/script.pkt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such/script.pkt"));
    let empty = scripts("empty", &[]);
    let o = tcp_sim(&["pkt", empty.to_str().expect("UTF-8 path")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no .pkt scripts"));
    let o = tcp_sim(&["pkt", "--profile", "solaris", "x.pkt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the profiles are rfc, linux, freebsd"));
    let o = tcp_sim(&["pkt"]);
    assert_eq!(o.status.code(), Some(2));
}
