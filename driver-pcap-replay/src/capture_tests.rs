//! Unit tests for [`read_capture`](super::read_capture) on hand-built files.

use super::*;
use std::net::Ipv4Addr;

/// IPv4 + TCP (20-byte header, `payload` bytes of data), addresses 10.0.0.1 -> 10.0.0.2.
fn ipv4_tcp(proto: u8, payload: usize) -> Vec<u8> {
    let total = u16::try_from(40 + payload).expect("small");
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend_from_slice(&[0x04, 0xD2, 0x00, 0x50]); // ports 1234 -> 80
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&[0x50, 0x10, 0xFF, 0xFF, 0, 0, 0, 0]);
    p.resize(p.len() + payload, 0x61);
    p
}

fn ethernet(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A classic pcap file; `records` are (seconds, fraction, captured bytes, original length).
fn pcap(le: bool, nanos: bool, link: u32, records: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
    let w32 = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let w16 = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut f = Vec::new();
    f.extend_from_slice(&w32(if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 }));
    f.extend_from_slice(&w16(2));
    f.extend_from_slice(&w16(4));
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&w32(65535));
    f.extend_from_slice(&w32(link));
    for (sec, frac, data, orig) in records {
        f.extend_from_slice(&w32(*sec));
        f.extend_from_slice(&w32(*frac));
        f.extend_from_slice(&w32(u32::try_from(data.len()).expect("small")));
        f.extend_from_slice(&w32(*orig));
        f.extend_from_slice(data);
    }
    f
}

/// One pcapng block in the given byte order; the body is padded to 4 bytes.
fn block(le: bool, kind: u32, body: &[u8]) -> Vec<u8> {
    let w32 = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let padded = body.len().div_ceil(4) * 4;
    let total = u32::try_from(padded + 12).expect("small");
    let mut b = Vec::new();
    b.extend_from_slice(&w32(kind));
    b.extend_from_slice(&w32(total));
    b.extend_from_slice(body);
    b.resize(8 + padded, 0);
    b.extend_from_slice(&w32(total));
    b
}

fn shb(le: bool) -> Vec<u8> {
    let mut body = if le {
        0x1A2B_3C4Du32.to_le_bytes()
    } else {
        0x1A2B_3C4Du32.to_be_bytes()
    }
    .to_vec();
    body.extend_from_slice(&if le { [1, 0, 0, 0] } else { [0, 1, 0, 0] });
    body.extend_from_slice(&[0xFF; 8]);
    block(le, 0x0A0D_0D0A, &body)
}

fn idb(le: bool, link: u16, tsresol: Option<u8>) -> Vec<u8> {
    let w16 = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut body = w16(link).to_vec();
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&if le {
        0u32.to_le_bytes()
    } else {
        0u32.to_be_bytes()
    });
    if let Some(r) = tsresol {
        body.extend_from_slice(&w16(9));
        body.extend_from_slice(&w16(1));
        body.extend_from_slice(&[r, 0, 0, 0]);
        body.extend_from_slice(&[0, 0, 0, 0]);
    }
    block(le, 1, &body)
}

fn epb(le: bool, iface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let w32 = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let len = u32::try_from(data.len()).expect("small");
    let mut body = Vec::new();
    for v in [iface, (ts >> 32) as u32, ts as u32, len, len] {
        body.extend_from_slice(&w32(v));
    }
    body.extend_from_slice(data);
    block(le, 6, &body)
}

