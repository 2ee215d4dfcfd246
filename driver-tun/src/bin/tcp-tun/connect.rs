//! `tcp-tun connect`: stdin to the connection, the connection to stdout, like nc
//!
//! One thread: the stack's poll also watches stdin. End of stdin half-closes the connection
//! (FIN) and the program goes on printing what arrives until the peer closes too.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use driver_tun::Stack;

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Copy both ways until the peer closes or `stop` is raised
pub(crate) fn run(stack: &Stack, addr: SocketAddr, stop: &Arc<AtomicBool>) -> io::Result<()> {
    let mut stream = stack.connect_timeout(addr, Duration::from_secs(75))?;
    eprintln!("tcp-tun: connected to {addr} from {}", stream.local_addr());
    stream.set_nonblocking(true);
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    let mut pending: Vec<u8> = Vec::new();
    let mut stdin_open = true;
    let mut stdin_ready = false;
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let mut progress = false;
        if stdin_ready && pending.is_empty() && stdin_open {
            // poll(2) said readable: this read does not block.
            let n = stdin.lock().read(&mut buf)?;
            if n == 0 {
                stdin_open = false;
                stream.shutdown(Shutdown::Write)?;
            } else {
                pending.extend_from_slice(&buf[..n]);
            }
            progress = true;
        }
        stdin_ready = false;
        if !pending.is_empty() {
            match stream.write(&pending) {
                Ok(n) => {
                    pending.drain(..n);
                    progress = true;
                }
                Err(e) if would_block(&e) => {}
                Err(e) => return Err(e),
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                stdout.flush()?;
                break;
            }
            Ok(n) => {
                stdout.write_all(&buf[..n])?;
                stdout.flush()?;
                progress = true;
            }
            Err(e) if would_block(&e) => {}
            Err(e) => return Err(e),
        }
        if !progress {
            let wait = Some(Duration::from_millis(200));
            let ready = if stdin_open && pending.is_empty() {
                stack.poll_with(wait, &[stdin.as_fd()])
            } else {
                stack.poll_with(wait, &[])
            };
            match ready {
                Ok(bits) => stdin_ready = bits & 1 != 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    drop(stream);
    stack.set_interrupt(None);
    stack.linger(Duration::from_secs(2))?;
    Ok(())
}
