//! `churn`: sequential short connections — connect, 100 bytes each way, both close
//!
//! The client closes first once it has the reply, so it ends in TIME-WAIT: our engine keeps
//! a compact TIME-WAIT entry for every connection (2·MSL outlasts the run); smoltcp's
//! socket in TIME-WAIT is reused by the next `connect`, as its examples do.

use super::link::{Link, LinkParams, Side};
use super::net::{Net, Recv, RunError, Turn, World};
use super::ours::{Ours, OursConfig};
use super::pattern::{Checker, Pattern};
use super::smol::Smol;
use super::{secs, Figure, Stacks, Stopwatch};

/// Bytes each way per connection
pub const EXCHANGE: usize = 100;

/// Progress of one side of an exchange
#[derive(Debug, Default)]
struct End {
    check: Checker,
    sent: bool,
    eof: bool,
    closed: bool,
}

fn read<N: Net>(net: &mut N, side: Side, c: N::Conn, end: &mut End, pattern: &Pattern) -> bool {
    let mut busy = false;
    while !end.eof {
        match net.recv(side, c, &mut |d| end.check.check(pattern, d)) {
            Recv::Data(_) => busy = true,
            Recv::Empty => break,
            Recv::Eof => end.eof = true,
        }
    }
    busy
}

/// One connection: connect, 100 bytes each way, the client closes, then the server
pub fn exchange<N: Net>(net: &mut N, world: &mut World, pattern: &Pattern) -> Result<(), RunError> {
    let c = net.connect(world.now);
    let mut s = None;
    let (mut client, mut server) = (End::default(), End::default());
    let msg = pattern.slice(0, EXCHANGE);
    world.run(net, |net, _| {
        let mut busy = false;
        if s.is_none() {
            s = net.accept();
            busy |= s.is_some();
        }
        if !client.sent && net.is_established(Side::Client, c) {
            assert_eq!(net.send(Side::Client, c, msg), EXCHANGE);
            client.sent = true;
            busy = true;
        }
        if let Some(s) = s {
            if !server.closed {
                busy |= read(net, Side::Server, s, &mut server, pattern);
                if !server.sent && server.check.offset == EXCHANGE as u64 {
                    assert_eq!(net.send(Side::Server, s, msg), EXCHANGE);
                    server.sent = true;
                    busy = true;
                }
                if server.eof && server.sent {
                    net.close(Side::Server, s);
                    server.closed = true;
                    busy = true;
                }
            }
        }
        if !client.closed {
            busy |= read(net, Side::Client, c, &mut client, pattern);
            if client.check.offset == EXCHANGE as u64 {
                net.close(Side::Client, c);
                client.closed = true;
                busy = true;
            }
        }
        let finished =
            |net: &N, s| net.is_finished(Side::Client, c) && net.is_finished(Side::Server, s);
        match s {
            Some(s) if server.closed && client.closed && finished(net, s) => Turn::Done,
            _ if busy => Turn::Busy,
            _ => Turn::Idle,
        }
    })?;
    if client.check.mismatches + server.check.mismatches != 0 || client.check.offset != 100 {
        return Err(RunError::Corrupt(format!("{}: churn reply", net.name())));
    }
    net.release(Side::Client, c);
    if let Some(s) = s {
        net.release(Side::Server, s);
    }
    Ok(())
}

/// Connections per second over `n` sequential exchanges between two fresh hosts
pub fn rate<N: Net>(mut net: N, world: &mut World, n: usize) -> Result<f64, RunError> {
    let pattern = Pattern::new();
    net.listen(1);
    let t0 = Stopwatch::start();
    for i in 0..n {
        exchange(&mut net, world, &pattern)?;
        if (i + 1) % 1000 == 0 {
            eprintln!("  {}: {}/{n} connections", net.name(), i + 1);
        }
    }
    let r = n as f64 / secs(t0.elapsed());
    eprintln!(
        "  {}: {n} connections, {r:.0} conn/s ({:.3} s virtual, {} packets)",
        net.name(),
        world.now as f64 / 1e6,
        world.link.sent()
    );
    Ok(r)
}

fn world() -> World {
    World::new(Link::new(LinkParams::IDEAL), 3600)
}

/// Our engine's connections per second (every TIME-WAIT entry kept)
pub fn ours_rate(n: usize) -> Result<f64, RunError> {
    let net = Ours::new(OursConfig {
        connections: 4,
        time_wait: n + 16,
        ..OursConfig::default()
    });
    rate(net, &mut world(), n)
}

/// smoltcp's connections per second
pub fn smol_rate(n: usize) -> Result<f64, RunError> {
    let mut w = world();
    let net = Smol::new(&mut w.link, smoltcp::socket::tcp::CongestionControl::None);
    rate(net, &mut w, n)
}

/// The `churn` figure: connections per second, best of `runs`
///
/// The stacks take turns, one run each, so that a change of clock speed during the
/// benchmark (common on shared machines) falls on both alike.
pub fn churn(stacks: Stacks, n: usize, runs: usize) -> Result<Vec<Figure>, RunError> {
    let (mut ours, mut smol) = (None, None);
    for _ in 0..runs.max(1) {
        if stacks.ours() {
            ours = Some(ours_rate(n)?.max(ours.unwrap_or(0.0)));
        }
        if stacks.smoltcp() {
            smol = Some(smol_rate(n)?.max(smol.unwrap_or(0.0)));
        }
    }
    Ok(vec![Figure::new("churn", "conn/s", ours, smol, true)
        .with_note(format!(
            "{n} sequential connections, best of {runs}, the stacks taking turns"
        ))])
}
