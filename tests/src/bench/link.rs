//! The in-memory IPv4 link between the two hosts: one FIFO per direction, a fixed one-way
//! delay, seeded random loss, and recycled 1500-byte packet buffers (no allocation per
//! packet once warm)

use std::collections::VecDeque;

/// The link MTU: every packet buffer holds this many bytes
pub const MTU: usize = 1500;

/// One packet buffer
pub type Buf = Box<[u8; MTU]>;

/// A small deterministic random generator (SplitMix64)
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A packet in flight
#[derive(Debug)]
pub struct Packet {
    /// Arrival time at the far end, in microseconds
    pub at: u64,
    /// Bytes used in `buf`
    pub len: usize,
    /// The packet (an IPv4 datagram)
    pub buf: Buf,
}

/// One direction of the link
#[derive(Debug)]
pub struct Direction {
    queue: VecDeque<Packet>,
    free: Vec<Buf>,
    delay: u64,
    /// Loss probability scaled to 2^32
    loss: u64,
    rng: Rng,
    /// Packets handed to the link
    pub sent: u64,
    /// Packets the link dropped
    pub dropped: u64,
    /// Packets taken off the link by the receiver
    pub delivered: u64,
}

impl Direction {
    fn new(delay_us: u64, loss: f64, seed: u64) -> Self {
        Self {
            queue: VecDeque::new(),
            free: Vec::new(),
            delay: delay_us,
            loss: (loss.clamp(0.0, 1.0) * 4_294_967_296.0) as u64,
            rng: Rng::new(seed),
            sent: 0,
            dropped: 0,
            delivered: 0,
        }
    }

    /// An empty packet buffer (recycled when possible)
    pub fn buffer(&mut self) -> Buf {
        self.free.pop().unwrap_or_else(|| Box::new([0; MTU]))
    }

    /// Give a buffer back without sending it
    pub fn recycle(&mut self, buf: Buf) {
        self.free.push(buf);
    }

    /// Send the first `len` bytes of `buf` at `now`; the link may drop it
    pub fn push(&mut self, now: u64, buf: Buf, len: usize) {
        self.sent += 1;
        if self.loss != 0 && (self.rng.next_u64() >> 32) < self.loss {
            self.dropped += 1;
            self.free.push(buf);
            return;
        }
        self.queue.push_back(Packet {
            at: now + self.delay,
            len,
            buf,
        });
    }

    /// The next packet that has arrived by `now`
    pub fn pop_due(&mut self, now: u64) -> Option<Packet> {
        if self.queue.front()?.at > now {
            return None;
        }
        self.delivered += 1;
        self.queue.pop_front()
    }

    /// When the next packet arrives
    pub fn next_arrival(&self) -> Option<u64> {
        self.queue.front().map(|p| p.at)
    }
}

/// Which end of the connection a host is
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The connecting host (10.0.0.1)
    Client,
    /// The listening host (10.0.0.2)
    Server,
}

impl Side {
    /// 0 for the client, 1 for the server
    pub fn index(self) -> usize {
        match self {
            Self::Client => 0,
            Self::Server => 1,
        }
    }
}

/// Both directions of the link
#[derive(Debug)]
pub struct Link {
    dirs: [Direction; 2],
}

/// Delay and loss of a link
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkParams {
    /// One-way delay in microseconds
    pub delay_us: u64,
    /// Loss probability per packet, each way
    pub loss: f64,
    /// Seed of the loss draws
    pub seed: u64,
}

impl LinkParams {
    /// No delay, no loss
    pub const IDEAL: Self = Self {
        delay_us: 0,
        loss: 0.0,
        seed: 0,
    };
}

impl Link {
    /// A link with these parameters (the two directions draw from different streams)
    pub fn new(p: LinkParams) -> Self {
        let seed = p.seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        Self {
            dirs: [
                Direction::new(p.delay_us, p.loss, seed ^ 0x0123_4567),
                Direction::new(p.delay_us, p.loss, seed ^ 0x89ab_cdef),
            ],
        }
    }

    /// The directions a host receives from and transmits to, in that order
    pub fn ends(&mut self, side: Side) -> (&mut Direction, &mut Direction) {
        let [to_server, to_client] = &mut self.dirs;
        match side {
            Side::Client => (to_client, to_server),
            Side::Server => (to_server, to_client),
        }
    }

    /// When the next packet arrives anywhere
    pub fn next_arrival(&self) -> Option<u64> {
        match (self.dirs[0].next_arrival(), self.dirs[1].next_arrival()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Packets sent so far, both ways
    pub fn sent(&self) -> u64 {
        self.dirs[0].sent + self.dirs[1].sent
    }

    /// Packets dropped so far, both ways
    pub fn dropped(&self) -> u64 {
        self.dirs[0].dropped + self.dirs[1].dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_and_loss() {
        let mut link = Link::new(LinkParams {
            delay_us: 5,
            loss: 0.5,
            seed: 7,
        });
        let (_, tx) = link.ends(Side::Client);
        for _ in 0..1000 {
            let b = tx.buffer();
            tx.push(10, b, 40);
        }
        let dropped = link.dropped();
        assert!((400..600).contains(&dropped), "{dropped}");
        let (rx, _) = link.ends(Side::Server);
        assert!(rx.pop_due(14).is_none());
        assert_eq!(rx.pop_due(15).map(|p| p.len), Some(40));
    }
}
