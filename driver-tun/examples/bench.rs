//! Throughput over the TUN device next to the kernel's own, in one run
//!
//! ```text
//! sudo cargo run --release -p driver-tun --example bench [-- MIB]
//! ```
//!
//! Three bulk transfers of MIB MiB (default 256), each in network namespaces the benchmark
//! creates and removes:
//!
//! 1. kernel client -> engine discard server over the TUN device;
//! 2. engine client -> kernel discard server over the TUN device;
//! 3. kernel client -> kernel discard server over a veth pair (two namespaces).
//!
//! Each is timed from connect to the end of the stream (the sender half-closes, the receiver
//! closes once it has read everything), so the figure includes the whole data path.

#[path = "../tests/common/mod.rs"]
#[allow(missing_docs)]
mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Netns;
use driver_tun::{Stack, StackConfig};

const CHUNK: usize = 256 * 1024;

/// Send `len` bytes
fn send_all(w: &mut impl Write, len: usize) -> io::Result<()> {
    let chunk = vec![0x5a_u8; CHUNK];
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK);
        w.write_all(&chunk[..n])?;
        left -= n;
    }
    Ok(())
}

/// Read to the end and count
fn discard(r: &mut impl Read) -> io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

fn kernel_to_engine(len: usize) -> io::Result<Duration> {
    let ns = Netns::new("bench-k2e");
    let (tx, rx) = mpsc::channel();
    let server = ns.spawn(move || -> io::Result<u64> {
        let stack = Stack::new(StackConfig::default())?;
        let l = stack.listen(9)?;
        tx.send(()).unwrap();
        let (mut s, _) = l.accept()?;
        let n = discard(&mut s)?;
        drop(s);
        stack.linger(Duration::from_secs(2))?;
        Ok(n)
    });
    rx.recv().unwrap();
    let t = ns
        .spawn(move || -> io::Result<Duration> {
            let mut s = TcpStream::connect("10.7.0.2:9")?;
            let mut r = s.try_clone()?;
            let start = Instant::now();
            send_all(&mut s, len)?;
            s.shutdown(Shutdown::Write)?;
            discard(&mut r)?;
            Ok(start.elapsed())
        })
        .join()
        .unwrap()?;
    assert_eq!(server.join().unwrap()?, len as u64);
    Ok(t)
}

fn engine_to_kernel(len: usize) -> io::Result<Duration> {
    let ns = Netns::new("bench-e2k");
    let l = ns
        .spawn(|| TcpListener::bind("0.0.0.0:9"))
        .join()
        .unwrap()?;
    let server = std::thread::spawn(move || -> io::Result<u64> {
        let (mut s, _) = l.accept()?;
        discard(&mut s)
    });
    let t = ns
        .spawn(move || -> io::Result<Duration> {
            let stack = Stack::new(StackConfig::default())?;
            let mut s = stack.connect("10.7.0.1:9".parse().unwrap())?;
            let start = Instant::now();
            send_all(&mut s, len)?;
            s.shutdown(Shutdown::Write)?;
            discard(&mut s)?;
            let t = start.elapsed();
            drop(s);
            stack.linger(Duration::from_secs(2))?;
            Ok(t)
        })
        .join()
        .unwrap()?;
    assert_eq!(server.join().unwrap()?, len as u64);
    Ok(t)
}

fn kernel_to_kernel_veth(len: usize) -> io::Result<Duration> {
    let a = Netns::new("bench-va");
    let b = Netns::new("bench-vb");
    a.run(&[
        "ip",
        "link",
        "add",
        "vb0",
        "type",
        "veth",
        "peer",
        "name",
        "vb1",
        "netns",
        b.name(),
    ]);
    a.run(&["ip", "addr", "add", "10.8.0.1/24", "dev", "vb0"]);
    a.run(&["ip", "link", "set", "vb0", "up"]);
    b.run(&["ip", "addr", "add", "10.8.0.2/24", "dev", "vb1"]);
    b.run(&["ip", "link", "set", "vb1", "up"]);
    let l = b
        .spawn(|| TcpListener::bind("10.8.0.2:9"))
        .join()
        .unwrap()?;
    let server = std::thread::spawn(move || -> io::Result<u64> {
        let (mut s, _) = l.accept()?;
        discard(&mut s)
    });
    let addr: SocketAddr = "10.8.0.2:9".parse().unwrap();
    let t = a
        .spawn(move || -> io::Result<Duration> {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
            let mut r = s.try_clone()?;
            let start = Instant::now();
            send_all(&mut s, len)?;
            s.shutdown(Shutdown::Write)?;
            drop(s);
            discard(&mut r)?;
            Ok(start.elapsed())
        })
        .join()
        .unwrap()?;
    assert_eq!(server.join().unwrap()?, len as u64);
    Ok(t)
}

fn main() -> io::Result<()> {
    if !common::environment_ok("bench", &[]) {
        std::process::exit(1);
    }
    let mib: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("MIB: a number of MiB"))
        .unwrap_or(256);
    let len = mib * 1024 * 1024;
    println!("bulk transfer of {mib} MiB, timed from connect to the end of the stream\n");
    println!(
        "{:<44} {:>9} {:>10} {:>9}",
        "path", "time", "MB/s", "Gbit/s"
    );
    type Run = fn(usize) -> io::Result<Duration>;
    let runs: [(&str, Run); 3] = [
        ("kernel -> engine discard (TUN, IPv4)", kernel_to_engine),
        ("engine -> kernel discard (TUN, IPv4)", engine_to_kernel),
        (
            "kernel -> kernel discard (veth pair)",
            kernel_to_kernel_veth,
        ),
    ];
    for (name, run) in runs {
        let t = run(len)?;
        let mbs = len as f64 / t.as_secs_f64() / 1e6;
        println!(
            "{name:<44} {:>8.2}s {mbs:>10.1} {:>9.2}",
            t.as_secs_f64(),
            mbs * 8.0 / 1000.0
        );
    }
    Ok(())
}
