//! The minimal IPv4 layer our engine's side of the link uses, so that both stacks carry,
//! build and check the same 20-byte IPv4 headers (smoltcp does it inside its interface)

use core::net::Ipv4Addr;

/// IPv4 header length (no options)
pub const HEADER: usize = 20;

fn checksum(header: &[u8]) -> u16 {
    let mut sum = 0u32;
    for w in header.chunks_exact(2) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Write an IPv4 header for a TCP payload of `len` bytes into `buf[..20]`
pub fn write_header(buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, len: usize, id: u16) {
    let h = &mut buf[..HEADER];
    h[0] = 0x45;
    h[1] = 0;
    h[2..4].copy_from_slice(&((HEADER + len) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // DF
    h[8] = 64;
    h[9] = 6; // TCP
    h[10..12].fill(0);
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = checksum(h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
}

/// Check an IPv4 datagram carrying TCP; returns its addresses and the TCP segment
pub fn parse(packet: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, &[u8])> {
    let h = packet.get(..HEADER)?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if h[0] >> 4 != 4 || ihl < HEADER || total < ihl || total > packet.len() || h[9] != 6 {
        return None;
    }
    if checksum(packet.get(..ihl)?) != 0 {
        return None;
    }
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    Some((src, dst, &packet[ihl..total]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let mut buf = [0u8; 64];
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        write_header(&mut buf, a, b, 30, 9);
        let (s, d, seg) = parse(&buf).unwrap();
        assert_eq!((s, d, seg.len()), (a, b, 30));
        buf[8] = 63;
        assert!(parse(&buf).is_none());
    }
}
