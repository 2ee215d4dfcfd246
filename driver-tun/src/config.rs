//! What the stack is built from: the device and its addresses, the engine settings, the
//! impairment model and the capture file

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::str::FromStr;

use driver_sim::LinkConfig;
use tcp_engine::conn::ConnConfig;
use tcp_engine::engine::{EngineConfig, Limits};

/// Default interface name
pub const DEFAULT_DEVICE: &str = "tcpe0";

/// One address family on the link: the kernel's address on the device, its prefix, and the
/// engine's address behind the device
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    /// The kernel's address on the TUN interface
    pub kernel: IpAddr,
    /// The prefix length given with it (the kernel routes the prefix to the device)
    pub prefix: u8,
    /// The engine's address; if outside the prefix, a host route to it is added
    pub engine: IpAddr,
}

impl Subnet {
    /// The default IPv4 subnet: kernel 10.7.0.1/24, engine 10.7.0.2
    pub const V4: Self = Self {
        kernel: IpAddr::V4(Ipv4Addr::new(10, 7, 0, 1)),
        prefix: 24,
        engine: IpAddr::V4(Ipv4Addr::new(10, 7, 0, 2)),
    };

    /// The default IPv6 subnet: kernel fd00:7::1/64, engine fd00:7::2
    pub const V6: Self = Self {
        kernel: IpAddr::V6(Ipv6Addr::new(0xfd00, 7, 0, 0, 0, 0, 0, 1)),
        prefix: 64,
        engine: IpAddr::V6(Ipv6Addr::new(0xfd00, 7, 0, 0, 0, 0, 0, 2)),
    };

    /// Whether `ip` lies inside the kernel address's prefix
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.kernel, ip) {
            (IpAddr::V4(k), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(k) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(k), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(k) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Why a subnet specification did not parse
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetParseError(String);

impl fmt::Display for SubnetParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SubnetParseError {}

fn next_address(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(a) => u32::from(a)
            .checked_add(1)
            .map(|n| Ipv4Addr::from(n).into()),
        IpAddr::V6(a) => u128::from(a)
            .checked_add(1)
            .map(|n| Ipv6Addr::from(n).into()),
    }
}

impl FromStr for Subnet {
    type Err = SubnetParseError;

    /// `KERNEL/PREFIX` (the engine takes the next address) or `KERNEL/PREFIX=ENGINE`, e.g.
    /// `10.7.0.1/24`, `fd00:7::1/64=fd00:7::99`
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |m: &str| SubnetParseError(format!("{s:?}: {m}"));
        let (net, engine) = match s.split_once('=') {
            Some((n, e)) => (n, Some(e)),
            None => (s, None),
        };
        let (kernel, prefix) = net
            .split_once('/')
            .ok_or_else(|| err("expected ADDRESS/PREFIX[=ENGINE_ADDRESS]"))?;
        let kernel: IpAddr = kernel.parse().map_err(|_| err("bad kernel address"))?;
        let prefix: u8 = prefix.parse().map_err(|_| err("bad prefix length"))?;
        let max = if kernel.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(err("prefix length too long"));
        }
        let engine = match engine {
            Some(e) => e.parse().map_err(|_| err("bad engine address"))?,
            None => next_address(kernel).ok_or_else(|| err("no address after the kernel's"))?,
        };
        if engine.is_ipv4() != kernel.is_ipv4() || engine == kernel {
            return Err(err("the engine needs another address of the same family"));
        }
        Ok(Self {
            kernel,
            prefix,
            engine,
        })
    }
}

/// The network the driver applies to what it reads from and writes to the device (driver-sim's
/// model, one [`LinkConfig`] per direction), and the seed of its random choices
#[derive(Debug, Clone, PartialEq)]
pub struct Impairment {
    /// Packets from the kernel to the engine
    pub to_engine: LinkConfig,
    /// Packets from the engine to the kernel
    pub to_kernel: LinkConfig,
    /// Seed of the model's random stream
    pub seed: u64,
}

impl Impairment {
    /// The same link in both directions
    pub fn symmetric(link: LinkConfig, seed: u64) -> Self {
        Self {
            to_engine: link.clone(),
            to_kernel: link,
            seed,
        }
    }
}

/// Everything a [`Stack`](crate::Stack) is built from
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Interface name (at most 15 bytes)
    pub device: String,
    /// IPv4 on the link, if any
    pub v4: Option<Subnet>,
    /// IPv6 on the link, if any
    pub v6: Option<Subnet>,
    /// MTU of the device; the engine's MSS is derived from it
    pub mtu: u16,
    /// Engine settings; the ISN secret is replaced with bytes from the OS random source
    pub engine: EngineConfig,
    /// Table sizes of the engine
    pub limits: Limits,
    /// Send every packet through driver-sim's model on its way in and out
    pub impairment: Option<Impairment>,
    /// Write every IP packet the engine receives and sends to this pcap file
    pub pcap: Option<PathBuf>,
}

impl Default for StackConfig {
    /// `tcpe0`, 10.7.0.1/24 and fd00:7::1/64 for the kernel, 10.7.0.2 and fd00:7::2 for the
    /// engine, MTU 1500, a 64 KiB receive and 256 KiB send buffer, Nagle off, no impairment,
    /// no capture
    fn default() -> Self {
        Self {
            device: DEFAULT_DEVICE.to_owned(),
            v4: Some(Subnet::V4),
            v6: Some(Subnet::V6),
            mtu: 1500,
            engine: EngineConfig {
                conn: ConnConfig {
                    // Like TCP_NODELAY: streams here are written in large blocks or by an
                    // interactive user, and neither wants to wait for an ACK.
                    nagle: false,
                    ..ConnConfig::default()
                },
                // 65535: no window scaling. With scaling the engine rounds its advertised
                // window up past its free space and can stall (see the crate README); until
                // that is fixed, a receive window of 64 KiB is the safe default.
                rx_buffer: 65_535,
                tx_buffer: 256 * 1024,
                ..EngineConfig::default()
            },
            limits: Limits::default(),
            impairment: None,
            pcap: None,
        }
    }
}

impl StackConfig {
    /// The engine's address of the family of `ip`
    pub fn engine_addr(&self, v6: bool) -> Option<IpAddr> {
        if v6 { self.v6 } else { self.v4 }.map(|s| s.engine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_parse_with_and_without_an_engine_address() {
        assert_eq!("10.7.0.1/24".parse::<Subnet>().unwrap(), Subnet::V4);
        assert_eq!("fd00:7::1/64".parse::<Subnet>().unwrap(), Subnet::V6);
        let s: Subnet = "10.9.0.1/30=10.9.0.2".parse().unwrap();
        assert_eq!(s.engine, IpAddr::V4(Ipv4Addr::new(10, 9, 0, 2)));
        for bad in [
            "10.7.0.1",
            "10.7.0.1/33",
            "10.7.0.1/24=fd00::1",
            "10.7.0.1/24=10.7.0.1",
            "x/24",
            "255.255.255.255/32",
        ] {
            assert!(bad.parse::<Subnet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn prefix_membership() {
        assert!(Subnet::V4.contains(Subnet::V4.engine));
        assert!(!Subnet::V4.contains(IpAddr::V4(Ipv4Addr::new(10, 7, 1, 2))));
        assert!(Subnet::V6.contains(Subnet::V6.engine));
        assert!(!Subnet::V6.contains(Subnet::V4.engine));
        let host: Subnet = "10.9.0.1/32=10.9.0.2".parse().unwrap();
        assert!(!host.contains(host.engine));
        let all: Subnet = "10.9.0.1/0".parse().unwrap();
        assert!(all.contains(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4))));
    }
}
