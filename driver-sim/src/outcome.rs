//! What happens to packets: fates, send records, arrivals and counters.

use core::fmt;

use crate::HostId;

/// One thing that can happen to a packet.
///
/// A packet's primary fate ([`SendOutcome::fate`]) is [`Delivered`] or one of
/// the drop reasons ([`Lost`], [`TailDropped`], [`TooBig`], [`Partitioned`]).
/// A delivered packet may additionally be [`Duplicated`], [`Reordered`]
/// and/or [`Corrupted`]; [`SendOutcome::fates`] lists them all.
///
/// [`Delivered`]: Fate::Delivered
/// [`Lost`]: Fate::Lost
/// [`TailDropped`]: Fate::TailDropped
/// [`TooBig`]: Fate::TooBig
/// [`Partitioned`]: Fate::Partitioned
/// [`Duplicated`]: Fate::Duplicated
/// [`Reordered`]: Fate::Reordered
/// [`Corrupted`]: Fate::Corrupted
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fate {
    /// The packet will arrive.
    Delivered,
    /// Dropped at random on the wire ([`LinkConfig::loss`](crate::LinkConfig::loss)).
    Lost,
    /// The packet will also arrive a second time.
    Duplicated,
    /// The packet is held back so that later packets may overtake it.
    Reordered,
    /// Some of the packet's bits are flipped.
    Corrupted,
    /// Dropped because the bottleneck queue was full.
    TailDropped,
    /// Dropped because it is larger than the link's MTU.
    TooBig,
    /// Dropped because the direction was partitioned when it was sent.
    Partitioned,
}

impl Fate {
    /// Every fate, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::Delivered,
        Self::Lost,
        Self::Duplicated,
        Self::Reordered,
        Self::Corrupted,
        Self::TailDropped,
        Self::TooBig,
        Self::Partitioned,
    ];

    /// A stable lower-case name for traces and logs: `"delivered"`, `"lost"`,
    /// `"duplicated"`, `"reordered"`, `"corrupted"`, `"tail_dropped"`,
    /// `"too_big"`, `"partitioned"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Lost => "lost",
            Self::Duplicated => "duplicated",
            Self::Reordered => "reordered",
            Self::Corrupted => "corrupted",
            Self::TailDropped => "tail_dropped",
            Self::TooBig => "too_big",
            Self::Partitioned => "partitioned",
        }
    }

    /// The fate named `name` (as returned by [`Fate::name`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether this fate means the packet never arrives.
    #[must_use]
    pub const fn is_drop(self) -> bool {
        matches!(
            self,
            Self::Lost | Self::TailDropped | Self::TooBig | Self::Partitioned
        )
    }
}

impl fmt::Display for Fate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The record of one [`Network::send`](crate::Network::send): everything that
/// was decided about the packet when it was sent.
///
/// It is also what the network's trace holds, one per packet sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    /// The packet's number, counting every send from 0. Both copies of a
    /// duplicated packet carry it in [`Arrival::id`].
    pub id: u64,
    /// When the packet was sent, in µs.
    pub sent_us: u64,
    /// The sending host.
    pub from: HostId,
    /// The receiving host.
    pub to: HostId,
    /// The packet's size in bytes.
    pub len: usize,
    /// [`Fate::Delivered`] or the reason it was dropped ([`Fate::Lost`],
    /// [`Fate::TailDropped`], [`Fate::TooBig`] or [`Fate::Partitioned`]).
    pub fate: Fate,
    /// Whether a second copy arrives too.
    pub duplicated: bool,
    /// Whether it was held back by the reorder delay.
    pub reordered: bool,
    /// How many bits were flipped (0 if it was not corrupted).
    pub corrupted_bits: u64,
    /// When it arrives, if delivered.
    pub arrival_us: Option<u64>,
    /// When the duplicated copy arrives, if duplicated.
    pub duplicate_arrival_us: Option<u64>,
}

impl SendOutcome {
    /// Whether the packet (at least one copy) will arrive.
    #[must_use]
    pub fn is_delivered(&self) -> bool {
        self.fate == Fate::Delivered
    }

    /// Whether bits of the packet were flipped.
    #[must_use]
    pub fn is_corrupted(&self) -> bool {
        self.corrupted_bits > 0
    }

    /// All the fates of the packet: the primary [`fate`](Self::fate) first,
    /// then [`Fate::Duplicated`], [`Fate::Reordered`] and
    /// [`Fate::Corrupted`] where they apply.
    pub fn fates(&self) -> impl Iterator<Item = Fate> {
        [
            Some(self.fate),
            self.duplicated.then_some(Fate::Duplicated),
            self.reordered.then_some(Fate::Reordered),
            self.is_corrupted().then_some(Fate::Corrupted),
        ]
        .into_iter()
        .flatten()
    }
}

