//! The Internet checksum (RFC 1071) with the IPv4 and IPv6 pseudo-headers (RFC 9293 §3.1,
//! RFC 8200 §8.1)
//!
//! It runs over every segment in and out, so the sum is taken 8 bytes at a time into a 64-bit
//! accumulator with end-around carry (RFC 1071 §2(C) and §4.2: a wider one's complement sum
//! folds down to the same 16-bit sum), and folded to 16 bits once at the end. The one's
//! complement sum does not depend on byte order (RFC 1071 §2(B)), so words are read in native
//! order and the folded result is swapped once.

use core::net::IpAddr;

/// IP protocol number of TCP
const PROTOCOL_TCP: u8 = 6;

/// Add `b` to `a` with end-around carry
#[inline(always)]
fn add_carry(a: u64, b: u64) -> u64 {
    let (sum, carry) = a.overflowing_add(b);
    sum + carry as u64
}

/// `a + b + carry`, and the carry out: written so that LLVM emits one `adc` per word
#[inline(always)]
fn add_with_carry(a: u64, b: u64, carry: bool) -> (u64, bool) {
    let (s1, c1) = a.overflowing_add(b);
    let (s2, c2) = s1.overflowing_add(u64::from(carry));
    (s2, c1 | c2)
}

/// An 8-byte word of `c` at `i`, in native order
#[inline(always)]
fn word(c: &[u8], i: usize) -> u64 {
    u64::from_ne_bytes([
        c[i],
        c[i + 1],
        c[i + 2],
        c[i + 3],
        c[i + 4],
        c[i + 5],
        c[i + 6],
        c[i + 7],
    ])
}

/// `acc` plus the words of `block` (a multiple of 8 bytes long) as one carry chain: every
/// word also adds the carry out of the previous one (one `adc` instruction per 8 bytes on
/// x86-64); the carry left at the end wraps around (RFC 1071 §2(C) end-around carry)
#[inline(always)]
fn chain(mut acc: u64, block: &[u8]) -> u64 {
    let mut carry = false;
    for i in 0..block.len() / 8 {
        (acc, carry) = add_with_carry(acc, word(block, 8 * i), carry);
    }
    add_carry(acc, u64::from(carry))
}

/// Bytes per carry chain in [`sum_native`]
const BLOCK: usize = 128;

/// The 64-bit end-around-carry sum of `data`, in native byte order
///
/// Folding the result with [`fold`] gives the 16-bit one's complement sum (in native order).
/// The bulk goes in 128-byte carry chains ([`chain`]) alternating between two accumulators,
/// so that consecutive chains do not wait for each other's carries.
fn sum_native(data: &[u8]) -> u64 {
    let (mut acc, mut other) = (0u64, 0u64);
    let mut pairs = data.chunks_exact(2 * BLOCK);
    for p in &mut pairs {
        let (a, b) = p.split_at(BLOCK);
        acc = chain(acc, a);
        other = chain(other, b);
    }
    let mut rest = pairs.remainder();
    if rest.len() >= BLOCK {
        let (a, b) = rest.split_at(BLOCK);
        other = chain(other, a);
        rest = b;
    }
    acc = add_carry(acc, other);
    // The rest (under 128 bytes) in 32-byte chains, then words.
    let mut quads = rest.chunks_exact(32);
    for q in &mut quads {
        acc = chain(acc, q);
    }
    let mut words = quads.remainder().chunks_exact(8);
    let mut carry = false;
    for w in &mut words {
        (acc, carry) = add_with_carry(acc, word(w, 0), carry);
    }
    acc = add_carry(acc, u64::from(carry));
    // Up to 7 trailing bytes, in pieces of 4, 2 and 1 that each start at an even offset, so
    // each is a whole number of 16-bit words in native order. A lone last byte is the high
    // half of a 16-bit word in network order, padded with zero on the right.
    let rest = words.remainder();
    let (four, rest) = rest.split_at(rest.len() & 4);
    let (two, one) = rest.split_at(rest.len() & 2);
    let mut tail = 0u64;
    if let [a, b, c, d] = *four {
        tail += u64::from(u32::from_ne_bytes([a, b, c, d]));
    }
    if let [a, b] = *two {
        tail += u64::from(u16::from_ne_bytes([a, b]));
    }
    if let [a] = *one {
        tail += u64::from(u16::from_ne_bytes([a, 0]));
    }
    acc = add_carry(acc, tail);
    acc
}

