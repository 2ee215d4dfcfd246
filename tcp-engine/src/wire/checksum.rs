//! The Internet checksum (RFC 1071) with the IPv4 and IPv6 pseudo-headers (RFC 9293 §3.1,
//! RFC 8200 §8.1)
//!
//! It runs over every segment in and out, so the sum is taken 8 bytes at a time into a 64-bit
//! accumulator with end-around carry, and folded to 16 bits once at the end. The one's
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

/// The 64-bit end-around-carry sum of `data`, in native byte order
///
/// Folding the result with [`fold`] gives the 16-bit one's complement sum (in native order).
fn sum_native(data: &[u8]) -> u64 {
    // A 128-bit accumulator takes 8-byte words with no carry handling in the loop (the
    // compiler emits add/adc); two of them keep two chains going in parallel.
    let mut chunks = data.chunks_exact(32);
    let (mut a, mut b) = (0u128, 0u128);
    for c in &mut chunks {
        let w = |i: usize| {
            u128::from(u64::from_ne_bytes([
                c[i],
                c[i + 1],
                c[i + 2],
                c[i + 3],
                c[i + 4],
                c[i + 5],
                c[i + 6],
                c[i + 7],
            ]))
        };
        a += w(0) + w(8);
        b += w(16) + w(24);
    }
    let mut acc = a + b;
    let mut words = chunks.remainder().chunks_exact(8);
    for c in &mut words {
        acc += u128::from(u64::from_ne_bytes([
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
        ]));
    }
    // Up to 7 trailing bytes: pad with zeros on the right (an odd last byte is the high half of
    // a 16-bit word in network order, which is what native-order padding gives too).
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        acc += u128::from(u64::from_ne_bytes(tail));
    }
    // Fold 128 → 64 bits with end-around carry.
    add_carry(acc as u64, (acc >> 64) as u64)
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
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut buf = [0u8; 12];
            buf[0..4].copy_from_slice(&s.octets());
            buf[4..8].copy_from_slice(&d.octets());
            buf[9] = PROTOCOL_TCP;
            // The TCP length field of the IPv4 pseudo-header is 16 bits.
            buf[10..12].copy_from_slice(&(len as u16).to_be_bytes());
            data(&buf)
        }
        _ => {
            let mut buf = [0u8; 40];
            buf[0..16].copy_from_slice(&to_v6(src).octets());
            buf[16..32].copy_from_slice(&to_v6(dst).octets());
            buf[32..36].copy_from_slice(&len.to_be_bytes());
            buf[39] = PROTOCOL_TCP;
            data(&buf)
        }
    }
}

fn to_v6(a: &IpAddr) -> core::net::Ipv6Addr {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => *v6,
    }
}

/// The checksum field value for `segment` (its checksum field must hold zero)
pub fn tcp(src: &IpAddr, dst: &IpAddr, segment: &[u8]) -> u16 {
    !combine(&[pseudo_header(src, dst, segment.len() as u32), data(segment)])
}

/// Whether `segment`, checksum field included, verifies against the pseudo-header
pub fn verify_tcp(src: &IpAddr, dst: &IpAddr, segment: &[u8]) -> bool {
    combine(&[pseudo_header(src, dst, segment.len() as u32), data(segment)]) == 0xffff
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
    }
}
