//! 10 MiB each way between the kernel's TCP and the engine over the TUN device, IPv4 and
//! IPv6, in both roles; SHA-256 of everything sent and received must match.

mod common;

use std::net::SocketAddr;

use common::scenarios::{
    engine_client_thread, engine_echo_server, kernel_echo_client, kernel_echo_server,
};
use common::{environment_ok, transfer_size, Netns, Pattern};
use driver_tun::StackConfig;

fn kernel_client_to_engine_server(tag: &str, engine: SocketAddr) {
    let Some(ns) = environment_ok(tag, &[]).then(|| Netns::new(tag)) else {
        return;
    };
    let len = transfer_size();
    let server = engine_echo_server(&ns, StackConfig::default(), engine.port(), 1);
    let client = ns.spawn(move || kernel_echo_client(engine, 7, len));
    let (sent, received) = client.join().unwrap().expect("kernel client");
    let stats = server.join().unwrap().expect("engine server");
    println!("{tag}: kernel -> engine echo: sent {sent:?}; echoed back {received:?}");
    println!("{tag}: {stats:?}");
    assert_eq!(sent, Pattern::summary(7, len));
    assert_eq!(received, sent);
}

fn engine_client_to_kernel_server(tag: &str, kernel: SocketAddr) {
    let Some(ns) = environment_ok(tag, &[]).then(|| Netns::new(tag)) else {
        return;
    };
    let len = transfer_size();
    let server = kernel_echo_server(&ns, kernel.port(), 1);
    let client = engine_client_thread(&ns, StackConfig::default(), kernel, 11, len);
    let ((sent, received), stats) = client.join().unwrap().expect("engine client");
    server.join().unwrap().expect("kernel server");
    println!("{tag}: engine -> kernel echo: sent {sent:?}; echoed back {received:?}");
    println!("{tag}: {stats:?}");
    assert_eq!(sent, Pattern::summary(11, len));
    assert_eq!(received, sent);
}

#[test]
fn kernel_client_engine_echo_server_ipv4() {
    kernel_client_to_engine_server("k2e4", "10.7.0.2:7".parse().unwrap());
}

#[test]
fn kernel_client_engine_echo_server_ipv6() {
    kernel_client_to_engine_server("k2e6", "[fd00:7::2]:7".parse().unwrap());
}

#[test]
fn engine_client_kernel_echo_server_ipv4() {
    engine_client_to_kernel_server("e2k4", "10.7.0.1:7007".parse().unwrap());
}

#[test]
fn engine_client_kernel_echo_server_ipv6() {
    engine_client_to_kernel_server("e2k6", "[fd00:7::1]:7007".parse().unwrap());
}
