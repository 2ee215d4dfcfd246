//! Flows and replays over the shared capture corpus (`shared/pcaps`, see its
//! MANIFEST.md): nothing panics, every captured handshake brings the engine to
//! ESTABLISHED, and FIN closes take the engine through the states RFC 9293
//! predicts for the order in which the FINs reach it.

mod common;

use std::path::Path;

use driver_pcap_replay::flows::Opener;
use driver_pcap_replay::{
    extract_flows, read_capture_file, replay, Capture, ReplayOptions, ReplayReport, Role,
};
use tcp_engine::conn::State::{self, *};

fn load(dir: &Path, name: &str) -> Capture {
    let path = dir.join("replay").join(name);
    read_capture_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn run(capture: &Capture, flow: usize, role: Role) -> ReplayReport {
    let flows = extract_flows(capture);
    let options = ReplayOptions {
        role,
        ..ReplayOptions::default()
    };
    replay(capture, &flows.flows[flow], &options)
}

#[test]
fn every_file_goes_through_flows_and_replay() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let mut replayed = 0;
    for path in common::corpus_files(&dir) {
        let name = path.display().to_string();
        let capture = read_capture_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let flows = extract_flows(&capture);
        let assigned: usize = flows.flows.iter().map(|f| f.segments.len()).sum();
        assert_eq!(
            assigned + flows.unassigned.len(),
            capture.segments.len(),
            "{name}"
        );
        let is_replay = path.parent().is_some_and(|p| p.ends_with("replay"));
        for flow in &flows.flows {
            for role in [Role::Server, Role::Client] {
                let options = ReplayOptions {
                    role,
                    ..ReplayOptions::default()
                };
                let report = replay(&capture, flow, &options);
                let what = format!("{name} flow {} as {role}", flow.index);
                assert_eq!(report.replayed(), flow.handshake.syn, "{what}");
                let c = report.counts;
                assert_eq!(c.steps, report.steps.len(), "{what}");
                assert_eq!(
                    c.matched + c.mismatched + c.missing + c.extra,
                    c.steps,
                    "{what}"
                );
                assert_eq!(c.recorded, c.matched + c.mismatched + c.missing, "{what}");
                assert_eq!(c.engine, c.matched + c.mismatched + c.extra, "{what}");
                serde_json::to_string(&report).expect("report serializes");
                // TFO connection 2 as client: see `fast_open_syn_ack_is_refused`.
                let tfo = name.contains("tcp-fast-open") && flow.index == 1;
                if is_replay && flow.handshake.complete() && !(tfo && role == Role::Client) {
                    assert!(
                        report.states.contains(&Established),
                        "{what}: {:?}",
                        report.states
                    );
                }
                replayed += usize::from(report.replayed());
            }
        }
    }
    assert!(replayed >= 100, "only {replayed} replays ran");
}

/// Handshake-less captures are reported, not failed.
#[test]
fn mid_stream_capture_cannot_be_replayed() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let capture = load(&dir, "chrissanders__tcp_zerowindowdead.pcapng");
    let flows = extract_flows(&capture);
    assert_eq!(flows.flows.len(), 1);
    assert_eq!(flows.flows[0].opener, Opener::Guessed);
    let report = run(&capture, 0, Role::Server);
    assert!(report
        .not_replayed
        .as_deref()
        .unwrap_or("")
        .starts_with("no handshake, cannot replay"));
    assert!(report.steps.is_empty() && report.states.is_empty());
}

const SERVER_OPEN: [State; 3] = [Listen, SynReceived, Established];
const CLIENT_OPEN: [State; 3] = [Closed, SynSent, Established];

fn states(open: [State; 3], close: &[State]) -> Vec<State> {
    open.iter().chain(close).copied().collect()
}

/// tcpdump print-flags: the client closes first; the server's FIN carries the
/// ACK of the client's FIN.
///
/// * Server: the client's FIN arrives in ESTABLISHED (CLOSE-WAIT), the
///   application closes (LAST-ACK), the ACK of its FIN ends it (CLOSED).
/// * Client: its FIN goes out (FIN-WAIT-1); the server's FIN,ACK acknowledges
///   it and carries a FIN, so RFC 9293 §3.10.7.4 (FIN-WAIT-1, eighth step:
///   "if our FIN has been ACKed (perhaps in this segment), then enter
///   TIME-WAIT") goes straight to TIME-WAIT, skipping FIN-WAIT-2.
#[test]
fn print_flags_closes_by_the_book() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let capture = load(&dir, "tcpdump__print-flags.pcap");
    let server = run(&capture, 0, Role::Server);
    assert_eq!(
        server.states,
        states(SERVER_OPEN, &[CloseWait, LastAck, Closed])
    );
    let client = run(&capture, 0, Role::Client);
    assert_eq!(client.states, states(CLIENT_OPEN, &[FinWait1, TimeWait]));
    // As the client, every segment matches the recorded Linux client's.
    assert_eq!((client.counts.matched, client.counts.steps), (6, 6));
}

