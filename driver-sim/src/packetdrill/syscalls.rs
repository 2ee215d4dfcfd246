//! System-call lines mapped onto the engine's application API
//!
//! File descriptors are allocated like a kernel does (lowest free, from 3). Blocking calls
//! that cannot complete at once become the runner's pending call and are retried after every
//! change; non-blocking sockets get `EAGAIN` / `EINPROGRESS` instead.

use std::net::SocketAddr;

use tcp_engine::engine::ListenError;

use super::ast::{Event, Expr, SyscallSpec};
use super::profile::Profile;
use super::run::{fail, secs, Pending, Runner, Sock, Step};

/// The calls the runner maps onto the engine
const SUPPORTED: &[&str] = &[
    "socket",
    "bind",
    "listen",
    "accept",
    "connect",
    "write",
    "send",
    "sendto",
    "read",
    "recv",
    "recvfrom",
    "shutdown",
    "close",
    "getsockopt",
    "setsockopt",
    "fcntl",
    "ioctl",
];

/// A call's result: a value or an errno name
pub(crate) type Ret = Result<i64, &'static str>;

/// What an attempt at a call did
pub(crate) enum Attempt {
    Done(Ret),
    /// Would block; for a write, the bytes still to go
    Block(usize),
}

pub(crate) fn int(args: &[Expr], i: usize) -> Option<i64> {
    match args.get(i) {
        Some(Expr::Int(v)) => Some(*v),
        _ => None,
    }
}

pub(crate) fn names(e: Option<&Expr>) -> Vec<&str> {
    match e {
        Some(Expr::Ident(s)) => vec![s.as_str()],
        Some(Expr::Or(items)) => items.iter().flat_map(|i| names(Some(i))).collect(),
        _ => Vec::new(),
    }
}

/// The single value of an in/out argument `[v]`
pub(crate) fn out_value(e: Option<&Expr>) -> Option<&Expr> {
    match e {
        Some(Expr::Array(items)) if items.len() == 1 => items.first(),
        _ => None,
    }
}

pub(crate) fn errno_number(profile: Profile, name: &str) -> Option<i64> {
    let (linux, bsd) = match name {
        "EPIPE" => (32, 32),
        "ECONNRESET" => (104, 54),
        "ECONNREFUSED" => (111, 61),
        "ETIMEDOUT" => (110, 60),
        _ => return None,
    };
    Some(if profile == Profile::FreeBsd {
        bsd
    } else {
        linux
    })
}

fn show(r: Ret) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("-1 {e}"),
    }
}

impl Runner {
    /// A system-call line issued now; `end` is the expected return time of a `...` call
    pub(crate) fn syscall(&mut self, ev: &Event, call: &SyscallSpec, end: Option<u64>) -> Step {
        if let Some(p) = &self.pending {
            return fail(
                ev,
                format!(
                    "a system call while the one on line {} still blocks",
                    p.line
                ),
            );
        }
        match self.start(ev, call)? {
            Attempt::Done(r) => {
                if let Some(end) = end {
                    let tol = self.tolerance(end);
                    if self.now.abs_diff(end) > tol {
                        return fail(
                            ev,
                            format!(
                                "returned at {}, expected at {} (±{} µs)",
                                secs(self.now),
                                secs(end),
                                tol
                            ),
                        );
                    }
                }
                self.check_ret(ev.line, &ev.text, call, r)
            }
            Attempt::Block(remaining) => {
                let fd = int(&call.args, 0).unwrap_or(-1) as i32;
                let end = end.unwrap_or(self.now);
                self.pending = Some(Pending {
                    line: ev.line,
                    text: ev.text.clone(),
                    spec: call.clone(),
                    fd,
                    end,
                    tolerance: self.tolerance(end),
                    remaining,
                });
                self.settle();
                Ok(())
            }
        }
    }

    fn check_ret(&mut self, line: usize, text: &str, call: &SyscallSpec, r: Ret) -> Step {
        let ok = match r {
            Ok(v) => call.ret == v && call.errno.is_none(),
            Err(e) => call.ret == -1 && call.errno.as_deref() == Some(e),
        };
        if ok {
            return Ok(());
        }
        let want = match &call.errno {
            Some(e) => format!("{} {e}", call.ret),
            None => call.ret.to_string(),
        };
        self.syscall_mismatch(
            line,
            text,
            format!("{} returned {}, expected {want}", call.name, show(r)),
        )
    }

