//! Per-connection settings, with RFC defaults

use core::time::Duration;

/// Keep-alive settings (RFC 9293 §3.8.4)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KeepAlive {
    /// Idle time before the first probe (MUST-28: at least two hours by default)
    pub idle: Duration,
    /// Time between unanswered probes
    pub interval: Duration,
    /// Unanswered probes after which the connection is declared dead (MUST-29: never one)
    pub probes: u8,
}

impl Default for KeepAlive {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(2 * 3600),
            interval: Duration::from_secs(75),
            probes: 9,
        }
    }
}

/// Settings of one connection
///
/// The defaults follow the RFCs: MSS 1460 for a 1500-byte IPv4 path, RTO from 1 s (RFC 6298),
/// MSL 30 s, delayed ACK 40 ms, Nagle on, keep-alive off (MUST-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnConfig {
    /// The MSS we advertise: the largest segment payload we accept (MUST-67)
    pub mss: u16,
    /// RTO before any RTT sample (RFC 6298 §2.1: 1 s)
    pub initial_rto: Duration,
    /// Lower bound of the RTO (RFC 6298 §2.4: 1 s)
    pub min_rto: Duration,
    /// Upper bound of the RTO (RFC 6298 §2.5: at least 60 s)
    pub max_rto: Duration,
    /// SYN retransmissions before `connect` fails (MUST-23: R2 at least 3 minutes)
    pub syn_retries: u8,
    /// SYN-ACK retransmissions before a half-open connection is dropped
    pub synack_retries: u8,
    /// Retransmissions of data or FIN before the connection times out (R2, SHLD-11)
    pub max_retries: u8,
    /// Maximum segment lifetime: TIME-WAIT lasts twice this
    pub msl: Duration,
    /// How long an orphaned connection may sit in FIN-WAIT-2
    pub fin_wait_2_timeout: Duration,
    /// Delay before a lone ACK is sent (MUST-40: under 500 ms); `None` acks at once
    pub delayed_ack: Option<Duration>,
    /// Nagle's algorithm (SHLD-7)
    pub nagle: bool,
    /// Keep-alive probing; off by default (MUST-25)
    pub keep_alive: Option<KeepAlive>,
    /// Offer window scaling (RFC 7323 §2); the shift is chosen from the receive buffer size
    pub window_scaling: bool,
    /// Offer timestamps (RFC 7323 §3)
    pub timestamps: bool,
    /// Offer SACK (RFC 2018)
    pub sack: bool,
    /// Initial congestion window in segments (RFC 6928: 10)
    pub initial_window: u16,
    /// Out-of-order ranges held for reassembly (1 to 8)
    pub reassembly_ranges: u8,
    /// Challenge ACKs allowed per second per connection (RFC 5961 §7)
    pub challenge_ack_limit: u16,
    /// Congestion control algorithm: NewReno (the default), CUBIC or BBR
    pub congestion: super::Algorithm,
    /// Ignore RSTs in TIME-WAIT (RFC 1337 assassination guard); off is RFC 9293 behaviour
    pub time_wait_rst_guard: bool,
    /// Retransmissions of one segment after which delivery trouble is reported (R1,
    /// SHLD-10: at least 3)
    pub r1_retries: u8,
    /// Report ICMP soft errors as events (SHLD-20 lets the application turn this off)
    pub report_soft_errors: bool,
    /// Option layout of SYN and SYN-ACK (Linux order, or BSD order with EOL padding)
    pub option_layout: crate::wire::OptionLayout,
    /// The window shift to offer; `None` derives it from the receive buffer
    pub window_shift: Option<u8>,
    /// Judge sequence acceptability against the free buffer space when it exceeds the
    /// advertised window (FreeBSD's `rcv_wnd = max(sbspace, rcv_adv - rcv_nxt)`)
    pub rcv_wnd_from_buffer: bool,
    /// Added to every RTO computed from samples or backed off (FreeBSD `rexmit_slop`)
    pub rto_slop: Duration,
    /// Send tail-loss probes (RFC 8985 §7) when SACK is on; FreeBSD's default stack has none
    pub tail_loss_probe: bool,
    /// Give up a connection attempt (SYN-SENT) after this long (FreeBSD `keepinit`)
    pub connect_timeout: Option<Duration>,
    /// While our FIN is unacknowledged, every ACK we send repeats it (FreeBSD)
    pub fin_on_acks: bool,
    /// The first data segments of a connection are ACKed at once (Linux quick-ack)
    pub quick_acks: u8,
    /// Process the ACK field of a segment wholly below RCV.NXT (BSD and Linux) instead of
    /// dropping it with the rest of the segment (RFC 9293 text)
    pub ack_old_duplicates: bool,
}

impl Default for ConnConfig {
    fn default() -> Self {
        Self {
            mss: 1460,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            syn_retries: 7,
            synack_retries: 5,
            max_retries: 15,
            msl: Duration::from_secs(30),
            fin_wait_2_timeout: Duration::from_secs(60),
            delayed_ack: Some(Duration::from_millis(40)),
            nagle: true,
            keep_alive: None,
            window_scaling: true,
            timestamps: true,
            sack: true,
            initial_window: 10,
            reassembly_ranges: 4,
            challenge_ack_limit: 10,
            congestion: super::Algorithm::NewReno,
            time_wait_rst_guard: true,
            r1_retries: 3,
            report_soft_errors: true,
            option_layout: crate::wire::OptionLayout::Linux,
            window_shift: None,
            rcv_wnd_from_buffer: false,
            rto_slop: Duration::ZERO,
            tail_loss_probe: true,
            connect_timeout: None,
            fin_on_acks: false,
            quick_acks: 0,
            ack_old_duplicates: false,
        }
    }
}