/// PcapPlusPlus three_http_streams: in all three connections the server
/// closes first, and the client answers with FIN,ACK at once. So the server
/// goes FIN-WAIT-1 then straight to TIME-WAIT (the client's FIN acknowledges
/// its FIN), and the client CLOSE-WAIT, LAST-ACK, CLOSED.
#[test]
fn three_http_streams_close_from_the_server() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let capture = load(&dir, "pcapplusplus__three_http_streams.pcap");
    assert_eq!(extract_flows(&capture).flows.len(), 3);
    for flow in 0..3 {
        let server = run(&capture, flow, Role::Server);
        assert_eq!(
            server.states,
            states(SERVER_OPEN, &[FinWait1, TimeWait]),
            "flow {flow}"
        );
        let client = run(&capture, flow, Role::Client);
        assert_eq!(
            client.states,
            states(CLIENT_OPEN, &[CloseWait, LastAck, Closed]),
            "flow {flow}"
        );
    }
}

/// nDPI bfcp: a textbook simultaneous close. Both FINs have seq=13 and ack=13,
/// so neither acknowledges the other: each side sent its FIN before the
/// other's arrived. The replay delivers the peer's FIN after the recorded
/// side's FIN (the order that side saw), so either role goes FIN-WAIT-1 (own
/// FIN sent), CLOSING (the peer's FIN arrives before the ACK of ours), and
/// TIME-WAIT (the ACK of our FIN arrives): RFC 9293 figure 13.
#[test]
fn bfcp_simultaneous_close_goes_through_closing() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let capture = load(&dir, "ndpi__bfcp.pcapng");
    let server = run(&capture, 0, Role::Server);
    assert_eq!(
        server.states,
        states(SERVER_OPEN, &[FinWait1, Closing, TimeWait])
    );
    let client = run(&capture, 0, Role::Client);
    assert_eq!(
        client.states,
        states(CLIENT_OPEN, &[FinWait1, Closing, TimeWait])
    );
    // The client's FIN was captured first, so only the server's replay reorders.
    assert!(server.notes.iter().any(|n| n.starts_with("crossing FINs")));
    assert!(!client.notes.iter().any(|n| n.starts_with("crossing FINs")));
}

/// resp_1_benchmark: 15 Redis connections, each closed by the client first
/// with the server's FIN acknowledging the client's (same paths as print-flags).
#[test]
fn redis_benchmark_connections_all_close() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let capture = load(&dir, "tcpdump__resp_1_benchmark.pcap");
    let flows = extract_flows(&capture);
    assert_eq!(flows.flows.len(), 15);
    for flow in 0..15 {
        let server = run(&capture, flow, Role::Server);
        assert_eq!(
            server.states,
            states(SERVER_OPEN, &[CloseWait, LastAck, Closed])
        );
        let client = run(&capture, flow, Role::Client);
        assert_eq!(client.states, states(CLIENT_OPEN, &[FinWait1, TimeWait]));
    }
}

/// suricata http-ipv6 (::1 over BSD loopback): the server closes first and the
/// client ACKs the FIN before sending its own, so the server passes through
/// FIN-WAIT-2 on the way to TIME-WAIT.
#[test]
fn http_ipv6_server_close_passes_fin_wait_2() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let capture = load(&dir, "suricata__http-ipv6.pcap");
    let server = run(&capture, 0, Role::Server);
    assert_eq!(
        server.states,
        states(SERVER_OPEN, &[FinWait1, FinWait2, TimeWait])
    );
    let client = run(&capture, 0, Role::Client);
    assert_eq!(
        client.states,
        states(CLIENT_OPEN, &[CloseWait, LastAck, Closed])
    );
}

/// zeek handshake-reorder: the SYN-ACK was captured before the SYN; the
/// replay puts it back after the SYN, so both roles open normally.
#[test]
fn reordered_handshake_replays() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let capture = load(&dir, "zeek__tcp_handshake-reorder.pcap");
    let flow = &extract_flows(&capture).flows[0];
    assert!(flow.handshake.complete());
    assert_eq!(flow.opener, Opener::Syn);
    for role in [Role::Server, Role::Client] {
        let r = run(&capture, 0, role);
        assert!(r.states.contains(&Established), "{role}: {:?}", r.states);
        assert!(r
            .notes
            .iter()
            .any(|n| n.contains("captured before the SYN")));
        assert_eq!(
            r.steps[0].verdict,
            driver_pcap_replay::Verdict::Match,
            "{role}"
        );
    }
}

/// zeek tcp-fast-open, connection 2: the client's SYN carries 86 bytes with a
/// TFO cookie and the server's SYN-ACK acknowledges them. The engine does not
/// do TFO, so its SYN carries no data and that SYN-ACK acknowledges data it
/// never sent: RFC 9293 §3.10.7.3 (SYN-SENT, first check) answers
/// <SEQ=SEG.ACK><CTL=RST> and stays in SYN-SENT; the recorded client's FIN
/// then makes the application close, which in SYN-SENT deletes the TCB.
#[test]
fn fast_open_syn_ack_is_refused() {
    let Some(dir) = common::pcaps_dir() else {
        return;
    };
    let capture = load(&dir, "zeek__tcp_tcp-fast-open.pcap");
    let r = run(&capture, 1, Role::Client);
    assert_eq!(r.states, vec![Closed, SynSent, Closed]);
    let first_reply = r.steps[1].actual.as_ref().expect("engine answered");
    assert_eq!((first_reply.flags.as_str(), first_reply.seq), ("R", 87));
}