#[test]
fn pcap_ethernet_mixed_traffic() {
    let tcp = ethernet(0x0800, &ipv4_tcp(6, 5));
    let mut padded = ethernet(0x0800, &ipv4_tcp(6, 0));
    padded.extend_from_slice(&[0; 6]); // 60-byte minimum frame
    let file = pcap(
        true,
        false,
        1,
        &[
            (100, 250, tcp.clone(), 59),
            (101, 0, ethernet(0x0806, &[0; 28]), 42),
            (102, 0, ethernet(0x0800, &ipv4_tcp(17, 0)), 54),
            (103, 999_999, padded, 60),
        ],
    );
    let cap = read_capture(&file).expect("valid pcap");
    assert_eq!(
        (cap.format, cap.link_types.clone(), cap.end.clone()),
        (CaptureFormat::Pcap, vec![1], CaptureEnd::Complete)
    );
    assert_eq!(cap.frame_count(), 4);
    let seg = &cap.segments[0];
    assert_eq!((seg.frame, seg.timestamp_us), (0, 100_000_250));
    assert_eq!(
        (seg.src, seg.dst),
        (
            Ipv4Addr::new(10, 0, 0, 1).into(),
            Ipv4Addr::new(10, 0, 0, 2).into()
        )
    );
    assert_eq!(
        (seg.tcp.as_slice(), seg.tcp_len, seg.truncated),
        (&tcp[34..], 25, false)
    );
    assert_eq!(seg.ports(), Some((1234, 80)));
    let trailer_cut = &cap.segments[1];
    assert_eq!(
        (
            trailer_cut.frame,
            trailer_cut.tcp.len(),
            trailer_cut.tcp_len
        ),
        (3, 20, 20)
    );
    assert_eq!(trailer_cut.timestamp_us, 103_999_999);
    assert_eq!(
        cap.skipped,
        vec![
            SkippedFrame {
                frame: 1,
                reason: SkipReason::NotIp
            },
            SkippedFrame {
                frame: 2,
                reason: SkipReason::NotTcp
            }
        ]
    );
}

#[test]
fn pcap_big_endian_nanoseconds_and_masked_link_type() {
    let frame = ethernet(0x0800, &ipv4_tcp(6, 100));
    let cut = frame[..60].to_vec();
    let file = pcap(false, true, 0x3000_0001, &[(7, 123_456_789, cut, 154)]);
    let cap = read_capture(&file).expect("valid pcap");
    assert_eq!(cap.link_types, vec![1]);
    let seg = &cap.segments[0];
    assert_eq!(seg.timestamp_us, 7_123_456);
    assert_eq!((seg.tcp.len(), seg.tcp_len, seg.truncated), (26, 120, true));
}

#[test]
fn pcap_cut_mid_record_keeps_earlier_frames() {
    let frame = ethernet(0x0800, &ipv4_tcp(6, 0));
    let file = pcap(
        true,
        false,
        1,
        &[(1, 0, frame.clone(), 54), (2, 0, frame, 54)],
    );
    for cut in [file.len() - 1, file.len() - 54, file.len() - 60] {
        let cap = read_capture(&file[..cut]).expect("header intact");
        assert_eq!(cap.segments.len(), 1);
        assert_eq!(
            cap.end,
            CaptureEnd::Truncated {
                offset: 24 + 16 + 54
            }
        );
        assert!(!cap.is_complete());
    }
    let cap = read_capture(&file[..24]).expect("header only");
    assert_eq!((cap.frame_count(), cap.end), (0, CaptureEnd::Complete));
}

#[test]
fn pcap_unsupported_link_type() {
    let file = pcap(true, false, 147, &[(1, 0, vec![1, 2, 3], 3)]);
    let cap = read_capture(&file).expect("valid pcap");
    assert_eq!(
        cap.skipped,
        vec![SkippedFrame {
            frame: 0,
            reason: SkipReason::UnsupportedLinkType(147)
        }]
    );
}

#[test]
fn pcapng_sections_interfaces_and_resolutions() {
    let ip = ipv4_tcp(6, 3);
    let mut file = shb(true);
    file.extend(idb(true, 1, Some(9)));
    file.extend(idb(true, 101, None));
    file.extend(epb(true, 0, 1_500_000_000_123, &ethernet(0x0800, &ip)));
    file.extend(epb(true, 1, 2_000_001, &ip));
    file.extend(epb(true, 2, 0, &ip));
    // Simple packet block: interface 0, previous timestamp.
    let mut spb = 60u32.to_le_bytes().to_vec();
    spb.extend(ethernet(0x0800, &ip));
    file.extend(block(true, 3, &spb));
    file.extend(block(true, 0x0000_0BAD, &[1, 2, 3, 4])); // unknown block: ignored
                                                          // Second section, big-endian, resets the interfaces.
    file.extend(shb(false));
    file.extend(idb(false, 113, Some(0x80 | 10)));
    let mut sll = vec![0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0];
    sll.extend_from_slice(&ip);
    file.extend(epb(false, 0, 3 << 10, &sll));
    file.extend(epb(false, 1, 0, &ip));

    let cap = read_capture(&file).expect("valid pcapng");
    assert_eq!(
        (cap.format, cap.end.clone()),
        (CaptureFormat::PcapNg, CaptureEnd::Complete)
    );
    assert_eq!(cap.link_types, vec![1, 101, 113]);
    let summary: Vec<_> = cap
        .segments
        .iter()
        .map(|s| (s.frame, s.timestamp_us, s.tcp_len))
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, 1_500_000_000, 23),
            (1, 2_000_001, 23),
            (3, 2_000_001, 23),
            (4, 3_000_000, 23)
        ]
    );
    assert_eq!(
        cap.skipped,
        vec![
            SkippedFrame {
                frame: 2,
                reason: SkipReason::UnknownInterface(2)
            },
            SkippedFrame {
                frame: 5,
                reason: SkipReason::UnknownInterface(1)
            },
        ]
    );
}

