//! The `tcp-replay` binary: output and exit statuses, on captures made here
//! with the crate's own writer (no shared corpus needed).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Command, Output};

use driver_pcap_replay::{ip_packet, PcapWriter};
use tcp_engine::seq::SeqNumber;
use tcp_engine::wire::{TcpFlags, TcpOptions, TcpRepr};

const C: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const S: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

/// (from the client?, flags, seq, ack, payload)
type Seg = (bool, TcpFlags, u32, u32, &'static [u8]);

fn capture(segments: &[Seg]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new()).expect("header");
    for (i, &(to_server, flags, seq, ack, payload)) in segments.iter().enumerate() {
        let (src, dst, sp, dp) = if to_server {
            (C, S, 40000, 80)
        } else {
            (S, C, 80, 40000)
        };
        let syn = flags.contains(TcpFlags::SYN);
        let repr = TcpRepr {
            src_port: sp,
            dst_port: dp,
            flags,
            seq_number: SeqNumber(seq),
            ack_number: SeqNumber(ack),
            window_len: 64240,
            urgent_pointer: 0,
            options: TcpOptions {
                mss: syn.then_some(1460),
                ..TcpOptions::NONE
            },
            payload,
        };
        let mut buf = vec![0; repr.buffer_len()];
        let n = repr.emit(&mut buf, &src, &dst).expect("emit");
        let t = 1_700_000_000_000_000 + 1_000 * i as u64;
        w.write_packet(t, &ip_packet(src, dst, &buf[..n]))
            .expect("write");
    }
    w.into_inner()
}

fn textbook() -> Vec<u8> {
    let (a, pa, fa) = (
        TcpFlags::ACK,
        TcpFlags::PSH | TcpFlags::ACK,
        TcpFlags::FIN | TcpFlags::ACK,
    );
    capture(&[
        (true, TcpFlags::SYN, 100, 0, b""),
        (false, TcpFlags::SYN | TcpFlags::ACK, 500, 101, b""),
        (true, a, 101, 501, b""),
        (true, pa, 101, 501, b"GET /\r\n"),
        (false, pa, 501, 108, b"hello"),
        (true, fa, 108, 506, b""),
        (false, fa, 506, 109, b""),
        (true, a, 109, 507, b""),
    ])
}

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("tcp-replay-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("temp file");
    path
}

fn tcp_replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcp-replay"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn flows_prints_a_table() {
    let path = file("flows.pcap", &textbook());
    let o = tcp_replay(&["flows", path.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let row = out.lines().nth(1).expect("one flow");
    for part in [
        "192.0.2.1:40000",
        "192.0.2.2:80",
        " 5 ",
        " 3 ",
        " 7 ",
        "yes",
        "FIN from both",
    ] {
        assert!(row.contains(part), "{part:?} not in {row:?}");
    }
    let o = tcp_replay(&["flows", "--format", "json", path.to_str().expect("utf-8")]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["flows"][0]["handshake"]["ack"], true);
}

#[test]
fn replay_prints_steps_and_summary() {
    let path = file("replay.pcap", &textbook());
    let p = path.to_str().expect("utf-8");
    for role in ["server", "client"] {
        let o = tcp_replay(&["replay", p, "--as", role]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains(&format!("the engine plays the {role}")),
            "{out}"
        );
        assert!(out.contains("summary: "), "{out}");
        assert!(out.contains("ESTABLISHED"), "{out}");
        let o = tcp_replay(&["replay", p, "--as", role, "--format", "json", "--flow", "0"]);
        assert_eq!(o.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        assert_eq!(v["role"], role);
        assert!(v["counts"]["steps"].as_u64().expect("steps") >= 4);
        assert_eq!(v["steps"][0]["verdict"], "match", "{}", stdout(&o));
    }
}

#[test]
fn a_flow_without_handshake_still_exits_0() {
    let path = file(
        "midstream.pcap",
        &capture(&[(false, TcpFlags::ACK, 9, 9, b"xyz")]),
    );
    let o = tcp_replay(&["replay", path.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("no handshake, cannot replay"));
}

fn assert_fails(args: &[&str], want: &str) {
    let o = tcp_replay(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(want), "{args:?}: {err}");
    assert!(o.stdout.is_empty(), "{args:?}");
}

#[test]
fn bad_files_exit_2_with_one_line() {
    let garbage = file("garbage.pcap", b"this is not a capture file at all");
    let g = garbage.to_str().expect("utf-8");
    assert_fails(&["flows", g], "not a pcap or pcapng file");
    assert_fails(&["replay", g], "not a pcap or pcapng file");
    assert_eq!(stderr(&tcp_replay(&["flows", g])).lines().count(), 1);
    let whole = textbook();
    let cut = file("cut.pcap", &whole[..whole.len() - 10]);
    let c = cut.to_str().expect("utf-8");
    assert_fails(&["flows", c], "truncated");
    assert_fails(&["replay", c], "truncated");
    assert_eq!(stderr(&tcp_replay(&["replay", c])).lines().count(), 1);
    // --lenient reads the records before the cut and warns.
    let o = tcp_replay(&["flows", "--lenient", c]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("warning"));
    assert_fails(&["flows", "/nonexistent/capture.pcap"], "cannot read");
    let header_only = file("header.pcap", &whole[..10]);
    assert_fails(
        &["flows", header_only.to_str().expect("utf-8")],
        "truncated",
    );
}

#[test]
fn bad_arguments_exit_2() {
    let path = file("args.pcap", &textbook());
    let p = path.to_str().expect("utf-8");
    assert_fails(&["replay", p, "--flow", "1"], "no flow 1");
    assert_fails(&["replay", p, "--as", "sideways"], "sideways");
    assert_fails(&["replay", p, "--flow", "minus-one"], "minus-one");
    assert_fails(&["frobnicate"], "frobnicate");
    assert_fails(&["flows"], "FILE");
    assert_eq!(tcp_replay(&[]).status.code(), Some(2));
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["flows", "--help"],
        &["replay", "--help"],
        &["help", "replay"],
    ] {
        let o = tcp_replay(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(stdout(&o).contains("Usage: tcp-replay"), "{args:?}");
    }
    let o = tcp_replay(&["replay", "--help"]);
    for option in ["--flow", "--as", "--format", "--max-steps"] {
        assert!(stdout(&o).contains(option), "{option}");
    }
}
