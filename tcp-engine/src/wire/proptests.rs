//! Property tests of the wire layer: any valid repr emits and re-parses to itself, and the
//! option fast paths agree with the general code

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::{ChecksumCheck, SackBlock, TcpFlags, TcpOptions, TcpPacket, TcpRepr};
use crate::seq::SeqNumber;

fn options() -> impl Strategy<Value = TcpOptions> {
    (
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u8>()),
        any::<bool>(),
        proptest::option::of(any::<(u32, u32)>()),
        proptest::collection::vec(any::<(u32, u32)>(), 0..=4),
    )
        .prop_map(|(mss, window_scale, sack_permitted, timestamps, blocks)| {
            let mut o = TcpOptions {
                mss,
                window_scale,
                sack_permitted,
                timestamps,
                ..TcpOptions::NONE
            };
            for (l, r) in blocks {
                o.push_sack(SackBlock {
                    left: SeqNumber(l),
                    right: SeqNumber(r),
                });
            }
            o
        })
        .prop_filter("options must fit in 40 bytes", |o| o.wire_len() <= 40)
}

fn addresses() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        any::<(u32, u32)>().prop_map(|(a, b)| (Ipv4Addr::from(a).into(), Ipv4Addr::from(b).into())),
        any::<(u128, u128)>()
            .prop_map(|(a, b)| (Ipv6Addr::from(a).into(), Ipv6Addr::from(b).into())),
    ]
}

proptest! {
    /// Covers: MUST-5
    #[test]
    fn repr_round_trips(
        ports in any::<(u16, u16)>(),
        flags in any::<u8>(),
        seq in any::<u32>(),
        ack in any::<u32>(),
        win in any::<u16>(),
        urg in any::<u16>(),
        options in options(),
        payload in proptest::collection::vec(any::<u8>(), 0..200),
        (src, dst) in addresses(),
    ) {
        let repr = TcpRepr {
            src_port: ports.0,
            dst_port: ports.1,
            flags: TcpFlags::from_bits_retain(flags),
            seq_number: SeqNumber(seq),
            ack_number: SeqNumber(ack),
            window_len: win,
            urgent_pointer: urg,
            options,
            payload: &payload,
        };
        let mut buf = std::vec![0u8; repr.buffer_len()];
        prop_assert_eq!(repr.emit(&mut buf, &src, &dst), Some(repr.buffer_len()));
        let packet = TcpPacket::new_checked(&buf[..]).unwrap();
        prop_assert!(packet.verify_checksum(&src, &dst));
        prop_assert_eq!(packet.header_len() % 4, 0);
        let back = TcpRepr::parse(&packet, &src, &dst, ChecksumCheck::Verify).unwrap();
        prop_assert_eq!(back, repr);
    }

    #[test]
    fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let src = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let _ = TcpRepr::parse_bytes(&bytes, &src, &src, ChecksumCheck::Verify);
        let _ = TcpRepr::parse_bytes(&bytes, &src, &src, ChecksumCheck::Skip);
    }
}

/// Option bytes: arbitrary, or the NOP, NOP, timestamps layout the fast path takes, possibly
/// with one byte changed or cut short or extended
fn option_bytes() -> impl Strategy<Value = std::vec::Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..=40),
        (
            any::<[u8; 8]>(),
            any::<(usize, u8)>(),
            0usize..3,
            any::<u8>()
        )
            .prop_map(|(ts, (at, byte), shape, extra)| {
                let mut b = std::vec![1, 1, 8, 10];
                b.extend_from_slice(&ts);
                match shape {
                    0 => b[at % 12] = byte,
                    1 => b.truncate(at % 12),
                    _ => b.push(extra),
                }
                b
            }),
        any::<[u8; 8]>().prop_map(|ts| {
            let mut b = std::vec![1, 1, 8, 10];
            b.extend_from_slice(&ts);
            b
        }),
    ]
}

/// Option bytes built from plausible pieces: every known kind well and badly formed, NOP,
/// EOL, unknown kinds and bad lengths, in any order
fn option_pieces() -> impl Strategy<Value = std::vec::Vec<u8>> {
    let piece = prop_oneof![
        Just(std::vec![1u8]),
        Just(std::vec![0u8]),
        any::<u16>().prop_map(|m| std::vec![2, 4, (m >> 8) as u8, m as u8]),
        any::<u8>().prop_map(|s| std::vec![3, 3, s]),
        Just(std::vec![4u8, 2]),
        any::<[u8; 8]>().prop_map(|t| [&[8u8, 10][..], &t].concat()),
        (1usize..=5, any::<[u8; 40]>()).prop_map(|(n, b)| [
            &[5u8, 2 + 8 * n as u8][..],
            &b[..8 * n]
        ]
        .concat()),
        (0u8..=12, any::<u8>()).prop_map(|(len, k)| std::vec![k, len, 0, 0, 0, 0]),
        (2u8..=6, any::<u8>()).prop_map(|(len, k)| [
            &[k, len][..],
            &[9u8; 4][..usize::from(len) - 2]
        ]
        .concat()),
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|ps| {
        let mut b = ps.concat();
        b.truncate(40);
        b
    })
}

/// The general parser written over [`TcpOptionIter`]: the reference for the direct one
fn parse_by_iter(bytes: &[u8]) -> Result<TcpOptions, super::ParseError> {
    use super::{TcpOption, TcpOptionIter};
    let mut opts = TcpOptions::NONE;
    for option in TcpOptionIter::new(bytes) {
        match option? {
            TcpOption::MaxSegmentSize(m) => opts.mss = Some(m),
            TcpOption::WindowScale(s) => opts.window_scale = Some(s),
            TcpOption::SackPermitted => opts.sack_permitted = true,
            TcpOption::Timestamps { tsval, tsecr } => opts.timestamps = Some((tsval, tsecr)),
            TcpOption::Sack(blocks) => {
                opts.sack_len = 0;
                for b in blocks.into_iter().flatten() {
                    opts.push_sack(b);
                }
            }
            TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::Unknown { .. } => {}
        }
    }
    Ok(opts)
}

proptest! {
    #[test]
    fn general_parser_matches_the_option_iterator(
        bytes in prop_oneof![option_pieces(), option_bytes()]
    ) {
        prop_assert_eq!(TcpOptions::parse_general(&bytes), parse_by_iter(&bytes));
    }
}

proptest! {
    #[test]
    fn option_fast_path_matches_general_parser(bytes in option_bytes()) {
        prop_assert_eq!(TcpOptions::parse(&bytes), TcpOptions::parse_general(&bytes));
    }
}

proptest! {
    #[test]
    fn timestamps_only_emit_is_the_linux_layout(v in any::<u32>(), e in any::<u32>()) {
        let o = TcpOptions { timestamps: Some((v, e)), ..TcpOptions::NONE };
        let mut buf = [0u8; 40];
        prop_assert_eq!(o.wire_len(), 12);
        prop_assert_eq!(o.emit(&mut buf), 12);
        let mut want = std::vec![1, 1, 8, 10];
        want.extend_from_slice(&v.to_be_bytes());
        want.extend_from_slice(&e.to_be_bytes());
        prop_assert_eq!(&buf[..12], &want[..]);
        prop_assert_eq!(TcpOptions::NONE.wire_len(), 0);
        prop_assert_eq!(TcpOptions::NONE.emit(&mut buf), 0);
    }
}
