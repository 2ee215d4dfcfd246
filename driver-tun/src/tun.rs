//! The TUN device: `/dev/net/tun` opened with `IFF_TUN | IFF_NO_PI` (raw IP packets, no
//! packet-information header), non-blocking.
//!
//! This file holds the crate's only `unsafe` block (the `TUNSETIFF` ioctl). The device is not
//! persistent: it disappears when the file is closed, so dropping a [`TunDevice`] removes it.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The clone device every TUN interface is created through
pub const CLONE_DEVICE: &str = "/dev/net/tun";

// TUNSETIFF is `_IOW('T', 202, int)` but takes a `struct ifreq *`, which the kernel reads (name
// and flags) and writes back (the name it chose): a "bad" read-write ioctl in nix's terms.
nix::ioctl_readwrite_bad!(
    /// `ioctl(fd, TUNSETIFF, &mut ifreq)`: turn a clone-device descriptor into an interface
    tun_set_iff,
    libc::TUNSETIFF,
    libc::ifreq
);

/// Why the TUN device could not be created; the messages say what to do about it
#[derive(Debug)]
pub enum TunError {
    /// `/dev/net/tun` does not exist
    NoCloneDevice,
    /// Opening `/dev/net/tun` or `TUNSETIFF` was refused: root or `CAP_NET_ADMIN` is needed
    PermissionDenied,
    /// `/dev/net/tun` is not a TUN clone device (the ioctl is not supported)
    NotTun,
    /// The interface name is empty, too long (15 bytes at most) or contains a NUL
    BadName(String),
    /// The name is taken by an interface of another kind, or by a TUN device in use
    Busy(String),
    /// Any other system error
    Io(io::Error),
}

impl fmt::Display for TunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCloneDevice => write!(
                f,
                "{CLONE_DEVICE} does not exist: load the tun module (modprobe tun), or in a \
                 container pass the device in (e.g. --device /dev/net/tun)"
            ),
            Self::PermissionDenied => f.write_str(
                "permission denied: creating and configuring a TUN device needs root or the \
                 CAP_NET_ADMIN capability (try sudo, or setcap cap_net_admin+ep on the binary)",
            ),
            Self::NotTun => write!(f, "{CLONE_DEVICE} is not a TUN clone device"),
            Self::BadName(n) => write!(
                f,
                "bad interface name {n:?}: 1 to 15 bytes, no NUL, no '/' or whitespace"
            ),
            Self::Busy(n) => write!(
                f,
                "interface {n:?} exists and cannot be used as a new TUN device (in use, or \
                 not a TUN device): choose another name with --dev"
            ),
            Self::Io(e) => write!(f, "TUN device: {e}"),
        }
    }
}

impl std::error::Error for TunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TunError> for io::Error {
    fn from(e: TunError) -> Self {
        let kind = match &e {
            TunError::NoCloneDevice => io::ErrorKind::NotFound,
            TunError::PermissionDenied => io::ErrorKind::PermissionDenied,
            TunError::BadName(_) => io::ErrorKind::InvalidInput,
            TunError::Busy(_) => io::ErrorKind::AddrInUse,
            TunError::NotTun => io::ErrorKind::Unsupported,
            TunError::Io(e) => e.kind(),
        };
        Self::new(kind, e)
    }
}

/// An open TUN interface (layer 3, raw IP packets), non-blocking
#[derive(Debug)]
pub struct TunDevice {
    file: File,
    name: String,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < libc::IFNAMSIZ
        && !name
            .bytes()
            .any(|b| b == 0 || b == b'/' || b.is_ascii_whitespace())
}

impl TunDevice {
    /// Create the TUN interface `name` in the calling thread's network namespace
    ///
    /// The interface starts down and without addresses (see [`crate::netlink`]).
    pub fn create(name: &str) -> Result<Self, TunError> {
        Self::create_with(Path::new(CLONE_DEVICE), name)
    }

    /// Like [`TunDevice::create`], through another clone device path (for tests)
    pub fn create_with(clone: &Path, name: &str) -> Result<Self, TunError> {
        if !valid_name(name) {
            return Err(TunError::BadName(name.to_owned()));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(clone)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => TunError::NoCloneDevice,
                io::ErrorKind::PermissionDenied => TunError::PermissionDenied,
                _ => TunError::Io(e),
            })?;
        let mut name_field = [0 as libc::c_char; libc::IFNAMSIZ];
        for (dst, src) in name_field.iter_mut().zip(name.bytes()) {
            *dst = src as libc::c_char;
        }
        let mut req = libc::ifreq {
            ifr_name: name_field,
            ifr_ifru: libc::__c_anonymous_ifr_ifru {
                // Layer 3 and no 4-byte packet-information header before each packet.
                ifru_flags: (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short,
            },
        };
        // SAFETY: `file` is an open descriptor of the clone device for the whole call, and
        // `req` is a live, properly initialised `struct ifreq` (NUL-terminated name, flags in
        // the union) that the kernel reads and writes back within the call; nothing keeps the
        // pointer afterwards.
        let set = unsafe { tun_set_iff(file.as_raw_fd(), &mut req) };
        set.map_err(|errno| match errno {
            nix::errno::Errno::EPERM | nix::errno::Errno::EACCES => TunError::PermissionDenied,
            nix::errno::Errno::EBUSY | nix::errno::Errno::EINVAL => TunError::Busy(name.to_owned()),
            nix::errno::Errno::ENOTTY | nix::errno::Errno::EBADFD => TunError::NotTun,
            e => TunError::Io(e.into()),
        })?;
        Ok(Self {
            file,
            name: name.to_owned(),
        })
    }

    /// The interface name
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Read one packet into `buf`; `Err(WouldBlock)` when none is waiting
    ///
    /// A packet longer than `buf` is cut short (the caller's length checks then drop it).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.file).read(buf)
    }

    /// Write one whole IP packet
    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        let n = (&self.file).write(packet)?;
        if n == packet.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "TUN device took part of a packet",
            ))
        }
    }
}

impl AsFd for TunDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_any_system_call() {
        for bad in ["", "0123456789abcdef", "a/b", "a b", "a\0b"] {
            assert!(matches!(
                TunDevice::create_with(Path::new("/nonexistent"), bad),
                Err(TunError::BadName(_))
            ));
        }
    }

    #[test]
    fn a_missing_clone_device_says_so() {
        let e = TunDevice::create_with(Path::new("/nonexistent/tun"), "tcpe0").unwrap_err();
        assert!(matches!(e, TunError::NoCloneDevice));
        assert!(e.to_string().contains("does not exist"));
        assert_eq!(io::Error::from(e).kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_file_that_is_not_a_clone_device_is_named() {
        let e = TunDevice::create_with(Path::new("/dev/null"), "tcpe0").unwrap_err();
        // Root gets ENOTTY from the ioctl; anyone else may not even open /dev/null read-write.
        assert!(
            matches!(e, TunError::NotTun | TunError::PermissionDenied),
            "{e:?}"
        );
    }
}
