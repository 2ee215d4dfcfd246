//! The bytes every workload sends, and the check of every byte received
//!
//! Byte `i` of a stream is `i mod 251`: the period is prime, so it never lines up with buffer
//! or segment sizes, and a lost, duplicated or reordered chunk shows as a mismatch.

/// Longest slice [`Pattern::slice`] returns
pub const MAX_CHUNK: usize = 64 * 1024;

const PERIOD: usize = 251;

/// The stream pattern, precomputed so that sending costs no per-byte work
#[derive(Debug, Clone)]
pub struct Pattern {
    bytes: Vec<u8>,
}

impl Default for Pattern {
    fn default() -> Self {
        Self::new()
    }
}

impl Pattern {
    /// The pattern, long enough for any offset and [`MAX_CHUNK`] bytes
    pub fn new() -> Self {
        Self {
            bytes: (0..MAX_CHUNK + PERIOD)
                .map(|i| (i % PERIOD) as u8)
                .collect(),
        }
    }

    /// Stream bytes `offset..offset + len` (at most [`MAX_CHUNK`] of them)
    pub fn slice(&self, offset: u64, len: usize) -> &[u8] {
        let start = (offset % PERIOD as u64) as usize;
        &self.bytes[start..start + len.min(MAX_CHUNK)]
    }
}

/// Checks a received stream against the pattern, byte by byte
#[derive(Debug, Clone, Default)]
pub struct Checker {
    /// Bytes received and checked so far
    pub offset: u64,
    /// Bytes that differed from the pattern
    pub mismatches: u64,
}

impl Checker {
    /// Check the next bytes of the stream
    pub fn check(&mut self, pattern: &Pattern, mut data: &[u8]) {
        while !data.is_empty() {
            let n = data.len().min(MAX_CHUNK);
            let want = pattern.slice(self.offset, n);
            if want != &data[..n] {
                self.mismatches +=
                    want.iter().zip(&data[..n]).filter(|(a, b)| a != b).count() as u64;
            }
            self.offset += n as u64;
            data = &data[n..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_a_shift() {
        let p = Pattern::new();
        let mut c = Checker::default();
        c.check(&p, p.slice(0, 1000));
        c.check(&p, p.slice(1000, 70_000));
        assert_eq!((c.offset, c.mismatches), (66_536, 0));
        c.check(&p, p.slice(0, 10));
        assert!(c.mismatches > 0);
    }
}
