//! The TCP segment format (RFC 9293 §3.1)
//!
//! Two levels, as in smoltcp: [`TcpPacket`] is a zero-copy view over any byte buffer with
//! checked accessors; [`TcpRepr`] is the validated meaning of a segment with `parse`,
//! `buffer_len` and `emit`. Parsing never panics and never reads out of bounds; it returns a
//! [`ParseError`] that says what was wrong.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use tcp_engine::seq::SeqNumber;
//! use tcp_engine::wire::{ChecksumCheck, TcpFlags, TcpOptions, TcpRepr};
//!
//! let (src, dst): (IpAddr, IpAddr) = (Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 2).into());
//! let syn = TcpRepr {
//!     src_port: 49152,
//!     dst_port: 80,
//!     flags: TcpFlags::SYN,
//!     seq_number: SeqNumber(1000),
//!     ack_number: SeqNumber(0),
//!     window_len: 64240,
//!     urgent_pointer: 0,
//!     options: TcpOptions { mss: Some(1460), ..TcpOptions::NONE },
//!     payload: &[],
//! };
//! let mut buf = [0u8; 60];
//! let len = syn.emit(&mut buf, &src, &dst).unwrap();
//! let parsed = TcpRepr::parse_bytes(&buf[..len], &src, &dst, ChecksumCheck::Verify).unwrap();
//! assert_eq!(parsed, syn);
//! ```

pub mod checksum;
mod error;
mod flags;
mod options;
mod packet;
mod repr;

pub use error::ParseError;
pub use flags::{FlagLetters, TcpFlags};
pub use options::{
    kind as option_kind, OptionLayout, SackBlock, TcpOption, TcpOptionIter, TcpOptions,
    MAX_SACK_BLOCKS,
};
pub use packet::{TcpPacket, HEADER_LEN, MAX_HEADER_LEN};
pub use repr::{ChecksumCheck, TcpRepr};

#[cfg(test)]
mod proptests;
