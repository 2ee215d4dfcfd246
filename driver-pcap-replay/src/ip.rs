//! IP layer: finds the TCP segment inside an IPv4 or IPv6 packet.
//!
//! Parsing uses `etherparse`'s lax slicer, which accepts packets cut short by
//! the snap length. The lengths that matter (how long the TCP segment really
//! was) are taken from the IP header here, so that frames cut by the snap
//! length report their true length and Ethernet trailers are dropped.

use std::net::IpAddr;

use etherparse::err::ip::LaxHeaderSliceError;
use etherparse::err::ipv6_exts::HeaderSliceError;
use etherparse::{IpNumber, LaxIpPayloadSlice, LaxIpSlice};

use crate::capture::SkipReason;
use crate::link::IpVersion;

/// The TCP part of one IP packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct IpTcp<'a> {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    /// Captured TCP bytes, cut to the length the IP header gives.
    pub(crate) tcp: &'a [u8],
    /// TCP length (header + payload) according to the IP header.
    pub(crate) tcp_len: usize,
    /// First fragment of a fragmented datagram.
    pub(crate) more_fragments: bool,
}

/// Extracts the TCP segment from `packet`, which starts at the IP header.
pub(crate) fn tcp_of_ip(packet: &[u8], expect: IpVersion) -> Result<IpTcp<'_>, SkipReason> {
    let version = match packet.first() {
        None => return Err(SkipReason::Truncated),
        Some(b) => b >> 4,
    };
    match (expect, version) {
        (IpVersion::V4 | IpVersion::Any, 4) | (IpVersion::V6 | IpVersion::Any, 6) => {}
        _ => return Err(SkipReason::BadIpHeader),
    }
    let (ip, ext_err) = LaxIpSlice::from_slice(packet).map_err(|err| match err {
        LaxHeaderSliceError::Len(_) => SkipReason::Truncated,
        LaxHeaderSliceError::Content(_) => SkipReason::BadIpHeader,
    })?;
    let (declared, ext_len, more_fragments) = match &ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            if h.fragments_offset().value() != 0 {
                return Err(SkipReason::Fragment);
            }
            let header_len = h.slice().len();
            let total = usize::from(h.total_len());
            // Zero is what TSO/GSO captures carry: fall back to the captured length.
            let declared = match total {
                0 => None,
                t if t < header_len => return Err(SkipReason::BadIpLength),
                t => Some(t - header_len),
            };
            let ext_len = v4.extensions().auth.map_or(0, |a| a.slice().len());
            (declared, ext_len, h.more_fragments())
        }
        LaxIpSlice::Ipv6(v6) => {
            let exts = v6.extensions().slice();
            let more = match ipv6_fragment_bits(v6.header().next_header(), exts) {
                Some(bits) if bits >> 3 != 0 => return Err(SkipReason::Fragment),
                Some(bits) => bits & 1 != 0,
                None => false,
            };
            // Zero means a jumbogram or a GSO capture: use the captured length.
            let declared = match v6.header().payload_length() {
                0 => None,
                n => Some(usize::from(n)),
            };
            (declared, exts.len(), more)
        }
    };
    let payload: &LaxIpPayloadSlice<'_> = ip.payload();
    if let Some((err, _layer)) = ext_err {
        return Err(match err {
            HeaderSliceError::Len(_) if payload.incomplete => SkipReason::Truncated,
            HeaderSliceError::Len(_) => SkipReason::BadIpLength,
            HeaderSliceError::Content(_) => SkipReason::BadIpHeader,
        });
    }
    if payload.ip_number != IpNumber::TCP {
        return Err(SkipReason::NotTcp);
    }
    let tcp_len = match declared {
        Some(d) => d.checked_sub(ext_len).ok_or(SkipReason::BadIpLength)?,
        None => payload.payload.len(),
    };
    let captured = payload.payload;
    let tcp = captured.get(..tcp_len).unwrap_or(captured);
    Ok(IpTcp {
        src: ip.source_addr(),
        dst: ip.destination_addr(),
        tcp,
        tcp_len,
        more_fragments,
    })
}

