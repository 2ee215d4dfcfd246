//! Reading a capture file into TCP segments.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::container::read_container;
use crate::ip::tcp_of_ip;
use crate::link::ip_of_frame;

/// The container format of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureFormat {
    /// Classic libpcap format (microsecond or nanosecond timestamps, either byte order).
    Pcap,
    /// pcapng (any number of sections and interfaces).
    PcapNg,
}

impl fmt::Display for CaptureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pcap => "pcap",
            Self::PcapNg => "pcapng",
        })
    }
}

/// Everything read from one capture file.
///
/// Every packet record of the file ends up either in [`segments`](Self::segments)
/// or in [`skipped`](Self::skipped), so their frame numbers together are
/// `0..frame_count()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The container format.
    pub format: CaptureFormat,
    /// Link types (the low 16 bits of the field): one for a pcap file, one per
    /// interface description block, in file order, for a pcapng file.
    pub link_types: Vec<u32>,
    /// The TCP segments found, in file order.
    pub segments: Vec<CapturedSegment>,
    /// The frames that hold no usable TCP segment, in file order.
    pub skipped: Vec<SkippedFrame>,
    /// How the file ended: cleanly, or in the middle of a record.
    pub end: CaptureEnd,
}

impl Capture {
    /// The number of packet records read (segments plus skipped frames).
    pub fn frame_count(&self) -> usize {
        self.segments.len() + self.skipped.len()
    }

    /// True if the file ended cleanly after its last record.
    pub fn is_complete(&self) -> bool {
        self.end == CaptureEnd::Complete
    }
}

/// How reading a capture file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureEnd {
    /// The file ended cleanly after its last record.
    Complete,
    /// The file ends inside a record (for example a capture cut off while it
    /// was being written). All complete records before it were read.
    Truncated {
        /// Byte offset of the incomplete record.
        offset: usize,
    },
    /// A record header is invalid (for example a pcapng block length that is
    /// not a multiple of 4). Reading stopped there; the records before it were read.
    Corrupt {
        /// Byte offset of the invalid record.
        offset: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// One TCP segment found in a capture.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CapturedSegment {
    /// 0-based index of the frame (packet record) in the file.
    pub frame: usize,
    /// Capture time in microseconds since the Unix epoch. Nanosecond pcap files
    /// and pcapng `if_tsresol`/`if_tsoffset` are converted. A pcapng simple
    /// packet block has no time and gets the previous packet's.
    pub timestamp_us: u64,
    /// Source address from the IP header.
    pub src: IpAddr,
    /// Destination address from the IP header.
    pub dst: IpAddr,
    /// The TCP header and payload bytes that were captured, cut to the IP
    /// length (so link-layer trailers and padding are not included).
    pub tcp: Vec<u8>,
    /// The length of the TCP segment (header + payload) according to the IP
    /// header. It exceeds `tcp.len()` when the frame was cut by the snap
    /// length. When the IP length field is 0 (TSO/GSO captures, IPv6
    /// jumbograms), it is the captured length.
    pub tcp_len: usize,
    /// `tcp.len() < tcp_len`: the frame was cut short; the TCP header itself
    /// may be incomplete too.
    pub truncated: bool,
    /// The IP packet was the first fragment of a fragmented datagram: `tcp` and
    /// `tcp_len` cover only this fragment. Later fragments are skipped with
    /// [`SkipReason::Fragment`].
    pub more_fragments: bool,
}

impl CapturedSegment {
    /// Source and destination ports, if the first four TCP bytes were captured.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self.tcp.get(..4)? {
            [a, b, c, d] => Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))),
            _ => None,
        }
    }
}

