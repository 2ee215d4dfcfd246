//! Backquoted shell lines and `%{ }%` blocks: the known forms only
//!
//! - `sysctl -w name=value ...` (FreeBSD) and `sysctl -q name=value` (Linux): engine settings
//!   ([`Settings::sysctl`](super::profile::Settings::sysctl));
//! - Google's `defaults.sh`: the standard Linux test-machine settings; the sysctl restore
//!   script at the end of Linux scripts: nothing to do;
//! - `sockstat ... | grep -c STATE | grep N`: exactly N engine connections are in STATE;
//! - `%{ assert tcpi_X == V }%` for `tcpi_state`, `tcpi_snd_mss`, `tcpi_rto`,
//!   `tcpi_snd_cwnd`, `tcpi_total_retrans`.
//!
//! Anything else fails the script on its line.

use tcp_engine::conn::State;

use super::ast::Event;
use super::profile::{Applied, Profile};
use super::run::{fail, Runner, Sock, Step};

/// A state name as FreeBSD's `sockstat`, FreeBSD's `TCPI_*` or Linux's `TCP_*` spell it
fn state_named(name: &str) -> Option<State> {
    let n = name
        .trim_start_matches("TCPI_")
        .trim_start_matches("TCPS_")
        .trim_start_matches("TCP_")
        .replace('_', "")
        .to_ascii_uppercase();
    let n = match n.as_str() {
        "SYNRECV" | "SYNRCVD" => "SYNRECEIVED".to_string(),
        "CLOSE" => "CLOSED".to_string(),
        _ => n,
    };
    State::ALL
        .into_iter()
        .find(|s| s.name().replace('-', "") == n)
}

impl Runner {
    pub(crate) fn shell(&mut self, ev: &Event, cmd: &str) -> Step {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words.first().copied() {
            Some("sysctl") => self.sysctl(ev, &words[1..]),
            Some(w) if w.ends_with("/defaults.sh") || w == "defaults.sh" => {
                let note = self.settings.linux_defaults();
                self.setting_changed(ev);
                self.notes.push(note);
                Ok(())
            }
            Some(w) if w.starts_with("/tmp/sysctl_restore_") => Ok(()),
            Some("sockstat") => self.sockstat(ev, cmd),
            _ => fail(ev, format!("shell command `{cmd}` is not supported")),
        }
    }

    fn setting_changed(&mut self, ev: &Event) {
        if self.engine.is_some() {
            self.late_setting = Some(ev.line);
        }
    }

    fn sysctl(&mut self, ev: &Event, args: &[&str]) -> Step {
        let pairs: Vec<&str> = args
            .iter()
            .copied()
            .filter(|a| !a.starts_with('-'))
            .collect();
        if pairs.is_empty() {
            return fail(ev, "sysctl without name=value");
        }
        for pair in pairs {
            let Some((name, value)) = pair.split_once('=') else {
                return fail(
                    ev,
                    format!("sysctl `{pair}`: reading values is not supported"),
                );
            };
            match self.settings.sysctl(name, value, ev.line) {
                Ok(Applied::Done) => {}
                Ok(Applied::Note(n)) => self.notes.push(format!("line {}: {n}", ev.line)),
                Err(why) => return fail(ev, why),
            }
            self.setting_changed(ev);
        }
        Ok(())
    }

    /// How many engine connections are in `state` (TIME-WAIT entries included)
    fn count_in(&mut self, state: State) -> usize {
        let Some(engine) = self.engine.as_ref() else {
            return 0;
        };
        let listening = self
            .fds
            .values()
            .filter(|s| matches!(s.sock, Sock::Listening(..)))
            .count();
        let live = self
            .conns
            .keys()
            .filter(|h| engine.state(**h) == Ok(state))
            .count();
        match state {
            State::Listen => listening,
            State::TimeWait => live + engine.time_wait_count(),
            _ => live,
        }
    }

    fn sockstat(&mut self, ev: &Event, cmd: &str) -> Step {
        let stages: Vec<Vec<&str>> = cmd
            .split('|')
            .map(|s| s.split_whitespace().collect())
            .collect();
        let state = stages.iter().find_map(|s| match s.as_slice() {
            ["grep", "-c", state] => Some(*state),
            _ => None,
        });
        let want = stages.last().and_then(|s| match s.as_slice() {
            ["grep", n] => n.parse::<usize>().ok(),
            _ => None,
        });
        let (Some(name), Some(want)) = (state, want) else {
            return fail(
                ev,
                "only `sockstat ... | grep -c STATE | grep N` is supported",
            );
        };
        let Some(state) = state_named(name) else {
            return fail(ev, format!("unknown connection state {name}"));
        };
        let got = self.count_in(state);
        if got != want {
            return fail(ev, format!("{got} connections in {state}, expected {want}"));
        }
        Ok(())
    }

    pub(crate) fn python(&mut self, ev: &Event, code: &str) -> Step {
        for stmt in code
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let Some(expr) = stmt.strip_prefix("assert ") else {
                return fail(
                    ev,
                    format!("Python `{stmt}` is not supported (only `assert tcpi_X == V`)"),
                );
            };
            let parts: Vec<&str> = expr.split_whitespace().collect();
            let [var, op, value] = parts.as_slice() else {
                return fail(ev, format!("cannot evaluate `{expr}`"));
            };
            self.assert_tcpi(ev, var, op, value)?;
        }
        Ok(())
    }

    fn assert_tcpi(&mut self, ev: &Event, var: &str, op: &str, value: &str) -> Step {
        let Some(h) = self.current.and_then(|i| self.flows[i].handle) else {
            return fail(ev, "tcp_info needs a connection");
        };
        let profile = self.settings.profile;
        let Some(engine) = self.engine.as_ref() else {
            return fail(ev, "tcp_info needs a connection");
        };
        if var == "tcpi_state" {
            let Some(want) = state_named(value) else {
                return fail(ev, format!("unknown state {value}"));
            };
            let got = engine.state(h).unwrap_or(State::Closed);
            let ok = match op {
                "==" => got == want,
                "!=" => got != want,
                _ => return fail(ev, format!("cannot compare states with {op}")),
            };
            if !ok {
                return fail(ev, format!("tcpi_state is {got}, expected {op} {want}"));
            }
            return Ok(());
        }
        let Ok(stats) = engine.conn_stats(h) else {
            return fail(ev, "the connection is gone");
        };
        let got: i64 = match var {
            "tcpi_snd_mss" => i64::from(stats.send_mss),
            "tcpi_rto" => stats.rto.as_micros() as i64,
            "tcpi_total_retrans" => i64::from(stats.retransmissions),
            "tcpi_snd_cwnd" if profile == Profile::FreeBsd => i64::from(stats.cwnd),
            "tcpi_snd_cwnd" => i64::from(stats.cwnd / u32::from(stats.send_mss.max(1))),
            _ => return fail(ev, format!("{var} is not supported")),
        };
        let Ok(want) = value.parse::<i64>() else {
            return fail(ev, format!("`{value}` is not a number"));
        };
        let ok = match op {
            "==" => got == want,
            "!=" => got != want,
            "<" => got < want,
            "<=" => got <= want,
            ">" => got > want,
            ">=" => got >= want,
            _ => return fail(ev, format!("unknown comparison {op}")),
        };
        if !ok {
            return fail(ev, format!("{var} is {got}, expected {op} {want}"));
        }
        Ok(())
    }
}
