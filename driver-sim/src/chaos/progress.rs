//! A progress bar on stderr: redrawn in place on a terminal (at most ten times a second),
//! one line per tenth of the work otherwise (logs, CI).

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// Progress of a run over a known number of items.
#[derive(Debug)]
pub struct Progress {
    total: u64,
    started: Instant,
    last_draw: Option<Instant>,
    last_tenth: u64,
    tty: bool,
    enabled: bool,
}

impl Progress {
    /// A bar for `total` items; `enabled` false draws nothing.
    #[must_use]
    pub fn new(total: u64, enabled: bool) -> Self {
        Self {
            total,
            started: Instant::now(),
            last_draw: None,
            last_tenth: 0,
            tty: std::io::stderr().is_terminal(),
            enabled,
        }
    }

    /// Time since the bar was made.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// `done` items are finished, `failed` of them failed.
    pub fn update(&mut self, done: u64, failed: u64) {
        if !self.enabled || self.total == 0 {
            return;
        }
        let now = Instant::now();
        if self.tty {
            let due = self
                .last_draw
                .map_or(true, |t| now - t >= Duration::from_millis(100));
            if due || done == self.total {
                self.last_draw = Some(now);
                eprint!("\r{}", self.line(done, failed));
                let _ = std::io::stderr().flush();
            }
        } else {
            let tenth = done * 10 / self.total;
            if tenth > self.last_tenth {
                self.last_tenth = tenth;
                eprintln!("{}", self.line(done, failed));
            }
        }
    }

    /// Ends the bar (a newline on a terminal).
    pub fn finish(&mut self) {
        if self.enabled && self.tty && self.last_draw.is_some() {
            eprintln!();
        }
    }

    fn line(&self, done: u64, failed: u64) -> String {
        const WIDTH: u64 = 30;
        let filled = (done * WIDTH / self.total.max(1)) as usize;
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let eta = if rate > 0.0 {
            (self.total - done) as f64 / rate
        } else {
            0.0
        };
        format!(
            "[{}{}] {done}/{} seeds, {failed} failed, {rate:.0}/s, {secs:.0} s elapsed, ~{eta:.0} s left ",
            "#".repeat(filled),
            ".".repeat(WIDTH as usize - filled),
            self.total
        )
    }
}