/// Fold a 64-bit end-around-carry sum to 16 bits
#[inline]
fn fold(mut acc: u64) -> u16 {
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    let mut x = (acc & 0xffff) + (acc >> 16);
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
    x as u16
}

/// The 16-bit one's complement sum of `data` as big-endian words (not complemented)
///
/// An odd final byte is padded with a zero byte on the right.
pub fn data(data: &[u8]) -> u16 {
    u16::from_be(fold(sum_native(data)))
}

/// The one's complement sum of several partial sums (not complemented)
pub fn combine(sums: &[u16]) -> u16 {
    let acc: u64 = sums.iter().map(|&s| u64::from(s)).sum();
    fold(acc)
}

/// The one's complement sum of the pseudo-header for a TCP segment of `len` bytes
/// (RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for IPv6)
///
/// Mixed address families have no pseudo-header; the IPv4-mapped form of the IPv4 address is
/// used then, so the result is still defined (such a segment never verifies on a real path).
pub fn pseudo_header(src: &IpAddr, dst: &IpAddr, len: u32) -> u16 {
    u16::from_be(fold(pseudo_native(src, dst, len)))
}

/// The pseudo-header's sum as [`sum_native`] would give it, without building the header
#[inline(always)]
fn pseudo_native(src: &IpAddr, dst: &IpAddr, len: u32) -> u64 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // zero, protocol, and the 16-bit TCP length: one 32-bit word of the header.
            let [_, _, hi, lo] = len.to_be_bytes();
            let last = u32::from_ne_bytes([0, PROTOCOL_TCP, hi, lo]);
            u64::from(u32::from_ne_bytes(s.octets()))
                + u64::from(u32::from_ne_bytes(d.octets()))
                + u64::from(last)
        }
        _ => pseudo_native_v6(src, dst, len),
    }
}

/// [`pseudo_native`] for IPv6 (and mixed families), out of line
#[inline(never)]
fn pseudo_native_v6(src: &IpAddr, dst: &IpAddr, len: u32) -> u64 {
    let mut buf = [0u8; 40];
    buf[0..16].copy_from_slice(&to_v6(src).octets());
    buf[16..32].copy_from_slice(&to_v6(dst).octets());
    buf[32..36].copy_from_slice(&len.to_be_bytes());
    buf[39] = PROTOCOL_TCP;
    sum_native(&buf)
}

fn to_v6(a: &IpAddr) -> core::net::Ipv6Addr {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => *v6,
    }
}

/// The one's complement sum (not complemented) of the pseudo-header and `segment`
fn segment_sum(src: &IpAddr, dst: &IpAddr, segment: &[u8]) -> u16 {
    let ph = pseudo_native(src, dst, segment.len() as u32);
    u16::from_be(fold(add_carry(ph, sum_native(segment))))
}

/// The checksum field value for `segment` (its checksum field must hold zero)
pub fn tcp(src: &IpAddr, dst: &IpAddr, segment: &[u8]) -> u16 {
    !segment_sum(src, dst, segment)
}

/// Whether `segment`, checksum field included, verifies against the pseudo-header
pub fn verify_tcp(src: &IpAddr, dst: &IpAddr, segment: &[u8]) -> bool {
    segment_sum(src, dst, segment) == 0xffff
}

