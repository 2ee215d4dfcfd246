//! Keyed hashes: initial sequence numbers (RFC 6528, SHLD-1), ephemeral port offsets
//! (RFC 6056 §3.3.3) and the connection index
//!
//! ISNs, port offsets and SYN cookies need a pseudo-random function (SipHash). The index only
//! needs keyed hashing that a remote peer cannot aim collisions at without the key, and runs
//! on every connection's setup and teardown, so it uses the cheaper NH universal hash (as in
//! UMAC, RFC 4418 §5): pairs of 32-bit words plus key words, multiplied to 64 bits and summed,
//! whose collision probability for two different tuples of one family is at most 2^-32 over
//! the choice of key.

use core::hash::Hasher;
use core::net::IpAddr;

use siphasher::sip::{SipHasher13, SipHasher24};

use crate::conn::FourTuple;
use crate::seq::SeqNumber;
use crate::time::Instant;

fn write_addr(h: &mut impl Hasher, a: &IpAddr) {
    match a {
        IpAddr::V4(v4) => h.write(&v4.octets()),
        IpAddr::V6(v6) => h.write(&v6.octets()),
    }
}

/// Write an address's octets at the start of `buf`; returns how many (4 or 16)
fn put_addr(buf: &mut [u8], a: &IpAddr) -> usize {
    match a {
        IpAddr::V4(v4) => {
            buf[..4].copy_from_slice(&v4.octets());
            4
        }
        IpAddr::V6(v6) => {
            buf[..16].copy_from_slice(&v6.octets());
            16
        }
    }
}

/// Feed a whole 4-tuple to a hasher
pub(crate) fn write_tuple(h: &mut impl Hasher, t: &FourTuple) {
    write_addr(h, &t.local_addr);
    write_addr(h, &t.remote_addr);
    h.write_u32(u32::from(t.local_port) << 16 | u32::from(t.remote_port));
}

/// 32-bit key words of the index hash: enough for an IPv6 tuple (4 + 4 + 1 words, and one
/// that says which family)
const INDEX_KEY_WORDS: usize = 10;

/// Keys derived from the caller's secret
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    isn: [u8; 16],
    port: [u8; 16],
    index: [u32; INDEX_KEY_WORDS],
    cookie: [u8; 16],
}

/// NH over pairs of words (RFC 4418 §5.2.1 with 32-bit words): the sum of
/// `(m[2i] + k[2i]) · (m[2i+1] + k[2i+1])`, additions mod 2^32, products and sum mod 2^64
#[inline(always)]
fn nh(words: &[u32], key: &[u32]) -> u64 {
    words
        .chunks_exact(2)
        .zip(key.chunks_exact(2))
        .fold(0u64, |acc, (m, k)| {
            let a = u64::from(m[0].wrapping_add(k[0]));
            let b = u64::from(m[1].wrapping_add(k[1]));
            acc.wrapping_add(a * b)
        })
}

/// Spread every bit of a 64-bit value over the high bits, which pick the index bucket
/// (a bijection, so it adds no collisions)
#[inline(always)]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 32;
    h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

