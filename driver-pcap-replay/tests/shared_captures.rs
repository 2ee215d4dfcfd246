//! Reads every capture of the shared corpus (`shared/pcaps`, described by its
//! MANIFEST.md) and checks facts about them. Every number below was checked
//! against `tshark -Y tcp` (frame numbers, timestamps to the microsecond,
//! addresses and IP-declared TCP lengths all agree frame by frame).
//!
//! The corpus lives outside the repository: `$TCP_SHARED_DIR`, or `shared/`
//! beside the workspace. Without it the tests print a note and pass, except
//! under `CI=true`, where they fail.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use driver_pcap_replay::{
    read_capture_file, Capture, CaptureEnd, CaptureFormat, SkipReason, SkippedFrame,
};

/// The `pcaps` folder of the shared corpus, or `None` (after a note) when it is absent.
fn pcaps_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("TCP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    let dir = shared.join("pcaps");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "shared capture corpus not found at {} (set TCP_SHARED_DIR)",
        dir.display()
    );
    eprintln!(
        "note: {} not found, shared capture tests skipped",
        dir.display()
    );
    None
}

fn read(dir: &Path, name: &str) -> Capture {
    let sub = if dir.join("replay").join(name).exists() {
        "replay"
    } else {
        "seeds"
    };
    let path = dir.join(sub).join(name);
    read_capture_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn tcp_payload_len(tcp: &[u8], tcp_len: usize) -> usize {
    tcp_len - usize::from(tcp[12] >> 4) * 4
}

#[test]
fn every_file_reads_and_is_consistent() {
    let Some(dir) = pcaps_dir() else { return };
    let mut files = 0;
    for sub in ["replay", "seeds"] {
        let entries = std::fs::read_dir(dir.join(sub)).expect("readable folder");
        for entry in entries {
            let path = entry.expect("dir entry").path();
            let cap = read_capture_file(&path).unwrap_or_else(|e| panic!("{e}"));
            let name = path.display();
            assert_eq!(cap.end, CaptureEnd::Complete, "{name}");
            let mut frames: Vec<usize> = cap.segments.iter().map(|s| s.frame).collect();
            frames.extend(cap.skipped.iter().map(|s| s.frame));
            frames.sort_unstable();
            assert!(
                frames.iter().copied().eq(0..cap.frame_count()),
                "{name}: frame numbers"
            );
            for s in &cap.segments {
                assert!(s.tcp.len() <= s.tcp_len, "{name} frame {}", s.frame);
                assert_eq!(
                    s.truncated,
                    s.tcp.len() < s.tcp_len,
                    "{name} frame {}",
                    s.frame
                );
                assert!(!s.more_fragments, "{name} frame {}", s.frame);
            }
            assert!(
                cap.segments.windows(2).all(|w| w[0].frame < w[1].frame),
                "{name}"
            );
            files += 1;
        }
    }
    assert!(files >= 40, "expected the 40 corpus files, found {files}");
}

/// (file, format, link type, TCP segments, truncated segments, IP version, skipped frames)
type Row = (
    &'static str,
    CaptureFormat,
    u32,
    usize,
    usize,
    u8,
    &'static [(usize, SkipReason)],
);

const NG: CaptureFormat = CaptureFormat::PcapNg;
const PCAP: CaptureFormat = CaptureFormat::Pcap;

#[rustfmt::skip]
const TABLE: &[Row] = &[
    ("chrissanders__tcp_zerowindowdead.pcapng", NG, 1, 8, 0, 4, &[]),
    ("chrissanders__tcp_zerowindowrecovery.pcapng", NG, 1, 7, 0, 4, &[]),
    ("ndpi__bfcp.pcapng", NG, 1, 11, 0, 4, &[(11, SkipReason::NotTcp), (12, SkipReason::NotTcp)]),
    ("ndpi__edonkey.pcap", PCAP, 1, 17, 0, 4, &[]),
    ("ndpi__radmin3.pcapng", NG, 1, 17, 0, 4, &[]),
    ("ndpi__tls_with_huge_ch.pcapng", NG, 1, 428, 0, 4, &[]),
    ("pcapplusplus__one_ipv6_http_stream.pcap", PCAP, 101, 19, 0, 6, &[]),
    ("pcapplusplus__one_tcp_rst.pcap", PCAP, 1, 2, 0, 4, &[]),
    ("pcapplusplus__one_tcp_stream_fin_rst_close_packet.pcap", PCAP, 1, 13, 0, 4, &[]),
    ("pcapplusplus__three_http_streams.pcap", PCAP, 1, 28, 0, 4, &[]),
    ("suricata__bug-4376_syn_retransmit_with_ts.pcap", PCAP, 1, 254, 0, 4, &[]),
    ("suricata__http-ipv6.pcap", PCAP, 0, 14, 0, 6, &[]),
    ("suricata__mqtt-limit-2.pcap", PCAP, 1, 37, 0, 6, &[]),
    ("suricata__tcp-empty-sack_tcp-opt.pcap", PCAP, 101, 42, 0, 4, &[]),
    ("tcpdump__accecn_handshake.pcap", PCAP, 1, 6, 0, 4, &[]),
    ("tcpdump__mptcp-v1.pcap", PCAP, 113, 20, 0, 4, &[]),
    ("tcpdump__print-flags.pcap", PCAP, 1, 10, 0, 4, &[]),
    ("tcpdump__resp_1_benchmark.pcap", PCAP, 113, 150, 0, 4, &[]),
    ("tcpdump__ssh.pcap", PCAP, 1, 54, 0, 4, &[]),
    ("zeek__ftp_ipv6-violation.pcap", PCAP, 1, 19, 0, 6, &[]),
    ("zeek__ftp_ipv6.pcap", PCAP, 1, 136, 0, 6, &[]),
    ("zeek__modbus-and-non-modbus-p502.pcap", PCAP, 1, 86, 0, 4, &[]),
    ("zeek__tcp_handshake-reorder.pcap", PCAP, 1, 14, 0, 4, &[]),
    ("zeek__tcp_qi_internet_SYNACK_curl_jsonip.pcap", PCAP, 1, 14, 0, 4, &[]),
    ("zeek__tcp_reassembly.pcap", PCAP, 1, 117, 5, 4, &[]),
    ("zeek__tcp_rst-inject-rae.pcap", PCAP, 1, 9, 0, 4, &[]),
    ("zeek__tcp_tcp-fast-open.pcap", PCAP, 1, 16, 0, 4, &[]),
    // The MANIFEST says 690 frames are cut to 96 bytes: 690 full-size data
    // segments are, and so is one 880-byte one (tshark: 691 with cap_len < len).
    ("zeek__tcp_timestamp.pcap", PCAP, 1, 878, 691, 4, &[]),
    ("pcapplusplus__tcp-malformed.pcap", PCAP, 1, 2, 0, 4, &[]),
    ("suricata__tcp-split-handshake-01-4whs.pcap", PCAP, 1, 7, 0, 4, &[]),
    ("tcpdump__beep-oobr.pcap", PCAP, 229, 1, 1, 6, &[(0, SkipReason::BadIpHeader)]),
    ("tcpdump__heapoverflow-tcp_print.pcap", PCAP, 1, 1, 1, 4, &[]),
    ("tcpdump__mptcp-dss-oobr.pcap", PCAP, 1, 1, 0, 4, &[]),
    ("tcpdump__tcp-auth-heapoverflow.pcap", PCAP, 1, 1, 1, 4, &[]),
    ("tcpdump__tcp_eight_lowest_weight_flags_set.pcap", PCAP, 1, 1, 0, 4, &[]),
    ("tcpdump__tcp_header_heapoverflow.pcap", PCAP, 1, 1, 1, 4, &[]),
    ("tcpdump__tcp_rst_data.pcap", PCAP, 1, 1, 0, 4, &[]),
    ("zeek__tcp_option-27.pcap", PCAP, 1, 1, 0, 4, &[]),
    ("zeek__tcp_syn-bad.pcap", PCAP, 1, 1, 0, 4, &[]),
    // Snaplen 54 to 68: half the frames lose TCP bytes, the others only the Ethernet padding.
    ("zeek__tcp_truncated-header.pcap", PCAP, 1, 24, 12, 4, &[]),
];

#[test]
fn per_file_counts_match_tshark() {
    let Some(dir) = pcaps_dir() else { return };
    for &(name, format, link, segments, truncated, version, skipped) in TABLE {
        let cap = read(&dir, name);
        assert_eq!(
            (cap.format, cap.link_types.as_slice()),
            (format, &[link][..]),
            "{name}"
        );
        assert_eq!(cap.segments.len(), segments, "{name}: segments");
        let cut = cap.segments.iter().filter(|s| s.truncated).count();
        assert_eq!(cut, truncated, "{name}: truncated");
        let want: Vec<_> = skipped
            .iter()
            .map(|&(frame, reason)| SkippedFrame { frame, reason })
            .collect();
        assert_eq!(cap.skipped, want, "{name}: skipped");
        let v6 = version == 6;
        assert!(
            cap.segments
                .iter()
                .all(|s| s.src.is_ipv6() == v6 && s.dst.is_ipv6() == v6),
            "{name}"
        );
    }
}

#[test]
fn print_flags_textbook_connection() {
    let Some(dir) = pcaps_dir() else { return };
    let cap = read(&dir, "tcpdump__print-flags.pcap");
    let got: Vec<_> = cap
        .segments
        .iter()
        .map(|s| {
            (
                s.timestamp_us,
                s.ports().expect("ports"),
                s.tcp[13],
                tcp_payload_len(&s.tcp, s.tcp_len),
            )
        })
        .collect();
    let (c, srv) = ((55920, 80), (80, 55920));
    #[rustfmt::skip]
    let want = vec![
        (1_120_622_255_938_066, c, 0x02, 0), (1_120_622_255_938_122, srv, 0x12, 0),
        (1_120_622_255_938_167, c, 0x10, 0), (1_120_622_255_939_423, c, 0x18, 202),
        (1_120_622_255_940_474, srv, 0x10, 0), (1_120_622_255_941_232, srv, 0x18, 5559),
        (1_120_622_255_941_260, c, 0x10, 0), (1_120_622_257_229_575, c, 0x11, 0),
        (1_120_622_257_230_839, srv, 0x11, 0), (1_120_622_257_230_900, c, 0x10, 0),
    ];
    assert_eq!(got, want);
    // Ethernet padding is cut: pure ACKs are exactly the 32-byte header (TS option).
    assert_eq!(cap.segments[2].tcp.len(), 32);
}

#[test]
fn link_types_and_timestamps() {
    let Some(dir) = pcaps_dir() else { return };
    // SLL on loopback (ARPHRD 772).
    let first = &read(&dir, "tcpdump__resp_1_benchmark.pcap").segments[0];
    assert_eq!(
        (first.src, first.dst),
        (
            "127.0.0.1".parse().expect("ip"),
            "127.0.0.1".parse().expect("ip")
        )
    );
    assert_eq!(
        (first.ports(), first.timestamp_us),
        (Some((35901, 6379)), 1_424_744_580_757_048)
    );
    // BSD NULL with IPv6.
    let first = &read(&dir, "suricata__http-ipv6.pcap").segments[0];
    let lo6: IpAddr = "::1".parse().expect("ip");
    assert_eq!(
        (first.src, first.dst, first.ports()),
        (lo6, lo6, Some((55717, 8000)))
    );
    // pcapng with if_tsresol = 9 (nanoseconds): 1722705809.121409460.
    let cap = read(&dir, "ndpi__tls_with_huge_ch.pcapng");
    assert_eq!(cap.segments[0].timestamp_us, 1_722_705_809_121_409);
    // SLL with a 7100-byte TSO segment.
    let cap = read(&dir, "tcpdump__mptcp-v1.pcap");
    let biggest = cap
        .segments
        .iter()
        .map(|s| tcp_payload_len(&s.tcp, s.tcp_len))
        .max();
    assert_eq!(biggest, Some(7100));
}

#[test]
fn truncated_and_malformed_frames() {
    let Some(dir) = pcaps_dir() else { return };
    // 96-byte snaplen: 62 TCP bytes (32-byte header + 30 of payload) survive.
    let cap = read(&dir, "zeek__tcp_timestamp.pcap");
    let mut cut: Vec<_> = cap
        .segments
        .iter()
        .filter(|s| s.truncated)
        .map(|s| (s.tcp.len(), s.tcp_len))
        .collect();
    cut.dedup();
    assert_eq!(cut, vec![(62, 1480), (62, 912)]);
    // IPv4 total length larger than the frame, though the frame was not cut by the snaplen.
    let cap = read(&dir, "zeek__tcp_reassembly.pcap");
    let frames: Vec<_> = cap
        .segments
        .iter()
        .filter(|s| s.truncated)
        .map(|s| (s.frame, s.tcp_len - s.tcp.len()))
        .collect();
    assert_eq!(frames, vec![(6, 8), (25, 8), (34, 8), (38, 20), (84, 20)]);
    // Link-type field 0x30000001; frame cut 12 bytes into the TCP header.
    let cap = read(&dir, "tcpdump__tcp_header_heapoverflow.pcap");
    assert_eq!(cap.link_types, vec![1]);
    assert_eq!(
        (cap.segments[0].tcp.len(), cap.segments[0].tcp_len),
        (12, 12316)
    );
    // Bare IPv6 link: record 0 is not IPv6, record 1 claims 12336 bytes of which 24 were captured.
    let cap = read(&dir, "tcpdump__beep-oobr.pcap");
    let s = &cap.segments[0];
    assert_eq!((s.frame, s.tcp.len(), s.tcp_len), (1, 24, 12336));
    // IPv4 total length 40 leaves 20 TCP bytes, but the data offset claims 28;
    // the 6 bytes of Ethernet padding after the IP packet are not included.
    let cap = read(&dir, "pcapplusplus__tcp-malformed.pcap");
    for s in &cap.segments {
        assert_eq!(
            (s.tcp.len(), s.tcp_len, s.truncated, s.tcp[12] >> 4),
            (20, 20, false, 7)
        );
    }
}