/// The plain reference: one big-endian 16-bit word at a time (RFC 1071 §4.1)
///
/// Kept for tests, fuzzing and benchmarks that compare the fast sum against it.
pub fn reference(data: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u32::from(u16::from_be_bytes([w[0], w[1]]));
        acc = (acc & 0xffff) + (acc >> 16);
    }
    if let [last] = words.remainder() {
        acc += u32::from(*last) << 8;
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(data(&bytes), 0xddf2);
        assert_eq!(reference(&bytes), 0xddf2);
    }

    #[test]
    fn odd_length_pads_right() {
        assert_eq!(data(&[0xab]), 0xab00);
        assert_eq!(data(&[0x12, 0x34, 0x56]), 0x6834);
    }

    #[test]
    fn all_ones_words_fold_to_ffff() {
        assert_eq!(data(&[0xff; 1000]), 0xffff);
        assert_eq!(data(&[]), 0);
    }

    #[test]
    fn checksum_then_verify_v4_and_v6() {
        let v4 = (
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        );
        let v6 = (
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::new(0xfd00, 7, 0, 0, 0, 0, 0, 2)),
        );
        for (s, d) in [v4, v6] {
            let mut seg = [0u8; 31];
            for (i, b) in seg.iter_mut().enumerate() {
                *b = i as u8 * 7;
            }
            seg[16] = 0;
            seg[17] = 0;
            let c = tcp(&s, &d, &seg);
            seg[16..18].copy_from_slice(&c.to_be_bytes());
            assert!(verify_tcp(&s, &d, &seg));
            seg[20] ^= 0x10;
            assert!(!verify_tcp(&s, &d, &seg));
        }
    }

    proptest! {
        #[test]
        fn fast_sum_matches_reference(bytes in proptest::collection::vec(any::<u8>(), 0..2000),
                                      start in 0usize..8) {
            let s = &bytes[start.min(bytes.len())..];
            // 0x0000 and 0xffff are the same number in one's complement.
            let norm = |x: u16| if x == 0xffff { 0 } else { x };
            prop_assert_eq!(norm(data(s)), norm(reference(s)));
        }

        #[test]
        fn segment_checksum_matches_reference(
            bytes in proptest::collection::vec(any::<u8>(), 0..1600),
            start in 0usize..8,
            src in any::<[u8; 16]>(),
            dst in any::<[u8; 16]>(),
            v4 in any::<bool>(),
        ) {
            let seg = &bytes[start.min(bytes.len())..];
            let (s, d): (IpAddr, IpAddr) = if v4 {
                let a = |x: [u8; 16]| Ipv4Addr::new(x[0], x[1], x[2], x[3]).into();
                (a(src), a(dst))
            } else {
                (Ipv6Addr::from(src).into(), Ipv6Addr::from(dst).into())
            };
            // The pseudo-header written out in full (RFC 9293 §3.1, RFC 8200 §8.1).
            let mut ph = std::vec::Vec::new();
            match (s, d) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    ph.extend_from_slice(&a.octets());
                    ph.extend_from_slice(&b.octets());
                    ph.extend_from_slice(&[0, PROTOCOL_TCP]);
                    ph.extend_from_slice(&(seg.len() as u16).to_be_bytes());
                }
                (IpAddr::V6(a), IpAddr::V6(b)) => {
                    ph.extend_from_slice(&a.octets());
                    ph.extend_from_slice(&b.octets());
                    ph.extend_from_slice(&(seg.len() as u32).to_be_bytes());
                    ph.extend_from_slice(&[0, 0, 0, PROTOCOL_TCP]);
                }
                _ => unreachable!(),
            }
            let norm = |x: u16| if x == 0xffff { 0 } else { x };
            prop_assert_eq!(norm(pseudo_header(&s, &d, seg.len() as u32)), norm(reference(&ph)));
            let expect = combine(&[reference(&ph), reference(seg)]);
            prop_assert_eq!(norm(!tcp(&s, &d, seg)), norm(expect));
        }
    }
}
