//! Container framing: splits a pcap or pcapng file into packet records.
//!
//! This layer knows nothing about Ethernet or IP. It turns the file into a
//! list of [`Record`]s (timestamp, link type, captured bytes) and says how the
//! file ended. Classic pcap is read here with `pcap-file`; pcapng is in
//! [`crate::pcapng`].

use pcap_file::pcap::PcapParser;
use pcap_file::{PcapError, TsResolution};

use crate::capture::{CaptureEnd, CaptureError, CaptureFormat, SkipReason};
use crate::pcapng::read_pcapng;

/// One packet record of the file, in file order.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    /// Capture time in microseconds since the Unix epoch.
    pub(crate) timestamp_us: u64,
    /// The link type and captured bytes, or why the record is unusable.
    pub(crate) frame: Result<LinkFrame<'a>, SkipReason>,
}

/// The captured bytes of one record, with the link type that frames them.
#[derive(Debug)]
pub(crate) struct LinkFrame<'a> {
    /// Link type, already reduced to its low 16 bits.
    pub(crate) link_type: u32,
    /// The captured bytes, link-layer header included.
    pub(crate) data: &'a [u8],
}

/// A whole file split into records.
#[derive(Debug)]
pub(crate) struct Container<'a> {
    pub(crate) format: CaptureFormat,
    pub(crate) link_types: Vec<u32>,
    pub(crate) records: Vec<Record<'a>>,
    pub(crate) end: CaptureEnd,
}

const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];

/// Splits `bytes` into records, after detecting the format from the magic number.
pub(crate) fn read_container(bytes: &[u8]) -> Result<Container<'_>, CaptureError> {
    let Some(magic) = bytes.get(..4) else {
        return Err(CaptureError::TooShort { len: bytes.len() });
    };
    if magic == PCAPNG_MAGIC {
        return read_pcapng(bytes);
    }
    let be = u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]);
    match be {
        0xA1B2_C3D4 | 0xA1B2_3C4D | 0xD4C3_B2A1 | 0x4D3C_B2A1 => read_pcap(bytes),
        _ => Err(CaptureError::NotACapture { magic: be }),
    }
}

/// How the file ended, given the error that stopped reading at `offset`.
pub(crate) fn end_of(err: &PcapError, offset: usize) -> CaptureEnd {
    match err {
        PcapError::IncompleteBuffer => CaptureEnd::Truncated { offset },
        other => CaptureEnd::Corrupt {
            offset,
            reason: other.to_string(),
        },
    }
}

fn read_pcap(bytes: &[u8]) -> Result<Container<'_>, CaptureError> {
    let (mut rest, parser) = PcapParser::new(bytes).map_err(|err| match err {
        PcapError::IncompleteBuffer => CaptureError::TruncatedHeader {
            format: CaptureFormat::Pcap,
            len: bytes.len(),
        },
        other => CaptureError::BadHeader {
            format: CaptureFormat::Pcap,
            reason: other.to_string(),
        },
    })?;
    let header = parser.header();
    // Only the low 16 bits are the link type; the upper bits may carry FCS info.
    let link_type = u32::from(header.datalink) & 0xFFFF;
    let nanos = header.ts_resolution == TsResolution::NanoSecond;
    let mut records = Vec::new();
    let end = loop {
        if rest.is_empty() {
            break CaptureEnd::Complete;
        }
        let offset = bytes.len() - rest.len();
        match parser.next_raw_packet(rest) {
            Ok((rem, packet)) => {
                let consumed = rest.len() - rem.len();
                let data = rest.get(16..consumed).unwrap_or_default();
                let frac = u64::from(packet.ts_frac);
                let frac_us = if nanos { frac / 1000 } else { frac };
                records.push(Record {
                    timestamp_us: u64::from(packet.ts_sec) * 1_000_000 + frac_us,
                    frame: Ok(LinkFrame { link_type, data }),
                });
                rest = rem;
            }
            Err(err) => break end_of(&err, offset),
        }
    };
    Ok(Container {
        format: CaptureFormat::Pcap,
        link_types: vec![link_type],
        records,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_detection() {
        assert!(matches!(
            read_container(b"\x01\x02"),
            Err(CaptureError::TooShort { len: 2 })
        ));
        assert!(matches!(
            read_container(b"GET / HTTP/1.1\r\n"),
            Err(CaptureError::NotACapture { magic: 0x4745_5420 })
        ));
        assert!(matches!(
            read_container(&[0xD4, 0xC3, 0xB2, 0xA1, 2, 0]),
            Err(CaptureError::TruncatedHeader {
                format: CaptureFormat::Pcap,
                len: 6
            })
        ));
        assert!(matches!(
            read_container(&[0x0A, 0x0D, 0x0D, 0x0A, 0, 0, 0, 28, 0x1A, 0x2B]),
            Err(CaptureError::TruncatedHeader {
                format: CaptureFormat::PcapNg,
                ..
            })
        ));
    }
}
