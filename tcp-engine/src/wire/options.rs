//! TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018)
//!
//! Options are parsed wherever they start, aligned or not (MUST-64); every kind other than EOL
//! and NOP carries a length byte, which is how unknown kinds are skipped (MUST-68); bytes after
//! EOL are padding (MUST-69).

use super::ParseError;
use crate::seq::SeqNumber;

/// Option kinds this crate knows
pub mod kind {
    /// End of option list
    pub const EOL: u8 = 0;
    /// No operation (padding)
    pub const NOP: u8 = 1;
    /// Maximum segment size (RFC 9293 §3.7.1)
    pub const MSS: u8 = 2;
    /// Window scale (RFC 7323 §2)
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted (RFC 2018)
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK blocks (RFC 2018)
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323 §3)
    pub const TIMESTAMPS: u8 = 8;
}

/// The largest number of SACK blocks an option can carry (40 option bytes)
pub const MAX_SACK_BLOCKS: usize = 4;

/// One SACK block: the left edge and the sequence number just past the right edge
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SackBlock {
    /// First sequence number of the block
    pub left: SeqNumber,
    /// Sequence number following the last byte of the block
    pub right: SeqNumber,
}

/// A single option as it appears on the wire
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of option list
    EndOfList,
    /// Padding
    NoOperation,
    /// Maximum segment size
    MaxSegmentSize(u16),
    /// Window scale shift count (as sent; values above 14 are clamped by the receiver)
    WindowScale(u8),
    /// SACK permitted
    SackPermitted,
    /// 1 to 4 SACK blocks (unused entries are `None`)
    Sack([Option<SackBlock>; MAX_SACK_BLOCKS]),
    /// Timestamp value and echo reply
    Timestamps {
        /// TSval
        tsval: u32,
        /// TSecr
        tsecr: u32,
    },
    /// An option this crate does not interpret, skipped by its length
    Unknown {
        /// Option kind
        kind: u8,
        /// Option data after the kind and length bytes
        data: &'a [u8],
    },
}

/// Iterates over the options in a header's option bytes
///
/// Yields an error once and then stops when an option is malformed; stops after EOL.
#[derive(Debug, Clone)]
pub struct TcpOptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptionIter<'a> {
    /// Iterate over `options` (the bytes between the fixed header and the payload)
    pub const fn new(options: &'a [u8]) -> Self {
        Self { rest: options }
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl<'a> Iterator for TcpOptionIter<'a> {
    type Item = Result<TcpOption<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&k, after_kind) = self.rest.split_first()?;
        match k {
            kind::EOL => {
                self.rest = &[];
                return Some(Ok(TcpOption::EndOfList));
            }
            kind::NOP => {
                self.rest = after_kind;
                return Some(Ok(TcpOption::NoOperation));
            }
            _ => {}
        }
        let Some(&len) = after_kind.first() else {
            self.rest = &[];
            return Some(Err(ParseError::BadOptionLength));
        };
        let len = usize::from(len);
        if len < 2 || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(ParseError::BadOptionLength));
        }
        let data = &self.rest[2..len];
        self.rest = &self.rest[len..];
        let option = match (k, data.len()) {
            (kind::MSS, 2) => TcpOption::MaxSegmentSize(u16::from_be_bytes([data[0], data[1]])),
            (kind::WINDOW_SCALE, 1) => TcpOption::WindowScale(data[0]),
            (kind::SACK_PERMITTED, 0) => TcpOption::SackPermitted,
            (kind::TIMESTAMPS, 8) => TcpOption::Timestamps {
                tsval: be_u32(&data[0..4]),
                tsecr: be_u32(&data[4..8]),
            },
            (kind::SACK, n) if n > 0 && n % 8 == 0 && n <= 8 * MAX_SACK_BLOCKS => {
                let mut blocks = [None; MAX_SACK_BLOCKS];
                for (slot, b) in blocks.iter_mut().zip(data.chunks_exact(8)) {
                    *slot = Some(SackBlock {
                        left: SeqNumber(be_u32(&b[0..4])),
                        right: SeqNumber(be_u32(&b[4..8])),
                    });
                }
                TcpOption::Sack(blocks)
            }
            (
                kind::MSS
                | kind::WINDOW_SCALE
                | kind::SACK_PERMITTED
                | kind::TIMESTAMPS
                | kind::SACK,
                _,
            ) => {
                self.rest = &[];
                return Some(Err(ParseError::BadOptionValue));
            }
            _ => TcpOption::Unknown { kind: k, data },
        };
        Some(Ok(option))
    }
}

