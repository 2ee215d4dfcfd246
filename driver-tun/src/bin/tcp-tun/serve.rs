//! `tcp-tun serve`: an event loop over non-blocking streams, one handler per connection

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use driver_tun::{Stack, Stream};

use crate::cli::Mode;
use crate::http;

/// Bytes an echo connection holds before it stops reading (back-pressure)
const ECHO_BUFFER: usize = 256 * 1024;

/// One connection being served
struct Conn {
    stream: Stream,
    peer: SocketAddr,
    /// Bytes to send: the echo backlog or the HTTP response
    out: Vec<u8>,
    /// The HTTP request head so far
    head: Vec<u8>,
    /// Bytes received
    received: u64,
    /// The peer sent FIN
    eof: bool,
    /// The HTTP reply is queued: no more requests on this connection
    replied: bool,
    /// We sent FIN
    fin_sent: bool,
}

enum Step {
    Progress,
    Idle,
    Done,
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl Conn {
    fn step(&mut self, mode: Mode, buf: &mut [u8]) -> io::Result<Step> {
        let mut progress = false;
        if !self.out.is_empty() {
            match self.stream.write(&self.out) {
                Ok(n) => {
                    self.out.drain(..n);
                    progress = true;
                }
                Err(e) if would_block(&e) => {}
                Err(e) => return Err(e),
            }
        }
        let room = mode != Mode::Echo || self.out.len() < ECHO_BUFFER;
        if !self.eof && room {
            match self.stream.read(buf) {
                Ok(0) => {
                    self.eof = true;
                    progress = true;
                }
                Ok(n) => {
                    self.received += n as u64;
                    progress = true;
                    match mode {
                        Mode::Echo => self.out.extend_from_slice(&buf[..n]),
                        Mode::Discard => {}
                        Mode::Http if !self.replied => {
                            self.head.extend_from_slice(&buf[..n]);
                            if let Some(r) = http::respond(&self.head) {
                                self.out = r;
                                self.head = Vec::new();
                                // No more requests on this connection: FIN after the reply.
                                self.replied = true;
                            }
                        }
                        Mode::Http => {}
                    }
                }
                Err(e) if would_block(&e) => {}
                Err(e) => return Err(e),
            }
        }
        if self.out.is_empty() && (self.eof || self.replied) && !self.fin_sent {
            self.stream.shutdown(Shutdown::Write)?;
            self.fin_sent = true;
            progress = true;
        }
        Ok(if self.eof && self.out.is_empty() {
            Step::Done
        } else if progress {
            Step::Progress
        } else {
            Step::Idle
        })
    }
}

/// Serve until `stop` is raised; then close every connection and let them finish
pub(crate) fn run(
    stack: &Stack,
    mode: Mode,
    port: u16,
    stop: &Arc<AtomicBool>,
    verbose: bool,
) -> io::Result<()> {
    let mut listener = stack.listen(port)?;
    listener.set_nonblocking(true);
    let c = stack.config();
    let addrs: Vec<String> = stack
        .local_addrs()
        .iter()
        .map(|ip| SocketAddr::new(*ip, port).to_string())
        .collect();
    let kernel: Vec<String> = [c.v4, c.v6]
        .into_iter()
        .flatten()
        .map(|s| format!("{}/{}", s.kernel, s.prefix))
        .collect();
    println!(
        "tcp-tun: {} server on {} (device {}, kernel side {})",
        format!("{mode:?}").to_lowercase(),
        addrs.join(" and "),
        stack.device(),
        kernel.join(", ")
    );
    io::stdout().flush()?;
    let mut conns: Vec<Conn> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let mut progress = false;
        loop {
            match listener.accept() {
                Ok((mut stream, peer)) => {
                    stream.set_nonblocking(true);
                    if verbose {
                        eprintln!("tcp-tun: accepted {peer}");
                    }
                    conns.push(Conn {
                        stream,
                        peer,
                        out: Vec::new(),
                        head: Vec::new(),
                        received: 0,
                        eof: false,
                        replied: false,
                        fin_sent: false,
                    });
                    progress = true;
                }
                Err(e) if would_block(&e) => break,
                Err(e) => return Err(e),
            }
        }
        conns.retain_mut(|c| match c.step(mode, &mut buf) {
            Ok(Step::Progress) => {
                progress = true;
                true
            }
            Ok(Step::Idle) => true,
            Ok(Step::Done) => {
                if verbose {
                    eprintln!("tcp-tun: {} done, {} bytes received", c.peer, c.received);
                }
                progress = true;
                false
            }
            Err(e) => {
                eprintln!("tcp-tun: {}: {e}", c.peer);
                false
            }
        });
        if !progress {
            match stack.poll(Some(Duration::from_millis(200))) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    eprintln!(
        "tcp-tun: stopping: closing {} connection{}",
        conns.len(),
        if conns.len() == 1 { "" } else { "s" }
    );
    drop(listener);
    drop(conns);
    stack.set_interrupt(None);
    if !stack.linger(Duration::from_secs(2))? {
        eprintln!(
            "tcp-tun: {} connection(s) still closing; leaving them",
            stack.connection_count()
        );
    }
    Ok(())
}
