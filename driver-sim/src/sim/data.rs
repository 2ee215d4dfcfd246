//! The bytes scripted applications send, and the SHA-256 digests that check them.

use core::fmt;

use sha2::{Digest as _, Sha256};

use crate::rng::SplitMix64;

/// `len` bytes of deterministic pseudo-random data for host number `host` in a simulation
/// seeded with `seed`.
///
/// The same arguments always give the same bytes, on every platform; different hosts (or
/// seeds) give different bytes, so a receiver that got the other direction's data by mistake
/// would not match.
///
/// ```
/// use driver_sim::sim::payload;
/// assert_eq!(payload(7, 0, 100), payload(7, 0, 100));
/// assert_ne!(payload(7, 0, 100), payload(7, 1, 100));
/// assert_eq!(payload(7, 0, 100)[..10], payload(7, 0, 10)[..]);
/// ```
#[must_use]
pub fn payload(seed: u64, host: u32, len: usize) -> Vec<u8> {
    let mut rng = SplitMix64(seed ^ (u64::from(host) + 1).wrapping_mul(0xA076_1D64_78BD_642F));
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A SHA-256 digest; displays as 64 lower-case hex digits (`{:#}` shows the first 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = if f.alternate() { 6 } else { 32 };
        for b in &self.0[..n] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A running SHA-256 over a byte stream, counting the bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamHash {
    hasher: Sha256,
    len: u64,
}

impl StreamHash {
    /// Adds `bytes` to the stream.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// Bytes hashed so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The digest of everything so far (the stream can go on).
    pub(crate) fn digest(&self) -> Sha256Digest {
        Sha256Digest(self.hasher.clone().finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_hash_matches_one_shot() {
        let data = payload(1, 2, 10_000);
        let mut h = StreamHash::default();
        for chunk in data.chunks(777) {
            h.update(chunk);
        }
        assert_eq!(h.len(), 10_000);
        assert_eq!(h.digest(), Sha256Digest::of(&data));
    }

    #[test]
    fn empty_digest_is_the_known_one() {
        assert_eq!(
            Sha256Digest::of(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(format!("{:#}", Sha256Digest::of(b"")), "e3b0c44298fc");
    }

    #[test]
    fn payload_is_seeded_and_not_constant() {
        let p = payload(3, 0, 64);
        assert_eq!(p.len(), 64);
        assert_ne!(p, payload(4, 0, 64));
        assert!(p.iter().any(|&b| b != p[0]));
        assert!(payload(3, 0, 0).is_empty());
    }
}
