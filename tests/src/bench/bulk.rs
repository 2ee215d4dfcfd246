//! One-way transfers: `bulk` (64 MiB, best of 3) and `idle` (8 MiB beside N idle
//! established connections); [`transfer`] is also the body of `lossy`

use std::time::Duration;

use super::link::{Link, LinkParams, Side};
use super::net::{Net, Recovery, RunError, Turn, World};
use super::ours::{Ours, OursConfig};
use super::pattern::{Checker, Pattern, MAX_CHUNK};
use super::smol::Smol;
use super::{secs, Figure, Stacks, Stopwatch, MIB};

/// What one transfer took
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// The sender's loss-recovery counters, where the stack keeps them
    pub recovery: Option<Recovery>,
    /// CPU time from `connect` to the last byte checked
    pub cpu: Duration,
    /// Virtual time from `connect` to the last byte checked, microseconds
    pub virtual_us: u64,
}

/// Open a connection, send `bytes` client → server, check every byte; the connection is
/// closed afterwards (not timed)
pub fn transfer<N: Net>(
    net: &mut N,
    world: &mut World,
    pattern: &Pattern,
    bytes: u64,
) -> Result<Transfer, RunError> {
    let (t0, v0) = (Stopwatch::start(), world.now);
    let c = net.connect(world.now);
    let mut server = None;
    let (mut sent, mut check, mut eof) = (0u64, Checker::default(), false);
    world.run(net, |net, _| {
        let mut busy = false;
        if server.is_none() {
            server = net.accept();
        }
        while sent < bytes {
            let want = (bytes - sent).min(MAX_CHUNK as u64) as usize;
            let n = net.send(Side::Client, c, pattern.slice(sent, want));
            if n == 0 {
                break;
            }
            sent += n as u64;
            busy = true;
        }
        if let Some(s) = server {
            loop {
                match net.recv(Side::Server, s, &mut |d| check.check(pattern, d)) {
                    super::net::Recv::Data(_) => busy = true,
                    super::net::Recv::Empty => break,
                    super::net::Recv::Eof => {
                        eof = true;
                        break;
                    }
                }
            }
        }
        if check.offset >= bytes || eof {
            Turn::Done
        } else if busy {
            Turn::Busy
        } else {
            Turn::Idle
        }
    })?;
    let done = Transfer {
        recovery: net.recovery(Side::Client, c),
        cpu: t0.elapsed(),
        virtual_us: world.now - v0,
    };
    if check.mismatches != 0 || check.offset != bytes {
        return Err(RunError::Corrupt(format!(
            "{}: {} of {bytes} bytes, {} wrong",
            net.name(),
            check.offset,
            check.mismatches
        )));
    }
    if let Some(s) = server {
        close_both(net, world, c, s)?;
    }
    Ok(done)
}

/// Close both ends (client first) and wait until both are finished
pub fn close_both<N: Net>(
    net: &mut N,
    world: &mut World,
    c: N::Conn,
    s: N::Conn,
) -> Result<(), RunError> {
    net.close(Side::Client, c);
    let mut server_closed = false;
    world.run(net, |net, _| {
        if !server_closed && net.recv(Side::Server, s, &mut |_| {}) == super::net::Recv::Eof {
            net.close(Side::Server, s);
            server_closed = true;
            return Turn::Busy;
        }
        if server_closed && net.is_finished(Side::Client, c) && net.is_finished(Side::Server, s) {
            Turn::Done
        } else {
            Turn::Idle
        }
    })?;
    net.release(Side::Client, c);
    net.release(Side::Server, s);
    Ok(())
}

/// Open `n` connections and leave them established and idle (in batches of 64)
pub fn open_idle<N: Net>(net: &mut N, world: &mut World, n: usize) -> Result<(), RunError> {
    let mut open = 0;
    while open < n {
        let batch = (n - open).min(64);
        net.reserve(batch);
        let clients: Vec<N::Conn> = (0..batch).map(|_| net.connect(world.now)).collect();
        let mut accepted = 0;
        world.run(net, |net, _| {
            let mut busy = false;
            while net.accept().is_some() {
                accepted += 1;
                busy = true;
            }
            let up = clients.iter().all(|&c| net.is_established(Side::Client, c));
            if accepted == batch && up {
                Turn::Done
            } else if busy {
                Turn::Busy
            } else {
                Turn::Idle
            }
        })?;
        open += batch;
        if open % 2048 == 0 || open == n {
            eprintln!("  {}: {open}/{n} idle connections open", net.name());
        }
    }
    Ok(())
}

