//! Binds the TCP engine to a Linux TUN device, so that the kernel's own TCP (and curl, nc,
//! any program) talks to it.
//!
//! ```text
//!   kernel sockets ── 10.7.0.1 ── tcpe0 (TUN) ── driver ── [driver-sim model] ── engine 10.7.0.2
//! ```
//!
//! - [`tun`]: the device (`/dev/net/tun`, `IFF_TUN | IFF_NO_PI`), the crate's only `unsafe`.
//! - [`netlink`]: addresses (IPv4 and IPv6), link up, MTU and routes over rtnetlink.
//! - [`ip`]: IP header checks and encapsulation with etherparse.
//! - [`path`]: straight through, or driver-sim's network model (loss, reordering,
//!   duplication, delay) applied to what is read and written.
//! - [`Driver`]: the single-threaded poll loop on the real clock.
//! - [`Stack`], [`Listener`], [`Stream`]: a std-like socket API on top (see [`stack`] for the
//!   design: single-threaded, blocking calls drive the loop).
//!
//! Creating the device needs root or `CAP_NET_ADMIN` and `/dev/net/tun`. It is created in the
//! network namespace of the calling thread and removed when the stack is dropped.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use driver_tun::{Stack, StackConfig};
//!
//! let stack = Stack::new(StackConfig::default())?; // tcpe0: kernel 10.7.0.1, engine 10.7.0.2
//! let listener = stack.listen(7)?;
//! let (mut stream, peer) = listener.accept()?; // e.g. `nc 10.7.0.2 7` from the host
//! let mut buf = [0u8; 4096];
//! loop {
//!     let n = stream.read(&mut buf)?;
//!     if n == 0 {
//!         break;
//!     }
//!     stream.write_all(&buf[..n])?;
//! }
//! drop(stream);
//! stack.linger(std::time::Duration::from_secs(1))?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod config;
pub mod driver;
pub mod error;
pub mod ip;
pub mod listener;
pub mod netlink;
pub mod path;
pub mod stack;
pub mod stream;
pub mod tun;

pub use config::{Impairment, StackConfig, Subnet};
pub use driver::{ConnEvent, Driver, DriverStats};
pub use listener::Listener;
pub use stack::{Stack, StackStats};
pub use stream::Stream;
