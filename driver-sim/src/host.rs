//! Host identifiers.

use core::fmt;

/// Identifies one simulated host.
///
/// Hosts are plain numbers: the network does not need them to be registered
/// before use, and any number of them may exchange packets. What a host *is*
/// (an engine, a scripted peer, a sink) is up to the harness.
///
/// ```
/// use driver_sim::HostId;
/// let a = HostId(0);
/// let b = HostId::from(1);
/// assert!(a < b);
/// assert_eq!(b.to_string(), "h1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HostId(pub u32);

impl HostId {
    /// The host numbered `n`.
    #[must_use]
    pub const fn new(n: u32) -> Self {
        Self(n)
    }

    /// The host's number.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl From<u32> for HostId {
    fn from(n: u32) -> Self {
        Self(n)
    }
}

impl From<HostId> for u32 {
    fn from(h: HostId) -> Self {
        h.0
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h{}", self.0)
    }
}
