use super::*;

const A: HostId = HostId(0);
const B: HostId = HostId(1);

fn net_with(cfg: LinkConfig) -> Network {
    let mut net = Network::new(1);
    net.set_default_link(cfg).unwrap();
    net
}

fn drain(net: &mut Network) -> Vec<Arrival> {
    let mut out = Vec::new();
    while let Some(at) = net.next_arrival() {
        while let Some(a) = net.poll_arrival(at) {
            out.push(a);
        }
    }
    out
}

fn lossy() -> LinkConfig {
    LinkConfig {
        loss: 0.1,
        duplicate: 0.05,
        reorder: 0.05,
        reorder_delay_us: 3_000,
        corrupt: 0.05,
        corrupt_bits: 2,
        delay_us: 5_000,
        jitter_us: 1_000,
        rate_bps: Some(10_000_000),
        queue_limit_bytes: 20_000,
        ..LinkConfig::default()
    }
}

fn run(seed: u64, packets: u64) -> (Vec<SendOutcome>, Vec<Arrival>) {
    let mut net = Network::new(seed);
    net.set_default_link(lossy()).unwrap();
    for i in 0..packets {
        let len = 40 + (i as usize * 37) % 1400;
        net.send(i * 300, A, B, vec![(i % 251) as u8; len]);
    }
    (net.take_trace(), drain(&mut net))
}

#[test]
fn perfect_link_delivers_immediately() {
    let mut net = Network::new(0);
    assert_eq!(net.next_arrival(), None);
    let out = net.send(10, A, B, vec![1, 2, 3]);
    assert!(out.is_delivered());
    assert_eq!(out.arrival_us, Some(10));
    assert_eq!(net.next_arrival(), Some(10));
    let a = net.poll_arrival(10).unwrap();
    assert_eq!((a.id, a.from, a.to, a.packet), (0, A, B, vec![1, 2, 3]));
    assert!(!a.corrupted && !a.duplicate && !a.reordered);
    assert_eq!(net.poll_arrival(u64::MAX), None);
}

#[test]
fn loss_rate_within_statistical_tolerance() {
    let mut net = net_with(LinkConfig {
        loss: 0.1,
        ..LinkConfig::default()
    });
    for i in 0..10_000 {
        net.send(i, A, B, vec![0; 100]);
    }
    // Binomial(10 000, 0.1): mean 1000, standard deviation 30; allow 5 sd.
    let lost = net.stats().lost;
    assert!((850..=1150).contains(&lost), "lost {lost}");
    assert_eq!(net.stats().delivered + lost, 10_000);
    assert_eq!(drain(&mut net).len() as u64, 10_000 - lost);
}

#[test]
fn same_seed_same_fates_and_bytes() {
    let (trace1, arrivals1) = run(7, 2_000);
    let (trace2, arrivals2) = run(7, 2_000);
    assert_eq!(trace1, trace2);
    assert_eq!(arrivals1, arrivals2);
    // The mix exercises every fate but the configuration ones.
    let fates: std::collections::BTreeSet<_> = trace1.iter().flat_map(|o| o.fates()).collect();
    for f in [
        Fate::Lost,
        Fate::Duplicated,
        Fate::Reordered,
        Fate::Corrupted,
    ] {
        assert!(fates.contains(&f), "{f} missing");
    }
}

#[test]
fn different_seed_different_fates() {
    let (trace1, _) = run(7, 500);
    let (trace2, _) = run(8, 500);
    assert_ne!(trace1, trace2);
}

#[test]
fn golden_fates_pin_the_random_stream() {
    // Guards cross-platform and cross-version stability: if this changes,
    // every recorded seed of every test changes meaning.
    let (trace, _) = run(42, 400);
    let summary: Vec<String> = trace
        .iter()
        .filter(|o| o.fates().count() > 1 || !o.is_delivered())
        .take(8)
        .map(ToString::to_string)
        .collect();
    assert_eq!(summary, GOLDEN);
}

