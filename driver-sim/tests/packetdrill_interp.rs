//! The packetdrill interpreter on small scripts of our own: what passes, and that every kind
//! of mismatch fails on the right line with a reason.

use driver_sim::packetdrill::{run_script, Outcome, Profile, RunOptions};

fn run_with(script: &str, opts: &RunOptions) -> Outcome {
    run_script(script, None, opts)
}

fn run(script: &str) -> Outcome {
    run_with(script, &RunOptions::default())
}

#[track_caller]
fn passes(script: &str) {
    let o = run(script);
    assert!(o.passed(), "{:?}\nnotes: {:?}", o.result, o.notes);
}

/// Fails on `line` with a reason containing `why`
#[track_caller]
fn fails_at(o: &Outcome, line: usize, why: &str) {
    let f = o.result.as_ref().expect_err("the script should fail");
    assert_eq!(f.line, line, "{f}");
    assert!(
        f.reason.contains(why),
        "reason {:?} lacks {why:?}",
        f.reason
    );
}

const LISTEN: &str = "
 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
";

/// A passive open with SACK offered: the engine's SYN-ACK in the rfc profile
const ACCEPTED: &str = "
+0 < S 0:0(0) win 65535 <mss 1460,nop,nop,sackOK>
+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
";

fn with_accept(rest: &str) -> String {
    format!("{LISTEN}{ACCEPTED}{rest}")
}

#[test]
fn passive_open_data_both_ways_and_close() {
    passes(&with_accept(
        "
+0 < P. 1:101(100) ack 1 win 65535
+.04 > . 1:1(0) ack 101 win 65436
+0 read(4, ..., 1000) = 100
+0 write(4, ..., 10) = 10
+0 > P. 1:11(10) ack 101
+.1 < . 101:101(0) ack 11 win 65535
+0 close(4) = 0
+0 > F. 11:11(0) ack 101
+.1 < F. 101:101(0) ack 12 win 65535
+0 > . 12:12(0) ack 102
",
    ));
}

#[test]
fn active_open_nonblocking_connect_and_so_error() {
    passes(
        "
 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)
+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0 fcntl(3, F_GETFL) = 0x802
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 1>
+.1 < S. 0:0(0) ack 1 win 32768 <mss 1000,nop,nop,sackOK>
+0 > . 1:1(0) ack 1
+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
+0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1000], [4]) = 0
+0 %{ assert tcpi_state == TCP_ESTABLISHED }%
+0 read(3, ..., 100) = -1 EAGAIN (Resource temporarily unavailable)
",
    );
}

#[test]
fn blocking_connect_returns_when_the_handshake_completes() {
    let script = "
 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.100 connect(3, ..., ...) = 0
+0 > S 0:0(0) <...>
+.1 < S. 0:0(0) ack 1 win 32768 <mss 1460>
+0 > . 1:1(0) ack 1
";
    passes(script);
    // The same call expected to return much later: it returned at 0.1 instead.
    let o = run(&script.replace("+0...0.100", "+0...0.500"));
    fails_at(&o, 3, "returned 0 at 0.100000, expected at 0.500000");
}

#[test]
fn refused_connect_reports_econnrefused() {
    passes(
        "
 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.1 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)
+0 > S 0:0(0) <...>
+.1 < R. 0:0(0) ack 1 win 0
+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
",
    );
}

#[test]
fn segment_mismatches_name_the_field() {
    let cases = [
        (
            "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>",
            "+0 > S. 0:0(0) ack 2 <...>",
            "ACK field 1, expected 2",
        ),
        (
            "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>",
            "+0 > S. 0:0(0) ack 1 win 100 <...>",
            "window 65535, expected 100",
        ),
        (
            "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>",
            "+0 > S 0:0(0) ack 1 <...>",
            "flags S., expected S",
        ),
        (
            "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>",
            "+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,eol,eol>",
            "options <mss 1460,nop,nop,sackOK>, expected <mss 1460,sackOK,eol,eol>",
        ),
        (
            "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>",
            "+0 > S. 0:0(0) ack 1",
            "options, expected none",
        ),
        (
            "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>",
            "+0 > S. 0:0(0) ack 1 <mss 1000,nop,nop,sackOK>",
            "expected <mss 1000,nop,nop,sackOK>",
        ),
    ];
    for (good, bad, why) in cases {
        let script = with_accept("").replace(good, bad);
        let o = run(&script);
        fails_at(&o, 8, why);
        let f = o.result.unwrap_err();
        assert!(f.text.starts_with("+0 > S"), "{f}");
        assert!(
            f.reason.contains(
                "the engine sent `S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>` at 0.000000"
            ),
            "{f}"
        );
    }
    let o = run(&with_accept(
        "+0 write(4, ..., 10) = 10\n+0 > P. 2:12(10) ack 1\n",
    ));
    fails_at(&o, 12, "sequence number 1, expected 2");
    let o = run(&with_accept(
        "+0 write(4, ..., 10) = 10\n+0 > P. 1:10(9) ack 1\n",
    ));
    fails_at(&o, 12, "10 payload bytes, expected 9");
}