    pub(crate) fn syscall_mismatch(&mut self, line: usize, text: &str, why: String) -> Step {
        if self.non_fatal_syscalls {
            self.notes
                .push(format!("line {line}: {why} (--non_fatal=syscall)"));
            return Ok(());
        }
        Err(super::report::Failure::at(line, text, why))
    }

    /// Retry the pending call; true if it completed or made progress
    pub(crate) fn retry_pending(&mut self) -> bool {
        let Some(p) = self.pending.clone() else {
            return false;
        };
        let attempt = match self.resume(&p) {
            Ok(a) => a,
            Err(why) => {
                self.pending = None;
                self.deferred
                    .get_or_insert(super::report::Failure::at(p.line, &p.text, why));
                return true;
            }
        };
        match attempt {
            Attempt::Block(remaining) => {
                let progress = remaining != p.remaining;
                if let Some(q) = self.pending.as_mut() {
                    q.remaining = remaining;
                }
                progress
            }
            Attempt::Done(r) => {
                self.pending = None;
                let result = if self.now.abs_diff(p.end) > p.tolerance {
                    Err(super::report::Failure::at(
                        p.line,
                        &p.text,
                        format!(
                            "returned {} at {}, expected at {} (±{} µs)",
                            show(r),
                            secs(self.now),
                            secs(p.end),
                            p.tolerance
                        ),
                    ))
                } else {
                    self.check_ret(p.line, &p.text, &p.spec, r)
                };
                if let Err(f) = result {
                    self.deferred.get_or_insert(f);
                }
                true
            }
        }
    }

    fn resume(&mut self, p: &Pending) -> Result<Attempt, String> {
        let args = &p.spec.args;
        match p.spec.name.as_str() {
            "connect" => Ok(self.connect_done(p.fd)),
            "accept" => self
                .accept_now(p.fd)
                .map(Attempt::Done)
                .map_or_else(|| Ok(Attempt::Block(0)), Ok),
            "read" | "recv" | "recvfrom" => self.read_now(p.fd, args),
            "write" | "send" | "sendto" => Ok(self.write_now(p.fd, p.remaining, args)),
            other => Err(format!("{other} cannot block")),
        }
    }

    pub(crate) fn handle_of(&self, fd: i32) -> Option<(tcp_engine::engine::ConnHandle, usize)> {
        match self.fds.get(&fd)?.sock {
            Sock::Conn(h, fi) => Some((h, fi)),
            _ => None,
        }
    }