const GOLDEN: [&str; 8] = [
    "t=300 #1 h0->h1 77B delivered+reordered at=8853",
    "t=1200 #4 h0->h1 188B lost",
    "t=1500 #5 h0->h1 225B delivered+reordered at=10478",
    "t=3900 #13 h0->h1 521B lost",
    "t=4500 #15 h0->h1 595B delivered+corrupted at=10799",
    "t=7500 #25 h0->h1 965B delivered+reordered at=20101",
    "t=7800 #26 h0->h1 1002B lost",
    "t=9900 #33 h0->h1 1261B lost",
];

#[test]
fn directions_have_independent_dice() {
    let mut quiet = net_with(lossy());
    let mut busy = net_with(lossy());
    for i in 0..300 {
        busy.send(i * 300, B, A, vec![0; 500]);
        busy.send(i * 300, HostId(5), A, vec![0; 500]);
        quiet.send(i * 300, A, B, vec![0; 100]);
        busy.send(i * 300, A, B, vec![0; 100]);
    }
    let forward = |n: &Network| -> Vec<SendOutcome> {
        n.trace()
            .iter()
            .filter(|o| o.from == A)
            .map(|o| SendOutcome { id: 0, ..o.clone() })
            .collect()
    };
    assert_eq!(forward(&quiet), forward(&busy));
}

#[test]
fn duplication_produces_two_arrivals() {
    let mut net = net_with(LinkConfig {
        duplicate: 1.0,
        delay_us: 1_000,
        duplicate_delay_us: 250,
        ..LinkConfig::default()
    });
    let out = net.send(0, A, B, vec![9; 20]);
    assert!(out.duplicated);
    assert_eq!(out.arrival_us, Some(1_000));
    assert_eq!(out.duplicate_arrival_us, Some(1_250));
    assert_eq!(net.in_flight(), 2);
    let first = net.poll_arrival(1_000).unwrap();
    assert!(!first.duplicate);
    assert_eq!(net.poll_arrival(1_249), None);
    let copy = net.poll_arrival(1_250).unwrap();
    assert!(copy.duplicate);
    assert_eq!((copy.id, &copy.packet), (first.id, &first.packet));
    assert_eq!(net.stats().duplicated, 1);
    assert_eq!(net.stats().arrivals, 2);
}

#[test]
fn reordered_packet_is_overtaken() {
    let base = LinkConfig {
        delay_us: 1_000,
        ..LinkConfig::default()
    };
    let mut net = net_with(base.clone());
    net.set_link(
        A,
        B,
        LinkConfig {
            reorder: 1.0,
            reorder_delay_us: 5_000,
            ..base.clone()
        },
    )
    .unwrap();
    let first = net.send(0, A, B, vec![1]);
    assert!(first.reordered);
    net.set_link(A, B, base).unwrap();
    let second = net.send(10, A, B, vec![2]);
    assert!(!second.reordered);
    let order: Vec<_> = drain(&mut net).iter().map(|a| a.packet[0]).collect();
    assert_eq!(order, [2, 1]);
}

#[test]
fn random_reordering_makes_later_packets_overtake() {
    let mut net = net_with(LinkConfig {
        reorder: 0.2,
        reorder_delay_us: 50,
        ..LinkConfig::default()
    });
    for i in 0..200 {
        net.send(i * 10, A, B, vec![0]);
    }
    let ids: Vec<_> = drain(&mut net).iter().map(|a| a.id).collect();
    let inversions = ids.windows(2).filter(|w| w[0] > w[1]).count();
    assert!(inversions > 10, "only {inversions} inversions");
}

#[test]
fn rate_limited_link_serialises() {
    let mut net = net_with(LinkConfig {
        rate_bps: Some(1_000_000),
        delay_us: 500,
        ..LinkConfig::default()
    });
    // 1500 bytes at 1 Mbit/s take 12 ms; the second waits for the first.
    let t: Vec<_> = (0..3)
        .map(|_| net.send(0, A, B, vec![0; 1500]).arrival_us)
        .collect();
    assert_eq!(t, [Some(12_500), Some(24_500), Some(36_500)]);
    // The reverse direction has its own bottleneck.
    assert_eq!(net.send(0, B, A, vec![0; 1500]).arrival_us, Some(12_500));
}

