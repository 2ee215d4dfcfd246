//! The calls that open connections and move data: `connect`, `accept`, `read`, `write`
//!
//! Each returns an [`Attempt`]: done, or blocked (the runner retries a blocked call after
//! every change). Data written is the local pattern at the stream offset; data read is
//! checked against the remote pattern.

use std::net::SocketAddr;

use tcp_engine::conn::{CloseReason, RecvError, SendError};
use tcp_engine::engine::AcceptError;

use super::ast::{Event, Expr};
use super::packets::{local_byte, remote_byte};
use super::run::{fail, Flow, Runner, Sock, Step};
use super::syscalls::{int, names, Attempt, Ret};

impl Runner {
    pub(crate) fn connect_done(&mut self, fd: i32) -> Attempt {
        let Some((h, _)) = self.handle_of(fd) else {
            return Attempt::Done(Err("EBADF"));
        };
        let info = self.conns.get(&h).copied().unwrap_or_default();
        if info.established {
            Attempt::Done(Ok(0))
        } else if info.closed.is_some() {
            if let Some(i) = self.conns.get_mut(&h) {
                i.error = None; // reported by connect itself
            }
            Attempt::Done(Err(info.error.unwrap_or("ECONNREFUSED")))
        } else {
            Attempt::Block(0)
        }
    }

    pub(crate) fn accept_now(&mut self, fd: i32) -> Option<Ret> {
        let Some(Sock::Listening(l, _)) = self.fds.get(&fd).map(|s| s.sock) else {
            return Some(Err("EINVAL"));
        };
        let engine = self.engine.as_mut()?;
        match engine.accept(l) {
            Ok(h) => {
                let fi = match self.flows.iter().position(|f| f.handle == Some(h)) {
                    Some(fi) => fi,
                    None => {
                        self.flows.push(Flow {
                            handle: Some(h),
                            ..Flow::default()
                        });
                        self.flows.len() - 1
                    }
                };
                let nodelay = self.fds.get(&fd).is_some_and(|s| s.nodelay);
                if nodelay {
                    let _ = engine.set_nagle(h, false);
                }
                let new = self.new_fd(Sock::Conn(h, fi));
                if let Some(s) = self.fds.get_mut(&new) {
                    s.nodelay = nodelay;
                }
                self.current = Some(fi);
                Some(Ok(i64::from(new)))
            }
            Err(AcceptError::WouldBlock) => None,
            Err(AcceptError::InvalidHandle) => Some(Err("EINVAL")),
        }
    }

    pub(crate) fn read_now(&mut self, fd: i32, args: &[Expr]) -> Result<Attempt, String> {
        let Some(sock) = self.fds.get(&fd).cloned() else {
            return Ok(Attempt::Done(Err("EBADF")));
        };
        let Sock::Conn(h, fi) = sock.sock else {
            return Ok(Attempt::Done(Err("ENOTCONN")));
        };
        if sock.shut_rd {
            return Ok(Attempt::Done(Ok(0)));
        }
        let n = int(args, 2).unwrap_or(0).max(0) as usize;
        let peek = names(args.get(3)).contains(&"MSG_PEEK");
        let Some(engine) = self.engine.as_mut() else {
            return Ok(Attempt::Done(Err("ENOTCONN")));
        };
        let mut buf = vec![0u8; n];
        let r = if peek {
            let mut copied = 0;
            let r = engine.recv_with(h, |a, b| {
                for (dst, src) in buf.iter_mut().zip(a.iter().chain(b)) {
                    *dst = *src;
                    copied += 1;
                }
                0
            });
            if copied > 0 {
                Ok(copied)
            } else {
                r
            }
        } else {
            engine.recv(h, &mut buf)
        };
        let info = self.conns.get(&h).copied().unwrap_or_default();
        let k = match r {
            Ok(k) => k,
            Err(RecvError::WouldBlock) if sock.nonblocking => {
                return Ok(Attempt::Done(Err("EAGAIN")))
            }
            Err(RecvError::WouldBlock) => return Ok(Attempt::Block(0)),
            Err(RecvError::Closed(CloseReason::Reset)) => {
                return Ok(Attempt::Done(Err("ECONNRESET")))
            }
            Err(RecvError::Closed(CloseReason::TimedOut)) => {
                return Ok(Attempt::Done(Err("ETIMEDOUT")))
            }
            Err(RecvError::Closed(CloseReason::Refused)) => {
                return Ok(Attempt::Done(Err("ECONNREFUSED")))
            }
            Err(_) => return Ok(Attempt::Done(info.error.map_or(Ok(0), Err))),
        };
        let flow = &mut self.flows[fi];
        if let Some(i) = (0..k).find(|&i| buf[i] != remote_byte(flow.read + i as u64)) {
            return Err(format!(
                "read returned a byte at stream offset {} that the peer did not send there",
                flow.read + i as u64
            ));
        }
        if !peek {
            flow.read += k as u64;
        }
        Ok(Attempt::Done(Ok(k as i64)))
    }

