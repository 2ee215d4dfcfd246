//! Reads pcap and pcapng captures, groups their TCP segments into flows, and
//! replays one side of a flow into the TCP engine to compare what it answers
//! with what the capture recorded.
//!
//! * [`read_capture`]: segments out of a capture file (below).
//! * [`extract_flows`]: connections by 4-tuple, with who opened, counters,
//!   handshake and how each ended ([`flows`]).
//! * [`replay()`]: the engine plays the recorded server or client of a flow
//!   and its segments are compared step by step with the recorded ones
//!   ([`replay`](mod@replay), [`report`]).
//!
//! [`read_capture`] (or [`read_capture_file`]) takes a whole capture file and
//! returns a [`Capture`]: every TCP segment with its frame number, timestamp,
//! addresses and captured TCP bytes, plus a list of the frames it skipped and
//! why. Damaged input never panics: frames that are not TCP, are cut short or
//! carry broken headers are reported per frame, and a file that ends in the
//! middle of a record keeps everything read before. Only a file that is not a
//! capture at all is an error ([`CaptureError`]).
//!
//! Supported containers: classic pcap (either byte order, microsecond or
//! nanosecond timestamps) and pcapng (several sections and interfaces,
//! `if_tsresol`, `if_tsoffset`). Supported link types: Ethernet (1, with VLAN
//! tags), raw IP (101, 12, 14), bare IPv4 (228) and IPv6 (229), Linux cooked
//! captures v1 (113) and v2 (276), BSD loopback (0) and OpenBSD loopback (108).
//! IPv4 options and IPv6 extension headers are skipped over; the TCP length
//! comes from the IP header, so Ethernet trailers are cut off and frames cut
//! by the snap length are flagged [`truncated`](CapturedSegment::truncated).
//!
//! [`PcapWriter`] writes the other way: a classic pcap of raw IP packets
//! (link type 101), and [`ip_packet`] wraps a TCP segment in an IP header.
//!
//! ```
//! use driver_pcap_replay::{ip_packet, read_capture, PcapWriter};
//! use std::net::{IpAddr, Ipv4Addr};
//!
//! // A bare SYN from port 1234 to port 80 (checksum left at zero here).
//! let syn = [
//!     0x04, 0xD2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0,
//! ];
//! let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
//! let dst = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
//!
//! let mut writer = PcapWriter::new(Vec::new())?;
//! writer.write_packet(1_700_000_000_000_001, &ip_packet(src, dst, &syn))?;
//! let file = writer.into_inner();
//!
//! let capture = read_capture(&file)?;
//! let segment = &capture.segments[0];
//! assert_eq!((segment.src, segment.dst), (src, dst));
//! assert_eq!(segment.timestamp_us, 1_700_000_000_000_001);
//! assert_eq!(segment.tcp, syn);
//! assert!(!segment.truncated);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod capture;
mod container;
pub mod flows;
mod ip;
mod link;
mod pcapng;
pub mod render;
pub mod replay;
pub mod report;
pub mod segment;
pub mod writer;

pub use capture::{
    read_capture, read_capture_file, Capture, CaptureEnd, CaptureError, CaptureFormat,
    CapturedSegment, SkipReason, SkippedFrame,
};
pub use flows::{extract_flows, Flow, Flows, Side};
pub use replay::{replay, ReplayOptions, Role};
pub use report::{ReplayReport, Step, Verdict};
pub use writer::{ip_packet, PcapWriter};