#[test]
fn timing_is_checked_with_the_tolerance() {
    // The delayed ACK comes 40 ms after the data (rfc profile).
    let data = "+0 < P. 1:101(100) ack 1 win 65535\n";
    passes(&with_accept(&format!("{data}+.040 > . 1:1(0) ack 101\n")));
    passes(&with_accept(&format!("{data}+.037 > . 1:1(0) ack 101\n"))); // 4 ms tolerance
    let o = run(&with_accept(&format!("{data}+.030 > . 1:1(0) ack 101\n")));
    fails_at(&o, 12, "the engine sent nothing by 0.134000");
    let o = run(&with_accept(&format!("{data}+.050 > . 1:1(0) ack 101\n")));
    // 12.5 % of the 50 ms since the previous event is more than the 4 ms floor.
    fails_at(
        &o,
        12,
        "sent at the wrong time: the line allows 0.143750 to 0.156250",
    );
    // A wider tolerance, a range and `*` all accept it.
    passes(&format!(
        "--tolerance_usecs=20000\n{}",
        with_accept(&format!("{data}+.050 > . 1:1(0) ack 101\n"))
    ));
    passes(&with_accept(&format!(
        "{data}+.02~+.06 > . 1:1(0) ack 101\n"
    )));
    passes(&with_accept(&format!("{data}* > . 1:1(0) ack 101\n")));
}

#[test]
fn retransmissions_follow_the_virtual_clock() {
    // SYN-ACK retransmitted after the 1 s initial RTO, then after 2 s (RFC 6298).
    passes(&format!(
        "{LISTEN}
0.1 < S 0:0(0) win 65535 <mss 1460>
0.1 > S. 0:0(0) ack 1 <mss 1460>
1.1 > S. 0:0(0) ack 1 <mss 1460>
3.1 > S. 0:0(0) ack 1 <mss 1460>
"
    ));
}

#[test]
fn large_writes_match_one_aggregated_line_unless_strict_segments() {
    let script = with_accept("+0 write(4, ..., 4380) = 4380\n+0 > P. 1:4381(4380) ack 1\n");
    passes(&script);
    let o = run(&format!("--strict_segments\n{script}"));
    fails_at(
        &o,
        13,
        "the engine sent `. 1:1461(1460) ack 1 win 65535` at 0.100000: flags ., expected P.",
    );
}

#[test]
fn reads_check_the_bytes_and_peek_leaves_them() {
    passes(&with_accept(
        "
+0 < P. 1:1001(1000) ack 1 win 65535
+0 ioctl(4, SIOCINQ, [1000]) = 0
+0 recv(4, ..., 300, MSG_PEEK) = 300
+0 recv(4, ..., 2000, 0) = 1000
+0 < F. 1001:1001(0) ack 1 win 65535
+0 > . 1:1(0) ack 1002
+0 read(4, ..., 10) = 0
",
    ));
}

#[test]
fn closed_ports_and_listeners_answer_with_rst() {
    passes(
        "
 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+.1 < . 17:17(0) ack 34 win 32767
+0 > R 34:34(0) win 0
+0 < S 0:0(0) win 32767 <mss 1460>
+0 > R. 0:0(0) ack 1 win 0
",
    );
}

#[test]
fn close_with_unread_data_and_linger_zero_send_rst() {
    passes(&with_accept(
        "
+0 < P. 1:11(10) ack 1 win 65535
+0 close(4) = 0
+0 > R. 1:1(0) ack 11 win 0
",
    ));
    passes(&with_accept(
        "
+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
+0 close(4) = 0
+0 > R 1:1(0) win 0
",
    ));
}

#[test]
fn shutdown_then_write_is_epipe_and_state_is_checked() {
    passes(&with_accept(
        "
+0 shutdown(4, SHUT_WR) = 0
+0 > F. 1:1(0) ack 1
+0 write(4, ..., 10) = -1 EPIPE (Broken pipe)
+0 %{ assert tcpi_state == TCPI_FIN_WAIT_1 }%
+.1 < . 1:1(0) ack 2 win 65535
+0 %{ assert tcpi_state == TCPI_FIN_WAIT_2 }%
+0 < F. 1:1(0) ack 2 win 65535
+0 > . 2:2(0) ack 2
+0 `sockstat -4 -P tcp -s | grep packetdril | grep -c TIME_WAIT | grep 1`
",
    ));
    let o = run(&with_accept(
        "+0 %{ assert tcpi_state == TCPI_CLOSE_WAIT }%\n",
    ));
    fails_at(&o, 11, "tcpi_state is ESTABLISHED, expected == CLOSE-WAIT");
    let o = run(&with_accept(
        "+0 `sockstat -4 -P tcp -s | grep -c ESTABLISHED | grep 2`\n",
    ));
    fails_at(&o, 11, "1 connections in ESTABLISHED, expected 2");
}

