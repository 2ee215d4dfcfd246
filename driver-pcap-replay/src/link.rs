//! Link layers: finds the IP packet inside a captured frame.
//!
//! Ethernet and VLAN tags are parsed with `etherparse`. The Linux cooked
//! headers and the BSD loopback header are read here directly: they are a
//! fixed offset plus a protocol field, and `etherparse` 0.17 refuses SLL
//! headers whose ARPHRD type is not Ethernet (the loopback captures use 772).

use etherparse::{EtherType, Ethernet2Slice, SingleVlanSlice};

use crate::capture::SkipReason;

/// Which IP version a link layer promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpVersion {
    /// The link layer said IPv4.
    V4,
    /// The link layer said IPv6.
    V6,
    /// Raw IP: the version nibble decides.
    Any,
}

/// LINKTYPE_NULL: BSD loopback, 4-byte address family in the writer's byte order.
pub(crate) const LINKTYPE_NULL: u32 = 0;
/// LINKTYPE_ETHERNET.
pub(crate) const LINKTYPE_ETHERNET: u32 = 1;
/// DLT_RAW as written by some systems (12 on most, 14 on OpenBSD).
pub(crate) const LINKTYPE_RAW_12: u32 = 12;
/// DLT_RAW on OpenBSD.
pub(crate) const LINKTYPE_RAW_14: u32 = 14;
/// LINKTYPE_RAW: bare IPv4 or IPv6.
pub(crate) const LINKTYPE_RAW: u32 = 101;
/// LINKTYPE_LOOP: OpenBSD loopback, 4-byte address family in network byte order.
pub(crate) const LINKTYPE_LOOP: u32 = 108;
/// LINKTYPE_LINUX_SLL: Linux cooked capture v1.
pub(crate) const LINKTYPE_LINUX_SLL: u32 = 113;
/// LINKTYPE_IPV4: bare IPv4.
pub(crate) const LINKTYPE_IPV4: u32 = 228;
/// LINKTYPE_IPV6: bare IPv6.
pub(crate) const LINKTYPE_IPV6: u32 = 229;
/// LINKTYPE_LINUX_SLL2: Linux cooked capture v2.
pub(crate) const LINKTYPE_LINUX_SLL2: u32 = 276;

const ARPHRD_NETLINK: u16 = 824;

/// Returns the bytes from the IP header on, and the IP version the link layer announced.
pub(crate) fn ip_of_frame(link_type: u32, data: &[u8]) -> Result<(&[u8], IpVersion), SkipReason> {
    match link_type {
        LINKTYPE_NULL | LINKTYPE_LOOP => loopback(data),
        LINKTYPE_ETHERNET => ethernet(data),
        LINKTYPE_RAW | LINKTYPE_RAW_12 | LINKTYPE_RAW_14 => Ok((data, IpVersion::Any)),
        LINKTYPE_IPV4 => Ok((data, IpVersion::V4)),
        LINKTYPE_IPV6 => Ok((data, IpVersion::V6)),
        LINKTYPE_LINUX_SLL => cooked(data, 2, 14, 16),
        LINKTYPE_LINUX_SLL2 => cooked(data, 8, 0, 20),
        other => Err(SkipReason::UnsupportedLinkType(other)),
    }
}

/// BSD loopback (NULL) and OpenBSD LOOP: a 4-byte address family.
fn loopback(data: &[u8]) -> Result<(&[u8], IpVersion), SkipReason> {
    let (Some(family), Some(rest)) = (data.get(..4), data.get(4..)) else {
        return Err(SkipReason::Truncated);
    };
    let family = [family[0], family[1], family[2], family[3]];
    // The writer's host byte order is unknown: families are small numbers,
    // so whichever reading fits in 16 bits is the right one.
    let le = u32::from_le_bytes(family);
    let family = if le <= 0xFFFF {
        le
    } else {
        u32::from_be_bytes(family)
    };
    match family {
        2 => Ok((rest, IpVersion::V4)),
        24 | 28 | 30 => Ok((rest, IpVersion::V6)),
        _ => Err(SkipReason::NotIp),
    }
}

/// Ethernet II, with any number of 802.1Q / 802.1ad tags.
fn ethernet(data: &[u8]) -> Result<(&[u8], IpVersion), SkipReason> {
    let eth = Ethernet2Slice::from_slice_without_fcs(data).map_err(|_| SkipReason::Truncated)?;
    by_ether_type(eth.ether_type(), eth.payload_slice())
}

