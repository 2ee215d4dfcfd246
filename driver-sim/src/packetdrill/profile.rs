//! Engine configurations that reproduce the choices of the stacks the scripts were written for
//!
//! A profile is nothing but ordinary engine settings ([`EngineConfig`]) plus what the socket
//! layer shows (`SO_RCVBUF`, the `O_NONBLOCK` bit) and the timing tolerance packetdrill was
//! built with on that system. None of them loosens an RFC MUST.
//!
//! | profile   | MSS  | RTO init/min | delayed ACK | IW | rx buffer (window shift) | tolerance |
//! |-----------|------|--------------|-------------|----|--------------------------|-----------|
//! | `rfc`     | 1460 | 1 s / 1 s    | 40 ms       | 10 | 64 KiB (1)               | 12.5 %    |
//! | `linux`   | 1460 | 1 s / 200 ms | 40 ms       | 10 | 3 MiB (6); 15 MiB (8) after `defaults.sh` | 12.5 % |
//! | `freebsd` | 1460 | 1 s / 230 ms | 100 ms      | 10 | `recvspace` rounded up to the MSS: 65700  | 5 %    |
//!
//! Script lines that change the configuration (`sysctl -w ...`, `defaults.sh`) are mapped by
//! [`Settings::sysctl`]; a setting the engine cannot honour fails the script on that line.

use std::path::Path;
use std::time::Duration;

use tcp_engine::conn::Algorithm;
use tcp_engine::engine::EngineConfig;
use tcp_engine::wire::OptionLayout;

/// A named engine configuration
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// The engine's defaults (RFC values)
    Rfc,
    /// Linux's choices: RTO floor 200 ms, CUBIC, RFC 1337 off, large receive buffers
    Linux,
    /// FreeBSD's choices: buffers rounded to the MSS, 100 ms delayed ACK, TIME-WAIT guard
    FreeBsd,
}

impl Profile {
    /// Every profile
    pub const ALL: [Self; 3] = [Self::Rfc, Self::Linux, Self::FreeBsd];

    /// The name used on the command line
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rfc => "rfc",
            Self::Linux => "linux",
            Self::FreeBsd => "freebsd",
        }
    }

    /// The profile called `name`
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The profile for a script: from the shared corpus's `MANIFEST.tsv` when the script is
    /// listed there, else from its folder, else from what it runs (`sysctl -w net.inet...`
    /// is FreeBSD, `defaults.sh` is Linux), else `rfc`
    pub fn for_script(path: &Path, text: &str) -> Self {
        if let Some(p) = manifest_profile(path) {
            return p;
        }
        if let Some(p) = classify(&path.to_string_lossy().replace('\\', "/")) {
            return p;
        }
        if text.contains("sysctl -w net.inet.") {
            Self::FreeBsd
        } else if text.contains("defaults.sh") {
            Self::Linux
        } else {
            Self::Rfc
        }
    }

    /// The settings a run of this profile starts from
    pub fn settings(self) -> Settings {
        let mut engine = EngineConfig::default();
        let mut s = Settings {
            profile: self,
            engine,
            recv_space: engine.rx_buffer,
            round_rx_to_mss: false,
            tolerance_percent: 12.5,
            o_nonblock: 0x800,
            ecn_server: false,
            window_shift_wanted: None,
        };
        match self {
            Self::Rfc => {}
            Self::Linux => {
                let c = &mut engine.conn;
                c.min_rto = Duration::from_millis(200); // TCP_RTO_MIN
                c.max_rto = Duration::from_secs(120); // TCP_RTO_MAX
                c.syn_retries = 6;
                c.quick_acks = 16; // TCP_MAX_QUICKACKS
                c.window_shift = Some(engine_shift(LINUX_RMEM_MAX));
                c.synack_retries = 5;
                c.congestion = Algorithm::Cubic;
                c.time_wait_rst_guard = false; // tcp_rfc1337 = 0
                c.challenge_ack_limit = 1000;
                engine.rx_buffer = LINUX_RMEM_MAX;
                engine.tx_buffer = 256 * 1024;
                s.recv_space = 131_072;
            }
            Self::FreeBsd => {
                let c = &mut engine.conn;
                c.min_rto = Duration::from_millis(30); // net.inet.tcp.rexmit_min
                c.rto_slop = Duration::from_millis(200); // net.inet.tcp.rexmit_slop
                c.tail_loss_probe = false; // the default stack has no TLP (RACK stack only)
                c.connect_timeout = Some(Duration::from_secs(75)); // net.inet.tcp.keepinit
                c.option_layout = OptionLayout::Bsd;
                c.rcv_wnd_from_buffer = true;
                c.fin_on_acks = true;
                c.ack_old_duplicates = true;
                c.window_shift = Some(freebsd_shift(2_097_152)); // kern.ipc.maxsockbuf
                c.max_rto = Duration::from_secs(64); // TCPTV_REXMTMAX
                c.syn_retries = 12; // TCP_MAXRXTSHIFT; keepinit (75 s) is no engine setting
                c.delayed_ack = Some(Duration::from_millis(100)); // TCPTV_DELACK (hz/10)
                c.time_wait_rst_guard = true;
                s.recv_space = 65_536; // net.inet.tcp.recvspace
                s.round_rx_to_mss = true;
                engine.tx_buffer = 32_768; // net.inet.tcp.sendspace
                s.tolerance_percent = 5.0;
                s.o_nonblock = 0x4;
            }
        }
        s.engine = engine;
        s.apply_rx_rounding();
        s
    }
}

