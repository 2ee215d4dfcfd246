//! A reproducible byte stream to send, and what a receiver saw of one

use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// Pseudo-random bytes from a seed (xorshift64*), produced in any chunk sizes
#[derive(Debug, Clone)]
pub struct Pattern {
    state: u64,
    pending: Vec<u8>,
    left: usize,
}

impl Pattern {
    /// `len` bytes from `seed`
    pub fn new(seed: u64, len: usize) -> Self {
        Self {
            state: seed | 1,
            pending: Vec::new(),
            left: len,
        }
    }

    /// The next bytes to send, at most 64 KiB; empty when everything was consumed
    pub fn peek(&mut self) -> &[u8] {
        if self.pending.is_empty() && self.left > 0 {
            let n = self.left.min(64 * 1024);
            self.pending.reserve(n);
            while self.pending.len() < n {
                self.state ^= self.state >> 12;
                self.state ^= self.state << 25;
                self.state ^= self.state >> 27;
                let w = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
                let take = (n - self.pending.len()).min(8);
                self.pending.extend_from_slice(&w[..take]);
            }
            self.left -= n;
        }
        &self.pending
    }

    /// Mark `n` bytes of [`Pattern::peek`] as sent
    pub fn consume(&mut self, n: usize) {
        self.pending.drain(..n);
    }

    /// Whether nothing is left
    pub fn done(&self) -> bool {
        self.pending.is_empty() && self.left == 0
    }

    /// SHA-256 and length of the whole stream
    pub fn summary(seed: u64, len: usize) -> Summary {
        let mut p = Self::new(seed, len);
        let mut s = Summary::start();
        while !p.done() {
            let n = p.peek().len();
            s.add(p.peek());
            p.consume(n);
        }
        s.finish()
    }

    /// Write the whole stream to `w`
    pub fn write_all_to(seed: u64, len: usize, w: &mut impl Write) -> io::Result<Summary> {
        let mut p = Self::new(seed, len);
        let mut s = Summary::start();
        while !p.done() {
            let chunk = p.peek().to_vec();
            w.write_all(&chunk)?;
            s.add(&chunk);
            p.consume(chunk.len());
        }
        Ok(s.finish())
    }
}

/// Length, SHA-256 and duration of a byte stream
#[derive(Clone)]
pub struct Summary {
    pub len: u64,
    pub sha256: [u8; 32],
    pub elapsed: Duration,
    hasher: Option<Sha256>,
    started: Instant,
}

impl PartialEq for Summary {
    fn eq(&self, o: &Self) -> bool {
        (self.len, self.sha256) == (o.len, o.sha256)
    }
}

impl fmt::Debug for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: String = self.sha256[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        write!(
            f,
            "{} bytes, sha256 {hex}..., {:.2?}",
            self.len, self.elapsed
        )
    }
}

impl Summary {
    pub fn start() -> Self {
        Self {
            len: 0,
            sha256: [0; 32],
            elapsed: Duration::ZERO,
            hasher: Some(Sha256::new()),
            started: Instant::now(),
        }
    }

    pub fn add(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(bytes);
        }
    }

    pub fn finish(mut self) -> Self {
        if let Some(h) = self.hasher.take() {
            self.sha256 = h.finalize().into();
        }
        self.elapsed = self.started.elapsed();
        self
    }

    /// Read `r` to its end
    pub fn read_all(r: &mut impl Read) -> io::Result<Self> {
        let mut s = Self::start();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Ok(s.finish());
            }
            s.add(&buf[..n]);
        }
    }

    /// Megabytes (10^6 bytes) per second
    pub fn mbytes_per_sec(&self) -> f64 {
        self.len as f64 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }
}