#[test]
fn full_queue_tail_drops() {
    let mut net = net_with(LinkConfig {
        rate_bps: Some(1_000_000),
        queue_limit_bytes: 3_000,
        ..LinkConfig::default()
    });
    let fates: Vec<_> = (0..5)
        .map(|_| net.send(0, A, B, vec![0; 1500]).fate)
        .collect();
    use Fate::{Delivered as D, TailDropped as T};
    assert_eq!(fates, [D, D, D, T, T]);
    assert_eq!(net.stats().tail_dropped, 2);
    // Once the first has been serialised there is room for one more.
    assert_eq!(net.send(12_000, A, B, vec![0; 1500]).fate, D);
    assert_eq!(net.send(12_000, A, B, vec![0; 1500]).fate, T);
}

#[test]
fn oversize_packets_are_dropped() {
    let mut net = net_with(LinkConfig {
        mtu: 1280,
        ..LinkConfig::default()
    });
    assert_eq!(net.send(0, A, B, vec![0; 1280]).fate, Fate::Delivered);
    assert_eq!(net.send(0, A, B, vec![0; 1281]).fate, Fate::TooBig);
    assert_eq!(net.send(0, A, B, Vec::new()).fate, Fate::Delivered);
    assert_eq!(net.stats().too_big, 1);
    assert_eq!(drain(&mut net).len(), 2);
}

#[test]
fn partition_drops_only_within_its_interval() {
    let mut net = net_with(LinkConfig {
        delay_us: 100,
        partitions: vec![(1_000, 2_000)],
        ..LinkConfig::default()
    });
    let fates: Vec<_> = [0, 999, 1_000, 1_500, 1_999, 2_000, 5_000]
        .into_iter()
        .map(|t| net.send(t, A, B, vec![0; 10]).fate)
        .collect();
    use Fate::{Delivered as D, Partitioned as P};
    assert_eq!(fates, [D, D, P, P, P, D, D]);
    // The packet sent at 999 was in flight when the partition began.
    let arrived: Vec<_> = drain(&mut net).iter().map(|a| a.sent_us).collect();
    assert_eq!(arrived, [0, 999, 2_000, 5_000]);
    // The other direction is not partitioned unless configured so.
    net.set_link(B, A, LinkConfig::default()).unwrap();
    assert!(net.send(1_500, B, A, vec![0]).is_delivered());
}

#[test]
fn corruption_flips_the_configured_bits() {
    for bits in [1, 3] {
        let mut net = net_with(LinkConfig {
            corrupt: 1.0,
            corrupt_bits: bits,
            ..LinkConfig::default()
        });
        let original = vec![0x5a; 60];
        for i in 0..100 {
            let out = net.send(i, A, B, original.clone());
            assert_eq!(out.corrupted_bits, u64::from(bits));
            assert!(out.fates().any(|f| f == Fate::Corrupted));
        }
        for a in drain(&mut net) {
            assert!(a.corrupted);
            let flipped: u32 = a
                .packet
                .iter()
                .zip(&original)
                .map(|(x, y)| (x ^ y).count_ones())
                .sum();
            assert_eq!(flipped, bits);
        }
    }
    // An empty packet has nothing to corrupt.
    let mut net = net_with(LinkConfig {
        corrupt: 1.0,
        ..LinkConfig::default()
    });
    assert!(!net.send(0, A, B, Vec::new()).is_corrupted());
}

