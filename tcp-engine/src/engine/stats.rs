//! Engine-wide counters and what happened to each arriving segment

use super::ConnHandle;

/// Why an arriving segment was dropped
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DropReason {
    /// Shorter than a TCP header
    Truncated,
    /// Data offset outside the segment
    BadDataOffset,
    /// Malformed options
    BadOptions,
    /// Checksum did not verify
    BadChecksum,
    /// Broadcast, multicast or unspecified address, or port zero (MUST-57, MUST-63)
    BadAddress,
    /// A SYN to a listener whose SYN queue or accept queue is full
    ListenQueueFull,
    /// No free connection slot
    TableFull,
    /// Not acceptable in the receive window (an ACK may have been sent)
    OutOfWindow,
    /// Acknowledges unsent or too-old data (RFC 5961 §5)
    BadAck,
    /// Failed PAWS (RFC 7323 §5)
    Paws,
    /// A suspicious RST or SYN answered with a challenge ACK (RFC 5961)
    Challenged,
    /// Meaningless in the connection's state (e.g. no ACK flag), or a RST matching nothing
    Ignored,
}

impl DropReason {
    /// Every reason, in counter order
    pub const ALL: [Self; 12] = [
        Self::Truncated,
        Self::BadDataOffset,
        Self::BadOptions,
        Self::BadChecksum,
        Self::BadAddress,
        Self::ListenQueueFull,
        Self::TableFull,
        Self::OutOfWindow,
        Self::BadAck,
        Self::Paws,
        Self::Challenged,
        Self::Ignored,
    ];

    /// A short name for reports
    pub const fn name(self) -> &'static str {
        match self {
            Self::Truncated => "truncated",
            Self::BadDataOffset => "bad_data_offset",
            Self::BadOptions => "bad_options",
            Self::BadChecksum => "bad_checksum",
            Self::BadAddress => "bad_address",
            Self::ListenQueueFull => "listen_queue_full",
            Self::TableFull => "table_full",
            Self::OutOfWindow => "out_of_window",
            Self::BadAck => "bad_ack",
            Self::Paws => "paws",
            Self::Challenged => "challenged",
            Self::Ignored => "ignored",
        }
    }
}

/// What `handle_segment` did with a segment
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Disposition {
    /// Delivered to a connection
    Accepted(ConnHandle),
    /// A SYN that opened a new half-open connection on a listener
    Opened(ConnHandle),
    /// Matched a TIME-WAIT entry (and was answered if needed)
    TimeWait,
    /// Answered with a RST (nothing matched, or RFC 9293 said so)
    Reset,
    /// A SYN to a full SYN queue, answered with a SYN cookie (RFC 4987)
    SynCookie,
    /// Dropped, and counted under this reason
    Dropped(DropReason),
}

/// Engine-wide counters
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EngineStats {
    /// Segments handed to `handle_segment`
    pub segments_in: u64,
    /// Segments written by `poll_transmit`
    pub segments_out: u64,
    /// RSTs sent
    pub resets_sent: u64,
    /// Connections opened (active and passive)
    pub connections_opened: u64,
    /// SYN-ACKs sent with a SYN cookie
    pub syn_cookies_sent: u64,
    /// Connections opened by a returning SYN cookie
    pub syn_cookies_accepted: u64,
    /// TIME-WAIT entries evicted early because the table was full
    pub time_wait_evicted: u64,
    /// Events lost because the event queue was full
    pub events_dropped: u64,
    /// Replies (RST, TIME-WAIT ACKs) lost because the control queue was full
    pub replies_dropped: u64,
    /// Dropped segments by reason, indexed as [`DropReason::ALL`]
    pub dropped: [u64; 12],
}

impl EngineStats {
    /// Segments dropped for `reason`
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize]
    }

    /// All dropped segments
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        let c = &mut self.dropped[reason as usize];
        *c = c.wrapping_add(1);
    }
}
