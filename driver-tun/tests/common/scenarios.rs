//! The two halves of the transfer tests: the engine as echo server or echo client, the kernel
//! as the other side, each on a thread inside the test's namespace

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use driver_tun::{Stack, StackConfig, StackStats};

use super::{Netns, Pattern, Summary};

/// How long any single test transfer may take before the test fails
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(300);

/// An engine echo server on `port`, serving `connections` connections one after another;
/// returns once the stack is up (addresses configured) and listening
pub fn engine_echo_server(
    ns: &Netns,
    config: StackConfig,
    port: u16,
    connections: usize,
) -> JoinHandle<io::Result<StackStats>> {
    let (tx, rx) = mpsc::channel();
    let h = ns.spawn(move || {
        let stack = Stack::new(config)?;
        let listener = stack.listen(port)?;
        tx.send(()).unwrap();
        for _ in 0..connections {
            let (mut s, _) = listener.accept()?;
            s.set_read_timeout(Some(TRANSFER_TIMEOUT));
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n])?;
            }
        }
        stack.linger(Duration::from_secs(5))?;
        Ok(stack.stats())
    });
    if rx.recv_timeout(Duration::from_secs(30)).is_err() {
        let r = h.join();
        panic!("engine server did not start: {r:?}");
    }
    h
}

/// A kernel client that sends `len` bytes of pattern `seed` to an echo server and reads
/// the echo back at the same time: (what it sent, what it received)
pub fn kernel_echo_client(
    addr: SocketAddr,
    seed: u64,
    len: usize,
) -> io::Result<(Summary, Summary)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    s.set_read_timeout(Some(TRANSFER_TIMEOUT))?;
    let mut w = s.try_clone()?;
    let writer = std::thread::spawn(move || -> io::Result<Summary> {
        let sum = Pattern::write_all_to(seed, len, &mut w)?;
        w.shutdown(Shutdown::Write)?;
        Ok(sum)
    });
    let received = Summary::read_all(&mut s)?;
    let sent = writer.join().expect("writer thread")?;
    Ok((sent, received))
}

/// A kernel echo server on `[::]:port` (IPv4 and IPv6), for `connections` connections;
/// listening when this returns
pub fn kernel_echo_server(ns: &Netns, port: u16, connections: usize) -> JoinHandle<io::Result<()>> {
    let (tx, rx) = mpsc::channel();
    let h = ns.spawn(move || {
        let l = TcpListener::bind(("::", port))?;
        tx.send(()).unwrap();
        for _ in 0..connections {
            let (mut s, _) = l.accept()?;
            s.set_read_timeout(Some(TRANSFER_TIMEOUT))?;
            let mut w = s.try_clone()?;
            io::copy(&mut s, &mut w)?;
            w.shutdown(Shutdown::Write)?;
        }
        Ok(())
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("kernel server up");
    h
}

/// The engine as an echo client in non-blocking mode: writes `len` bytes of pattern `seed`
/// while reading the echo, half-closes, reads to the end
pub fn engine_echo_client(
    stack: &Stack,
    addr: SocketAddr,
    seed: u64,
    len: usize,
) -> io::Result<(Summary, Summary)> {
    let mut s = stack.connect_timeout(addr, Duration::from_secs(10))?;
    s.set_nonblocking(true);
    let mut pattern = Pattern::new(seed, len);
    let (mut sent, mut received) = (Summary::start(), Summary::start());
    let mut buf = vec![0u8; 64 * 1024];
    let mut shut = false;
    let start = std::time::Instant::now();
    loop {
        let mut progress = false;
        if !pattern.done() {
            let chunk = pattern.peek();
            match s.write(chunk) {
                Ok(n) => {
                    sent.add(&chunk[..n]);
                    pattern.consume(n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        } else if !shut {
            s.shutdown(Shutdown::Write)?;
            shut = true;
        }
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                received.add(&buf[..n]);
                progress = true;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if !progress {
            if start.elapsed() > TRANSFER_TIMEOUT {
                return Err(io::ErrorKind::TimedOut.into());
            }
            stack.poll(Some(Duration::from_millis(100)))?;
        }
    }
    Ok((sent.finish(), received.finish()))
}

/// Run the engine echo client on a thread inside `ns` with a fresh stack
pub fn engine_client_thread(
    ns: &Netns,
    config: StackConfig,
    addr: SocketAddr,
    seed: u64,
    len: usize,
) -> JoinHandle<io::Result<((Summary, Summary), StackStats)>> {
    ns.spawn(move || {
        let stack = Stack::new(config)?;
        let r = engine_echo_client(&stack, addr, seed, len)?;
        stack.linger(Duration::from_secs(5))?;
        Ok((r, stack.stats()))
    })
}