/// The options of a segment, as the engine uses them
///
/// Parsing keeps the last occurrence of each kind and drops unknown kinds; emitting writes them
/// in the order Linux uses (MSS, SACK-permitted, timestamps, window scale, SACK blocks), padded
/// with NOPs so that 4-byte fields stay aligned.
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TcpOptions {
    /// Maximum segment size (SYN only, MUST-65)
    pub mss: Option<u16>,
    /// Window scale shift count
    pub window_scale: Option<u8>,
    /// SACK permitted
    pub sack_permitted: bool,
    /// Timestamps: (TSval, TSecr)
    pub timestamps: Option<(u32, u32)>,
    /// SACK blocks, the first `sack_len` of which are meaningful
    pub sack: [SackBlock; MAX_SACK_BLOCKS],
    /// Number of meaningful SACK blocks
    pub sack_len: u8,
    /// How `emit` lays the options out (not part of their meaning)
    pub layout: OptionLayout,
}

/// Order and padding of emitted options
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OptionLayout {
    /// MSS, SACK-permitted, timestamps, window scale; NOP padding (Linux)
    #[default]
    Linux,
    /// MSS, window scale, SACK-permitted, timestamps, SACK; NOPs before each field as
    /// `tcp_addoptions` places them and EOL padding at the end (FreeBSD)
    Bsd,
}

impl TcpOptions {
    /// No options
    pub const NONE: Self = Self {
        mss: None,
        window_scale: None,
        sack_permitted: false,
        timestamps: None,
        sack: [SackBlock {
            left: SeqNumber(0),
            right: SeqNumber(0),
        }; MAX_SACK_BLOCKS],
        sack_len: 0,
        layout: OptionLayout::Linux,
    };

