//! Socket options, `fcntl` and `ioctl`: what the runner shows of the engine's settings

use super::ast::{Event, Expr, SyscallSpec};
use super::profile::Profile;
use super::run::{fail, Runner, Step};
use super::syscalls::{errno_number, names, out_value, Attempt};

impl Runner {
    /// Compare an in/out value with the script's `[v]` (`...` or no array: not checked)
    pub(crate) fn compare_out(
        &mut self,
        ev: &Event,
        call: &SyscallSpec,
        want: Option<&Expr>,
        got: i64,
        errno: Option<&str>,
    ) -> Step {
        let ok = match want {
            None | Some(Expr::Ellipsis) => true,
            Some(Expr::Int(v)) => {
                *v == got || errno.and_then(|e| errno_number(self.settings.profile, e)) == Some(*v)
            }
            Some(Expr::Ident(name)) => errno == Some(name.as_str()),
            Some(other) => return fail(ev, format!("cannot compare the value {other}")),
        };
        if ok {
            return Ok(());
        }
        let shown = errno.map_or(got.to_string(), str::to_string);
        let want = want.map_or(String::new(), ToString::to_string);
        self.syscall_mismatch(
            ev.line,
            &ev.text,
            format!("{} gave [{shown}], expected [{want}]", call.name),
        )
    }

    pub(crate) fn getsockopt(&mut self, ev: &Event, call: &SyscallSpec, fd: i32) -> Step<Attempt> {
        let args = &call.args;
        let opt = names(args.get(2));
        let want = out_value(args.get(3));
        let conn = self.handle_of(fd);
        let (value, errno) = match opt.first().copied() {
            Some("SO_ERROR") => {
                let e = conn
                    .and_then(|(h, _)| self.conns.get_mut(&h))
                    .and_then(|i| i.error.take());
                (0, e)
            }
            Some("SO_RCVBUF") => {
                let up =
                    conn.is_some_and(|(h, _)| self.conns.get(&h).is_some_and(|i| i.established));
                let v = if up {
                    self.engine(ev)?.config().rx_buffer
                } else {
                    self.settings.recv_space
                };
                (v as i64, None)
            }
            Some("SO_SNDBUF") => (self.settings.engine.tx_buffer as i64, None),
            Some("TCP_MAXSEG") => {
                let v = match conn {
                    Some((h, fi)) => {
                        let mss = self.engine(ev)?.conn_stats(h).map_or(0, |s| s.send_mss);
                        let ts = self.settings.profile == Profile::Linux && self.flows[fi].ts_on;
                        i64::from(mss) - if ts { 12 } else { 0 }
                    }
                    None => i64::from(self.settings.engine.conn.mss),
                };
                (v, None)
            }
            Some("TCP_NODELAY") => (i64::from(self.fds[&fd].nodelay), None),
            _ => {
                return fail(
                    ev,
                    format!(
                        "getsockopt {} is not supported",
                        args.get(2).map_or(String::new(), ToString::to_string)
                    ),
                )
            }
        };
        self.compare_out(ev, call, want, value, errno)?;
        Ok(Attempt::Done(Ok(0)))
    }

    pub(crate) fn setsockopt(&mut self, ev: &Event, call: &SyscallSpec, fd: i32) -> Step<Attempt> {
        let args = &call.args;
        let opt = names(args.get(2)).first().copied().unwrap_or("");
        let value = out_value(args.get(3)).and_then(|e| match e {
            Expr::Int(v) => Some(*v),
            _ => None,
        });
        let conn = self.handle_of(fd);
        match opt {
            // The engine has no address reuse rules to relax.
            "SO_REUSEADDR" | "SO_REUSEPORT" => {}
            "SO_LINGER" => {
                let field = |name: &str| match args.get(3) {
                    Some(Expr::Struct(f)) => {
                        f.iter()
                            .find(|(k, _)| k == name)
                            .and_then(|(_, v)| match v {
                                Expr::Int(i) => Some(*i),
                                _ => None,
                            })
                    }
                    _ => None,
                };
                match (field("onoff"), field("linger")) {
                    (Some(0), _) => self.fds.get_mut(&fd).expect("known fd").linger_zero = false,
                    (Some(_), Some(0)) => {
                        self.fds.get_mut(&fd).expect("known fd").linger_zero = true
                    }
                    _ => {
                        return fail(
                            ev,
                            "only SO_LINGER {onoff=0} and {onoff=1, linger=0} are supported",
                        )
                    }
                }
            }
            "TCP_NODELAY" => {
                let on = value.unwrap_or(0) != 0;
                self.fds.get_mut(&fd).expect("known fd").nodelay = on;
                if let Some((h, _)) = conn {
                    let _ = self.engine(ev)?.set_nagle(h, !on);
                }
            }
            "SO_KEEPALIVE" => {
                let on = value.unwrap_or(0) != 0;
                let Some((h, _)) = conn else {
                    return fail(
                        ev,
                        "SO_KEEPALIVE before the connection exists is not supported",
                    );
                };
                let _ = self.engine(ev)?.set_keep_alive(h, on);
            }
            "TCP_MAXSEG" if self.engine.is_none() => match value {
                Some(v) if (64..=65535).contains(&v) => self.settings.engine.conn.mss = v as u16,
                _ => return fail(ev, "TCP_MAXSEG needs a value from 64 to 65535"),
            },
            "TCP_USER_TIMEOUT" => {
                return fail(
                    ev,
                    "the engine has no per-connection user timeout (TCP_USER_TIMEOUT)",
                )
            }
            "TCP_KEEPINIT" => {
                let t = value.map(|s| std::time::Duration::from_secs(s.max(0) as u64));
                self.fds.get_mut(&fd).expect("known fd").keepinit = t;
                if let Some((h, _)) = conn {
                    let _ = self.engine(ev)?.set_connect_timeout(h, t);
                }
            }
            other => return fail(ev, format!("setsockopt {other} is not supported here")),
        }
        Ok(Attempt::Done(Ok(0)))
    }
}