    pub(crate) fn write_now(&mut self, fd: i32, remaining: usize, args: &[Expr]) -> Attempt {
        let Some(sock) = self.fds.get(&fd).cloned() else {
            return Attempt::Done(Err("EBADF"));
        };
        let Sock::Conn(h, fi) = sock.sock else {
            return Attempt::Done(Err("ENOTCONN"));
        };
        if sock.shut_wr {
            return Attempt::Done(Err("EPIPE"));
        }
        let total = int(args, 2).unwrap_or(0).max(0) as usize;
        let offset = self.flows[fi].written;
        let data: Vec<u8> = (0..remaining as u64)
            .map(|i| local_byte(offset + i))
            .collect();
        let Some(engine) = self.engine.as_mut() else {
            return Attempt::Done(Err("ENOTCONN"));
        };
        let reset = self.conns.get(&h).and_then(|i| i.closed) == Some(CloseReason::Reset);
        match engine.send(h, &data) {
            Ok(k) => {
                self.flows[fi].written += k as u64;
                let left = remaining - k;
                if left == 0 {
                    Attempt::Done(Ok(total as i64))
                } else if sock.nonblocking {
                    let done = total - left;
                    Attempt::Done(if done > 0 {
                        Ok(done as i64)
                    } else {
                        Err("EAGAIN")
                    })
                } else {
                    Attempt::Block(left)
                }
            }
            Err(SendError::Closed(CloseReason::Reset)) => Attempt::Done(Err("ECONNRESET")),
            Err(SendError::InvalidHandle) if reset => Attempt::Done(Err("ECONNRESET")),
            Err(_) => Attempt::Done(Err("EPIPE")),
        }
    }

    pub(crate) fn connect(&mut self, ev: &Event, fd: i32) -> Step<Attempt> {
        let s = self.fds[&fd].clone();
        let local_port = match s.sock {
            Sock::Fresh => None,
            Sock::Bound(p) => Some(p),
            Sock::Conn(h, _) => {
                let est = self.conns.get(&h).is_some_and(|i| i.established);
                return Ok(Attempt::Done(Err(if est { "EISCONN" } else { "EALREADY" })));
            }
            Sock::Listening(..) => return Ok(Attempt::Done(Err("EISCONN"))),
        };
        let (now, local_ip) = (
            tcp_engine::time::Instant::from_micros(self.now),
            self.local_ip,
        );
        let remote = SocketAddr::new(self.remote_ip, 8080);
        let engine = self.engine(ev)?;
        let r = match local_port {
            Some(p) => engine.connect_from(now, SocketAddr::new(local_ip, p), remote),
            None => engine.connect(now, local_ip, remote),
        };
        let h = match r {
            Ok(h) => h,
            Err(e) => return fail(ev, format!("the engine refused to connect: {e}")),
        };
        if s.nodelay {
            let _ = engine.set_nagle(h, false);
        }
        if let Some(t) = s.keepinit {
            let _ = engine.set_connect_timeout(h, Some(t));
        }
        let tuple = engine
            .tuple(h)
            .map_err(|e| super::report::Failure::at(ev.line, &ev.text, e.to_string()))?;
        self.flows.push(Flow {
            local_port: tuple.local_port,
            remote_port: tuple.remote_port,
            handle: Some(h),
            active: true,
            ..Flow::default()
        });
        let fi = self.flows.len() - 1;
        self.current = Some(fi);
        self.conns.entry(h).or_default();
        self.fds.get_mut(&fd).expect("known fd").sock = Sock::Conn(h, fi);
        if s.nonblocking {
            Ok(Attempt::Done(Err("EINPROGRESS")))
        } else {
            Ok(Attempt::Block(0))
        }
    }
}
