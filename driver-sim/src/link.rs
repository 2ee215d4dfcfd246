//! Per-direction link configuration and its validation.

use core::fmt;

/// Default [`LinkConfig::mtu`]: the largest IP packet (header included) a
/// link carries, in bytes.
pub const DEFAULT_MTU: usize = 1500;

/// Default [`LinkConfig::queue_limit_bytes`]: 64 KiB of bottleneck buffer.
pub const DEFAULT_QUEUE_LIMIT_BYTES: usize = 64 * 1024;

/// Default [`LinkConfig::duplicate_delay_us`]: how much later than the
/// original a duplicated copy arrives.
pub const DEFAULT_DUPLICATE_DELAY_US: u64 = 100;

/// How one direction of a link (packets from one host to another) behaves.
///
/// [`LinkConfig::default()`] is a perfect link: no loss, duplication,
/// reordering or corruption, zero delay, unlimited rate, an MTU of
/// [`DEFAULT_MTU`] bytes and no partitions. Set only the fields you need:
///
/// ```
/// use driver_sim::LinkConfig;
/// let lossy = LinkConfig { loss: 0.01, delay_us: 20_000, jitter_us: 2_000, ..LinkConfig::default() };
/// assert!(lossy.validate().is_ok());
/// ```
///
/// Probabilities are per packet and independent of each other. The order in
/// which a packet's fate is decided is documented on
/// [`Network::send`](crate::Network::send).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Probability in `0..=1` that a packet is lost on the wire (after it has
    /// used its share of the link's rate).
    pub loss: f64,
    /// Probability in `0..=1` that a delivered packet arrives twice.
    pub duplicate: f64,
    /// How much later than the original the duplicated copy arrives, in µs.
    pub duplicate_delay_us: u64,
    /// Probability in `0..=1` that a delivered packet is held back by
    /// [`reorder_delay_us`](Self::reorder_delay_us), so that packets sent
    /// after it may overtake it.
    pub reorder: f64,
    /// Extra delay of a reordered packet, in µs. Must be non-zero when
    /// [`reorder`](Self::reorder) is.
    pub reorder_delay_us: u64,
    /// One-way propagation delay, in µs.
    pub delay_us: u64,
    /// Upper bound of the jitter added to [`delay_us`](Self::delay_us): a
    /// uniform value in `0..=jitter_us` µs. Jitter never reorders packets;
    /// only [`reorder`](Self::reorder) does.
    pub jitter_us: u64,
    /// Bottleneck rate in bits per second; `None` is unlimited (no
    /// serialisation delay and no queue). `Some(0)` is invalid.
    pub rate_bps: Option<u64>,
    /// Bytes that may wait behind the packet being serialised when
    /// [`rate_bps`](Self::rate_bps) is set; a packet that would make the
    /// waiting bytes exceed this is tail-dropped. A packet that finds the link
    /// idle is always accepted, so `0` means "no buffer".
    pub queue_limit_bytes: usize,
    /// Probability in `0..=1` that a delivered, non-empty packet is corrupted
    /// by flipping [`corrupt_bits`](Self::corrupt_bits) distinct random bits.
    pub corrupt: f64,
    /// How many distinct bits a corruption flips (at most the packet's size
    /// in bits). Must be non-zero when [`corrupt`](Self::corrupt) is.
    pub corrupt_bits: u32,
    /// Largest packet carried, in bytes; larger packets are dropped. Must be
    /// non-zero.
    pub mtu: usize,
    /// Half-open time intervals `[start_us, end_us)` during which every
    /// packet *sent* in this direction is dropped. Packets already in flight
    /// when a partition starts still arrive. Each interval must be non-empty;
    /// intervals may overlap and need not be sorted.
    pub partitions: Vec<(u64, u64)>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            loss: 0.0,
            duplicate: 0.0,
            duplicate_delay_us: DEFAULT_DUPLICATE_DELAY_US,
            reorder: 0.0,
            reorder_delay_us: 0,
            delay_us: 0,
            jitter_us: 0,
            rate_bps: None,
            queue_limit_bytes: DEFAULT_QUEUE_LIMIT_BYTES,
            corrupt: 0.0,
            corrupt_bits: 1,
            mtu: DEFAULT_MTU,
            partitions: Vec::new(),
        }
    }
}

impl LinkConfig {
    /// A perfect link; the same as [`LinkConfig::default()`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks that the configuration makes sense, returning the first problem
    /// found.
    ///
    /// [`Network::set_link`](crate::Network::set_link) and
    /// [`Network::set_default_link`](crate::Network::set_default_link) call
    /// this and refuse invalid configurations, so a network never runs with
    /// one.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the offending field when a probability is not
    /// a number in `0..=1`, the rate is zero, the MTU is zero, corruption or
    /// reordering is enabled without any effect configured, or a partition
    /// interval is empty.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("corrupt", self.corrupt),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::Probability { field, value });
            }
        }
        if self.rate_bps == Some(0) {
            return Err(ConfigError::ZeroRate);
        }
        if self.mtu == 0 {
            return Err(ConfigError::ZeroMtu);
        }
        if self.reorder > 0.0 && self.reorder_delay_us == 0 {
            return Err(ConfigError::ReorderWithoutDelay);
        }
        if self.corrupt > 0.0 && self.corrupt_bits == 0 {
            return Err(ConfigError::CorruptWithoutBits);
        }
        for (index, &(start_us, end_us)) in self.partitions.iter().enumerate() {
            if start_us >= end_us {
                return Err(ConfigError::EmptyPartition {
                    index,
                    start_us,
                    end_us,
                });
            }
        }
        Ok(())
    }

    /// Whether a packet sent at `now_us` falls inside one of the
    /// [`partitions`](Self::partitions).
    #[must_use]
    pub fn is_partitioned(&self, now_us: u64) -> bool {
        self.partitions
            .iter()
            .any(|&(start, end)| start <= now_us && now_us < end)
    }
}