/// Linux's largest receive buffer in this profile (3 MiB: window shift 6, as the 2013-era
/// Linux scripts expect)
const LINUX_RMEM_MAX: usize = 3 * 1024 * 1024;

/// Google's `defaults.sh`: `tcp_rmem` max 15 MiB (window shift 8), `tcp_wmem` 256 KiB
const GOOGLE_RMEM_MAX: usize = 15 * 1024 * 1024;

fn classify(s: &str) -> Option<Profile> {
    let s = s.to_ascii_lowercase();
    if s.contains("freebsd") || s.contains("/bsd/") || s.contains("shivansh") {
        Some(Profile::FreeBsd)
    } else if s.contains("google") || s.contains("/linux/") {
        Some(Profile::Linux)
    } else {
        None
    }
}

/// Look the script up in a `MANIFEST.tsv` (repo, commit, upstream path, local path, sha256)
/// in one of its parent folders
fn manifest_profile(path: &Path) -> Option<Profile> {
    let path = path.canonicalize().ok()?;
    for dir in path.ancestors().skip(1) {
        let Ok(text) = std::fs::read_to_string(dir.join("MANIFEST.tsv")) else {
            continue;
        };
        let rel = path
            .strip_prefix(dir)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/");
        return text.lines().find_map(|row| {
            let cols: Vec<&str> = row.split('\t').collect();
            match cols.as_slice() {
                [repo, _, upstream, local, ..] if *local == rel => {
                    classify(&format!("{repo}/{upstream}"))
                }
                _ => None,
            }
        });
    }
    None
}

/// The window shift FreeBSD offers for a largest socket buffer (`kern.ipc.maxsockbuf`)
fn freebsd_shift(max_sockbuf: usize) -> u8 {
    let mut s = 0;
    while s < 14 && (0xffffusize << s) < max_sockbuf {
        s += 1;
    }
    s
}

/// The window shift the engine offers for a receive buffer (as `tcp_engine` derives it)
pub(crate) fn engine_shift(rx_buffer: usize) -> u8 {
    let mut s = 0;
    while s < 14 && (rx_buffer >> s) > 0xffff {
        s += 1;
    }
    s
}

/// A run's configuration, changed by the script's setting lines until the engine starts
#[derive(Debug, Clone)]
pub struct Settings {
    /// The profile it started from
    pub profile: Profile,
    /// The engine's configuration
    pub engine: EngineConfig,
    /// The receive buffer a socket asks for (`SO_RCVBUF` before the connection is up)
    pub recv_space: usize,
    /// FreeBSD: the receive buffer is `recv_space` rounded up to a multiple of the MSS
    pub round_rx_to_mss: bool,
    /// Tolerance percentage of packetdrill on that system (`--tolerance_percent`)
    pub tolerance_percent: f64,
    /// The `O_NONBLOCK` bit `fcntl(F_GETFL)` shows
    pub o_nonblock: i64,
    /// FreeBSD `ecn.enable=2`: ECN only if a peer asks (the engine cannot)
    pub ecn_server: bool,
    /// A window shift a setting line asked for, and the line: checked when the engine starts
    pub window_shift_wanted: Option<(u8, usize, String)>,
}

