//! The bodies of the fuzz targets in `fuzz/`, callable from stable tests
//!
//! Each function takes arbitrary bytes and panics only when it finds a bug, so cargo-fuzz (on
//! nightly) and `cargo test` over the seed corpora (on stable) run the same checks.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tcp_engine::wire::{checksum, ChecksumCheck, TcpOptionIter, TcpOptions, TcpPacket, TcpRepr};

/// Addresses the fuzzed segments are checksummed against
fn addresses(v6: bool) -> (IpAddr, IpAddr) {
    if v6 {
        (
            Ipv6Addr::new(0xfd00, 7, 0, 0, 0, 0, 0, 1).into(),
            Ipv6Addr::new(0xfd00, 7, 0, 0, 0, 0, 0, 2).into(),
        )
    } else {
        (
            Ipv4Addr::new(10, 7, 0, 1).into(),
            Ipv4Addr::new(10, 7, 0, 2).into(),
        )
    }
}

/// Any bytes → view and repr; whatever parses must emit and re-parse to the same repr
pub fn parse_segment(data: &[u8]) {
    let (src, dst) = addresses(data.first().is_some_and(|b| b & 1 == 1));
    let Ok(packet) = TcpPacket::new_checked(data) else {
        return;
    };
    // Every accessor is in bounds once the view is checked.
    let _ = (
        packet.src_port(),
        packet.seq_number(),
        packet.flags(),
        packet.segment_len(),
    );
    let _ = (
        packet.options().len(),
        packet.payload().len(),
        packet.verify_checksum(&src, &dst),
    );
    for option in packet.option_iter() {
        if option.is_err() {
            break;
        }
    }
    let Ok(repr) = TcpRepr::parse(&packet, &src, &dst, ChecksumCheck::Skip) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let len = repr
        .emit(&mut buf, &src, &dst)
        .expect("a parsed repr always fits in its buffer_len");
    assert_eq!(len, repr.buffer_len());
    let again = TcpRepr::parse_bytes(&buf, &src, &dst, ChecksumCheck::Verify)
        .expect("an emitted segment always re-parses with a valid checksum");
    assert_eq!(again, repr);
}

/// Any bytes as an option list: never panics; what parses emits and re-parses to itself
pub fn parse_options(data: &[u8]) {
    let data = &data[..data.len().min(40)];
    let mut count = 0;
    for option in TcpOptionIter::new(data) {
        count += 1;
        assert!(count <= data.len(), "the iterator always makes progress");
        if option.is_err() {
            break;
        }
    }
    if let Ok(opts) = TcpOptions::parse(data) {
        let mut buf = [0u8; 64];
        let n = opts.emit(&mut buf);
        assert_eq!(n, opts.wire_len());
        assert_eq!(TcpOptions::parse(&buf[..n]), Ok(opts));
    }
}

/// The fast checksum against the plain 16-bit reference, at every alignment
pub fn checksum(data: &[u8]) {
    let norm = |x: u16| if x == 0xffff { 0 } else { x };
    for start in 0..data.len().min(8) {
        let s = &data[start..];
        assert_eq!(
            norm(checksum::data(s)),
            norm(checksum::reference(s)),
            "start {start}"
        );
    }
}

pub use crate::fuzz_engine::engine;
