//! Small runs of every workload on both stacks, so the benchmark keeps working as the
//! engine changes

use super::bulk::{open_idle, transfer};
use super::churn::exchange;
use super::link::{Link, LinkParams};
use super::lossy::completion;
use super::net::{Net, World};
use super::ours::{Ours, OursConfig};
use super::pattern::Pattern;
use super::smol::Smol;
use super::MIB;
use smoltcp::socket::tcp::CongestionControl;

fn ours(idle: usize) -> Ours {
    Ours::new(OursConfig {
        connections: idle + 8,
        time_wait: 64,
        ..OursConfig::default()
    })
}

fn bulk_and_churn<N: Net>(mut net: N, world: &mut World) {
    let pattern = Pattern::new();
    net.listen(64);
    open_idle(&mut net, world, 70).unwrap();
    let t = transfer(&mut net, world, &pattern, MIB).unwrap();
    assert!(t.virtual_us < 1_000_000, "{t:?}");
    for _ in 0..20 {
        exchange(&mut net, world, &pattern).unwrap();
    }
}

#[test]
fn ours_bulk_idle_and_churn() {
    let mut world = World::new(Link::new(LinkParams::IDEAL), 60);
    bulk_and_churn(ours(70), &mut world);
}

#[test]
fn smoltcp_bulk_idle_and_churn() {
    let mut world = World::new(Link::new(LinkParams::IDEAL), 60);
    let net = Smol::new(&mut world.link, CongestionControl::None);
    bulk_and_churn(net, &mut world);
}

#[test]
fn lossy_transfers_complete() {
    let make_ours = |_: &mut Link| ours(0);
    let (t, recovery) = completion(&make_ours, 256 * 1024, 0.01, 3).unwrap();
    assert!(t > 0.0 && recovery.is_some());
    let make_smol = |l: &mut Link| Smol::new(l, CongestionControl::Reno);
    let (t, recovery) = completion(&make_smol, 256 * 1024, 0.01, 3).unwrap();
    assert!(t > 0.0 && recovery.is_none());
}
