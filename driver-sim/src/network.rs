//! The network: link configurations, the packets in flight and the trace.

use core::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

use crate::direction::DirState;
use crate::link::{ConfigError, LinkConfig};
use crate::outcome::{Arrival, Fate, NetStats, SendOutcome};
use crate::rng::flip_bits;
use crate::HostId;

/// A packet in flight, ordered by arrival time and then by when it was put
/// in flight (so equal arrival times come out first in, first out).
#[derive(Debug, Clone)]
struct InFlight {
    at_us: u64,
    seq: u64,
    arrival: Arrival,
}

impl InFlight {
    fn key(&self) -> (u64, u64) {
        (self.at_us, self.seq)
    }
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for InFlight {}

impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// A deterministic, sans-IO network carrying opaque packets between hosts.
///
/// See the [crate documentation](crate) for the model. The network has no
/// clock of its own: every call is given the current virtual time in µs, and
/// [`next_arrival`](Self::next_arrival) tells the harness when the network
/// next needs attention.
#[derive(Debug, Clone)]
pub struct Network {
    seed: u64,
    default_link: LinkConfig,
    links: BTreeMap<(HostId, HostId), LinkConfig>,
    dirs: BTreeMap<(HostId, HostId), DirState>,
    in_flight: BinaryHeap<Reverse<InFlight>>,
    next_id: u64,
    next_seq: u64,
    trace: Vec<SendOutcome>,
    trace_enabled: bool,
    stats: NetStats,
}

impl Network {
    /// An empty network whose randomness is seeded with `seed`, with perfect
    /// links everywhere and tracing on.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            default_link: LinkConfig::default(),
            links: BTreeMap::new(),
            dirs: BTreeMap::new(),
            in_flight: BinaryHeap::new(),
            next_id: 0,
            next_seq: 0,
            trace: Vec::new(),
            trace_enabled: true,
            stats: NetStats::default(),
        }
    }

    /// The seed given to [`Network::new`].
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Sets the configuration of every direction that has none of its own.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] from [`LinkConfig::validate`]; the previous
    /// configuration is kept.
    pub fn set_default_link(&mut self, cfg: LinkConfig) -> Result<(), ConfigError> {
        cfg.validate()?;
        self.default_link = cfg;
        Ok(())
    }

    /// Sets the configuration of packets going from `from` to `to` (the
    /// reverse direction is separate). It applies to packets sent from now
    /// on; packets in flight keep their arrival times, and the direction's
    /// bottleneck queue and random stream carry on.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] from [`LinkConfig::validate`]; the previous
    /// configuration is kept.
    pub fn set_link(
        &mut self,
        from: HostId,
        to: HostId,
        cfg: LinkConfig,
    ) -> Result<(), ConfigError> {
        cfg.validate()?;
        self.links.insert((from, to), cfg);
        Ok(())
    }

    /// Sets the same configuration in both directions between `a` and `b`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] from [`LinkConfig::validate`]; neither direction
    /// is changed.
    pub fn set_link_both(
        &mut self,
        a: HostId,
        b: HostId,
        cfg: LinkConfig,
    ) -> Result<(), ConfigError> {
        cfg.validate()?;
        self.links.insert((b, a), cfg.clone());
        self.links.insert((a, b), cfg);
        Ok(())
    }

    /// Makes the direction from `from` to `to` follow the default
    /// configuration again.
    pub fn clear_link(&mut self, from: HostId, to: HostId) {
        self.links.remove(&(from, to));
    }

    /// The default configuration.
    #[must_use]
    pub fn default_link(&self) -> &LinkConfig {
        &self.default_link
    }

    /// The configuration in force from `from` to `to`.
    #[must_use]
    pub fn link(&self, from: HostId, to: HostId) -> &LinkConfig {
        self.links.get(&(from, to)).unwrap_or(&self.default_link)
    }

    /// A packet leaves host `from` for host `to` at `now_us`.
    ///
    /// Its whole fate is decided now, in this order: dropped if larger than
    /// the MTU ([`Fate::TooBig`]); dropped if `now_us` is inside a partition
    /// ([`Fate::Partitioned`]); dropped if the bottleneck queue is full
    /// ([`Fate::TailDropped`]); otherwise it takes its turn on the
    /// bottleneck, and is then dropped at random ([`Fate::Lost`]) or
    /// delivered, possibly corrupted, reordered and/or duplicated. The
    /// outcome is returned and, when tracing is on, appended to the
    /// [`trace`](Self::trace).
    ///
    /// Never panics, whatever the time, hosts or packet; arrival times
    /// saturate at `u64::MAX`.
    pub fn send(&mut self, now_us: u64, from: HostId, to: HostId, packet: Vec<u8>) -> SendOutcome {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let len = packet.len();
        let seed = self.seed;
        let cfg = self.links.get(&(from, to)).unwrap_or(&self.default_link);
        let plan = self
            .dirs
            .entry((from, to))
            .or_insert_with(|| DirState::new(seed, from, to))
            .plan(cfg, now_us, len);

        let delivered = plan.fate == Fate::Delivered;
        let mut out = SendOutcome {
            id,
            sent_us: now_us,
            from,
            to,
            len,
            fate: plan.fate,
            duplicated: plan.duplicate_us.is_some(),
            reordered: plan.reordered,
            corrupted_bits: 0,
            arrival_us: delivered.then_some(plan.arrival_us),
            duplicate_arrival_us: plan.duplicate_us,
        };
        if delivered {
            let mut packet = packet;
            out.corrupted_bits = flip_bits(&mut packet, plan.corrupt_bits, plan.corrupt_seed);
            let arrival = Arrival {
                id,
                at_us: plan.arrival_us,
                sent_us: now_us,
                from,
                to,
                packet,
                corrupted: out.is_corrupted(),
                duplicate: false,
                reordered: plan.reordered,
            };
            if let Some(at_us) = plan.duplicate_us {
                let copy = Arrival {
                    at_us,
                    packet: arrival.packet.clone(),
                    duplicate: true,
                    ..arrival
                };
                self.push(arrival);
                self.push(copy);
            } else {
                self.push(arrival);
            }
        }
        self.stats.record(&out);
        if self.trace_enabled {
            self.trace.push(out.clone());
        }
        out
    }

    fn push(&mut self, arrival: Arrival) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.in_flight.push(Reverse(InFlight {
            at_us: arrival.at_us,
            seq,
            arrival,
        }));
    }

    /// The earliest time at which a packet in flight arrives, if any. A
    /// harness jumps its clock to the minimum of this and its hosts' own
    /// deadlines.
    #[must_use]
    pub fn next_arrival(&self) -> Option<u64> {
        self.in_flight.peek().map(|Reverse(p)| p.at_us)
    }

    /// Takes the earliest packet in flight whose arrival time is at or before
    /// `now_us`: earliest arrival first, and in the order they were sent among
    /// equal arrival times. `None` when nothing is due yet.
    pub fn poll_arrival(&mut self, now_us: u64) -> Option<Arrival> {
        if self.next_arrival()? > now_us {
            return None;
        }
        let Reverse(p) = self.in_flight.pop()?;
        self.stats.arrivals += 1;
        Some(p.arrival)
    }

    /// How many packets (copies included) are in flight.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Counters over everything sent so far.
    #[must_use]
    pub fn stats(&self) -> &NetStats {
        &self.stats
    }

    /// The outcome of every packet sent while tracing was on, oldest first.
    #[must_use]
    pub fn trace(&self) -> &[SendOutcome] {
        &self.trace
    }

    /// Takes the trace recorded so far, leaving it empty.
    pub fn take_trace(&mut self) -> Vec<SendOutcome> {
        core::mem::take(&mut self.trace)
    }

    /// Turns tracing on or off (it starts on). Long simulations that do not
    /// need the trace can turn it off to save memory.
    pub fn set_trace_enabled(&mut self, enabled: bool) {
        self.trace_enabled = enabled;
    }
}

#[cfg(test)]
mod tests;
