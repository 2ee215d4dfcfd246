//! IP framing: the network carries whole IP packets (so the MTU counts the IP header); hosts
//! wrap what their engine sends and unwrap what arrives.

use core::net::IpAddr;

use etherparse::{IpNumber, Ipv4HeaderSlice, Ipv6HeaderSlice};

/// The TCP segment inside an arriving IP packet, with the addresses of its header.
///
/// `None` when the packet is not one a host would hand to TCP: not IPv4 or IPv6, an IPv4
/// header whose checksum fails (a corrupted header is dropped by IP, as a real stack does), a
/// length field that disagrees with the bytes, or another protocol. Corruption inside the TCP
/// segment or in IPv6 addresses is left for the engine's TCP checksum to catch.
pub(crate) fn tcp_payload(packet: &[u8]) -> Option<(IpAddr, IpAddr, &[u8])> {
    match packet.first()? >> 4 {
        4 => {
            let h = Ipv4HeaderSlice::from_slice(packet).ok()?;
            if !header_checksum_ok(h.slice())
                || h.protocol() != IpNumber::TCP
                || h.more_fragments()
                || h.fragments_offset().value() != 0
            {
                return None;
            }
            let body = packet.get(h.slice().len()..usize::from(h.total_len()))?;
            Some((h.source_addr().into(), h.destination_addr().into(), body))
        }
        6 => {
            let h = Ipv6HeaderSlice::from_slice(packet).ok()?;
            if h.next_header() != IpNumber::TCP {
                return None;
            }
            let end = h.slice().len() + usize::from(h.payload_length());
            if end != packet.len() {
                return None;
            }
            let body = packet.get(h.slice().len()..end)?;
            Some((h.source_addr().into(), h.destination_addr().into(), body))
        }
        _ => None,
    }
}

/// Whether an IPv4 header's ones'-complement sum, checksum field included, is all ones
/// (RFC 791). Computed over the raw bytes so that every bit counts, reserved ones included.
fn header_checksum_ok(header: &[u8]) -> bool {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

/// The IP header size for an address family: 20 bytes for IPv4, 40 for IPv6.
#[must_use]
pub fn ip_header_len(addr: IpAddr) -> usize {
    if addr.is_ipv4() {
        20
    } else {
        40
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};
    use driver_pcap_replay::ip_packet;

    #[test]
    fn unwraps_what_ip_packet_wraps() {
        let seg = [
            1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        ];
        let v4 = (
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        );
        let v6 = (
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
        );
        for (s, d) in [v4, v6] {
            let p = ip_packet(s, d, &seg);
            assert_eq!(p.len(), ip_header_len(s) + seg.len());
            assert_eq!(tcp_payload(&p), Some((s, d, &seg[..])));
            // Truncated or padded packets disagree with their length field.
            assert_eq!(tcp_payload(&p[..p.len() - 1]), None);
        }
    }

    #[test]
    fn corrupted_ipv4_headers_are_dropped() {
        let s = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let d = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let p = ip_packet(s, d, &[0u8; 20]);
        for bit in 0..160 {
            let mut q = p.clone();
            q[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(tcp_payload(&q), None, "bit {bit}");
        }
        assert_eq!(tcp_payload(&[]), None);
        assert_eq!(tcp_payload(&[0x55; 40]), None);
    }
}
