use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::{CaptureEnd, CaptureFormat};

const C: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const S: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

/// A segment from C:40000 to S:80 (`to_server`) or back, with `len` payload bytes.
fn seg(to_server: bool, flags: u8, seq: u32, ack: u32, len: usize) -> CapturedSegment {
    let (src, dst, sp, dp) = if to_server {
        (C, S, 40000u16, 80u16)
    } else {
        (S, C, 80, 40000)
    };
    let mut tcp = Vec::new();
    tcp.extend_from_slice(&sp.to_be_bytes());
    tcp.extend_from_slice(&dp.to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&ack.to_be_bytes());
    tcp.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    tcp.resize(20 + len, 0x61);
    CapturedSegment {
        frame: 0,
        timestamp_us: 0,
        src,
        dst,
        tcp_len: tcp.len(),
        tcp,
        truncated: false,
        more_fragments: false,
    }
}

fn capture(segments: Vec<CapturedSegment>) -> Capture {
    let segments = segments
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            s.frame = i;
            s.timestamp_us = 1_000 * i as u64;
            s
        })
        .collect();
    Capture {
        format: CaptureFormat::Pcap,
        link_types: vec![101],
        segments,
        skipped: Vec::new(),
        end: CaptureEnd::Complete,
    }
}

const SYN: u8 = 0x02;
const SYN_ACK: u8 = 0x12;
const ACK: u8 = 0x10;
const FIN_ACK: u8 = 0x11;
const RST: u8 = 0x04;

fn textbook(isn_c: u32) -> Vec<CapturedSegment> {
    vec![
        seg(true, SYN, isn_c, 0, 0),
        seg(false, SYN_ACK, 500, isn_c + 1, 0),
        seg(true, ACK, isn_c + 1, 501, 0),
        seg(true, ACK, isn_c + 1, 501, 10),
        seg(false, FIN_ACK, 501, isn_c + 11, 3),
        seg(true, FIN_ACK, isn_c + 11, 505, 0),
        seg(false, ACK, 505, isn_c + 12, 0),
    ]
}

#[test]
fn textbook_connection() {
    let flows = extract_flows(&capture(textbook(100)));
    assert_eq!(flows.flows.len(), 1);
    let f = &flows.flows[0];
    assert_eq!(
        (f.client.port(), f.server.port(), f.opener),
        (40000, 80, Opener::Syn)
    );
    assert!(f.handshake.complete());
    assert_eq!((f.to_server.packets, f.to_server.bytes), (4, 10));
    assert_eq!((f.to_client.packets, f.to_client.bytes), (3, 3));
    assert!(f.ending.fin_both());
    assert_eq!(f.ending.to_string(), "FIN from both");
    assert_eq!((f.first_us, f.last_us), (0, 6_000));
    assert_eq!(f.segments, (0..7).collect::<Vec<_>>());
}

#[test]
fn syn_ack_before_syn_still_finds_the_client() {
    let mut segs = textbook(100);
    segs.swap(0, 1);
    let f = &extract_flows(&capture(segs)).flows[0];
    assert_eq!((f.client.port(), f.opener), (40000, Opener::Syn));
    assert!(f.handshake.complete());
    // Without the SYN at all, the SYN-ACK's receiver is the client.
    let segs = textbook(100).into_iter().skip(1).collect();
    let f = &extract_flows(&capture(segs)).flows[0];
    assert_eq!((f.client.port(), f.opener), (40000, Opener::SynAck));
    assert_eq!(f.handshake.to_string(), "only SYN-ACK+ACK");
}

#[test]
fn mid_stream_capture_guesses_by_port() {
    let segs = vec![seg(false, ACK, 7, 9, 5), seg(true, ACK, 9, 12, 0)];
    let f = &extract_flows(&capture(segs)).flows[0];
    assert_eq!((f.client.port(), f.opener), (40000, Opener::Guessed));
    assert_eq!(f.handshake.to_string(), "no");
    assert_eq!(f.ending.to_string(), "neither");
}

#[test]
fn refused_and_reused_ports_make_separate_flows() {
    let mut segs = vec![seg(true, SYN, 1, 0, 0), seg(false, RST | ACK, 0, 2, 0)];
    segs.extend(textbook(9_000));
    // A retransmitted SYN after the end of the last connection is the same flow.
    let flows = extract_flows(&capture(segs));
    assert_eq!(flows.flows.len(), 2);
    assert_eq!(flows.flows[0].ending.to_string(), "RST from server");
    assert_eq!(flows.flows[0].handshake.to_string(), "only SYN");
    assert_eq!(flows.flows[1].segments.len(), 7);
    assert!(flows.flows[1].handshake.complete());
}

#[test]
fn simultaneous_open_is_a_handshake() {
    let segs = vec![
        seg(true, SYN, 10, 0, 0),
        seg(false, SYN, 70, 0, 0),
        seg(true, SYN_ACK, 10, 71, 0),
        seg(false, ACK, 71, 11, 0),
    ];
    let f = &extract_flows(&capture(segs)).flows[0];
    assert_eq!(f.client.port(), 40000);
    assert!(f.handshake.complete());
}

#[test]
fn segments_without_ports_are_unassigned() {
    let mut short = seg(true, SYN, 1, 0, 0);
    short.tcp.truncate(3);
    short.truncated = true;
    let flows = extract_flows(&capture(vec![short, seg(true, SYN, 1, 0, 0)]));
    assert_eq!(flows.unassigned, vec![0]);
    assert_eq!(flows.flows[0].segments, vec![1]);
}
