//! A zero-copy view over the bytes of a TCP segment (RFC 9293 §3.1)

use core::net::IpAddr;

use super::{checksum, ParseError, TcpFlags, TcpOptionIter};
use crate::seq::SeqNumber;

/// Byte ranges of the fixed header fields
mod field {
    use core::ops::Range;
    pub(super) const SRC_PORT: Range<usize> = 0..2;
    pub(super) const DST_PORT: Range<usize> = 2..4;
    pub(super) const SEQ_NUM: Range<usize> = 4..8;
    pub(super) const ACK_NUM: Range<usize> = 8..12;
    pub(super) const DATA_OFF: usize = 12;
    pub(super) const FLAGS: usize = 13;
    pub(super) const WIN_SIZE: Range<usize> = 14..16;
    pub(super) const CHECKSUM: Range<usize> = 16..18;
    pub(super) const URGENT: Range<usize> = 18..20;
}

/// Length of the fixed TCP header
pub const HEADER_LEN: usize = 20;

/// The largest header (data offset 15)
pub const MAX_HEADER_LEN: usize = 60;

/// A TCP segment over a byte buffer
///
/// [`TcpPacket::new_checked`] guarantees that no accessor can panic: the buffer holds the
/// fixed header and the data offset lies within it. [`TcpPacket::new_unchecked`] skips that,
/// for buffers the caller is about to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wrap a buffer without checking it; accessors may panic if it is too short
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wrap a buffer after checking that every accessor is in bounds
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Check the fixed header and the data offset against the buffer length
    pub fn check_len(&self) -> Result<(), ParseError> {
        let data = self.buffer.as_ref();
        if data.len() < HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN || header_len > data.len() {
            return Err(ParseError::BadDataOffset);
        }
        Ok(())
    }

    /// The underlying buffer
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// A copy of the underlying buffer handle (for views over `&[u8]`)
    pub fn inner(&self) -> T
    where
        T: Copy,
    {
        self.buffer
    }

    fn u16_at(&self, r: core::ops::Range<usize>) -> u16 {
        let d = &self.buffer.as_ref()[r];
        u16::from_be_bytes([d[0], d[1]])
    }

    fn u32_at(&self, r: core::ops::Range<usize>) -> u32 {
        let d = &self.buffer.as_ref()[r];
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    /// Source port
    pub fn src_port(&self) -> u16 {
        self.u16_at(field::SRC_PORT)
    }

    /// Destination port
    pub fn dst_port(&self) -> u16 {
        self.u16_at(field::DST_PORT)
    }

    /// Sequence number
    pub fn seq_number(&self) -> SeqNumber {
        SeqNumber(self.u32_at(field::SEQ_NUM))
    }

    /// Acknowledgment number (meaningful only with ACK set)
    pub fn ack_number(&self) -> SeqNumber {
        SeqNumber(self.u32_at(field::ACK_NUM))
    }

    /// Header length in bytes, from the data offset field
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFF] >> 4) * 4
    }

    /// The four bits between the data offset and the flags (reserved; AE per RFC 9768)
    pub fn reserved_bits(&self) -> u8 {
        self.buffer.as_ref()[field::DATA_OFF] & 0x0f
    }

    /// The eight control bits
    pub fn flags(&self) -> TcpFlags {
        TcpFlags::from_bits_retain(self.buffer.as_ref()[field::FLAGS])
    }

    /// Window field as sent (before any window scaling)
    pub fn window_len(&self) -> u16 {
        self.u16_at(field::WIN_SIZE)
    }

    /// Checksum field
    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM)
    }

    /// Urgent pointer field
    pub fn urgent_at(&self) -> u16 {
        self.u16_at(field::URGENT)
    }

    /// The raw option bytes
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// An iterator over the options
    pub fn option_iter(&self) -> TcpOptionIter<'_> {
        TcpOptionIter::new(self.options())
    }

    /// The payload after the header
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// The length in sequence space: payload plus one each for SYN and FIN
    pub fn segment_len(&self) -> usize {
        let f = self.flags();
        self.payload().len()
            + usize::from(f.contains(TcpFlags::SYN))
            + usize::from(f.contains(TcpFlags::FIN))
    }

    /// Whether the checksum verifies for these IP addresses
    pub fn verify_checksum(&self, src: &IpAddr, dst: &IpAddr) -> bool {
        checksum::verify_tcp(src, dst, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    fn set_u16(&mut self, r: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    fn set_u32(&mut self, r: core::ops::Range<usize>, v: u32) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    /// Set the source port
    pub fn set_src_port(&mut self, v: u16) {
        self.set_u16(field::SRC_PORT, v);
    }

    /// Set the destination port
    pub fn set_dst_port(&mut self, v: u16) {
        self.set_u16(field::DST_PORT, v);
    }

    /// Set the sequence number
    pub fn set_seq_number(&mut self, v: SeqNumber) {
        self.set_u32(field::SEQ_NUM, v.0);
    }

    /// Set the acknowledgment number
    pub fn set_ack_number(&mut self, v: SeqNumber) {
        self.set_u32(field::ACK_NUM, v.0);
    }

    /// Set the header length in bytes (rounded down to words; the reserved bits are cleared)
    pub fn set_header_len(&mut self, len: usize) {
        self.buffer.as_mut()[field::DATA_OFF] = (((len / 4) as u8) & 0x0f) << 4;
    }

    /// Set the eight control bits
    pub fn set_flags(&mut self, flags: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = flags.bits();
    }

    /// Set the window field
    pub fn set_window_len(&mut self, v: u16) {
        self.set_u16(field::WIN_SIZE, v);
    }

    /// Set the checksum field
    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16(field::CHECKSUM, v);
    }

    /// Set the urgent pointer field
    pub fn set_urgent_at(&mut self, v: u16) {
        self.set_u16(field::URGENT, v);
    }

    /// The option bytes, for writing
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// The payload bytes, for writing
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }

    /// Compute and store the checksum for these IP addresses
    pub fn fill_checksum(&mut self, src: &IpAddr, dst: &IpAddr) {
        self.set_checksum(0);
        let c = checksum::tcp(src, dst, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A SYN from 10.0.0.1:49152 to 10.0.0.2:80 with MSS 1460 and window scale 7.
    const SYN: [u8; 28] = [
        0xc0, 0x00, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x70, 0x02, 0xfa,
        0xf0, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07,
    ];

    #[test]
    fn reads_fields() {
        let p = TcpPacket::new_checked(&SYN[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (49152, 80));
        assert_eq!(p.seq_number(), SeqNumber(1000));
        assert_eq!(p.header_len(), 28);
        assert_eq!(p.flags(), TcpFlags::SYN);
        assert_eq!(p.window_len(), 64240);
        assert_eq!(p.options().len(), 8);
        assert!(p.payload().is_empty());
        assert_eq!(p.segment_len(), 1);
    }

    #[test]
    fn rejects_short_and_bad_offsets() {
        assert_eq!(
            TcpPacket::new_checked(&SYN[..19]).unwrap_err(),
            ParseError::Truncated
        );
        let mut b = SYN;
        b[12] = 0x40; // 16-byte header
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            ParseError::BadDataOffset
        );
        b[12] = 0xf0; // 60-byte header in 28 bytes
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            ParseError::BadDataOffset
        );
    }

    #[test]
    fn setters_round_trip() {
        let mut b = [0u8; 24];
        let mut p = TcpPacket::new_unchecked(&mut b[..]);
        p.set_header_len(24);
        p.set_src_port(1);
        p.set_dst_port(2);
        p.set_seq_number(SeqNumber(u32::MAX));
        p.set_ack_number(SeqNumber(5));
        p.set_flags(TcpFlags::all());
        p.set_window_len(9);
        p.set_urgent_at(3);
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.seq_number(), SeqNumber(u32::MAX));
        assert_eq!(p.ack_number(), SeqNumber(5));
        assert_eq!(p.flags(), TcpFlags::all());
        assert_eq!((p.window_len(), p.urgent_at(), p.header_len()), (9, 3, 24));
    }
}