/// What a setting line did
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The engine is now configured as asked
    Done,
    /// Done, with something worth telling
    Note(String),
}

impl Settings {
    /// FreeBSD rounds the receive buffer up to a multiple of the MSS
    pub(crate) fn apply_rx_rounding(&mut self) {
        if self.round_rx_to_mss {
            let mss = usize::from(self.engine.conn.mss.max(1));
            self.engine.rx_buffer = self.recv_space.div_ceil(mss) * mss;
        }
    }

    /// Check what can only be checked once everything is set; `Err((line, reason))`
    pub fn check(&self) -> Result<(), (usize, String)> {
        if let Some((want, line, what)) = &self.window_shift_wanted {
            let have = engine_shift(self.engine.rx_buffer);
            if self.engine.conn.window_scaling && *want != have {
                return Err((
                    *line,
                    format!(
                        "{what} means an offered window scale of {want}, but the engine derives \
                         its shift from its {}-byte receive buffer ({have}) and has no setting \
                         for the shift on its own",
                        self.engine.rx_buffer
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Apply `name=value` from a `sysctl` line (FreeBSD `net.inet.tcp.*`, `kern.ipc.*`, or
    /// Linux `net.ipv4.tcp_*`); `Err` names what the engine cannot do
    pub fn sysctl(&mut self, name: &str, value: &str, _line: usize) -> Result<Applied, String> {
        let v = value.trim().trim_matches('"');
        let num = || -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: `{v}` is not a number"))
        };
        let flag = || -> Result<bool, String> {
            match v {
                "0" => Ok(false),
                "1" => Ok(true),
                _ => Err(format!("{name}={v}: only 0 and 1 are supported")),
            }
        };
        let ms = |n: u64| Duration::from_millis(n);
        let c = &mut self.engine.conn;
        let no_knob = |what: &str| Err(format!("{name}={v}: the engine has no setting for {what}"));
        match name {
            "net.inet.tcp.rfc1323" => {
                let on = flag()?;
                c.window_scaling = on;
                c.timestamps = on;
            }
            "net.inet.tcp.sack.enable" | "net.ipv4.tcp_sack" => c.sack = flag()?,
            "net.ipv4.tcp_timestamps" => c.timestamps = flag()?,
            "net.ipv4.tcp_window_scaling" => c.window_scaling = flag()?,
            "net.inet.tcp.insecure_rst" | "net.inet.tcp.insecure_syn" => {
                if flag()? {
                    return no_knob("RFC 793 RST/SYN handling (it always follows RFC 5961)");
                }
            }
            "net.inet.tcp.recvspace" => {
                self.recv_space = num()? as usize;
                self.engine.rx_buffer = self.recv_space;
                self.apply_rx_rounding();
            }
            "net.inet.tcp.sendspace" => self.engine.tx_buffer = num()? as usize,
            "kern.ipc.maxsockbuf" => {
                c.window_shift = Some(freebsd_shift(num()? as usize));
            }
            "net.inet.tcp.rexmit_initial" => c.initial_rto = ms(num()?),
            "net.inet.tcp.rexmit_min" => c.min_rto = ms(num()?),
            "net.inet.tcp.rexmit_slop" => c.rto_slop = ms(num()?),
            "net.inet.tcp.rexmit_drop_options" => {
                if flag()? {
                    return no_knob("dropping options from retransmitted SYNs");
                }
            }
            "net.inet.tcp.keepinit" => c.connect_timeout = Some(ms(num()?)),
            "net.inet.tcp.delacktime" => c.delayed_ack = Some(ms(num()?)),
            "net.inet.tcp.delayed_ack" => {
                if !flag()? {
                    c.delayed_ack = None;
                } else if c.delayed_ack.is_none() {
                    c.delayed_ack = Some(ms(100));
                }
            }
            "net.inet.tcp.initcwnd_segments" => {
                c.initial_window = u16::try_from(num()?).map_err(|e| format!("{name}: {e}"))?;
            }
            "net.inet.tcp.blackhole" => {
                if num()? != 0 {
                    return no_knob("blackholing (it always answers with RST)");
                }
            }
            "net.inet.tcp.ecn.enable" | "net.ipv4.tcp_ecn" => match num()? {
                0 => self.ecn_server = false,
                2 => {
                    self.ecn_server = true;
                    return Ok(Applied::Note(format!(
                        "{name}={v} (ECN only if the peer asks): the engine has no ECN; \
                         a SYN asking for it fails the script"
                    )));
                }
                _ => return no_knob("ECN"),
            },
            "net.inet.tcp.hostcache.purgenow" => {} // the engine keeps no host cache
            "net.ipv4.tcp_syn_retries" => c.syn_retries = num()?.min(255) as u8,
            "net.ipv4.tcp_synack_retries" => c.synack_retries = num()?.min(255) as u8,
            "net.ipv4.tcp_rfc1337" => c.time_wait_rst_guard = flag()?,
            "net.ipv4.tcp_rmem" => {
                let max = v.split_whitespace().last().unwrap_or("");
                self.engine.rx_buffer = max
                    .parse()
                    .map_err(|_| format!("{name}: bad value `{v}`"))?;
            }
            _ => return Err(format!("{name}: no mapping to an engine setting")),
        }
        Ok(Applied::Done)
    }

    /// Google's `defaults.sh` (the standard Linux test-machine sysctls), as far as the engine
    /// has the settings; the returned note names the parts it has not
    pub fn linux_defaults(&mut self) -> String {
        let c = &mut self.engine.conn;
        c.timestamps = true;
        c.sack = true;
        c.syn_retries = 5;
        c.synack_retries = 5;
        c.congestion = Algorithm::Cubic;
        self.engine.rx_buffer = GOOGLE_RMEM_MAX;
        self.engine.conn.window_shift = Some(engine_shift(GOOGLE_RMEM_MAX));
        self.engine.tx_buffer = 256 * 1024;
        self.engine.syn_cookies = true;
        "defaults.sh: tcp_rmem max 15 MiB (window shift 8), tcp_wmem 256 KiB, timestamps, SACK, \
         SYN/SYN-ACK retries 5, CUBIC, syncookies applied; F-RTO, DSACK, RACK/TLP, pacing, \
         TSO sizing, Fast Open and MPTCP have no engine setting and are not modelled"
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_follow_the_buffer() {
        assert_eq!(freebsd_shift(2_097_152), 6);
        assert_eq!(freebsd_shift(73_728), 1);
        assert_eq!(engine_shift(LINUX_RMEM_MAX), 6);
        assert_eq!(engine_shift(GOOGLE_RMEM_MAX), 8);
        assert_eq!(Profile::FreeBsd.settings().engine.rx_buffer, 65_700);
    }

    #[test]
    fn profiles_by_folder() {
        let p = |s: &str| Profile::for_script(Path::new(s), "");
        assert_eq!(p("x/freebsd-net_tcp-testsuite/a.pkt"), Profile::FreeBsd);
        assert_eq!(
            p("x/nplab_packetdrill/tests/bsd/tcp/a.pkt"),
            Profile::FreeBsd
        );
        assert_eq!(p("x/nplab_packetdrill/tests/linux/a.pkt"), Profile::Linux);
        assert_eq!(p("x/google_packetdrill/a.pkt"), Profile::Linux);
        assert_eq!(p("mine.pkt"), Profile::Rfc);
    }

    #[test]
    fn unsupported_settings_are_errors() {
        let mut s = Profile::FreeBsd.settings();
        assert_eq!(
            s.sysctl("net.inet.tcp.rexmit_initial", "1000", 1),
            Ok(Applied::Done)
        );
        // Supported since the engine has an RTO slop setting.
        assert_eq!(
            s.sysctl("net.inet.tcp.rexmit_slop", "200", 2),
            Ok(Applied::Done)
        );
        assert_eq!(
            s.sysctl("net.inet.tcp.rexmit_slop", "0", 2),
            Ok(Applied::Done)
        );
        assert!(s.sysctl("net.inet.tcp.insecure_rst", "1", 3).is_err());
        assert!(s.sysctl("net.inet.tcp.no_such_thing", "1", 4).is_err());
        // The offered window shift now follows kern.ipc.maxsockbuf (engine `window_shift`).
        s.sysctl("kern.ipc.maxsockbuf", "2097152", 5).unwrap();
        assert!(s.check().is_ok());
    }
}