/// Dispatches on an EtherType, unwrapping VLAN tags.
fn by_ether_type(
    mut ether_type: EtherType,
    mut payload: &[u8],
) -> Result<(&[u8], IpVersion), SkipReason> {
    loop {
        match ether_type {
            EtherType::IPV4 => return Ok((payload, IpVersion::V4)),
            EtherType::IPV6 => return Ok((payload, IpVersion::V6)),
            EtherType::VLAN_TAGGED_FRAME
            | EtherType::PROVIDER_BRIDGING
            | EtherType::VLAN_DOUBLE_TAGGED_FRAME => {
                let vlan =
                    SingleVlanSlice::from_slice(payload).map_err(|_| SkipReason::Truncated)?;
                ether_type = vlan.ether_type();
                payload = vlan.payload_slice();
            }
            _ => return Err(SkipReason::NotIp),
        }
    }
}

/// Linux cooked captures: ARPHRD type at `hatype_at`, protocol at `proto_at`, header `len` bytes.
fn cooked(
    data: &[u8],
    hatype_at: usize,
    proto_at: usize,
    len: usize,
) -> Result<(&[u8], IpVersion), SkipReason> {
    let field = |at: usize| {
        data.get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let (Some(hatype), Some(protocol), Some(payload)) =
        (field(hatype_at), field(proto_at), data.get(len..))
    else {
        return Err(SkipReason::Truncated);
    };
    if hatype == ARPHRD_NETLINK {
        return Err(SkipReason::NotIp);
    }
    by_ether_type(EtherType(protocol), payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: &[u8] = &[0x45, 0, 0, 20];

    fn eth(ether_type: u16, tags: &[u16], payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        for tag in tags {
            f.extend_from_slice(&tag.to_be_bytes());
            f.extend_from_slice(&[0, 7]);
        }
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn ethernet_and_vlans() {
        assert_eq!(
            ip_of_frame(1, &eth(0x0800, &[], IP)),
            Ok((IP, IpVersion::V4))
        );
        assert_eq!(
            ip_of_frame(1, &eth(0x86DD, &[0x8100], IP)),
            Ok((IP, IpVersion::V6))
        );
        let qinq = eth(0x0800, &[0x88A8, 0x8100, 0x8100], IP);
        assert_eq!(ip_of_frame(1, &qinq), Ok((IP, IpVersion::V4)));
        assert_eq!(
            ip_of_frame(1, &eth(0x0806, &[], IP)),
            Err(SkipReason::NotIp)
        );
        assert_eq!(ip_of_frame(1, &[0; 13]), Err(SkipReason::Truncated));
        assert_eq!(
            ip_of_frame(1, &eth(0x8100, &[], &[0, 1])),
            Err(SkipReason::Truncated)
        );
    }

    #[test]
    fn loopback_families_either_byte_order() {
        for family in [2u32, 24, 28, 30] {
            let want = if family == 2 {
                IpVersion::V4
            } else {
                IpVersion::V6
            };
            for header in [family.to_le_bytes(), family.to_be_bytes()] {
                let frame = [&header[..], IP].concat();
                assert_eq!(ip_of_frame(0, &frame), Ok((IP, want)));
                assert_eq!(ip_of_frame(108, &frame), Ok((IP, want)));
            }
        }
        assert_eq!(ip_of_frame(0, &[10, 0, 0, 0]), Err(SkipReason::NotIp));
        assert_eq!(ip_of_frame(0, &[2, 0, 0]), Err(SkipReason::Truncated));
    }

    #[test]
    fn cooked_v1_and_v2() {
        // SLL v1 on loopback (ARPHRD 772), protocol IPv4.
        let mut sll = vec![0, 0, 0x03, 0x04, 0, 6];
        sll.extend_from_slice(&[0; 8]);
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(IP);
        assert_eq!(ip_of_frame(113, &sll), Ok((IP, IpVersion::V4)));
        assert_eq!(ip_of_frame(113, &sll[..15]), Err(SkipReason::Truncated));
        // SLL v2: protocol IPv6, reserved, ifindex, ARPHRD 1, type, addr len, addr.
        let mut sll2 = vec![0x86, 0xDD, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6];
        sll2.extend_from_slice(&[0; 8]);
        sll2.extend_from_slice(IP);
        assert_eq!(ip_of_frame(276, &sll2), Ok((IP, IpVersion::V6)));
        // Netlink traffic is not IP even when the protocol number looks like it.
        sll2[8..10].copy_from_slice(&ARPHRD_NETLINK.to_be_bytes());
        sll2[0..2].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(ip_of_frame(276, &sll2), Err(SkipReason::NotIp));
    }

    #[test]
    fn raw_and_unknown() {
        for lt in [12, 14, 101] {
            assert_eq!(ip_of_frame(lt, IP), Ok((IP, IpVersion::Any)));
        }
        assert_eq!(ip_of_frame(228, IP), Ok((IP, IpVersion::V4)));
        assert_eq!(ip_of_frame(229, IP), Ok((IP, IpVersion::V6)));
        assert_eq!(
            ip_of_frame(105, IP),
            Err(SkipReason::UnsupportedLinkType(105))
        );
    }
}
