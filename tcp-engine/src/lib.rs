//! A `no_std`, allocation-free, sans-IO TCP engine (RFC 9293)
//!
//! The engine never reads a clock, never touches a socket and never draws a random number of
//! its own: every input is an event the caller hands in (a segment, the current time, an
//! application call) and every output is an action the caller takes (a segment to send, an
//! event to report, a deadline to wake up at).
//!
//! The crate is layered; each layer uses only those above it:
//!
//! 1. [`time`]: [`Instant`](time::Instant), microseconds chosen by the caller.
//! 2. [`seq`]: [`SeqNumber`](seq::SeqNumber), total wrapping sequence arithmetic.
//! 3. [`wire`]: the segment format, options and the Internet checksum.
//! 4. [`conn`]: one connection, the RFC 9293 state machine.
//! 5. [`engine`]: many connections, listeners and demultiplexing, behind the sans-IO loop.

#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(any(feature = "alloc", test))]
extern crate alloc;

pub mod conn;
pub mod engine;
pub mod seq;
pub mod time;
pub mod wire;
