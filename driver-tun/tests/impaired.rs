//! The transfers again over an impaired path, impaired in two independent ways: the kernel
//! drops 5 % of the packets in each direction with nftables on the device, and the driver
//! runs what it reads and writes through driver-sim's model with 25 % reordering, 1 %
//! duplication and 10 ms of delay each way. Everything must arrive intact.

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use common::scenarios::{
    engine_client_thread, engine_echo_server, kernel_echo_client, kernel_echo_server,
};
use common::{environment_ok, transfer_size, Netns, Pattern};
use driver_sim::LinkConfig;
use driver_tun::{Impairment, StackConfig};

/// 5 % random loss each way on `tcpe0`, counted
const NFT_LOSS: &str = r#"
table inet tcpe_impair {
    chain input {
        type filter hook input priority 0; policy accept;
        iifname "tcpe0" numgen random mod 100 < 5 counter drop
    }
    chain output {
        type filter hook output priority 0; policy accept;
        oifname "tcpe0" numgen random mod 100 < 5 counter drop
    }
}
"#;

fn impaired_config(seed: u64) -> StackConfig {
    let link = LinkConfig {
        reorder: 0.25,
        reorder_delay_us: 5_000,
        duplicate: 0.01,
        delay_us: 10_000,
        ..LinkConfig::default()
    };
    let mut c = StackConfig {
        impairment: Some(Impairment::symmetric(link, seed)),
        ..StackConfig::default()
    };
    // Linux's minimum RTO (200 ms rather than RFC 6298's 1 s), so both ends recover from a
    // lost retransmission on the same clock.
    c.engine.conn.min_rto = std::time::Duration::from_millis(200);
    c
}

/// The nft drop counters, e.g. `[412, 380]` (input, output)
fn nft_drops(ns: &Netns) -> Vec<u64> {
    ns.run(&["nft", "list", "table", "inet", "tcpe_impair"])
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let i = w.iter().position(|x| *x == "packets")?;
            w.get(i + 1)?.parse().ok()
        })
        .collect()
}

fn setup(tag: &str) -> Option<Netns> {
    let ns = environment_ok(tag, &["nft"]).then(|| Netns::new(tag))?;
    ns.nft(NFT_LOSS);
    Some(ns)
}

#[test]
fn kernel_client_engine_echo_server_over_loss_reordering_duplication_delay() {
    let Some(ns) = setup("imp-k2e") else {
        return;
    };
    let len = transfer_size();
    let engine: SocketAddr = "10.7.0.2:7".parse().unwrap();
    let start = Instant::now();
    let server = engine_echo_server(&ns, impaired_config(3), engine.port(), 1);
    let client = ns.spawn(move || kernel_echo_client(engine, 5, len));
    let (sent, received) = client.join().unwrap().expect("kernel client");
    let stats = server.join().unwrap().expect("engine server");
    println!(
        "impaired kernel -> engine echo in {:.2?}: sent {sent:?}; echoed {received:?}",
        start.elapsed()
    );
    println!("nft drops (in, out): {:?}", nft_drops(&ns));
    println!("model: {:?}", stats.path);
    println!("engine: {:?}", stats.engine);
    assert_eq!(sent, Pattern::summary(5, len));
    assert_eq!(received, sent);
    let path = stats.path.expect("the model ran");
    assert!(path.reordered > 0 && path.duplicated > 0);
    assert!(nft_drops(&ns).iter().all(|&d| d > 0), "nft dropped nothing");
}

#[test]
fn engine_client_kernel_echo_server_over_loss_reordering_duplication_delay() {
    let Some(ns) = setup("imp-e2k") else {
        return;
    };
    let len = transfer_size();
    let kernel: SocketAddr = "[fd00:7::1]:7007".parse().unwrap();
    let start = Instant::now();
    let server = kernel_echo_server(&ns, kernel.port(), 1);
    let client = engine_client_thread(&ns, impaired_config(4), kernel, 9, len);
    let ((sent, received), stats) = client.join().unwrap().expect("engine client");
    server.join().unwrap().expect("kernel server");
    println!(
        "impaired engine -> kernel echo (IPv6) in {:.2?}: sent {sent:?}; echoed {received:?}",
        start.elapsed()
    );
    println!("nft drops (in, out): {:?}", nft_drops(&ns));
    println!("model: {:?}", stats.path);
    println!("engine: {:?}", stats.engine);
    assert_eq!(sent, Pattern::summary(9, len));
    assert_eq!(received, sent);
    assert!(nft_drops(&ns).iter().all(|&d| d > 0), "nft dropped nothing");
}