#[test]
fn jitter_never_reorders_non_reordered_packets() {
    let mut net = net_with(LinkConfig {
        delay_us: 1_000,
        jitter_us: 10_000,
        duplicate: 0.0,
        ..LinkConfig::default()
    });
    for i in 0..2_000 {
        let out = net.send(i * 10, A, B, vec![0; 64]);
        let at = out.arrival_us.unwrap();
        assert!(at >= i * 10 + 1_000);
    }
    let arrivals = drain(&mut net);
    assert_eq!(arrivals.len(), 2_000);
    assert!(arrivals.windows(2).all(|w| w[0].id < w[1].id));
    assert!(arrivals.windows(2).all(|w| w[0].at_us <= w[1].at_us));
    // Jitter did vary the delay.
    let delays: std::collections::BTreeSet<_> =
        arrivals.iter().map(|a| a.at_us - a.sent_us).collect();
    assert!(delays.len() > 100);
}

#[test]
fn equal_arrival_times_come_out_in_send_order() {
    let mut net = Network::new(3);
    for i in 0..10u8 {
        net.send(50, HostId(u32::from(i % 3)), B, vec![i]);
    }
    assert_eq!(net.poll_arrival(49), None);
    let order: Vec<_> = std::iter::from_fn(|| net.poll_arrival(50))
        .map(|a| a.packet[0])
        .collect();
    assert_eq!(order, (0..10).collect::<Vec<_>>());
}

#[test]
fn invalid_configs_are_refused_and_the_old_one_kept() {
    let mut net = Network::new(0);
    let good = LinkConfig {
        delay_us: 7,
        ..LinkConfig::default()
    };
    net.set_link(A, B, good.clone()).unwrap();
    let bad = LinkConfig {
        loss: 2.0,
        ..LinkConfig::default()
    };
    assert!(net.set_link(A, B, bad.clone()).is_err());
    assert!(net.set_link_both(A, B, bad.clone()).is_err());
    assert!(net.set_default_link(bad).is_err());
    assert_eq!(net.link(A, B), &good);
    assert_eq!(net.link(B, A), &LinkConfig::default());
    net.clear_link(A, B);
    assert_eq!(net.link(A, B), net.default_link());
}

#[test]
fn extreme_inputs_do_not_panic() {
    let mut net = net_with(LinkConfig {
        loss: 0.3,
        duplicate: 0.5,
        duplicate_delay_us: u64::MAX,
        reorder: 0.5,
        reorder_delay_us: u64::MAX,
        delay_us: u64::MAX,
        jitter_us: u64::MAX,
        rate_bps: Some(1),
        queue_limit_bytes: usize::MAX,
        corrupt: 1.0,
        corrupt_bits: u32::MAX,
        mtu: usize::MAX,
        partitions: vec![(u64::MAX - 1, u64::MAX)],
    });
    for (i, now) in [0, u64::MAX, 5, u64::MAX - 1, 1].into_iter().enumerate() {
        net.send(now, HostId(u32::MAX), HostId(i as u32), vec![0xff; i * 3]);
        net.send(now, A, A, vec![1; 100]);
    }
    let n = drain(&mut net).len() as u64;
    assert_eq!(n, net.stats().arrivals);
    assert_eq!(net.in_flight(), 0);
}

#[test]
fn trace_and_stats_agree() {
    let (trace, arrivals) = run(11, 1_000);
    let mut net = Network::new(11);
    net.set_default_link(lossy()).unwrap();
    net.set_trace_enabled(false);
    for i in 0..1_000u64 {
        net.send(i * 300, A, B, vec![0; 40 + (i as usize * 37) % 1400]);
    }
    assert!(net.trace().is_empty());
    let s = *net.stats();
    assert_eq!(s.sent, trace.len() as u64);
    assert_eq!(s.sent, s.delivered + s.dropped());
    assert_eq!(
        s.lost,
        trace.iter().filter(|o| o.fate == Fate::Lost).count() as u64
    );
    assert_eq!(s.delivered + s.duplicated, arrivals.len() as u64);
    assert_eq!(
        s.corrupted,
        arrivals
            .iter()
            .filter(|a| a.corrupted && !a.duplicate)
            .count() as u64
    );
}
