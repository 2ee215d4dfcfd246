//! Writing raw-IP pcap files, for example to save what an engine emitted.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use etherparse::{IpNumber, Ipv4Header, Ipv6Header};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter as RawWriter};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

/// The snap length written in the file header: room for any IP packet.
const SNAPLEN: u32 = 262_144;

/// Writes a classic pcap file of raw IP packets (link type 101, microsecond
/// timestamps, little-endian), which Wireshark, tcpdump and [`read_capture`]
/// all read.
///
/// [`read_capture`]: crate::read_capture
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: RawWriter<W>,
}

fn to_io(err: PcapError) -> io::Error {
    match err {
        PcapError::IoError(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidInput, other.to_string()),
    }
}

impl<W: Write> PcapWriter<W> {
    /// Writes the pcap file header to `writer` and returns the packet writer.
    pub fn new(writer: W) -> io::Result<Self> {
        let header = PcapHeader {
            snaplen: SNAPLEN,
            datalink: DataLink::RAW,
            ts_resolution: TsResolution::MicroSecond,
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let inner = RawWriter::with_header(writer, header).map_err(to_io)?;
        Ok(Self { inner })
    }

    /// Appends one IP packet (starting at the IPv4 or IPv6 header), captured
    /// whole, with a timestamp in microseconds since the Unix epoch.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] if the timestamp is past the
    /// pcap format's year-2106 limit or the packet is longer than 262144 bytes.
    pub fn write_packet(&mut self, timestamp_us: u64, ip_packet: &[u8]) -> io::Result<()> {
        let len = u32::try_from(ip_packet.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet longer than 4 GiB"))?;
        let packet = PcapPacket::new(Duration::from_micros(timestamp_us), len, ip_packet);
        self.inner.write_packet(&packet).map(drop).map_err(to_io)
    }

    /// Returns the underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.inner.into_writer()
    }
}

/// Wraps a complete TCP segment (checksum already filled in) in an IP header.
///
/// Two IPv4 addresses give an IPv4 header (20 bytes, TTL 64, protocol 6, DF
/// set, identification 0, correct header checksum). Otherwise the result is
/// IPv6 (next header 6, hop limit 64), with an IPv4 address written as
/// IPv4-mapped (`::ffff:a.b.c.d`). A segment too long for the length field
/// (more than 65515 bytes over IPv4, 65535 over IPv6) gets a length of 0, as
/// TSO captures have; [`read_capture`](crate::read_capture) then takes the
/// captured length.
pub fn ip_packet(src: IpAddr, dst: IpAddr, tcp_segment: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + tcp_segment.len());
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut header = Ipv4Header {
                total_len: u16::try_from(Ipv4Header::MIN_LEN + tcp_segment.len()).unwrap_or(0),
                identification: 0,
                dont_fragment: true,
                more_fragments: false,
                time_to_live: 64,
                protocol: IpNumber::TCP,
                source: s.octets(),
                destination: d.octets(),
                ..Ipv4Header::default()
            };
            header.header_checksum = header.calc_header_checksum();
            out.extend_from_slice(&header.to_bytes());
        }
        (s, d) => {
            let v6 = |a: IpAddr| -> Ipv6Addr {
                match a {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                    IpAddr::V6(v6) => v6,
                }
            };
            let header = Ipv6Header {
                payload_length: u16::try_from(tcp_segment.len()).unwrap_or(0),
                next_header: IpNumber::TCP,
                hop_limit: 64,
                source: v6(s).octets(),
                destination: v6(d).octets(),
                ..Ipv6Header::default()
            };
            out.extend_from_slice(&header.to_bytes());
        }
    }
    out.extend_from_slice(tcp_segment);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_capture, CaptureEnd, CaptureFormat};
    use etherparse::Ipv4HeaderSlice;
    use std::net::Ipv4Addr;

    fn segment(len: usize, fill: u8) -> Vec<u8> {
        let mut tcp = vec![
            0x1F, 0x90, 0xC3, 0x50, 0, 0, 0, 7, 0, 0, 0, 9, 0x50, 0x18, 0x10, 0, 0, 0, 0, 0,
        ];
        tcp.resize(len, fill);
        tcp
    }

    #[test]
    fn ipv4_header_fields() {
        let src = Ipv4Addr::new(198, 51, 100, 7);
        let dst = Ipv4Addr::new(203, 0, 113, 9);
        let packet = ip_packet(src.into(), dst.into(), &segment(30, 1));
        let h = Ipv4HeaderSlice::from_slice(&packet).expect("valid header");
        assert_eq!(
            (h.total_len(), h.ttl(), h.protocol(), h.dont_fragment()),
            (50, 64, IpNumber::TCP, true)
        );
        assert_eq!((h.source_addr(), h.destination_addr()), (src, dst));
        assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
        assert_ne!(h.header_checksum(), 0);
    }

    #[test]
    fn ipv6_and_mixed_families() {
        let packet = ip_packet(
            Ipv6Addr::LOCALHOST.into(),
            Ipv4Addr::new(192, 0, 2, 1).into(),
            &segment(20, 0),
        );
        assert_eq!(packet.len(), 60);
        assert_eq!((packet[0] >> 4, &packet[4..8]), (6, &[0, 20, 6, 64][..]));
        assert_eq!(
            &packet[24..40],
            &Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped().octets()
        );
    }

    #[test]
    fn round_trip_through_read_capture() {
        let a4: IpAddr = Ipv4Addr::new(10, 1, 2, 3).into();
        let b4: IpAddr = Ipv4Addr::new(10, 3, 2, 1).into();
        let a6: IpAddr = "2001:db8::1".parse().expect("addr");
        let b6: IpAddr = "2001:db8::2".parse().expect("addr");
        let packets = [
            (1_600_000_000_000_000, a4, b4, segment(20, 0)),
            (1_600_000_000_000_999, b4, a4, segment(1480, 0x5A)),
            (1_600_000_001_500_000, a6, b6, segment(60, 0x33)),
            (4_294_967_295_999_999, b6, a6, segment(65_535, 0x77)),
        ];
        let mut writer = PcapWriter::new(Vec::new()).expect("vec");
        for (ts, src, dst, tcp) in &packets {
            writer
                .write_packet(*ts, &ip_packet(*src, *dst, tcp))
                .expect("vec");
        }
        let file = writer.into_inner();
        let cap = read_capture(&file).expect("own output");
        assert_eq!(
            (cap.format, cap.link_types.as_slice(), cap.end),
            (CaptureFormat::Pcap, &[101][..], CaptureEnd::Complete)
        );
        assert!(cap.skipped.is_empty());
        let got: Vec<_> = cap
            .segments
            .iter()
            .map(|s| (s.timestamp_us, s.src, s.dst, s.tcp.clone()))
            .collect();
        let want = packets.to_vec();
        assert_eq!(got, want);
        assert!(cap
            .segments
            .iter()
            .all(|s| !s.truncated && s.tcp_len == s.tcp.len()));
    }

    #[test]
    fn oversized_inputs_are_errors_not_panics() {
        let mut writer = PcapWriter::new(Vec::new()).expect("vec");
        let too_late = 4_294_967_296_000_000;
        let err = writer
            .write_packet(too_late, &[0x45])
            .expect_err("past 2106");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = writer
            .write_packet(0, &vec![0; 300_000])
            .expect_err("over snaplen");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        // An IPv4 segment too long for total_len is written with length 0 and read back whole.
        let big = segment(70_000, 1);
        let packet = ip_packet(Ipv4Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into(), &big);
        assert_eq!(&packet[2..4], &[0, 0]);
        writer.write_packet(0, &packet).expect("fits snaplen");
        let cap = read_capture(&writer.into_inner()).expect("own output");
        assert_eq!(cap.segments[0].tcp, big);
    }
}
