//! The figures `tcp-sim attack` prints.

use std::io::{self, Write};
use std::time::Duration;

use tcp_engine::engine::EngineConfig;

use super::{Blind, BlindReport, SlowReport, SynFlood, SynFloodReport};
use crate::sim::reason_name;

/// Bytes of the response the server sends a slow peer (it fits the send buffer, so the
/// application closes at once and the connection is orphaned).
pub(crate) const RESPONSE: usize = 32 * 1024;

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn secs(us: u64) -> String {
    format!("{:.1} s", us as f64 / 1e6)
}

pub(crate) fn syn_flood(
    out: &mut impl Write,
    cfg: &SynFlood,
    r: &SynFloodReport,
    took: Duration,
) -> io::Result<()> {
    let on = if cfg.cookies { "on" } else { "off" };
    writeln!(
        out,
        "synflood, SYN cookies {on}: {} spoofed SYNs over {} ({} /s) from 198.18.0.0/15, \
         {} clients connecting every {} ms each",
        r.spoofed,
        secs(r.flood_us),
        cfg.rate,
        cfg.clients,
        cfg.interval_us / 1000
    )?;
    writeln!(
        out,
        "  legitimate connections  {} of {} succeeded ({:.1}%), mean connect time {:.1} ms",
        r.succeeded,
        r.attempts,
        r.success_share() * 100.0,
        r.mean_connect_us as f64 / 1000.0
    )?;
    writeln!(
        out,
        "  memory high-water mark  {} connections (SYN queue included, backlog {}) + {} \
         TIME-WAIT entries = {} (bound: {} of storage)",
        r.connections_hwm,
        EngineConfig::default().syn_backlog,
        r.time_wait_hwm,
        kib(r.memory_hwm),
        kib(r.memory_bound)
    )?;
    writeln!(
        out,
        "                          ({} B per connection: slot {} B + buffers; {} B per \
         TIME-WAIT entry)",
        r.connection_bytes,
        r.connection_bytes - EngineConfig::default().rx_buffer - EngineConfig::default().tx_buffer,
        r.time_wait_bytes
    )?;
    writeln!(
        out,
        "  server                  {} cookies sent, {} accepted; {} SYNs dropped (queue full)",
        r.cookies_sent, r.cookies_accepted, r.syns_dropped
    )?;
    writeln!(out, "  ran in {:.1} s", took.as_secs_f64())?;
    writeln!(out)
}

pub(crate) fn blind(
    out: &mut impl Write,
    cfg: &Blind,
    r: &BlindReport,
    took: Duration,
) -> io::Result<()> {
    writeln!(
        out,
        "blind: {} segments ({} RST, {} SYN, {} data; random sequence and ACK numbers) against \
         {} established connections over {}",
        r.rst + r.syn + r.data,
        r.rst,
        r.syn,
        r.data,
        r.connections,
        secs((r.rst + r.syn + r.data) * 1_000_000 / cfg.rate.max(1))
    )?;
    writeln!(
        out,
        "  connections died        {} (RFC 5961 odds: {:.2e} expected, one exact RST in 2^32)",
        r.died, r.expected_deaths
    )?;
    writeln!(
        out,
        "  challenge ACKs          {} sent, {} over the rate limit (10/s per connection)",
        r.challenge_acks, r.challenges_limited
    )?;
    writeln!(
        out,
        "  other answers           {} ACKs to out-of-window, bad-ACK or PAWS segments",
        r.other_acks
    )?;
    writeln!(
        out,
        "  drops                   {} out of window, {} challenged, {} bad ACK, {} PAWS, {} \
         ignored; {} accepted",
        r.dropped[0], r.dropped[1], r.dropped[2], r.dropped[3], r.dropped[4], r.accepted
    )?;
    writeln!(
        out,
        "  after the attack        {} of {} connections carried 10 kB each way intact and closed",
        r.intact_after, r.connections
    )?;
    writeln!(out, "  ran in {:.1} s", took.as_secs_f64())?;
    writeln!(out)
}

pub(crate) fn slow_header(out: &mut impl Write) -> io::Result<()> {
    let c = EngineConfig::default().conn;
    writeln!(
        out,
        "slow peers: the server answers a request with {} and closes; default settings \
         (SYN-ACK retries {}, retries {}, RTO {:?}..{:?}, FIN-WAIT-2 timeout {:?})",
        kib(RESPONSE),
        c.synack_retries,
        c.max_retries,
        c.min_rto,
        c.max_rto,
        c.fin_wait_2_timeout
    )
}

pub(crate) fn slow(out: &mut impl Write, r: &SlowReport) -> io::Result<()> {
    let verdict = match r.released_at_us {
        Some(t) => format!(
            "released after {} ({})",
            secs(t),
            r.close_reason.map_or("no reason", reason_name)
        ),
        None => format!("still held after {}", secs(r.horizon_us)),
    };
    writeln!(
        out,
        "  {:<34} {verdict}; {} bytes delivered, {} segments sent to the peer, {} answered",
        r.peer.name(),
        r.delivered,
        r.server_segments,
        r.answered
    )
}
