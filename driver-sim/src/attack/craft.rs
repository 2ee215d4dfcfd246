//! Crafting segments, as an attacker or a scripted peer would, and the attack's dice.

use core::net::SocketAddr;

use tcp_engine::seq::SeqNumber;
use tcp_engine::wire::{TcpFlags, TcpOptions, TcpRepr};

use crate::rng::SplitMix64;

/// A whole TCP segment (checksum included) from `src` to `dst`.
#[must_use]
pub fn segment(
    src: SocketAddr,
    dst: SocketAddr,
    flags: TcpFlags,
    (seq, ack): (u32, u32),
    window: u16,
    options: TcpOptions,
    payload: &[u8],
) -> Vec<u8> {
    let repr = TcpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
        flags,
        seq_number: SeqNumber(seq),
        ack_number: SeqNumber(ack),
        window_len: window,
        urgent_pointer: 0,
        options,
        payload,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let len = repr.emit(&mut buf, &src.ip(), &dst.ip()).unwrap_or(0);
    buf.truncate(len);
    buf
}

/// The options of a SYN as Linux sends them: MSS 1460, SACK permitted, timestamps, window
/// scale 7.
#[must_use]
pub fn syn_options(tsval: u32) -> TcpOptions {
    TcpOptions {
        mss: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        timestamps: Some((tsval, 0)),
        ..TcpOptions::NONE
    }
}

/// The attacker's dice: a seeded SplitMix64.
#[derive(Debug, Clone)]
pub struct Dice(SplitMix64);

impl Dice {
    /// Dice seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64(seed ^ 0xA77A_C4A7_7AC4_A77A))
    }

    /// A uniformly random 64-bit word.
    pub fn word(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniformly random 32-bit word.
    pub fn u32(&mut self) -> u32 {
        (self.word() >> 32) as u32
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        crate::rng::up_to(self.word(), n.saturating_sub(1))
    }
}