/// One trace line: `t=<sent> #<id> <from>-><to> <len>B <fates joined by +>`,
/// then `at=<arrival>` and `dup_at=<copy arrival>` where they apply.
///
/// ```
/// use driver_sim::{HostId, Network};
/// let mut net = Network::new(1);
/// let out = net.send(5, HostId(0), HostId(1), vec![0; 40]);
/// assert_eq!(out.to_string(), "t=5 #0 h0->h1 40B delivered at=5");
/// ```
impl fmt::Display for SendOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "t={} #{} {}->{} {}B ",
            self.sent_us, self.id, self.from, self.to, self.len
        )?;
        for (i, fate) in self.fates().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(fate.name())?;
        }
        if let Some(at) = self.arrival_us {
            write!(f, " at={at}")?;
        }
        if let Some(at) = self.duplicate_arrival_us {
            write!(f, " dup_at={at}")?;
        }
        Ok(())
    }
}

/// A packet reaching its destination, from
/// [`Network::poll_arrival`](crate::Network::poll_arrival).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// The packet's number ([`SendOutcome::id`]).
    pub id: u64,
    /// When it arrives, in µs.
    pub at_us: u64,
    /// When it was sent, in µs.
    pub sent_us: u64,
    /// The sending host.
    pub from: HostId,
    /// The receiving host.
    pub to: HostId,
    /// The bytes, corrupted or not.
    pub packet: Vec<u8>,
    /// Whether bits were flipped (both copies of a duplicated packet carry the
    /// same bytes).
    pub corrupted: bool,
    /// Whether this is the second, duplicated copy.
    pub duplicate: bool,
    /// Whether the packet was held back by the reorder delay.
    pub reordered: bool,
}

/// Counters over all packets sent through a network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Packets sent.
    pub sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Packets whose fate is [`Fate::Delivered`].
    pub delivered: u64,
    /// Packets [`Fate::Lost`].
    pub lost: u64,
    /// Packets [`Fate::TailDropped`].
    pub tail_dropped: u64,
    /// Packets [`Fate::TooBig`].
    pub too_big: u64,
    /// Packets [`Fate::Partitioned`].
    pub partitioned: u64,
    /// Delivered packets that were also duplicated.
    pub duplicated: u64,
    /// Delivered packets that were also reordered.
    pub reordered: u64,
    /// Delivered packets that were also corrupted.
    pub corrupted: u64,
    /// Arrivals handed out by `poll_arrival` (duplicates count twice).
    pub arrivals: u64,
}

impl NetStats {
    pub(crate) fn record(&mut self, out: &SendOutcome) {
        self.sent += 1;
        self.bytes_sent = self.bytes_sent.saturating_add(out.len as u64);
        let counter = match out.fate {
            Fate::Lost => &mut self.lost,
            Fate::TailDropped => &mut self.tail_dropped,
            Fate::TooBig => &mut self.too_big,
            Fate::Partitioned => &mut self.partitioned,
            Fate::Delivered | Fate::Duplicated | Fate::Reordered | Fate::Corrupted => {
                &mut self.delivered
            }
        };
        *counter += 1;
        self.duplicated += u64::from(out.duplicated);
        self.reordered += u64::from(out.reordered);
        self.corrupted += u64::from(out.is_corrupted());
    }

    /// Packets dropped for any reason.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.lost + self.tail_dropped + self.too_big + self.partitioned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for fate in Fate::ALL {
            assert_eq!(Fate::from_name(fate.name()), Some(fate));
            assert_eq!(fate.to_string(), fate.name());
        }
        let mut names: Vec<_> = Fate::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Fate::ALL.len());
        assert_eq!(Fate::from_name("nope"), None);
        assert_eq!(Fate::TailDropped.name(), "tail_dropped");
    }

    #[test]
    fn fates_lists_modifiers_and_display_joins_them() {
        let out = SendOutcome {
            id: 3,
            sent_us: 10,
            from: HostId(1),
            to: HostId(2),
            len: 60,
            fate: Fate::Delivered,
            duplicated: true,
            reordered: false,
            corrupted_bits: 2,
            arrival_us: Some(20),
            duplicate_arrival_us: Some(120),
        };
        let fates: Vec<_> = out.fates().collect();
        assert_eq!(fates, [Fate::Delivered, Fate::Duplicated, Fate::Corrupted]);
        assert_eq!(
            out.to_string(),
            "t=10 #3 h1->h2 60B delivered+duplicated+corrupted at=20 dup_at=120"
        );
        let lost = SendOutcome {
            fate: Fate::Lost,
            duplicated: false,
            corrupted_bits: 0,
            arrival_us: None,
            duplicate_arrival_us: None,
            ..out
        };
        assert_eq!(lost.to_string(), "t=10 #3 h1->h2 60B lost");
        assert!(Fate::Lost.is_drop() && !Fate::Corrupted.is_drop());
    }
}
