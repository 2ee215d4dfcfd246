//! Attack runs, small: a SYN flood with and without SYN cookies, blind segments against
//! established connections, and slow or silent peers; and the `tcp-sim attack` command.

use std::process::{Command, Output};

use driver_sim::attack::{blind, slow_peer, syn_flood, Blind, SlowPeer, SynFlood};
use tcp_engine::conn::CloseReason;
use tcp_engine::engine::EngineConfig;

fn tcp_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcp-sim"))
        .args(args)
        .output()
        .expect("tcp-sim runs")
}

fn flood(cookies: bool) -> driver_sim::attack::SynFloodReport {
    syn_flood(&SynFlood {
        spoofed: 20_000,
        cookies,
        ..SynFlood::default()
    })
}

#[test]
fn a_syn_flood_does_not_keep_clients_out_with_cookies() {
    let r = flood(true);
    assert!(r.attempts >= 10, "{r:?}");
    assert_eq!(r.succeeded, r.attempts, "{r:?}");
    // Every legitimate connection past the full SYN queue came back with its cookie.
    assert!(r.cookies_accepted > 0 && r.cookies_sent > 19_000, "{r:?}");
    // The SYN queue stays at its bound; memory never goes past the storage given.
    let backlog = usize::from(EngineConfig::default().syn_backlog);
    assert!(r.connections_hwm <= backlog + 2, "{r:?}");
    assert!(r.memory_hwm <= r.memory_bound, "{r:?}");
}

#[test]
fn without_cookies_the_same_flood_keeps_clients_out() {
    let r = flood(false);
    assert!(r.attempts >= 10, "{r:?}");
    assert_eq!(r.succeeded, 0, "{r:?}");
    assert_eq!(r.cookies_sent, 0);
    assert!(r.syns_dropped >= 19_000, "{r:?}");
    let backlog = usize::from(EngineConfig::default().syn_backlog);
    assert_eq!(r.connections_hwm, backlog, "{r:?}");
}

#[test]
fn blind_segments_kill_no_connection() {
    let r = blind(&Blind {
        segments: 100_000,
        ..Blind::default()
    });
    assert_eq!(r.rst + r.syn + r.data, 100_000);
    assert_eq!(r.died, 0, "{r:?}");
    assert_eq!(r.accepted, 0, "{r:?}");
    // The connections still carry data both ways, unchanged, and close.
    assert_eq!(r.intact_after, r.connections, "{r:?}");
    // Every blind SYN or data segment is answered by an ACK, challenged or not.
    assert!(r.other_acks + r.challenge_acks >= r.syn + r.data, "{r:?}");
}

#[test]
fn a_peer_that_never_acks_the_syn_ack_is_dropped_after_the_retries() {
    let r = slow_peer(
        SlowPeer::NeverAckSyn,
        EngineConfig::default(),
        1000,
        600_000_000,
    );
    // SYN-ACKs at 0, 1, 3, 7, 15, 31 s; the half-open entry goes at 63 s.
    assert_eq!(r.released_at_us, Some(63_000_000), "{r:?}");
    assert_eq!(r.server_segments, 6);
}

#[test]
fn a_peer_that_never_acks_data_is_freed_by_the_retry_limit() {
    let r = slow_peer(
        SlowPeer::NeverAck,
        EngineConfig::default(),
        32 * 1024,
        3_600_000_000,
    );
    // The response leaves once the handshake is done (one 20 ms round trip); then RTO 1, 2,
    // 4, ... 32 s, then 60 s (its ceiling) until 15 retransmissions: 663 s.
    assert_eq!(r.close_reason, Some(CloseReason::TimedOut), "{r:?}");
    assert_eq!(r.released_at_us, Some(20_000 + 663_000_000), "{r:?}");
    // A tighter retry limit frees it sooner.
    let mut tight = EngineConfig::default();
    tight.conn.max_retries = 5;
    let t = slow_peer(SlowPeer::NeverAck, tight, 32 * 1024, 3_600_000_000);
    assert_eq!(t.released_at_us, Some(20_000 + 63_000_000), "{t:?}");
}

/// MUST-37 keeps a connection probing a zero window for as long as the probes are answered,
/// but an orphaned one (the server closed after queueing its response) gives up after
/// `max_retries` probes: nobody waits for that data, and a peer that never opens its window
/// cannot hold the server's resources past that bound (issue 11).
#[test]
fn a_zero_window_forever_cannot_hold_an_orphaned_connection() {
    let hour = 3_600_000_000;
    let r = slow_peer(
        SlowPeer::ZeroWindow,
        EngineConfig::default(),
        32 * 1024,
        hour,
    );
    assert_eq!(
        r.close_reason,
        Some(tcp_engine::conn::CloseReason::TimedOut),
        "{r:?}"
    );
    let released = r.released_at_us.expect("released");
    assert!(released < 20 * 60 * 1_000_000, "released at {released} us");
    assert_eq!(r.delivered, 0);
}

#[test]
fn a_one_byte_reader_gets_everything_then_fin_wait_2_times_out() {
    let r = slow_peer(
        SlowPeer::OneByte,
        EngineConfig::default(),
        2_000,
        3_600_000_000,
    );
    assert_eq!(r.delivered, 2_000, "{r:?}");
    assert_eq!(r.close_reason, Some(CloseReason::TimedOut), "{r:?}");
    // One byte per 20 ms round trip, then the orphan's FIN-WAIT-2 timeout (60 s).
    let t = r.released_at_us.expect("released");
    assert!((100_000_000..=110_000_000).contains(&t), "{r:?}");
}

#[test]
fn the_command_prints_figures() {
    let o = tcp_sim(&["attack", "--kind", "neverack"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = String::from_utf8(o.stdout).expect("UTF-8");
    assert!(out.contains("released after 63.0 s"), "{out}");
    assert!(out.contains("released after 663.0 s"), "{out}");
    let o = tcp_sim(&["attack", "--kind", "synflood", "--count", "3000"]);
    let out = String::from_utf8(o.stdout).expect("UTF-8");
    assert!(out.contains("SYN cookies on"), "{out}");
    assert!(out.contains("SYN cookies off"), "{out}");
    assert!(out.contains("memory high-water mark"), "{out}");
    for bad in [
        &["attack", "--kind", "ddos"][..],
        &["attack", "--count", "0"],
    ] {
        assert_eq!(tcp_sim(bad).status.code(), Some(2), "{bad:?}");
    }
}
