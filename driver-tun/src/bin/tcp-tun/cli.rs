//! The command line and how it becomes a [`StackConfig`]

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use driver_sim::LinkConfig;
use driver_tun::{Impairment, StackConfig, Subnet};

/// The TCP engine on a Linux TUN device, talking to the kernel's TCP
///
/// The device (default tcpe0) gets the kernel-side addresses 10.7.0.1/24 and fd00:7::1/64; the
/// engine answers on 10.7.0.2 and fd00:7::2. Needs root (or CAP_NET_ADMIN) and /dev/net/tun.
#[derive(Debug, Parser)]
#[command(name = "tcp-tun", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What to run
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve on a port of the engine's addresses until Ctrl-C
    Serve {
        /// What to do with each connection
        #[arg(long, value_enum, default_value_t = Mode::Echo)]
        mode: Mode,
        /// Port to listen on
        #[arg(long, short, default_value_t = 7)]
        port: u16,
        #[command(flatten)]
        common: Common,
    },
    /// Connect to HOST:PORT (a kernel-side address) and copy stdin to it and it to stdout
    Connect {
        /// The peer, e.g. `10.7.0.1:8080` or `[fd00:7::1]:8080`
        addr: SocketAddr,
        #[command(flatten)]
        common: Common,
    },
}

/// Server behaviours
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Mode {
    /// Send back everything received
    Echo,
    /// Read and drop everything
    Discard,
    /// Answer HTTP GET with a small page (and its Content-Length)
    Http,
}

/// Options every command takes
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// Name of the TUN interface to create
    #[arg(long, default_value = driver_tun::config::DEFAULT_DEVICE)]
    pub(crate) dev: String,
    /// Kernel-side address/prefix, optionally =engine address (default: the next address);
    /// repeat or separate with commas for IPv4 and IPv6
    #[arg(long, value_delimiter = ',', default_values = ["10.7.0.1/24", "fd00:7::1/64"])]
    pub(crate) net: Vec<Subnet>,
    /// MTU of the device
    #[arg(long, default_value_t = 1500)]
    pub(crate) mtu: u16,
    /// Write every packet the engine receives and sends to this pcap file
    #[arg(long)]
    pub(crate) pcap: Option<PathBuf>,
    /// Log every connection's state changes to stderr
    #[arg(short, long)]
    pub(crate) verbose: bool,
    /// Drop this percentage of packets in each direction (driver-sim's model)
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    pub(crate) loss: Option<f64>,
    /// Hold back this percentage of packets by --reorder-delay so later ones overtake them
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    pub(crate) reorder: Option<f64>,
    /// How long a reordered packet is held back
    #[arg(long, value_name = "MS", default_value = "5", value_parser = millis)]
    pub(crate) reorder_delay: u64,
    /// Deliver this percentage of packets twice
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    pub(crate) dup: Option<f64>,
    /// One-way delay added in each direction
    #[arg(long, value_name = "MS", value_parser = millis)]
    pub(crate) delay: Option<u64>,
    /// Uniform extra delay of up to this much (never reorders)
    #[arg(long, value_name = "MS", value_parser = millis)]
    pub(crate) jitter: Option<u64>,
    /// Seed of the impairment model's random choices
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
}

/// `5`, `5%` or `0.5` percent, as a probability
fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v / 100.0)
    } else {
        Err(format!("{s:?}: a percentage is between 0 and 100"))
    }
}

/// `10` or `10ms` (fractions allowed), in microseconds
fn millis(s: &str) -> Result<u64, String> {
    let v: f64 = s
        .trim_end_matches("ms")
        .parse()
        .map_err(|_| format!("{s:?} is not a number of milliseconds"))?;
    if v.is_finite() && v >= 0.0 {
        Ok((v * 1000.0).round() as u64)
    } else {
        Err(format!("{s:?}: milliseconds must be zero or more"))
    }
}

impl Common {
    /// The stack these options describe
    pub(crate) fn stack_config(&self) -> Result<StackConfig, String> {
        let mut c = StackConfig {
            device: self.dev.clone(),
            v4: None,
            v6: None,
            mtu: self.mtu,
            pcap: self.pcap.clone(),
            ..StackConfig::default()
        };
        for s in &self.net {
            let slot = if s.kernel.is_ipv4() {
                &mut c.v4
            } else {
                &mut c.v6
            };
            if slot.replace(*s).is_some() {
                return Err("--net: give at most one IPv4 and one IPv6 subnet".to_owned());
            }
        }
        let impaired = self.loss.is_some()
            || self.reorder.is_some()
            || self.dup.is_some()
            || self.delay.is_some()
            || self.jitter.is_some();
        if impaired {
            let link = LinkConfig {
                loss: self.loss.unwrap_or(0.0),
                reorder: self.reorder.unwrap_or(0.0),
                reorder_delay_us: self.reorder_delay.max(1),
                duplicate: self.dup.unwrap_or(0.0),
                delay_us: self.delay.unwrap_or(0),
                jitter_us: self.jitter.unwrap_or(0),
                mtu: usize::from(self.mtu),
                ..LinkConfig::default()
            };
            link.validate().map_err(|e| e.to_string())?;
            c.impairment = Some(Impairment::symmetric(link, self.seed));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(percent("5"), Ok(0.05));
        assert_eq!(percent("25%"), Ok(0.25));
        assert!(percent("101").is_err());
        assert_eq!(millis("10"), Ok(10_000));
        assert_eq!(millis("0.5ms"), Ok(500));
        assert!(millis("-1").is_err());
    }

    #[test]
    fn options_build_the_stack_config() {
        let cli = Cli::parse_from([
            "tcp-tun",
            "serve",
            "--dev",
            "t1",
            "--net",
            "10.9.0.1/24",
            "--loss",
            "5",
            "--delay",
            "10",
        ]);
        let Command::Serve { common, .. } = cli.command else {
            panic!()
        };
        let c = common.stack_config().unwrap();
        assert_eq!(c.device, "t1");
        assert_eq!(c.v4.unwrap().engine.to_string(), "10.9.0.2");
        assert!(c.v6.is_none());
        let i = c.impairment.unwrap();
        assert_eq!((i.to_engine.loss, i.to_kernel.delay_us), (0.05, 10_000));
        let plain = Cli::parse_from(["tcp-tun", "connect", "10.7.0.1:80"]);
        let Command::Connect { common, .. } = plain.command else {
            panic!()
        };
        let c = common.stack_config().unwrap();
        assert_eq!((c.v4, c.v6), (Some(Subnet::V4), Some(Subnet::V6)));
        assert!(c.impairment.is_none());
    }
}
