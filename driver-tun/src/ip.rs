//! IP encapsulation and checks, with etherparse
//!
//! Inbound: the version, the header and total/payload lengths, the protocol and the IPv4
//! header checksum are checked before the TCP segment reaches the engine (which checks the TCP
//! checksum itself). Outbound: the engine writes its segment at [`HEADROOM`] in a buffer and
//! the IP header is written in place just before it, so a packet is never copied.

use std::net::IpAddr;

use etherparse::err::ip::{HeaderError, HeadersError, SliceError};
use etherparse::{IpNumber, IpSlice, Ipv4Header, Ipv6FlowLabel, Ipv6Header};

/// Room left before the TCP segment for the largest header we write (IPv6, 40 bytes)
pub const HEADROOM: usize = Ipv6Header::LEN;

/// Time to live / hop limit of the packets we send (Linux's default)
const TTL: u8 = 64;

/// A TCP segment found in an IP packet
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inbound<'a> {
    /// Source address
    pub src: IpAddr,
    /// Destination address
    pub dst: IpAddr,
    /// The TCP segment, header and payload
    pub tcp: &'a [u8],
}

/// Why an arriving packet was not given to the engine
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// Neither IPv4 nor IPv6
    BadVersion,
    /// A header or length field that does not fit the packet (cut short, IHL below 5, total
    /// length below the header, broken extension header)
    Malformed,
    /// The IPv4 header checksum is wrong
    BadHeaderChecksum,
    /// A fragment: the driver does no reassembly (the kernel does not fragment toward a TUN
    /// with DF set and path MTU discovery)
    Fragment,
    /// Another protocol (ICMP, UDP, the kernel's IPv6 neighbour and multicast chatter...)
    NotTcp,
}

/// Check an IP packet read from the device and find its TCP segment
pub fn parse(packet: &[u8]) -> Result<Inbound<'_>, Reject> {
    let ip = IpSlice::from_slice(packet).map_err(|e| match e {
        SliceError::IpHeaders(HeadersError::Ip(HeaderError::UnsupportedIpVersion { .. })) => {
            Reject::BadVersion
        }
        _ => Reject::Malformed,
    })?;
    if let IpSlice::Ipv4(v4) = &ip {
        let header = v4.header();
        if header.to_header().calc_header_checksum() != header.header_checksum() {
            return Err(Reject::BadHeaderChecksum);
        }
    }
    let payload = ip.payload();
    if payload.fragmented {
        return Err(Reject::Fragment);
    }
    if payload.ip_number != IpNumber::TCP {
        return Err(Reject::NotTcp);
    }
    Ok(Inbound {
        src: ip.source_addr(),
        dst: ip.destination_addr(),
        tcp: payload.payload,
    })
}

