//! The path between the device and the engine: straight through, or through driver-sim's
//! network model when impairment is configured
//!
//! The model runs on the real clock (microseconds since the stack started): a packet read
//! from the device is "sent" from the kernel host to the engine host and reaches the engine
//! when the model says it arrives; the engine's packets go the other way and are written to
//! the device on arrival. The model never sees a clock of its own, so the poll loop also wakes
//! up for [`Path::next_arrival`].

use driver_sim::{Fate, HostId, NetStats, Network};

use crate::config::Impairment;

/// The kernel's end of the modelled link
pub const KERNEL: HostId = HostId(0);
/// The engine's end of the modelled link
pub const ENGINE: HostId = HostId(1);

/// Where a packet is going
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Read from the device, for the engine
    ToEngine,
    /// From the engine, to be written to the device
    ToKernel,
}

/// The path: a model of the network, or nothing
#[derive(Debug)]
pub struct Path {
    net: Option<Network>,
}

impl Path {
    /// A direct path (`None`) or a modelled one
    pub fn new(impairment: Option<&Impairment>) -> Result<Self, driver_sim::ConfigError> {
        let net = match impairment {
            None => None,
            Some(i) => {
                let mut net = Network::new(i.seed);
                // Nothing reads the per-packet trace: keep memory flat on long runs.
                net.set_trace_enabled(false);
                net.set_link(KERNEL, ENGINE, i.to_engine.clone())?;
                net.set_link(ENGINE, KERNEL, i.to_kernel.clone())?;
                Some(net)
            }
        };
        Ok(Self { net })
    }

    /// Whether packets go through the model
    pub fn is_modelled(&self) -> bool {
        self.net.is_some()
    }

    /// Hand a packet to the path at `now_us`: `Some(packet)` if it goes through at once (no
    /// model), `None` if the model took it (to deliver later, or to drop)
    pub fn send(&mut self, now_us: u64, dir: Direction, packet: Vec<u8>) -> Option<Vec<u8>> {
        let Some(net) = self.net.as_mut() else {
            return Some(packet);
        };
        let (from, to) = match dir {
            Direction::ToEngine => (KERNEL, ENGINE),
            Direction::ToKernel => (ENGINE, KERNEL),
        };
        let out = net.send(now_us, from, to, packet);
        debug_assert!(out.fate == Fate::Delivered || out.arrival_us.is_none());
        None
    }

    /// When the model next delivers something
    pub fn next_arrival(&self) -> Option<u64> {
        self.net.as_ref().and_then(Network::next_arrival)
    }

    /// The next packet due at `now_us`, with its direction
    pub fn poll(&mut self, now_us: u64) -> Option<(Direction, Vec<u8>)> {
        let a = self.net.as_mut()?.poll_arrival(now_us)?;
        let dir = if a.to == ENGINE {
            Direction::ToEngine
        } else {
            Direction::ToKernel
        };
        Some((dir, a.packet))
    }

    /// The model's counters (lost, duplicated, reordered...), if there is a model
    pub fn stats(&self) -> Option<&NetStats> {
        self.net.as_ref().map(Network::stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use driver_sim::LinkConfig;

    #[test]
    fn a_direct_path_hands_packets_straight_back() {
        let mut p = Path::new(None).unwrap();
        assert!(!p.is_modelled());
        assert_eq!(p.send(0, Direction::ToEngine, vec![1]), Some(vec![1]));
        assert_eq!(p.next_arrival(), None);
        assert_eq!(p.poll(u64::MAX), None);
    }

    #[test]
    fn a_modelled_path_delays_each_direction_on_its_own() {
        let i = Impairment {
            to_engine: LinkConfig {
                delay_us: 10,
                ..LinkConfig::default()
            },
            to_kernel: LinkConfig {
                delay_us: 20,
                ..LinkConfig::default()
            },
            seed: 1,
        };
        let mut p = Path::new(Some(&i)).unwrap();
        assert_eq!(p.send(0, Direction::ToKernel, vec![2]), None);
        assert_eq!(p.send(0, Direction::ToEngine, vec![1]), None);
        assert_eq!(p.next_arrival(), Some(10));
        assert_eq!(p.poll(9), None);
        assert_eq!(p.poll(10), Some((Direction::ToEngine, vec![1])));
        assert_eq!(p.poll(25), Some((Direction::ToKernel, vec![2])));
        assert_eq!(p.stats().unwrap().arrivals, 2);
    }
}