/// A frame that did not yield a TCP segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SkippedFrame {
    /// 0-based index of the frame (packet record) in the file.
    pub frame: usize,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// Why a frame was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The link type (low 16 bits) is not one this reader decodes.
    UnsupportedLinkType(u32),
    /// A pcapng packet block names an interface that no interface description
    /// block of its section defined.
    UnknownInterface(u32),
    /// A pcapng packet block is too short for its own fields.
    MalformedBlock,
    /// The link layer carries something other than IPv4 or IPv6 (ARP, LLDP, ...).
    NotIp,
    /// The IP packet carries something other than TCP (UDP, ICMP, ...).
    NotTcp,
    /// The frame was cut (by the snap length) before the end of the link-layer
    /// header, the IP header or an IPv6 extension header.
    Truncated,
    /// The IP header is invalid: wrong version for the link type, an IPv4 IHL
    /// below 5, or a malformed extension header.
    BadIpHeader,
    /// The IP length field is smaller than the IP headers it must cover.
    BadIpLength,
    /// An IP fragment other than the first; it holds no TCP header.
    Fragment,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedLinkType(lt) => write!(f, "unsupported link type {lt}"),
            Self::UnknownInterface(id) => write!(f, "packet block names undefined interface {id}"),
            Self::MalformedBlock => f.write_str("malformed packet block"),
            Self::NotIp => f.write_str("not an IP packet"),
            Self::NotTcp => f.write_str("not a TCP segment"),
            Self::Truncated => f.write_str("frame cut before the end of the link or IP headers"),
            Self::BadIpHeader => f.write_str("invalid IP header"),
            Self::BadIpLength => f.write_str("IP length shorter than the IP headers"),
            Self::Fragment => f.write_str("non-first IP fragment"),
        }
    }
}

/// A failure that makes a whole file unreadable.
#[derive(Debug)]
pub enum CaptureError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is shorter than any capture file's magic number.
    TooShort {
        /// The file's length in bytes.
        len: usize,
    },
    /// The file does not start with a pcap or pcapng magic number.
    NotACapture {
        /// The first four bytes, big-endian.
        magic: u32,
    },
    /// The magic number is right but the file ends inside the file header.
    TruncatedHeader {
        /// The format the magic number announced.
        format: CaptureFormat,
        /// The file's length in bytes.
        len: usize,
    },
    /// The magic number is right but the file header is invalid.
    BadHeader {
        /// The format the magic number announced.
        format: CaptureFormat,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::TooShort { len } => write!(f, "not a capture file: only {len} bytes long"),
            Self::NotACapture { magic } => {
                write!(f, "not a pcap or pcapng file (magic number {magic:#010x})")
            }
            Self::TruncatedHeader { format, len } => {
                write!(
                    f,
                    "{format} file header is truncated (file is {len} bytes long)"
                )
            }
            Self::BadHeader { format, reason } => {
                write!(f, "invalid {format} file header: {reason}")
            }
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads a pcap or pcapng capture held in memory and extracts its TCP segments.
///
/// Only whole-file problems are errors. Frames that hold no usable TCP
/// segment are listed in [`Capture::skipped`], and a file that ends inside a
/// record keeps the records read before it (see [`Capture::end`]).
pub fn read_capture(bytes: &[u8]) -> Result<Capture, CaptureError> {
    let container = read_container(bytes)?;
    let mut segments = Vec::new();
    let mut skipped = Vec::new();
    for (frame, record) in container.records.into_iter().enumerate() {
        let found = record.frame.and_then(|link| {
            let (packet, version) = ip_of_frame(link.link_type, link.data)?;
            tcp_of_ip(packet, version)
        });
        match found {
            Ok(ip) => segments.push(CapturedSegment {
                frame,
                timestamp_us: record.timestamp_us,
                src: ip.src,
                dst: ip.dst,
                tcp: ip.tcp.to_vec(),
                tcp_len: ip.tcp_len,
                truncated: ip.tcp.len() < ip.tcp_len,
                more_fragments: ip.more_fragments,
            }),
            Err(reason) => skipped.push(SkippedFrame { frame, reason }),
        }
    }
    Ok(Capture {
        format: container.format,
        link_types: container.link_types,
        segments,
        skipped,
        end: container.end,
    })
}

/// Reads a pcap or pcapng file and extracts its TCP segments; see [`read_capture`].
pub fn read_capture_file(path: &Path) -> Result<Capture, CaptureError> {
    let bytes = std::fs::read(path).map_err(|source| CaptureError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_capture(&bytes)
}

#[cfg(test)]
#[path = "capture_tests.rs"]
mod tests;
