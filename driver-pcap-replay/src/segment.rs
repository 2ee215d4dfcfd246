//! A lenient view of a captured TCP header: whatever fields the captured bytes hold.

use tcp_engine::wire::TcpFlags;

use crate::CapturedSegment;

/// The fixed TCP header fields of a captured segment, read without trusting it.
///
/// Captures cut frames short (snap length) and carry malformed headers, so
/// every field is read only if its bytes were captured, and lengths come from
/// the IP header ([`CapturedSegment::tcp_len`]), not from the captured bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderView {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number, if bytes 4..8 were captured.
    pub seq: Option<u32>,
    /// Acknowledgment number, if bytes 8..12 were captured.
    pub ack: Option<u32>,
    /// Header length in bytes (data offset × 4), if byte 12 was captured.
    pub header_len: Option<usize>,
    /// Control bits, if byte 13 was captured.
    pub flags: Option<TcpFlags>,
}

impl HeaderView {
    /// Reads the header fields of `segment`; `None` when not even the ports were captured.
    pub fn of(segment: &CapturedSegment) -> Option<Self> {
        let t = &segment.tcp;
        let word = |at: usize| -> Option<u32> {
            let b = t.get(at..at + 4)?;
            Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let (src_port, dst_port) = segment.ports()?;
        Some(Self {
            src_port,
            dst_port,
            seq: word(4),
            ack: word(8),
            header_len: t.get(12).map(|b| usize::from(b >> 4) * 4),
            flags: t.get(13).map(|&b| TcpFlags::from_bits_retain(b)),
        })
    }

    /// Whether every flag in `f` is set (false when the flags were not captured).
    pub fn has(&self, f: TcpFlags) -> bool {
        self.flags.is_some_and(|x| x.contains(f))
    }

    /// A SYN without ACK (the opening segment of an active open).
    pub fn is_syn(&self) -> bool {
        self.has(TcpFlags::SYN) && !self.has(TcpFlags::ACK)
    }

    /// A SYN with ACK.
    pub fn is_syn_ack(&self) -> bool {
        self.has(TcpFlags::SYN | TcpFlags::ACK)
    }

    /// Payload length according to the IP header: `tcp_len` minus the TCP
    /// header length (0 when the header length is unknown or inconsistent).
    pub fn payload_len(&self, segment: &CapturedSegment) -> usize {
        match self.header_len {
            Some(h) if h >= 20 => segment.tcp_len.saturating_sub(h),
            _ => 0,
        }
    }

    /// Length in sequence space: payload, plus one for SYN and one for FIN.
    pub fn seq_len(&self, segment: &CapturedSegment) -> u32 {
        let payload = u32::try_from(self.payload_len(segment)).unwrap_or(u32::MAX);
        payload
            .saturating_add(u32::from(self.has(TcpFlags::SYN)))
            .saturating_add(u32::from(self.has(TcpFlags::FIN)))
    }
}

/// The payload bytes of `segment` as the sender sent them: the captured
/// payload, padded with zeros up to the length the IP header declares (frames
/// cut by the snap length lose their payload bytes, not their length).
pub fn padded_payload(segment: &CapturedSegment, view: &HeaderView) -> Vec<u8> {
    let len = view.payload_len(segment);
    let start = view.header_len.unwrap_or(segment.tcp.len());
    let mut out: Vec<u8> = segment.tcp.get(start..).unwrap_or(&[]).to_vec();
    out.resize(len, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn seg(tcp: Vec<u8>, tcp_len: usize) -> CapturedSegment {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        CapturedSegment {
            frame: 0,
            timestamp_us: 0,
            src: ip,
            dst: ip,
            truncated: tcp.len() < tcp_len,
            tcp,
            tcp_len,
            more_fragments: false,
        }
    }

    #[test]
    fn cut_header_keeps_what_was_captured() {
        let s = seg(vec![0, 80, 1, 0, 0, 0, 0, 7, 0, 0], 40);
        let v = HeaderView::of(&s).expect("ports");
        assert_eq!((v.src_port, v.dst_port, v.seq), (80, 256, Some(7)));
        assert_eq!((v.ack, v.flags, v.header_len), (None, None, None));
        assert_eq!(v.payload_len(&s), 0);
        assert!(!v.is_syn());
        assert!(HeaderView::of(&seg(vec![0, 80], 20)).is_none());
    }

    #[test]
    fn payload_is_padded_to_the_ip_length() {
        let mut tcp = vec![0u8; 20];
        tcp[12] = 0x50;
        tcp[13] = 0x19; // FIN PSH ACK
        tcp.extend_from_slice(b"abc");
        let s = seg(tcp, 26);
        let v = HeaderView::of(&s).expect("ports");
        assert_eq!(padded_payload(&s, &v), b"abc\0\0\0");
        assert_eq!(v.seq_len(&s), 7);
    }
}