    /// Parse the option bytes of a header
    #[inline]
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        // Fast path: what nearly every segment of an established connection carries
        // (RFC 7323 Appendix A: NOP, NOP, timestamps), and no options at all.
        match *bytes {
            [] => Ok(Self::NONE),
            [kind::NOP, kind::NOP, kind::TIMESTAMPS, 10, a, b, c, d, e, f, g, h] => Ok(Self {
                timestamps: Some((
                    u32::from_be_bytes([a, b, c, d]),
                    u32::from_be_bytes([e, f, g, h]),
                )),
                ..Self::NONE
            }),
            _ => Self::parse_general(bytes),
        }
    }

    /// [`TcpOptions::parse`] for any layout: every option in turn, read straight from the
    /// bytes (the same rules as [`TcpOptionIter`], without building each [`TcpOption`])
    #[inline(never)]
    pub(crate) fn parse_general(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut opts = Self::NONE;
        let mut rest = bytes;
        while let Some((&k, after_kind)) = rest.split_first() {
            match k {
                kind::EOL => break, // the rest is padding (MUST-69)
                kind::NOP => {
                    rest = after_kind;
                    continue;
                }
                _ => {}
            }
            let len = usize::from(*after_kind.first().ok_or(ParseError::BadOptionLength)?);
            if len < 2 || len > rest.len() {
                return Err(ParseError::BadOptionLength);
            }
            let data = &rest[2..len];
            rest = &rest[len..];
            match (k, data) {
                (kind::MSS, &[a, b]) => opts.mss = Some(u16::from_be_bytes([a, b])),
                (kind::WINDOW_SCALE, &[shift]) => opts.window_scale = Some(shift),
                (kind::SACK_PERMITTED, &[]) => opts.sack_permitted = true,
                (kind::TIMESTAMPS, &[a, b, c, d, e, f, g, h]) => {
                    opts.timestamps = Some((
                        u32::from_be_bytes([a, b, c, d]),
                        u32::from_be_bytes([e, f, g, h]),
                    ));
                }
                (kind::SACK, _)
                    if !data.is_empty()
                        && data.len() % 8 == 0
                        && data.len() <= 8 * MAX_SACK_BLOCKS =>
                {
                    opts.sack_len = 0;
                    for b in data.chunks_exact(8) {
                        opts.push_sack(SackBlock {
                            left: SeqNumber(be_u32(&b[0..4])),
                            right: SeqNumber(be_u32(&b[4..8])),
                        });
                    }
                }
                (
                    kind::MSS
                    | kind::WINDOW_SCALE
                    | kind::SACK_PERMITTED
                    | kind::TIMESTAMPS
                    | kind::SACK,
                    _,
                ) => return Err(ParseError::BadOptionValue),
                _ => {} // unknown: skipped by its length (MUST-68)
            }
        }
        Ok(opts)
    }

    /// The meaningful SACK blocks
    pub fn sack_blocks(&self) -> &[SackBlock] {
        &self.sack[..usize::from(self.sack_len).min(MAX_SACK_BLOCKS)]
    }

    /// Append a SACK block; returns false when all four slots are taken
    pub fn push_sack(&mut self, block: SackBlock) -> bool {
        let n = usize::from(self.sack_len);
        if n >= MAX_SACK_BLOCKS {
            return false;
        }
        self.sack[n] = block;
        self.sack_len += 1;
        true
    }

    /// FreeBSD's `tcp_addoptions`: returns the bytes written (into `buf` if given)
    fn bsd(&self, mut buf: Option<&mut [u8]>) -> usize {
        let mut at = 0usize;
        let mut put = |bytes: &[u8], at: &mut usize| {
            if let Some(b) = buf.as_deref_mut() {
                b[*at..*at + bytes.len()].copy_from_slice(bytes);
            }
            *at += bytes.len();
        };
        if let Some(mss) = self.mss {
            put(&[kind::MSS, 4], &mut at);
            put(&mss.to_be_bytes(), &mut at);
        }
        if let Some(shift) = self.window_scale {
            while at == 0 || at % 2 != 1 {
                put(&[kind::NOP], &mut at);
            }
            put(&[kind::WINDOW_SCALE, 3, shift], &mut at);
        }
        if self.sack_permitted {
            while at % 2 != 0 {
                put(&[kind::NOP], &mut at);
            }
            put(&[kind::SACK_PERMITTED, 2], &mut at);
        }
        if let Some((v, e)) = self.timestamps {
            while at == 0 || at % 4 != 2 {
                put(&[kind::NOP], &mut at);
            }
            put(&[kind::TIMESTAMPS, 10], &mut at);
            put(&v.to_be_bytes(), &mut at);
            put(&e.to_be_bytes(), &mut at);
        }
        let blocks = self.sack_blocks();
        if !blocks.is_empty() {
            while at % 4 != 2 {
                put(&[kind::NOP], &mut at);
            }
            put(&[kind::SACK, 2 + 8 * blocks.len() as u8], &mut at);
            for b in blocks {
                put(&b.left.0.to_be_bytes(), &mut at);
                put(&b.right.0.to_be_bytes(), &mut at);
            }
        }
        while at % 4 != 0 {
            put(&[kind::EOL], &mut at);
        }
        at
    }

    /// Whether these are at most timestamps, in the Linux layout (NOP, NOP, timestamps): the
    /// options of nearly every segment after the handshake, which skip the general layout code
    #[inline]
    fn timestamps_only(&self) -> bool {
        self.layout == OptionLayout::Linux
            && self.mss.is_none()
            && self.window_scale.is_none()
            && !self.sack_permitted
            && self.sack_len == 0
    }

    /// Bytes these options take on the wire, padded to a multiple of 4
    #[inline]
    pub fn wire_len(&self) -> usize {
        if self.timestamps_only() {
            return if self.timestamps.is_some() { 12 } else { 0 };
        }
        self.wire_len_general()
    }

    /// [`TcpOptions::wire_len`] for any options and layout
    #[inline(never)]
    fn wire_len_general(&self) -> usize {
        if self.layout == OptionLayout::Bsd {
            return self.bsd(None);
        }
        match self.linux_len() {
            len if len > 40 => self.packed_len(),
            len => len,
        }
    }

    /// Every option back to back, no padding between them (what the peer may have sent when
    /// the padded layout would not fit in 40 bytes), rounded up to 4 with EOL and zeros
    fn packed_len(&self) -> usize {
        let raw = usize::from(self.mss.is_some()) * 4
            + usize::from(self.sack_permitted) * 2
            + usize::from(self.timestamps.is_some()) * 10
            + usize::from(self.window_scale.is_some()) * 3
            + if self.sack_len > 0 {
                2 + 8 * self.sack_blocks().len()
            } else {
                0
            };
        raw.div_ceil(4) * 4
    }

    fn emit_packed(&self, buf: &mut [u8]) -> usize {
        let mut w = Writer { buf, at: 0 };
        if let Some(mss) = self.mss {
            w.put(&[kind::MSS, 4]);
            w.put(&mss.to_be_bytes());
        }
        if self.sack_permitted {
            w.put(&[kind::SACK_PERMITTED, 2]);
        }
        if let Some(ts) = self.timestamps {
            w.timestamps(ts);
        }
        if let Some(shift) = self.window_scale {
            w.put(&[kind::WINDOW_SCALE, 3, shift]);
        }
        let blocks = self.sack_blocks();
        if !blocks.is_empty() {
            w.put(&[kind::SACK, 2 + 8 * blocks.len() as u8]);
            for b in blocks {
                w.put(&b.left.0.to_be_bytes());
                w.put(&b.right.0.to_be_bytes());
            }
        }
        let end = w.at.div_ceil(4) * 4;
        while w.at < end {
            w.put(&[kind::EOL]); // EOL, then zero padding (MUST-69)
        }
        w.at
    }

    /// Length of the Linux layout (NOP-aligned fields)
    fn linux_len(&self) -> usize {
        let mut len = 0;
        if self.mss.is_some() {
            len += 4;
        }
        len += match (self.sack_permitted, self.timestamps.is_some()) {
            (true, true) => 12,  // SACK-permitted, timestamps
            (false, true) => 12, // NOP, NOP, timestamps
            (true, false) => 4,  // NOP, NOP, SACK-permitted
            (false, false) => 0,
        };
        if self.window_scale.is_some() {
            len += 4; // NOP, window scale
        }
        if self.sack_len > 0 {
            len += 4 + 8 * self.sack_blocks().len(); // NOP, NOP, SACK
        }
        len
    }

    /// Write the options into `buf`, which must hold at least [`TcpOptions::wire_len`] bytes;
    /// returns the number of bytes written
    #[inline]
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        if self.timestamps_only() {
            let Some((v, e)) = self.timestamps else {
                return 0;
            };
            let [v0, v1, v2, v3] = v.to_be_bytes();
            let [e0, e1, e2, e3] = e.to_be_bytes();
            buf[..12].copy_from_slice(&[
                kind::NOP,
                kind::NOP,
                kind::TIMESTAMPS,
                10,
                v0,
                v1,
                v2,
                v3,
                e0,
                e1,
                e2,
                e3,
            ]);
            return 12;
        }
        self.emit_general(buf)
    }

    /// [`TcpOptions::emit`] for any options and layout
    #[inline(never)]
    fn emit_general(&self, buf: &mut [u8]) -> usize {
        if self.layout != OptionLayout::Bsd && self.linux_len() > 40 {
            return self.emit_packed(buf);
        }
        if self.layout == OptionLayout::Bsd {
            return self.bsd(Some(buf));
        }
        let mut w = Writer { buf, at: 0 };
        if let Some(mss) = self.mss {
            w.put(&[kind::MSS, 4]);
            w.put(&mss.to_be_bytes());
        }
        match (self.sack_permitted, self.timestamps) {
            (true, Some(ts)) => {
                w.put(&[kind::SACK_PERMITTED, 2]);
                w.timestamps(ts);
            }
            (false, Some(ts)) => {
                w.put(&[kind::NOP, kind::NOP]);
                w.timestamps(ts);
            }
            (true, None) => w.put(&[kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]),
            (false, None) => {}
        }
        if let Some(shift) = self.window_scale {
            w.put(&[kind::NOP, kind::WINDOW_SCALE, 3, shift]);
        }
        let blocks = self.sack_blocks();
        if !blocks.is_empty() {
            w.put(&[kind::NOP, kind::NOP, kind::SACK, 2 + 8 * blocks.len() as u8]);
            for b in blocks {
                w.put(&b.left.0.to_be_bytes());
                w.put(&b.right.0.to_be_bytes());
            }
        }
        w.at
    }
}

