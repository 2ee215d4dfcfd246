//! pcapng: splits the blocks of a pcapng file into packet records.
//!
//! Block framing uses `pcap-file`'s `RawBlock`. The few fixed fields of the
//! packet and interface blocks are read here directly, because `pcap-file`
//! 2.0 reads enhanced-packet timestamps as nanoseconds whatever `if_tsresol`
//! says, and rejects option lists that lack `opt_endofopt`.

use byteorder::{BigEndian, LittleEndian};
use pcap_file::pcapng::blocks::{
    ENHANCED_PACKET_BLOCK, INTERFACE_DESCRIPTION_BLOCK, PACKET_BLOCK, SECTION_HEADER_BLOCK,
    SIMPLE_PACKET_BLOCK,
};
use pcap_file::pcapng::RawBlock;
use pcap_file::PcapError;

use crate::capture::{CaptureEnd, CaptureError, CaptureFormat, SkipReason};
use crate::container::{end_of, Container, LinkFrame, Record};

/// What a pcapng interface description block says about its packets.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u32,
    snaplen: u32,
    tsresol: u8,
    tsoffset_s: i64,
}

/// Reads a `u16` at `off` in the section's byte order.
fn rd_u16(b: &[u8], off: usize, le: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(off..off.checked_add(2)?)?.try_into().ok()?;
    Some(if le {
        u16::from_le_bytes(s)
    } else {
        u16::from_be_bytes(s)
    })
}

/// Reads a `u32` at `off` in the section's byte order.
fn rd_u32(b: &[u8], off: usize, le: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(s)
    } else {
        u32::from_be_bytes(s)
    })
}

/// Reads a `u64` at `off` in the section's byte order.
fn rd_u64(b: &[u8], off: usize, le: bool) -> Option<u64> {
    let s: [u8; 8] = b.get(off..off.checked_add(8)?)?.try_into().ok()?;
    Some(if le {
        u64::from_le_bytes(s)
    } else {
        u64::from_be_bytes(s)
    })
}

/// Parses the fixed fields and the timestamp options of an interface
/// description block body. Malformed options are ignored (defaults kept).
fn parse_interface(body: &[u8], le: bool) -> Option<Interface> {
    let mut iface = Interface {
        link_type: u32::from(rd_u16(body, 0, le)?),
        snaplen: rd_u32(body, 4, le)?,
        tsresol: 6,
        tsoffset_s: 0,
    };
    let mut off = 8;
    while let (Some(code), Some(len)) = (rd_u16(body, off, le), rd_u16(body, off + 2, le)) {
        let len = usize::from(len);
        let value = off + 4;
        match (code, len) {
            (0, _) => break,
            (9, 1) => iface.tsresol = body.get(value).copied().unwrap_or(6),
            (14, 8) => {
                // if_tsoffset is a signed 64-bit number of seconds.
                let raw = rd_u64(body, value, le).unwrap_or(0);
                iface.tsoffset_s = i64::from_ne_bytes(raw.to_ne_bytes());
            }
            _ => {}
        }
        off = value + len.div_ceil(4) * 4;
    }
    Some(iface)
}

/// Converts a pcapng timestamp in `if_tsresol` units to microseconds since the epoch.
pub(crate) fn pcapng_ts_us(raw: u64, tsresol: u8, tsoffset_s: i64) -> u64 {
    let exp = u32::from(tsresol & 0x7F);
    let raw = u128::from(raw);
    let us: u128 = if tsresol & 0x80 != 0 {
        // Negative power of two; exp <= 127 so the shift cannot overflow.
        (raw * 1_000_000) >> exp
    } else if exp <= 6 {
        raw * 10u128.pow(6 - exp)
    } else {
        10u128.checked_pow(exp - 6).map_or(0, |div| raw / div)
    };
    let us = i128::try_from(us).unwrap_or(i128::MAX);
    let total = us.saturating_add(i128::from(tsoffset_s) * 1_000_000);
    u64::try_from(total.max(0)).unwrap_or(u64::MAX)
}

/// The state of the section being read.
struct Section {
    le: bool,
    interfaces: Vec<Interface>,
}

fn next_block(rest: &[u8], le: bool) -> Result<(&[u8], u32), PcapError> {
    let (rem, raw) = if le {
        RawBlock::from_slice::<LittleEndian>(rest)?
    } else {
        RawBlock::from_slice::<BigEndian>(rest)?
    };
    Ok((rem, raw.type_))
}