impl Keys {
    /// Derive the three keys from one 128-bit secret
    pub(crate) fn new(secret: [u8; 16]) -> Self {
        let derive = |label: u8| {
            let mut h = SipHasher24::new_with_key(&secret);
            h.write_u8(label);
            let a = h.finish();
            h.write_u8(label);
            let b = h.finish();
            let mut k = [0u8; 16];
            k[..8].copy_from_slice(&a.to_le_bytes());
            k[8..].copy_from_slice(&b.to_le_bytes());
            k
        };
        let mut index = [0u32; INDEX_KEY_WORDS];
        for (pair, label) in index.chunks_exact_mut(4).zip([3u8, 5]) {
            for (w, b) in pair.iter_mut().zip(derive(label).chunks_exact(4)) {
                *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
        // The last two words (10 is not a multiple of 4).
        let extra = derive(7);
        index[8] = u32::from_le_bytes([extra[0], extra[1], extra[2], extra[3]]);
        index[9] = u32::from_le_bytes([extra[4], extra[5], extra[6], extra[7]]);
        Self {
            isn: derive(1),
            port: derive(2),
            index,
            cookie: derive(4),
        }
    }

    /// ISN = M + F(localip, localport, remoteip, remoteport, secretkey) (RFC 9293 §3.4.1):
    /// M is a clock ticking every 4 µs, F SipHash-2-4
    pub(crate) fn isn(&self, now: Instant, t: &FourTuple) -> SeqNumber {
        // The tuple in one buffer and one `write` (the hasher's buffering per call costs
        // more than the hashing of a few bytes).
        let mut buf = [0u8; 36];
        let mut at = 0;
        for (addr, port) in [
            (&t.local_addr, t.local_port),
            (&t.remote_addr, t.remote_port),
        ] {
            at += put_addr(&mut buf[at..], addr);
            buf[at..at + 2].copy_from_slice(&port.to_ne_bytes());
            at += 2;
        }
        let mut h = SipHasher24::new_with_key(&self.isn);
        h.write(&buf[..at]);
        let m = (now.total_micros() / 4) as u32;
        SeqNumber(m.wrapping_add(h.finish() as u32))
    }

    /// Per-destination port offset (RFC 6056 algorithm 3)
    pub(crate) fn port_offset(&self, local: &IpAddr, remote: &IpAddr, remote_port: u16) -> u32 {
        // One buffer and one `write`: the same byte stream as writing each field.
        let mut buf = [0u8; 34];
        let mut at = 0;
        for addr in [local, remote] {
            at += put_addr(&mut buf[at..], addr);
        }
        buf[at..at + 2].copy_from_slice(&remote_port.to_ne_bytes());
        let mut h = SipHasher13::new_with_key(&self.port);
        h.write(&buf[..at + 2]);
        h.finish() as u32
    }

    /// The SYN-cookie key
    pub(crate) fn cookie_key(&self) -> [u8; 16] {
        self.cookie
    }

    /// Hash of a 4-tuple for the connection index (keyed against hash flooding)
    pub(crate) fn index_hash(&self, t: &FourTuple) -> u64 {
        let ports = u32::from(t.local_port) << 16 | u32::from(t.remote_port);
        let h = match (t.local_addr, t.remote_addr) {
            (IpAddr::V4(l), IpAddr::V4(r)) => {
                let words = [
                    u32::from_ne_bytes(l.octets()),
                    u32::from_ne_bytes(r.octets()),
                    ports,
                    4,
                ];
                nh(&words, &self.index)
            }
            (l, r) => {
                let (l, r) = (to_v6(&l).octets(), to_v6(&r).octets());
                let mut words = [0u32; INDEX_KEY_WORDS];
                for (w, b) in words
                    .iter_mut()
                    .zip(l.chunks_exact(4).chain(r.chunks_exact(4)))
                {
                    *w = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
                }
                words[8] = ports;
                words[9] = 6;
                nh(&words, &self.index)
            }
        };
        mix(h)
    }
}

fn to_v6(a: &IpAddr) -> core::net::Ipv6Addr {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => *v6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    /// The one-buffer hashing gives what hashing field by field gives (the same byte
    /// stream), for both families
    #[test]
    fn one_write_equals_field_by_field() {
        let keys = Keys::new([9; 16]);
        let v6 = FourTuple {
            local_addr: core::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1).into(),
            remote_addr: core::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2).into(),
            local_port: 49152,
            remote_port: 443,
        };
        for t in [tuple(40000), v6] {
            let mut h = SipHasher24::new_with_key(&keys.isn);
            write_addr(&mut h, &t.local_addr);
            h.write_u16(t.local_port);
            write_addr(&mut h, &t.remote_addr);
            h.write_u16(t.remote_port);
            let now = Instant::from_micros(12_345);
            let expect = ((now.total_micros() / 4) as u32).wrapping_add(h.finish() as u32);
            assert_eq!(keys.isn(now, &t), SeqNumber(expect));
            let mut h = SipHasher13::new_with_key(&keys.port);
            write_addr(&mut h, &t.local_addr);
            write_addr(&mut h, &t.remote_addr);
            h.write_u16(t.remote_port);
            let offset = keys.port_offset(&t.local_addr, &t.remote_addr, t.remote_port);
            assert_eq!(offset, h.finish() as u32);
        }
    }

    fn tuple(port: u16) -> FourTuple {
        FourTuple {
            local_addr: Ipv4Addr::new(10, 0, 0, 1).into(),
            remote_addr: Ipv4Addr::new(10, 0, 0, 2).into(),
            local_port: port,
            remote_port: 80,
        }
    }

    /// Covers: MUST-8, MUST-9, SHLD-1
    #[test]
    fn isn_follows_the_4us_clock_and_depends_on_tuple_and_key() {
        let k = Keys::new([7; 16]);
        let t = tuple(40000);
        let a = k.isn(Instant::from_micros(0), &t);
        let b = k.isn(Instant::from_micros(400), &t);
        assert_eq!(b - a, 100); // M advances once every 4 µs
        assert_ne!(k.isn(Instant::ZERO, &tuple(40001)), a);
        assert_ne!(Keys::new([8; 16]).isn(Instant::ZERO, &t), a);
    }

    #[test]
    fn index_hash_is_keyed_and_spreads_sequential_ports() {
        let k = Keys::new([7; 16]);
        let t = tuple(40000);
        assert_eq!(k.index_hash(&t), k.index_hash(&tuple(40000)));
        assert_ne!(Keys::new([8; 16]).index_hash(&t), k.index_hash(&t));
        let v6 = FourTuple {
            local_addr: core::net::Ipv6Addr::LOCALHOST.into(),
            remote_addr: core::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2).into(),
            local_port: 40000,
            remote_port: 80,
        };
        assert_ne!(k.index_hash(&v6), k.index_hash(&t));
        // 4096 ephemeral ports into 8192 buckets (the index's multiply-shift reduction): no
        // bucket gets crowded.
        let mut load = std::vec![0u8; 8192];
        for port in 49152..49152 + 4096 {
            let h = k.index_hash(&tuple(port));
            load[((u128::from(h) * 8192) >> 64) as usize] += 1;
        }
        assert!(load.iter().all(|&n| n <= 8), "{:?}", load.iter().max());
    }
}