#[test]
fn pcapng_bad_blocks() {
    let ip = ipv4_tcp(6, 0);
    let mut file = shb(false);
    file.extend(idb(false, 101, None));
    file.extend(epb(false, 0, 5, &ip));
    let good_len = file.len();
    // An EPB whose captured length runs past its block.
    let mut bad = epb(false, 0, 6, &ip);
    bad[20..24].copy_from_slice(&1000u32.to_be_bytes());
    file.extend(bad);
    let cap = read_capture(&file).expect("valid pcapng");
    assert_eq!(
        cap.skipped,
        vec![SkippedFrame {
            frame: 1,
            reason: SkipReason::MalformedBlock
        }]
    );
    assert!(cap.is_complete());
    // A block length that is not a multiple of 4 stops reading.
    let mut corrupt = file[..good_len].to_vec();
    corrupt.extend_from_slice(&[0, 0, 0, 6, 0, 0, 0, 13, 0, 0, 0, 0, 0]);
    let cap = read_capture(&corrupt).expect("header intact");
    assert_eq!(cap.segments.len(), 1);
    assert!(matches!(cap.end, CaptureEnd::Corrupt { offset, .. } if offset == good_len));
    // Cut in the middle of the last block.
    let cap = read_capture(&file[..file.len() - 3]).expect("header intact");
    assert_eq!(
        (cap.segments.len(), cap.end),
        (1, CaptureEnd::Truncated { offset: good_len })
    );
}

#[test]
fn whole_file_errors_have_clear_messages() {
    let err = read_capture(b"hello world").expect_err("not a capture");
    assert_eq!(
        err.to_string(),
        "not a pcap or pcapng file (magic number 0x68656c6c)"
    );
    let err = read_capture(&[]).expect_err("empty");
    assert_eq!(err.to_string(), "not a capture file: only 0 bytes long");
    let err = read_capture(&[0xD4, 0xC3, 0xB2, 0xA1, 2]).expect_err("short header");
    assert_eq!(
        err.to_string(),
        "pcap file header is truncated (file is 5 bytes long)"
    );
    let mut bad_shb = shb(true);
    bad_shb[8] = 0;
    let err = read_capture(&bad_shb).expect_err("bad byte-order magic");
    assert!(
        err.to_string().starts_with("invalid pcapng file header: "),
        "{err}"
    );
    let err = read_capture_file(Path::new("/nonexistent/x.pcap")).expect_err("missing");
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/x.pcap: "),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

/// Every prefix and many corruptions of valid files parse without panicking.
#[test]
fn never_panics_on_damaged_files() {
    let ip = ipv4_tcp(6, 10);
    let classic = pcap(
        true,
        false,
        1,
        &[(1, 2, ethernet(0x0800, &ip), 64), (3, 4, ip.clone(), 30)],
    );
    let mut ng = shb(true);
    ng.extend(idb(true, 1, Some(6)));
    ng.extend(epb(true, 0, 1, &ethernet(0x86DD, &ip)));
    ng.extend(epb(true, 0, 1, &ethernet(0x0800, &ip)));
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for file in [classic, ng] {
        for cut in 0..=file.len() {
            let _ = read_capture(&file[..cut]);
        }
        for _ in 0..3000 {
            let mut damaged = file.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = usize::try_from(seed % damaged.len() as u64).expect("fits");
                damaged[at] = (seed >> 32) as u8;
            }
            let _ = read_capture(&damaged);
        }
    }
}