pub(crate) fn read_pcapng(bytes: &[u8]) -> Result<Container<'_>, CaptureError> {
    let bad_header = |err: PcapError| match err {
        PcapError::IncompleteBuffer => CaptureError::TruncatedHeader {
            format: CaptureFormat::PcapNg,
            len: bytes.len(),
        },
        other => CaptureError::BadHeader {
            format: CaptureFormat::PcapNg,
            reason: other.to_string(),
        },
    };
    // The first block is a section header; RawBlock detects its byte order.
    next_block(bytes, false).map_err(bad_header)?;
    let mut section = Section {
        le: false,
        interfaces: Vec::new(),
    };
    let mut link_types = Vec::new();
    let mut records = Vec::new();
    let mut last_ts = 0;
    let mut rest = bytes;
    let end = loop {
        if rest.is_empty() {
            break CaptureEnd::Complete;
        }
        let offset = bytes.len() - rest.len();
        let (rem, block_type) = match next_block(rest, section.le) {
            Ok(ok) => ok,
            Err(err) => break end_of(&err, offset),
        };
        let consumed = rest.len() - rem.len();
        let body = rest.get(8..consumed.saturating_sub(4)).unwrap_or_default();
        rest = rem;
        match block_type {
            SECTION_HEADER_BLOCK => {
                section.le = body.get(..4) == Some(&[0x4D, 0x3C, 0x2B, 0x1A][..]);
                section.interfaces.clear();
            }
            INTERFACE_DESCRIPTION_BLOCK => {
                // A block too short for its fixed fields still occupies an
                // interface number; give it a link type nobody supports.
                let iface = parse_interface(body, section.le).unwrap_or(Interface {
                    link_type: u32::MAX,
                    snaplen: 0,
                    tsresol: 6,
                    tsoffset_s: 0,
                });
                link_types.push(iface.link_type);
                section.interfaces.push(iface);
            }
            ENHANCED_PACKET_BLOCK | PACKET_BLOCK | SIMPLE_PACKET_BLOCK => {
                let record = packet_record(block_type, body, &section, last_ts);
                if record.frame.is_ok() {
                    last_ts = record.timestamp_us;
                }
                records.push(record);
            }
            _ => {}
        }
    };
    Ok(Container {
        format: CaptureFormat::PcapNg,
        link_types,
        records,
        end,
    })
}

/// Decodes an enhanced, obsolete or simple packet block body.
fn packet_record<'a>(
    block_type: u32,
    body: &'a [u8],
    section: &Section,
    last_ts: u64,
) -> Record<'a> {
    let le = section.le;
    let malformed = |timestamp_us| Record {
        timestamp_us,
        frame: Err(SkipReason::MalformedBlock),
    };
    if block_type == SIMPLE_PACKET_BLOCK {
        // No timestamp and no interface id: interface 0, the previous packet's time.
        let Some(iface) = section.interfaces.first() else {
            return Record {
                timestamp_us: last_ts,
                frame: Err(SkipReason::UnknownInterface(0)),
            };
        };
        let Some(orig_len) = rd_u32(body, 0, le) else {
            return malformed(last_ts);
        };
        let data = body.get(4..).unwrap_or_default();
        let mut cap = usize::try_from(orig_len)
            .unwrap_or(usize::MAX)
            .min(data.len());
        if iface.snaplen != 0 {
            cap = cap.min(usize::try_from(iface.snaplen).unwrap_or(usize::MAX));
        }
        return Record {
            timestamp_us: last_ts,
            frame: Ok(LinkFrame {
                link_type: iface.link_type,
                data: data.get(..cap).unwrap_or_default(),
            }),
        };
    }
    let iface_id = if block_type == PACKET_BLOCK {
        rd_u16(body, 0, le).map(u32::from)
    } else {
        rd_u32(body, 0, le)
    };
    let (Some(iface_id), Some(hi), Some(lo), Some(cap_len)) = (
        iface_id,
        rd_u32(body, 4, le),
        rd_u32(body, 8, le),
        rd_u32(body, 12, le),
    ) else {
        return malformed(last_ts);
    };
    let raw_ts = (u64::from(hi) << 32) | u64::from(lo);
    let Some(iface) = usize::try_from(iface_id)
        .ok()
        .and_then(|i| section.interfaces.get(i))
    else {
        return Record {
            timestamp_us: pcapng_ts_us(raw_ts, 6, 0),
            frame: Err(SkipReason::UnknownInterface(iface_id)),
        };
    };
    let timestamp_us = pcapng_ts_us(raw_ts, iface.tsresol, iface.tsoffset_s);
    let data = usize::try_from(cap_len)
        .ok()
        .and_then(|len| body.get(20..20usize.checked_add(len)?));
    match data {
        Some(data) => Record {
            timestamp_us,
            frame: Ok(LinkFrame {
                link_type: iface.link_type,
                data,
            }),
        },
        None => malformed(timestamp_us),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_resolutions() {
        assert_eq!(pcapng_ts_us(1_500_000, 6, 0), 1_500_000);
        assert_eq!(pcapng_ts_us(1_500_000_123, 9, 0), 1_500_000);
        assert_eq!(pcapng_ts_us(15, 1, 0), 1_500_000);
        assert_eq!(pcapng_ts_us(3 << 20, 0x80 | 20, 0), 3_000_000);
        assert_eq!(pcapng_ts_us(2_000_000, 6, 10), 12_000_000);
        assert_eq!(pcapng_ts_us(2_000_000, 6, -10), 0);
        // Absurd resolutions saturate instead of panicking.
        assert_eq!(pcapng_ts_us(u64::MAX, 0x7F, 0), 0);
        assert_eq!(pcapng_ts_us(u64::MAX, 0xFF, 0), 0);
        assert_eq!(pcapng_ts_us(u64::MAX, 0, i64::MAX), u64::MAX);
    }

    #[test]
    fn interface_options() {
        // Little-endian IDB: link type 1, snaplen 0xFFFF, if_tsresol 9, no end-of-options.
        let body = [1, 0, 0, 0, 0xFF, 0xFF, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0];
        let iface = parse_interface(&body, true).expect("fixed fields present");
        assert_eq!(
            (iface.link_type, iface.snaplen, iface.tsresol),
            (1, 0xFFFF, 9)
        );
        // Option length running past the body is ignored.
        let body = [0, 1, 0, 0, 0, 0, 0xFF, 0xFF, 0, 9, 0xFF, 0xFF];
        let iface = parse_interface(&body, false).expect("fixed fields present");
        assert_eq!((iface.link_type, iface.tsresol), (1, 6));
        assert!(parse_interface(&body[..6], false).is_none());
    }
}