#[test]
fn timestamps_map_between_script_and_engine_values() {
    let script = "
 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 1>
+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr 100,nop,wscale 7>
+0 > . 1:1(0) ack 1 <nop,nop,TS val 200 ecr 700>
+0 write(3, ..., 10) = 10
+0 > P. 1:11(10) ack 1 <nop,nop,TS val 200 ecr 700>
+.1 < . 1:1(0) ack 11 win 92 <nop,nop,TS val 800 ecr 200>
";
    let strict = RunOptions {
        check_ecr: true,
        ..RunOptions::default()
    };
    let o = run_with(script, &strict);
    assert!(o.passed(), "{:?}", o.result);
    // A wrong ecr is caught only when asked for.
    let bad = script.replace("ecr 700>\n+0 write", "ecr 701>\n+0 write");
    assert!(run(&bad).passed());
    fails_at(&run_with(&bad, &strict), 7, "TS ecr 700, expected 701");
}

#[test]
fn lines_that_cannot_run_fail_with_their_line() {
    let o = run(&with_accept(
        "+0 setsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [3000], 4) = 0\n",
    ));
    fails_at(&o, 11, "no per-connection user timeout");
    let o = run(&with_accept("+0 `ip link set dev tun0 mtu 1000`\n"));
    fails_at(
        &o,
        11,
        "shell command `ip link set dev tun0 mtu 1000` is not supported",
    );
    let o = run(&with_accept("+0 %{ print(tcpi_rtt) }%\n"));
    fails_at(&o, 11, "is not supported");
    let o = run(&with_accept("+0 epoll_create(1) = 5\n"));
    fails_at(&o, 11, "system call epoll_create is not supported");
    // Syntax errors too, with the line.
    let o = run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) <FO abcd>\n");
    fails_at(&o, 2, "TCP option `FO` is not supported");
    let o = run("--no_such_option=1\n");
    fails_at(&o, 1, "unknown option");
}

#[test]
fn wrong_return_values_fail_unless_non_fatal() {
    let o = run(&with_accept(
        "+0 < P. 1:11(10) ack 1 win 65535\n+0 read(4, ..., 10) = 5\n",
    ));
    fails_at(&o, 12, "read returned 10, expected 5");
    // A blocking read with nothing to read never returns.
    let o = run(&with_accept("+0 read(4, ..., 10) = 10\n"));
    fails_at(
        &o,
        11,
        "the call had not returned by 0.104000 (expected at 0.100000)",
    );
    let script = format!(
        "--non_fatal=syscall\n{}",
        with_accept("+0 write(4, ..., 10) = 11\n")
    );
    let o = run(&script);
    assert!(o.passed(), "{:?}", o.result);
    assert!(
        o.notes
            .iter()
            .any(|n| n.contains("write returned 10, expected 11")),
        "{:?}",
        o.notes
    );
}

#[test]
fn freebsd_settings_come_from_sysctl_lines() {
    let script = "
 0 `sysctl -w net.inet.tcp.rexmit_initial=500`
+0 `sysctl -w net.inet.tcp.recvspace=32768`
+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [32768], [4]) = 0
+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0 fcntl(3, F_GETFL) = 0x6
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) win 33580 <...>
+.5 > S 0:0(0) win 33580 <...>
+.1 < S. 0:0(0) ack 1 win 32767 <mss 1460>
+0 > . 1:1(0) ack 1 win 33580
+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [33580], [4]) = 0
";
    let opts = RunOptions {
        profile: Some(Profile::FreeBsd),
        ..RunOptions::default()
    };
    let o = run_with(script, &opts);
    assert!(o.passed(), "{:?}", o.result);
}

#[test]
fn profiles_choose_option_layout_and_window_shift() {
    let connect = "
 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
";
    let opts = |p| RunOptions {
        profile: Some(p),
        ..RunOptions::default()
    };
    let rfc =
        format!("{connect}+0 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 1>\n");
    assert!(run_with(&rfc, &opts(Profile::Rfc)).passed());
    let linux = format!("{connect}+0 > S 0:0(0) <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 6>\n");
    assert!(run_with(&linux, &opts(Profile::Linux)).passed());
    let google = format!("`../common/defaults.sh`\n{connect}+0 > S 0:0(0) <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>\n");
    let o = run_with(&google, &opts(Profile::Linux));
    assert!(o.passed(), "{:?}", o.result);
    assert!(
        o.notes.iter().any(|n| n.contains("RACK/TLP")),
        "{:?}",
        o.notes
    );
}

#[test]
fn ifdef_runs_the_standard_branch() {
    passes(&with_accept(
        "
#ifdef FreeBSD
+0 > . 1:1(0) ack 999
#else
+0 write(4, ..., 1) = 1
#endif
#ifdef STANDARD
+0 > P. 1:2(1) ack 1
#endif
",
    ));
}