/// Write the IP header for a `tcp_len`-byte segment from `src` to `dst` that sits at
/// `buf[HEADROOM..]`; returns where the packet starts. `None` if the families differ or the
/// segment is too long for the length field.
pub fn encapsulate(buf: &mut [u8], src: IpAddr, dst: IpAddr, tcp_len: usize) -> Option<usize> {
    let len = u16::try_from(tcp_len).ok()?;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = Ipv4Header::new(len, TTL, IpNumber::TCP, s.octets(), d.octets()).ok()?;
            h.header_checksum = h.calc_header_checksum();
            let start = HEADROOM - Ipv4Header::MIN_LEN;
            buf.get_mut(start..HEADROOM)?.copy_from_slice(&h.to_bytes());
            Some(start)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let h = Ipv6Header {
                traffic_class: 0,
                flow_label: Ipv6FlowLabel::ZERO,
                payload_length: len,
                next_header: IpNumber::TCP,
                hop_limit: TTL,
                source: s.octets(),
                destination: d.octets(),
            };
            buf.get_mut(..HEADROOM)?.copy_from_slice(&h.to_bytes());
            Some(0)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driver_pcap_replay::ip_packet;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 7, 0, 1));
    const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 7, 0, 2));
    const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 7, 0, 0, 0, 0, 0, 1));
    const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 7, 0, 0, 0, 0, 0, 2));

    fn segment() -> Vec<u8> {
        let mut tcp = vec![
            0x1F, 0x90, 0xC3, 0x50, 0, 0, 0, 7, 0, 0, 0, 9, 0x50, 0x18, 0x10, 0,
        ];
        tcp.extend_from_slice(&[0; 4]);
        tcp.extend_from_slice(b"hello");
        tcp
    }

    #[test]
    fn well_formed_packets_of_both_families_pass() {
        let tcp = segment();
        for (s, d) in [(A4, B4), (A6, B6)] {
            let p = ip_packet(s, d, &tcp);
            let got = parse(&p).unwrap();
            assert_eq!((got.src, got.dst, got.tcp), (s, d, &tcp[..]));
        }
    }

    #[test]
    fn trailing_bytes_beyond_the_total_length_are_cut_off() {
        let tcp = segment();
        let mut p = ip_packet(A4, B4, &tcp);
        p.extend_from_slice(&[0xee; 6]);
        assert_eq!(parse(&p).unwrap().tcp, &tcp[..]);
    }

    #[test]
    fn bad_packets_are_rejected_with_their_reason() {
        let tcp = segment();
        let good = ip_packet(A4, B4, &tcp);
        assert_eq!(parse(&[]), Err(Reject::Malformed));
        let mut v5 = good.clone();
        v5[0] = 0x55;
        assert_eq!(parse(&v5), Err(Reject::BadVersion));
        assert_eq!(parse(&good[..good.len() - 1]), Err(Reject::Malformed));
        let mut ihl = good.clone();
        ihl[0] = 0x44;
        assert_eq!(parse(&ihl), Err(Reject::Malformed));
        let mut sum = good.clone();
        sum[10] ^= 1;
        assert_eq!(parse(&sum), Err(Reject::BadHeaderChecksum));
        let mut udp = good.clone();
        udp[9] = 17;
        udp[10..12].copy_from_slice(&[0, 0]);
        let h = etherparse::Ipv4HeaderSlice::from_slice(&udp)
            .unwrap()
            .to_header();
        udp[10..12].copy_from_slice(&h.calc_header_checksum().to_be_bytes());
        assert_eq!(parse(&udp), Err(Reject::NotTcp));
        let mut frag = good.clone();
        frag[6] = 0x20; // more fragments
        frag[10..12].copy_from_slice(&[0, 0]);
        let h = etherparse::Ipv4HeaderSlice::from_slice(&frag)
            .unwrap()
            .to_header();
        frag[10..12].copy_from_slice(&h.calc_header_checksum().to_be_bytes());
        assert_eq!(parse(&frag), Err(Reject::Fragment));
        let v6 = ip_packet(A6, B6, &tcp);
        assert_eq!(parse(&v6[..v6.len() - 2]), Err(Reject::Malformed));
        let mut icmp6 = v6.clone();
        icmp6[6] = 58;
        assert_eq!(parse(&icmp6), Err(Reject::NotTcp));
    }

    #[test]
    fn encapsulation_matches_the_reference_writer() {
        let tcp = segment();
        for (s, d) in [(A4, B4), (A6, B6)] {
            let mut buf = vec![0u8; HEADROOM + tcp.len()];
            buf[HEADROOM..].copy_from_slice(&tcp);
            let start = encapsulate(&mut buf, s, d, tcp.len()).unwrap();
            assert_eq!(buf[start..], ip_packet(s, d, &tcp)[..]);
            assert_eq!(parse(&buf[start..]).unwrap().tcp, &tcp[..]);
        }
        let mut buf = vec![0u8; HEADROOM];
        assert_eq!(encapsulate(&mut buf, A4, B6, 0), None);
        assert_eq!(encapsulate(&mut buf, A4, B4, 70_000), None);
    }
}