impl PartialEq for TcpOptions {
    /// Compares the meaningful SACK blocks only
    fn eq(&self, other: &Self) -> bool {
        self.mss == other.mss
            && self.window_scale == other.window_scale
            && self.sack_permitted == other.sack_permitted
            && self.timestamps == other.timestamps
            && self.sack_blocks() == other.sack_blocks()
    }
}

impl Eq for TcpOptions {}

struct Writer<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }

    fn timestamps(&mut self, (tsval, tsecr): (u32, u32)) {
        self.put(&[kind::TIMESTAMPS, 10]);
        self.put(&tsval.to_be_bytes());
        self.put(&tsecr.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Covers: MUST-4
    #[test]
    fn parses_linux_syn_options() {
        // mss 1460, sackOK, TS val 1 ecr 0, nop, wscale 7
        let b = [
            2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let o = TcpOptions::parse(&b).unwrap();
        assert_eq!(o.mss, Some(1460));
        assert!(o.sack_permitted);
        assert_eq!(o.timestamps, Some((1, 0)));
        assert_eq!(o.window_scale, Some(7));
        let mut out = [0u8; 40];
        assert_eq!(o.wire_len(), 20);
        assert_eq!(o.emit(&mut out), 20);
        assert_eq!(out[..20], b);
    }

    /// Covers: MUST-6, MUST-64, MUST-68, MUST-69
    #[test]
    fn unaligned_and_unknown_options_are_skipped() {
        // MUST-64, MUST-68: NOP, unknown kind 254 of 4 bytes, MSS at an odd offset, EOL, junk.
        let b = [1, 254, 4, 0xaa, 0xbb, 2, 4, 0x02, 0x18, 0, 9, 9];
        let o = TcpOptions::parse(&b).unwrap();
        assert_eq!(o.mss, Some(536));
        let kinds: usize = TcpOptionIter::new(&b).count();
        assert_eq!(kinds, 4); // NOP, unknown, MSS, EOL: nothing after EOL (MUST-69)
    }

    /// Covers: MUST-7
    #[test]
    fn malformed_lengths_are_errors() {
        assert_eq!(TcpOptions::parse(&[2]), Err(ParseError::BadOptionLength));
        assert_eq!(
            TcpOptions::parse(&[2, 1, 0, 0]),
            Err(ParseError::BadOptionLength)
        );
        assert_eq!(
            TcpOptions::parse(&[2, 8, 0, 0]),
            Err(ParseError::BadOptionLength)
        );
        assert_eq!(
            TcpOptions::parse(&[2, 3, 0, 0]),
            Err(ParseError::BadOptionValue)
        );
        assert_eq!(
            TcpOptions::parse(&[5, 2, 0, 0]),
            Err(ParseError::BadOptionValue)
        );
        assert_eq!(
            TcpOptions::parse(&[254, 0]),
            Err(ParseError::BadOptionLength)
        );
    }

    #[test]
    fn sack_blocks_round_trip() {
        let mut o = TcpOptions {
            timestamps: Some((7, 8)),
            ..TcpOptions::NONE
        };
        for i in 0..3u32 {
            assert!(o.push_sack(SackBlock {
                left: SeqNumber(i * 100),
                right: SeqNumber(i * 100 + 50)
            }));
        }
        assert_eq!(o.wire_len(), 40);
        let mut out = [0u8; 40];
        o.emit(&mut out);
        assert_eq!(TcpOptions::parse(&out).unwrap(), o);
    }
}