    /// The first attempt at a call; `Err` for calls or arguments the runner cannot run
    fn start(&mut self, ev: &Event, call: &SyscallSpec) -> Step<Attempt> {
        let args = &call.args;
        let fd = int(args, 0).unwrap_or(-1) as i32;
        let known = self.fds.contains_key(&fd);
        let done = |r: Ret| Ok(Attempt::Done(r));
        if !SUPPORTED.contains(&call.name.as_str()) {
            return fail(ev, format!("system call {} is not supported", call.name));
        }
        match call.name.as_str() {
            "socket" => {
                if !names(args.get(1)).contains(&"SOCK_STREAM") {
                    return fail(ev, "only SOCK_STREAM sockets are supported");
                }
                self.check_late_setting(ev)?;
                let nonblocking = names(args.get(1)).contains(&"SOCK_NONBLOCK");
                let fd = self.new_fd(Sock::Fresh);
                if let Some(s) = self.fds.get_mut(&fd) {
                    s.nonblocking = nonblocking;
                }
                done(Ok(i64::from(fd)))
            }
            _ if !known && call.name != "close" => done(Err("EBADF")),
            "bind" => {
                let s = self.fds.get_mut(&fd).expect("known fd");
                if s.sock != Sock::Fresh {
                    return done(Err("EINVAL"));
                }
                s.sock = Sock::Bound(8080);
                done(Ok(0))
            }
            "listen" => {
                let port = match self.fds[&fd].sock {
                    Sock::Bound(p) => p,
                    Sock::Fresh => 8080,
                    Sock::Listening(..) => return done(Ok(0)),
                    Sock::Conn(..) => return done(Err("EINVAL")),
                };
                let backlog = int(args, 1).unwrap_or(1).clamp(1, 65535) as u16;
                let local = SocketAddr::new(self.local_ip, port);
                match self.engine(ev)?.listen(local, backlog) {
                    Ok(l) => {
                        self.fds.get_mut(&fd).expect("known fd").sock = Sock::Listening(l, port);
                        done(Ok(0))
                    }
                    Err(ListenError::InUse) => done(Err("EADDRINUSE")),
                    Err(e) => fail(ev, format!("the engine refused to listen: {e}")),
                }
            }
            "accept" => {
                self.engine(ev)?;
                match self.accept_now(fd) {
                    Some(r) => done(r),
                    None if self.fds[&fd].nonblocking => done(Err("EAGAIN")),
                    None => Ok(Attempt::Block(0)),
                }
            }
            "connect" => self.connect(ev, fd),
            "write" | "send" | "sendto" => {
                let n = int(args, 2).unwrap_or(0).max(0) as usize;
                Ok(self.write_now(fd, n, args))
            }
            "read" | "recv" | "recvfrom" => self.read_now(fd, args).or_else(|why| fail(ev, why)),
            "shutdown" => {
                let how = names(args.get(1));
                let (rd, wr) = (
                    how.iter().any(|h| matches!(*h, "SHUT_RD" | "SHUT_RDWR")),
                    how.iter().any(|h| matches!(*h, "SHUT_WR" | "SHUT_RDWR")),
                );
                let Some((h, _)) = self.handle_of(fd) else {
                    return done(Err("ENOTCONN"));
                };
                if wr {
                    if self.engine(ev)?.shutdown(h).is_err() {
                        return done(Err("ENOTCONN"));
                    }
                    self.fds.get_mut(&fd).expect("known fd").shut_wr = true;
                }
                if rd {
                    self.fds.get_mut(&fd).expect("known fd").shut_rd = true;
                }
                done(Ok(0))
            }
            "close" => {
                let Some(s) = self.fds.remove(&fd) else {
                    return done(Err("EBADF"));
                };
                if let Some(engine) = self.engine.as_mut() {
                    match s.sock {
                        Sock::Listening(l, _) => {
                            let _ = engine.unlisten(l);
                        }
                        Sock::Conn(h, _) if s.linger_zero => {
                            let _ = engine.abort(h);
                        }
                        Sock::Conn(h, _) => {
                            let _ = engine.close(h);
                        }
                        Sock::Fresh | Sock::Bound(_) => {}
                    }
                }
                done(Ok(0))
            }
            "getsockopt" => self.getsockopt(ev, call, fd),
            "setsockopt" => self.setsockopt(ev, call, fd),
            "fcntl" => {
                let cmd = names(args.get(1));
                let s = self.fds.get_mut(&fd).expect("known fd");
                if cmd.contains(&"F_GETFL") {
                    let nb = if s.nonblocking {
                        self.settings.o_nonblock
                    } else {
                        0
                    };
                    done(Ok(0x2 | nb))
                } else if cmd.contains(&"F_SETFL") {
                    s.nonblocking = names(args.get(2)).contains(&"O_NONBLOCK");
                    done(Ok(0))
                } else {
                    fail(ev, "only fcntl F_GETFL and F_SETFL are supported")
                }
            }
            "ioctl" => {
                let req = names(args.get(1));
                if !req.iter().any(|r| matches!(*r, "SIOCINQ" | "FIONREAD")) {
                    return fail(ev, "only ioctl SIOCINQ / FIONREAD is supported");
                }
                let Some((h, _)) = self.handle_of(fd) else {
                    return done(Err("EINVAL"));
                };
                let n = self.engine(ev)?.recv_queue(h).unwrap_or(0);
                self.compare_out(ev, call, out_value(args.get(2)), n as i64, None)?;
                done(Ok(0))
            }
            other => fail(ev, format!("system call {other} is not supported")),
        }
    }
}
