//! Keyed hashes: initial sequence numbers (RFC 6528, SHLD-1), ephemeral port offsets
//! (RFC 6056 §3.3.3) and the connection index

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

/// Keys derived from the caller's secret
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    isn: [u8; 16],
    port: [u8; 16],
    index: [u8; 16],
    cookie: [u8; 16],
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
        Self {
            isn: derive(1),
            port: derive(2),
            index: derive(3),
            cookie: derive(4),
        }
    }

    /// ISN = M + F(localip, localport, remoteip, remoteport, secretkey) (RFC 9293 §3.4.1):
    /// M is a clock ticking every 4 µs, F SipHash-2-4
    pub(crate) fn isn(&self, now: Instant, t: &FourTuple) -> SeqNumber {
        let mut h = SipHasher24::new_with_key(&self.isn);
        write_addr(&mut h, &t.local_addr);
        h.write_u16(t.local_port);
        write_addr(&mut h, &t.remote_addr);
        h.write_u16(t.remote_port);
        let m = (now.total_micros() / 4) as u32;
        SeqNumber(m.wrapping_add(h.finish() as u32))
    }

    /// Per-destination port offset (RFC 6056 algorithm 3)
    pub(crate) fn port_offset(&self, local: &IpAddr, remote: &IpAddr, remote_port: u16) -> u32 {
        let mut h = SipHasher13::new_with_key(&self.port);
        write_addr(&mut h, local);
        write_addr(&mut h, remote);
        h.write_u16(remote_port);
        h.finish() as u32
    }

    /// The SYN-cookie key
    pub(crate) fn cookie_key(&self) -> [u8; 16] {
        self.cookie
    }

    /// Hash of a 4-tuple for the connection index (keyed against hash flooding)
    pub(crate) fn index_hash(&self, t: &FourTuple) -> u64 {
        let mut h = SipHasher13::new_with_key(&self.index);
        write_addr(&mut h, &t.local_addr);
        write_addr(&mut h, &t.remote_addr);
        h.write_u32(u32::from(t.local_port) << 16 | u32::from(t.remote_port));
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

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
}
