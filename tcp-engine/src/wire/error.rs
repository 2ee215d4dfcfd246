//! Why a segment failed to parse

use core::fmt;

/// A reason a byte string is not a valid TCP segment
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ParseError {
    /// Shorter than the 20-byte fixed header
    Truncated,
    /// The data offset is below 5 words or points past the end of the segment
    BadDataOffset,
    /// An option's length byte is below 2 or runs past the header (RFC 9293 §3.1, MUST-68)
    BadOptionLength,
    /// A known option has the wrong length for its kind (e.g. an MSS option that is not 4 bytes)
    BadOptionValue,
    /// The checksum over the pseudo-header and segment does not verify
    BadChecksum,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Truncated => "segment shorter than the 20-byte TCP header",
            Self::BadDataOffset => "data offset outside the segment",
            Self::BadOptionLength => "option length runs outside the header",
            Self::BadOptionValue => "option has the wrong length for its kind",
            Self::BadChecksum => "checksum does not verify",
        })
    }
}

impl core::error::Error for ParseError {}
