//! The validated meaning of a segment: parse, size and emit

use core::net::IpAddr;

use super::{ParseError, TcpFlags, TcpOptions, TcpPacket, HEADER_LEN};
use crate::seq::SeqNumber;

/// Whether [`TcpRepr::parse`] checks the checksum
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChecksumCheck {
    /// Verify it against the pseudo-header
    Verify,
    /// Trust it (the checksum was offloaded or already verified)
    Skip,
}

/// A parsed TCP segment header with its payload
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TcpRepr<'a> {
    /// Source port
    pub src_port: u16,
    /// Destination port
    pub dst_port: u16,
    /// Control bits
    pub flags: TcpFlags,
    /// Sequence number
    pub seq_number: SeqNumber,
    /// Acknowledgment number (meaningful with [`TcpFlags::ACK`])
    pub ack_number: SeqNumber,
    /// Window field as on the wire (unscaled)
    pub window_len: u16,
    /// Urgent pointer (meaningful with [`TcpFlags::URG`])
    pub urgent_pointer: u16,
    /// Options
    pub options: TcpOptions,
    /// Payload
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parse a segment received from `src` for `dst`
    pub fn parse(
        packet: &TcpPacket<&'a [u8]>,
        src: &IpAddr,
        dst: &IpAddr,
        check: ChecksumCheck,
    ) -> Result<Self, ParseError> {
        Self::parse_bytes(packet.inner(), src, dst, check)
    }

    /// Parse a whole segment given as bytes, received from `src` for `dst`
    pub fn parse_bytes(
        bytes: &'a [u8],
        src: &IpAddr,
        dst: &IpAddr,
        check: ChecksumCheck,
    ) -> Result<Self, ParseError> {
        let packet = TcpPacket::new_checked(bytes)?;
        if check == ChecksumCheck::Verify && !packet.verify_checksum(src, dst) {
            return Err(ParseError::BadChecksum);
        }
        Ok(Self {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            flags: packet.flags(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            window_len: packet.window_len(),
            urgent_pointer: packet.urgent_at(),
            options: TcpOptions::parse(packet.options())?,
            payload: &bytes[packet.header_len()..],
        })
    }

    /// Header length, options included
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.wire_len()
    }

    /// Bytes needed to emit the whole segment
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Length in sequence space: payload plus one each for SYN and FIN
    pub fn segment_len(&self) -> usize {
        self.payload.len()
            + usize::from(self.flags.contains(TcpFlags::SYN))
            + usize::from(self.flags.contains(TcpFlags::FIN))
    }

    /// Whether the options fit in the 40 bytes a header allows
    pub fn options_fit(&self) -> bool {
        self.options.wire_len() <= 40
    }

    /// Write the segment into `buf` and fill the checksum for `src` → `dst`
    ///
    /// Returns the number of bytes written, or `None` (and writes nothing) when `buf` is shorter
    /// than [`TcpRepr::buffer_len`] or the options do not fit in a header.
    pub fn emit(&self, buf: &mut [u8], src: &IpAddr, dst: &IpAddr) -> Option<usize> {
        let len = self.emit_no_checksum(buf)?;
        let mut packet = TcpPacket::new_unchecked(&mut buf[..len]);
        packet.fill_checksum(src, dst);
        Some(len)
    }

    /// Like [`TcpRepr::emit`], leaving the checksum field zero (for offload)
    pub fn emit_no_checksum(&self, buf: &mut [u8]) -> Option<usize> {
        let header_len = self.emit_header(buf, self.payload.len())?;
        let len = header_len + self.payload.len();
        buf[header_len..len].copy_from_slice(self.payload);
        Some(len)
    }

    /// Write the header (fixed part with a zero checksum, then the options) of a segment
    /// whose `payload_len` payload bytes the caller puts after it; `self.payload` is not
    /// read. Returns the header length, or `None` (and writes nothing) when `buf` cannot
    /// hold header and payload or the options do not fit in a header.
    #[inline]
    pub(crate) fn emit_header(&self, buf: &mut [u8], payload_len: usize) -> Option<usize> {
        let options_len = self.options.wire_len();
        let header_len = HEADER_LEN + options_len;
        if options_len > 40 || buf.len() < header_len + payload_len {
            return None;
        }
        // The fixed header is assembled in registers and stored in one go.
        let mut h = [0u8; HEADER_LEN];
        h[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        h[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        h[4..8].copy_from_slice(&self.seq_number.0.to_be_bytes());
        h[8..12].copy_from_slice(&self.ack_number.0.to_be_bytes());
        h[12] = ((header_len / 4) as u8) << 4;
        h[13] = self.flags.bits();
        h[14..16].copy_from_slice(&self.window_len.to_be_bytes());
        h[18..20].copy_from_slice(&self.urgent_pointer.to_be_bytes());
        let (fixed, rest) = buf.split_at_mut(HEADER_LEN);
        fixed.copy_from_slice(&h);
        self.options.emit(&mut rest[..options_len]);
        Some(header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    fn addrs() -> (IpAddr, IpAddr) {
        (
            Ipv4Addr::new(192, 168, 1, 1).into(),
            Ipv4Addr::new(192, 168, 1, 2).into(),
        )
    }

    fn syn() -> TcpRepr<'static> {
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            flags: TcpFlags::SYN,
            seq_number: SeqNumber(0xdead_beef),
            ack_number: SeqNumber(0),
            window_len: 64240,
            urgent_pointer: 0,
            options: TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                ..TcpOptions::NONE
            },
            payload: &[],
        }
    }

    #[test]
    fn emit_parse_round_trip_with_checksum() {
        let (s, d) = addrs();
        let mut buf = [0u8; 64];
        let repr = TcpRepr {
            payload: b"hello",
            flags: TcpFlags::PSH | TcpFlags::ACK,
            ..syn()
        };
        let n = repr.emit(&mut buf, &s, &d).unwrap();
        assert_eq!(n, 20 + 8 + 5);
        let back = TcpRepr::parse_bytes(&buf[..n], &s, &d, ChecksumCheck::Verify).unwrap();
        assert_eq!(back, repr);
        // Any flipped bit is caught.
        buf[30] ^= 1; // in the payload
        assert_eq!(
            TcpRepr::parse_bytes(&buf[..n], &s, &d, ChecksumCheck::Verify),
            Err(ParseError::BadChecksum)
        );
        assert!(TcpRepr::parse_bytes(&buf[..n], &s, &d, ChecksumCheck::Skip).is_ok());
    }

    #[test]
    fn emit_refuses_short_buffer_and_writes_nothing() {
        let (s, d) = addrs();
        let mut buf = [0xaau8; 27];
        assert_eq!(syn().emit(&mut buf, &s, &d), None);
        assert!(buf.iter().all(|&b| b == 0xaa));
    }

    #[test]
    fn view_and_parse_agree() {
        let (s, d) = addrs();
        let mut buf = [0u8; 64];
        let n = syn().emit(&mut buf, &s, &d).unwrap();
        let packet = TcpPacket::new_checked(&buf[..n]).unwrap();
        let repr = TcpRepr::parse(&packet, &s, &d, ChecksumCheck::Verify).unwrap();
        assert_eq!(repr, syn());
        assert_eq!(repr.segment_len(), 1);
    }
}
