//! A deterministic, sans-IO simulated network for testing the TCP engine.
//!
//! [`Network`] carries opaque packets (`Vec<u8>`: IPv4, IPv6 or anything
//! else, it never looks inside) between any number of numbered hosts
//! ([`HostId`]). It does no I/O and reads no clock: time is virtual, in
//! microseconds (`u64`), and is passed in by the caller. A harness binds
//! engines (or scripted peers) to hosts and drives everything from one loop.
//!
//! On top of it:
//!
//! - [`sim`]: that harness — [`Sim`](sim::Sim) puts a `tcp-engine` on each
//!   host with a scripted application, runs everything on a virtual clock
//!   until it is quiet, and records every segment and state change;
//! - [`scenarios`]: the textbook situations (handshake, simultaneous open and
//!   close, lost SYN, lost final ACK, zero window, keep-alive, ...);
//! - [`render`]: the ladder diagram, JSON lines, pcap files and the
//!   time-sequence graph;
//! - [`chaos`]: `tcp-sim chaos`, random scenarios (one per seed) checked against every
//!   invariant;
//! - [`attack`]: `tcp-sim attack`, SYN floods, blind segments and slow peers against the
//!   engine's defences, with figures;
//! - [`packetdrill`]: `tcp-sim pkt`, packetdrill scripts run against the engine on a
//!   virtual clock, with profiles reproducing Linux and FreeBSD choices;
//! - [`cli`]: `tcp-sim`, the command that ties them together
//!   (`cargo run --release -p driver-sim` runs the demo).
//!
//! # The model
//!
//! Each *direction* (ordered host pair) has a [`LinkConfig`]: the network's
//! default one ([`Network::set_default_link`]) unless given its own
//! ([`Network::set_link`]). When a host sends a packet
//! ([`Network::send`]), its whole fate is decided at once, in this order:
//!
//! 1. **MTU**: larger than [`LinkConfig::mtu`] → dropped ([`Fate::TooBig`]).
//! 2. **Partitions**: sent during one of the [`LinkConfig::partitions`]
//!    intervals → dropped ([`Fate::Partitioned`]). Packets already in flight
//!    are unaffected.
//! 3. **Bottleneck** (when [`LinkConfig::rate_bps`] is set): the packet
//!    waits for the link to be free and takes `len * 8 / rate` seconds to
//!    serialise. If the link is busy and the bytes already waiting plus this
//!    packet would exceed [`LinkConfig::queue_limit_bytes`], it is
//!    tail-dropped ([`Fate::TailDropped`]).
//! 4. **Loss**: dropped on the wire with probability [`LinkConfig::loss`]
//!    ([`Fate::Lost`]).
//! 5. Otherwise **delivered** ([`Fate::Delivered`]) after the serialisation
//!    time plus [`LinkConfig::delay_us`] plus a uniform jitter in
//!    `0..=`[`LinkConfig::jitter_us`]. Jitter never reorders: within a
//!    direction a packet never arrives before one sent earlier, unless that
//!    earlier one was reordered. In addition, with their own probabilities:
//!    - **corrupted** ([`Fate::Corrupted`]): [`LinkConfig::corrupt_bits`]
//!      distinct random bits are flipped (the TCP checksum should catch it);
//!    - **reordered** ([`Fate::Reordered`]): held back by
//!      [`LinkConfig::reorder_delay_us`] so that later packets overtake it;
//!    - **duplicated** ([`Fate::Duplicated`]): a copy of the (possibly
//!      corrupted) bytes also arrives [`LinkConfig::duplicate_delay_us`]
//!      after the original. The copy does not use the bottleneck.
//!
//! The returned [`SendOutcome`] records all of it and is appended to the
//! [`trace`](Network::trace). Packets then wait in flight until the harness
//! collects them with [`Network::poll_arrival`], earliest first and in send
//! order among equal times.
//!
//! # Determinism
//!
//! All randomness comes from the `u64` seed given to [`Network::new`]: each
//! direction has its own ChaCha8 stream derived from the seed and the host
//! pair, and every packet draws the same number of words from it whatever
//! its fate. The same seed and the same sequence of calls therefore give the
//! same fates, times and bytes on every platform; traffic in one direction
//! does not change the dice of another.
//!
//! # Driving it
//!
//! The network tells when it next needs attention
//! ([`Network::next_arrival`]); a harness jumps its clock to the minimum of
//! that and its engines' deadlines, delivers what is due, lets the engines
//! run, and sends what they emit:
//!
//! ```
//! use driver_sim::{Fate, HostId, LinkConfig, Network};
//!
//! let (a, b) = (HostId(0), HostId(1));
//! let mut net = Network::new(42);
//! // 1 Mbit/s, 10 ms one way, from a to b only.
//! net.set_link(a, b, LinkConfig {
//!     rate_bps: Some(1_000_000),
//!     delay_us: 10_000,
//!     ..LinkConfig::default()
//! })?;
//!
//! let out = net.send(0, a, b, vec![0x45; 1500]);
//! assert_eq!(out.fate, Fate::Delivered);
//! // 12 ms to serialise 1500 bytes at 1 Mbit/s, then 10 ms of propagation.
//! assert_eq!(out.arrival_us, Some(22_000));
//!
//! let mut now = 0;
//! while let Some(t) = net.next_arrival() {
//!     now = t; // or the next engine deadline, if earlier
//!     while let Some(arrival) = net.poll_arrival(now) {
//!         assert_eq!((arrival.to, arrival.packet.len()), (b, 1500));
//!         // hand `arrival.packet` to the engine bound to `arrival.to` ...
//!     }
//! }
//! assert_eq!(now, 22_000);
//! # Ok::<(), driver_sim::ConfigError>(())
//! ```

mod direction;
mod host;
mod link;
mod network;
mod outcome;
mod rng;

pub mod attack;
pub mod chaos;
pub mod cli;
pub mod packetdrill;
pub mod render;
pub mod scenarios;
pub mod sim;

pub use host::HostId;
pub use link::{
    ConfigError, LinkConfig, DEFAULT_DUPLICATE_DELAY_US, DEFAULT_MTU, DEFAULT_QUEUE_LIMIT_BYTES,
};
pub use network::Network;
pub use outcome::{Arrival, Fate, NetStats, SendOutcome};
