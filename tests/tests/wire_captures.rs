//! The wire layer against real captures from `../shared/pcaps`
//!
//! Known-answer checksums: every complete segment of the replay captures is verified with the
//! engine's checksum over the IPv4 or IPv6 pseudo-header. Captures taken on loopback or behind
//! checksum offload carry wrong checksums on purpose (the MANIFEST says which); the exact
//! number of segments that verify in each file is asserted, so a checksum bug in either
//! direction fails the test. Every segment of every file, seeds included, gives a repr or an
//! error, never a panic.

use driver_pcap_replay::read_capture_file;
use tcp_engine::wire::{checksum, ChecksumCheck, TcpPacket, TcpRepr};
use tcp_tests::shared::shared_files;

/// (file, complete segments, segments whose checksum verifies)
///
/// Cross-checked with `tshark -o tcp.check_checksum:TRUE -T fields -e tcp.checksum.status`.
const KNOWN_ANSWERS: &[(&str, usize, usize)] = &[
    ("tcpdump__print-flags.pcap", 10, 8),
    ("pcapplusplus__three_http_streams.pcap", 28, 28),
    ("tcpdump__resp_1_benchmark.pcap", 150, 0),
    ("zeek__ftp_ipv6.pcap", 136, 136),
    ("suricata__http-ipv6.pcap", 14, 0),
    ("pcapplusplus__one_ipv6_http_stream.pcap", 19, 19),
    ("pcapplusplus__one_tcp_rst.pcap", 2, 1),
];

#[test]
fn known_answer_checksums_ipv4_and_ipv6() {
    let Some(files) = shared_files("pcaps/replay") else {
        return;
    };
    for &(name, complete, good) in KNOWN_ANSWERS {
        let path = files
            .iter()
            .find(|p| p.ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing"));
        let cap = read_capture_file(path).unwrap();
        let whole: Vec<_> = cap.segments.iter().filter(|s| !s.truncated).collect();
        let verified = whole
            .iter()
            .filter(|s| checksum::verify_tcp(&s.src, &s.dst, &s.tcp))
            .count();
        assert_eq!((whole.len(), verified), (complete, good), "{name}");
        // The fast sum and the plain 16-bit loop agree on every real segment.
        for s in &whole {
            assert_eq!(
                zero(checksum::data(&s.tcp)),
                zero(checksum::reference(&s.tcp))
            );
        }
    }
}

/// One's complement has two zeros (0x0000 and 0xffff): compare them as one
fn zero(sum: u16) -> u16 {
    if sum == 0xffff {
        0
    } else {
        sum
    }
}

#[test]
fn recomputed_checksums_match_the_good_segments() {
    let Some(files) = shared_files("pcaps/replay") else {
        return;
    };
    let mut checked = 0;
    for path in &files {
        let cap = read_capture_file(path).unwrap();
        for s in cap
            .segments
            .iter()
            .filter(|s| !s.truncated && s.tcp.len() >= 20)
        {
            if !checksum::verify_tcp(&s.src, &s.dst, &s.tcp) {
                continue;
            }
            let mut copy = s.tcp.clone();
            let mut p = TcpPacket::new_unchecked(&mut copy[..]);
            let stored = p.checksum();
            p.fill_checksum(&s.src, &s.dst);
            assert_eq!(
                p.checksum(),
                stored,
                "{}: frame {}",
                path.display(),
                s.frame
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} segments verified");
}

#[test]
fn every_shared_segment_parses_or_errors_without_panic() {
    let mut total = 0;
    for sub in ["pcaps/replay", "pcaps/seeds"] {
        let Some(files) = shared_files(sub) else {
            return;
        };
        for path in &files {
            let Ok(cap) = read_capture_file(path) else {
                continue;
            };
            for s in &cap.segments {
                total += 1;
                for check in [ChecksumCheck::Verify, ChecksumCheck::Skip] {
                    let _ = TcpRepr::parse_bytes(&s.tcp, &s.src, &s.dst, check);
                }
                tcp_tests::fuzz_targets::parse_segment(&s.tcp);
            }
        }
    }
    assert!(total > 2000, "only {total} segments");
}

#[test]
fn parsed_options_match_the_manifest() {
    // tcpdump__print-flags.pcap: "The 3-way handshake carries MSS 16396, SACK_PERM, TS and WS=4": a multiplier
    // of 4, which tshark shows as shift 2.
    let Some(files) = shared_files("pcaps/replay") else {
        return;
    };
    let path = files
        .iter()
        .find(|p| p.ends_with("tcpdump__print-flags.pcap"))
        .unwrap();
    let cap = read_capture_file(path).unwrap();
    let syn = &cap.segments[0];
    let r = TcpRepr::parse_bytes(&syn.tcp, &syn.src, &syn.dst, ChecksumCheck::Skip).unwrap();
    assert_eq!(r.options.mss, Some(16396));
    assert_eq!(r.options.window_scale, Some(2));
    assert!(r.options.sack_permitted && r.options.timestamps.is_some());
}