fn mib_per_s(bytes: u64, t: &Transfer) -> f64 {
    bytes as f64 / MIB as f64 / secs(t.cpu)
}

/// Best MiB/s of `runs` transfers of `bytes`, each on a new connection between the same
/// two hosts, after opening `idle` idle connections
pub fn throughput<N: Net>(
    mut make: impl FnMut(&mut Link, usize) -> N,
    bytes: u64,
    runs: usize,
    idle: usize,
) -> Result<f64, RunError> {
    let pattern = Pattern::new();
    let mut world = World::new(Link::new(LinkParams::IDEAL), 3600);
    let mut net = make(&mut world.link, idle);
    net.listen(64);
    open_idle(&mut net, &mut world, idle)?;
    let mut best = 0.0f64;
    for run in 0..runs.max(1) {
        let t = transfer(&mut net, &mut world, &pattern, bytes)?;
        let r = mib_per_s(bytes, &t);
        eprintln!(
            "  {} {} MiB, {idle} idle, run {}/{}: {r:.1} MiB/s ({:.3} s virtual, {} packets)",
            net.name(),
            bytes / MIB,
            run + 1,
            runs,
            t.virtual_us as f64 / 1e6,
            world.link.sent()
        );
        best = best.max(r);
    }
    Ok(best)
}

fn ours_net(_: &mut Link, idle: usize) -> Ours {
    Ours::new(OursConfig {
        connections: idle + 80,
        time_wait: 64,
        ..OursConfig::default()
    })
}

fn smol_net(link: &mut Link, _: usize) -> Smol {
    Smol::new(link, smoltcp::socket::tcp::CongestionControl::None)
}

/// The application's work alone: slice and check `bytes` as the transfers do
pub fn baseline(bytes: u64) -> f64 {
    let pattern = Pattern::new();
    let mut check = Checker::default();
    let t0 = Stopwatch::start();
    while check.offset < bytes {
        let n = (bytes - check.offset).min(1448) as usize;
        let chunk = std::hint::black_box(pattern.slice(check.offset, n));
        check.check(&pattern, chunk);
    }
    assert_eq!(check.mismatches, 0);
    bytes as f64 / MIB as f64 / secs(t0.elapsed())
}

/// The `bulk` figure: MiB/s, best of `runs`
pub fn bulk(stacks: Stacks, bytes: u64, runs: usize) -> Result<Vec<Figure>, RunError> {
    if stacks == Stacks::Baseline {
        let r = baseline(bytes);
        return Ok(vec![Figure::new("bulk", "MiB/s", None, None, true)
            .with_note(format!("baseline (check only): {r:.0} MiB/s"))]);
    }
    // The stacks take turns, one transfer between fresh hosts each, so that a change of
    // clock speed during the benchmark falls on both alike.
    let (mut ours, mut smol) = (None, None);
    for _ in 0..runs.max(1) {
        if stacks.ours() {
            ours = Some(throughput(ours_net, bytes, 1, 0)?.max(ours.unwrap_or(0.0)));
        }
        if stacks.smoltcp() {
            smol = Some(throughput(smol_net, bytes, 1, 0)?.max(smol.unwrap_or(0.0)));
        }
    }
    Ok(vec![Figure::new("bulk", "MiB/s", ours, smol, true)
        .with_note(format!(
            "{} MiB, best of {runs}, the stacks taking turns",
            bytes / MIB
        ))])
}

/// The `idle` figures: MiB/s of transfers of `bytes` (8 MiB in the issue; best of `runs`)
/// beside each count of idle connections
pub fn idle(
    stacks: Stacks,
    counts: &[usize],
    bytes: u64,
    runs: usize,
) -> Result<Vec<Figure>, RunError> {
    let mut out = Vec::new();
    for &n in counts {
        let ours = stacks
            .ours()
            .then(|| throughput(ours_net, bytes, runs, n))
            .transpose()?;
        let smol = stacks
            .smoltcp()
            .then(|| throughput(smol_net, bytes, runs, n))
            .transpose()?;
        out.push(Figure::new("idle", format!("MiB/s@{n}"), ours, smol, true));
    }
    Ok(out)
}