/// Why a [`LinkConfig`] was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// A probability field is NaN or outside `0..=1`.
    Probability {
        /// The field's name, e.g. `"loss"`.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// `rate_bps` is `Some(0)`; use `None` for an unlimited rate.
    ZeroRate,
    /// `mtu` is zero, which would drop every packet.
    ZeroMtu,
    /// `reorder` is non-zero but `reorder_delay_us` is zero, so reordering
    /// would have no effect.
    ReorderWithoutDelay,
    /// `corrupt` is non-zero but `corrupt_bits` is zero, so corruption would
    /// have no effect.
    CorruptWithoutBits,
    /// A partition interval `[start_us, end_us)` is empty or reversed.
    EmptyPartition {
        /// Its position in `partitions`.
        index: usize,
        /// Its start, in µs.
        start_us: u64,
        /// Its end, in µs.
        end_us: u64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Probability { field, value } => write!(
                f,
                "link config: `{field}` is a probability and must be a number in 0..=1, got {value}"
            ),
            Self::ZeroRate => f.write_str(
                "link config: `rate_bps` must be greater than zero (use None for an unlimited rate)",
            ),
            Self::ZeroMtu => f.write_str("link config: `mtu` must be at least 1 byte"),
            Self::ReorderWithoutDelay => f.write_str(
                "link config: `reorder` is non-zero but `reorder_delay_us` is 0, so nothing would be reordered",
            ),
            Self::CorruptWithoutBits => f.write_str(
                "link config: `corrupt` is non-zero but `corrupt_bits` is 0, so nothing would be corrupted",
            ),
            Self::EmptyPartition {
                index,
                start_us,
                end_us,
            } => write!(
                f,
                "link config: partition {index} [{start_us}, {end_us}) µs is empty; start must be less than end"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_perfect() {
        let cfg = LinkConfig::default();
        assert_eq!(cfg.validate(), Ok(()));
        assert_eq!(cfg, LinkConfig::new());
        assert_eq!(cfg.mtu, 1500);
        assert_eq!(cfg.loss, 0.0);
        assert_eq!(cfg.rate_bps, None);
        assert!(cfg.partitions.is_empty());
    }

    #[test]
    fn probabilities_out_of_range_are_rejected() {
        for bad in [-0.1, 1.000_001, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let cfg = LinkConfig {
                duplicate: bad,
                ..LinkConfig::default()
            };
            let err = cfg.validate().unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Probability {
                        field: "duplicate",
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains("`duplicate`"));
        }
        for edge in [0.0, 1.0] {
            let cfg = LinkConfig {
                loss: edge,
                corrupt: edge,
                ..LinkConfig::default()
            };
            assert_eq!(cfg.validate(), Ok(()));
        }
    }

    #[test]
    fn each_field_error_is_reported() {
        let base = LinkConfig::default();
        let cases = [
            (
                LinkConfig {
                    rate_bps: Some(0),
                    ..base.clone()
                },
                ConfigError::ZeroRate,
            ),
            (
                LinkConfig {
                    mtu: 0,
                    ..base.clone()
                },
                ConfigError::ZeroMtu,
            ),
            (
                LinkConfig {
                    reorder: 0.5,
                    ..base.clone()
                },
                ConfigError::ReorderWithoutDelay,
            ),
            (
                LinkConfig {
                    corrupt: 0.5,
                    corrupt_bits: 0,
                    ..base.clone()
                },
                ConfigError::CorruptWithoutBits,
            ),
            (
                LinkConfig {
                    partitions: vec![(0, 10), (5, 5)],
                    ..base.clone()
                },
                ConfigError::EmptyPartition {
                    index: 1,
                    start_us: 5,
                    end_us: 5,
                },
            ),
        ];
        for (cfg, want) in cases {
            let got = cfg.validate().unwrap_err();
            assert!(!got.to_string().is_empty());
            assert_eq!(got, want);
        }
    }

    #[test]
    fn unused_knobs_do_not_make_a_config_invalid() {
        let cfg = LinkConfig {
            corrupt_bits: 0,
            reorder_delay_us: 0,
            queue_limit_bytes: 0,
            rate_bps: Some(1),
            jitter_us: u64::MAX,
            delay_us: u64::MAX,
            ..LinkConfig::default()
        };
        assert_eq!(cfg.validate(), Ok(()));
    }

    #[test]
    fn partitions_are_half_open() {
        let cfg = LinkConfig {
            partitions: vec![(1_000, 2_000), (5_000, 5_001)],
            ..LinkConfig::default()
        };
        assert!(!cfg.is_partitioned(999));
        assert!(cfg.is_partitioned(1_000));
        assert!(cfg.is_partitioned(1_999));
        assert!(!cfg.is_partitioned(2_000));
        assert!(cfg.is_partitioned(5_000));
        assert!(!cfg.is_partitioned(5_001));
    }
}