/// Walks the IPv6 extension headers that etherparse parsed (`exts`, starting
/// with protocol `first`) and returns the offset/flags word (offset << 3 | M)
/// of the first fragment header.
///
/// Walked here rather than with etherparse's iterator: that iterator (0.17 to
/// 0.21) reads out of bounds when the chain ends in a header it failed to
/// parse, and before 0.21 `Ipv6FragmentHeaderSlice` decodes the fragment
/// offset and the M bit from the wrong bits.
fn ipv6_fragment_bits(first: IpNumber, exts: &[u8]) -> Option<u16> {
    let mut next = first.0;
    let mut rest = exts;
    while let (Some(&nh), Some(&len)) = (rest.first(), rest.get(1)) {
        let size = match next {
            0 | 43 | 60 => (usize::from(len) + 1) * 8,
            44 => {
                let bits = rest.get(2..4)?;
                return Some(u16::from_be_bytes([bits[0], bits[1]]));
            }
            51 => (usize::from(len) + 2) * 4,
            _ => return None,
        };
        next = nh;
        rest = rest.get(size..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// A 20-byte IPv4 header (no checksum needed by the reader) + payload.
    fn v4(total_len: u16, flags_frag: u16, proto: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total_len.to_be_bytes());
        p.extend_from_slice(&[0, 1]);
        p.extend_from_slice(&flags_frag.to_be_bytes());
        p.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        p.extend_from_slice(payload);
        p
    }

    fn v6(payload_len: u16, next: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&payload_len.to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        p.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        p.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        p.extend_from_slice(payload);
        p
    }

    const TCP: [u8; 24] = [0xAB; 24];

    #[test]
    fn ipv4_complete_with_trailer() {
        let mut p = v4(44, 0x4000, 6, &TCP);
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // Ethernet padding
        let got = tcp_of_ip(&p, IpVersion::V4).expect("tcp");
        assert_eq!(got.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(got.dst, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(
            (got.tcp, got.tcp_len, got.more_fragments),
            (&TCP[..], 24, false)
        );
    }

    #[test]
    fn ipv4_truncated_keeps_declared_length() {
        let p = v4(1500, 0, 6, &TCP);
        let got = tcp_of_ip(&p, IpVersion::Any).expect("tcp");
        assert_eq!((got.tcp.len(), got.tcp_len), (24, 1480));
        // Cut inside the IP header.
        assert_eq!(
            tcp_of_ip(&p[..19], IpVersion::V4),
            Err(SkipReason::Truncated)
        );
        assert_eq!(tcp_of_ip(&[], IpVersion::V4), Err(SkipReason::Truncated));
    }

    #[test]
    fn ipv4_bad_lengths_and_versions() {
        assert_eq!(
            tcp_of_ip(&v4(19, 0, 6, &TCP), IpVersion::V4),
            Err(SkipReason::BadIpLength)
        );
        let tso = v4(0, 0, 6, &TCP);
        let tso = tcp_of_ip(&tso, IpVersion::V4).expect("tso");
        assert_eq!(tso.tcp_len, 24);
        let mut bad_ihl = v4(44, 0, 6, &TCP);
        bad_ihl[0] = 0x44;
        assert_eq!(
            tcp_of_ip(&bad_ihl, IpVersion::V4),
            Err(SkipReason::BadIpHeader)
        );
        assert_eq!(
            tcp_of_ip(&v4(44, 0, 6, &TCP), IpVersion::V6),
            Err(SkipReason::BadIpHeader)
        );
        assert_eq!(
            tcp_of_ip(&[0x50; 40], IpVersion::Any),
            Err(SkipReason::BadIpHeader)
        );
    }

    #[test]
    fn ipv4_options_fragments_and_protocols() {
        // IHL 6: one word of options (NOPs).
        let mut p = v4(48, 0, 6, &[1, 1, 1, 1]);
        p[0] = 0x46;
        p.extend_from_slice(&TCP);
        let got = tcp_of_ip(&p, IpVersion::V4).expect("tcp");
        assert_eq!((got.tcp, got.tcp_len), (&TCP[..], 24));
        assert_eq!(
            tcp_of_ip(&v4(44, 0x0010, 6, &TCP), IpVersion::V4),
            Err(SkipReason::Fragment)
        );
        let first = v4(44, 0x2000, 6, &TCP);
        let first = tcp_of_ip(&first, IpVersion::V4).expect("first fragment");
        assert!(first.more_fragments);
        assert_eq!(
            tcp_of_ip(&v4(44, 0, 17, &TCP), IpVersion::V4),
            Err(SkipReason::NotTcp)
        );
    }

    #[test]
    fn ipv6_plain_and_extension_headers() {
        let plain = v6(24, 6, &TCP);
        let got = tcp_of_ip(&plain, IpVersion::V6).expect("tcp");
        assert_eq!(got.src, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!((got.tcp, got.tcp_len), (&TCP[..], 24));
        // Hop-by-hop (8 bytes) then TCP.
        let mut ext = vec![6, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&TCP);
        let hbh = v6(32, 0, &ext);
        let got = tcp_of_ip(&hbh, IpVersion::Any).expect("tcp");
        assert_eq!((got.tcp, got.tcp_len), (&TCP[..], 24));
        // Truncated: 24 bytes captured of 1000.
        let cut = v6(1000, 6, &TCP);
        let got = tcp_of_ip(&cut, IpVersion::V6).expect("tcp");
        assert_eq!((got.tcp.len(), got.tcp_len), (24, 1000));
        // Extension header cut by the snap length.
        assert_eq!(
            tcp_of_ip(&v6(100, 0, &[6, 3, 1]), IpVersion::V6),
            Err(SkipReason::Truncated)
        );
        // Extension header longer than the payload length says.
        assert_eq!(
            tcp_of_ip(&v6(4, 0, &ext), IpVersion::V6),
            Err(SkipReason::BadIpLength)
        );
        assert_eq!(
            tcp_of_ip(&v6(24, 17, &TCP), IpVersion::V6),
            Err(SkipReason::NotTcp)
        );
    }

    #[test]
    fn ipv6_chain_ending_in_a_cut_header() {
        // Hop-by-hop announcing a routing header that was cut by the snap
        // length: etherparse's own extension iterator reads out of bounds here.
        let mut p = vec![43, 0, 1, 4, 0, 0, 0, 0, 6, 5];
        assert_eq!(
            tcp_of_ip(&v6(100, 0, &p), IpVersion::V6),
            Err(SkipReason::Truncated)
        );
        p.truncate(8);
        assert_eq!(ipv6_fragment_bits(IpNumber(0), &p), None);
        assert_eq!(ipv6_fragment_bits(IpNumber(44), &[6, 0, 0x12]), None);
        assert_eq!(
            ipv6_fragment_bits(IpNumber(44), &[6, 0, 0x12, 0x39]),
            Some(0x1239)
        );
    }

    #[test]
    fn ipv6_fragments() {
        let frag = |offset_flags: u16| {
            let mut f = vec![6, 0];
            f.extend_from_slice(&offset_flags.to_be_bytes());
            f.extend_from_slice(&[0, 0, 0, 9]);
            f.extend_from_slice(&TCP);
            v6(32, 44, &f)
        };
        assert_eq!(
            tcp_of_ip(&frag(8 << 3), IpVersion::V6),
            Err(SkipReason::Fragment)
        );
        let first = frag(1);
        let first = tcp_of_ip(&first, IpVersion::V6).expect("first fragment");
        assert!(first.more_fragments);
        assert_eq!(first.tcp_len, 24);
    }
}
