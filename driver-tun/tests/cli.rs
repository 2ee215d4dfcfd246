//! `tcp-tun` as a user runs it, inside `ip netns exec`: curl against the HTTP mode (IPv4 and
//! IPv6), nc against the echo mode, `tcp-tun connect` to a kernel nc, Ctrl-C closing the
//! connections and removing the device, and plain messages without permission or without
//! `/dev/net/tun`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{environment_ok, Netns};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const BIN: &str = env!("CARGO_BIN_EXE_tcp-tun");

/// `tcp-tun ARGS` inside `ns`, once it has printed the address it serves on
fn start(ns: &Netns, args: &[&str]) -> (Child, String) {
    let mut child = ns
        .command(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcp-tun");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("server on"), "tcp-tun said {line:?}");
    (child, line)
}

/// Ctrl-C, then the exit status and stderr
fn interrupt(child: Child) -> Output {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    wait_with_timeout(child, Duration::from_secs(10))
}

/// Start draining `child`'s pipes now (a full pipe would stall it); the result waits for
/// it to exit
fn drain(child: Child) -> impl FnOnce(Duration) -> Output {
    let pid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    move |limit| match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            panic!("child did not exit within {limit:?}");
        }
    }
}

fn wait_with_timeout(child: Child, limit: Duration) -> Output {
    drain(child)(limit)
}

fn device_exists(ns: &Netns) -> bool {
    ns.command("ip")
        .args(["link", "show", "tcpe0"])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn curl_gets_the_page_over_ipv4_and_ipv6() {
    let Some(ns) = environment_ok("curl", &["curl"]).then(|| Netns::new("curl")) else {
        return;
    };
    let (child, banner) = start(&ns, &["serve", "--mode", "http", "--port", "8080", "-v"]);
    assert!(
        banner.contains("10.7.0.2:8080") && banner.contains("[fd00:7::2]:8080"),
        "{banner}"
    );
    let mut bodies = Vec::new();
    for url in [
        "http://10.7.0.2:8080/",
        "http://[fd00:7::2]:8080/index.html",
    ] {
        let head = ns.run(&[
            "curl",
            "-sS",
            "-g",
            "-m",
            "10",
            "-D",
            "-",
            "-o",
            "/dev/null",
            url,
        ]);
        let body = ns.run(&["curl", "-sS", "-g", "-m", "10", url]);
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .expect("Content-Length")
            .trim()
            .parse()
            .unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert_eq!(len, body.len());
        assert!(body.contains("Hello from tcp-engine"));
        bodies.push(body);
    }
    assert_eq!(bodies[0], bodies[1]);
    let out = interrupt(child);
    let log = String::from_utf8_lossy(&out.stderr);
    println!("{log}");
    assert!(out.status.success(), "{out:?}");
    assert!(
        log.contains("SYN-RECEIVED -> ESTABLISHED"),
        "-v logs state changes"
    );
    assert!(log.contains("device tcpe0 removed"));
    assert!(!device_exists(&ns));
}

#[test]
fn nc_against_echo_and_tcp_tun_connect_against_nc() {
    let Some(ns) = environment_ok("nc", &["nc"]).then(|| Netns::new("nc")) else {
        return;
    };
    let (child, _) = start(&ns, &["serve", "--mode", "echo", "--port", "7"]);
    let mut nc = ns
        .command("nc")
        .args(["-N", "-w", "10", "10.7.0.2", "7"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let text: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let mut stdin = nc.stdin.take().unwrap();
    let input = text.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = wait_with_timeout(nc, Duration::from_secs(30));
    writer.join().unwrap().unwrap();
    assert_eq!(out.stdout.len(), text.len());
    assert!(out.stdout == text, "echo differs");
    assert!(interrupt(child).status.success());

    // The other way: the kernel's nc listens, `tcp-tun connect` sends its stdin.
    let server = ns
        .command("nc")
        .args(["-l", "9000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let server = drain(server);
    for _ in 0..100 {
        if ns.run(&["ss", "-tlnH"]).contains(":9000") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut client = ns
        .command(BIN)
        .args(["connect", "10.7.0.1:9000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    client.stdin.take().unwrap().write_all(&text).unwrap();
    let client = wait_with_timeout(client, Duration::from_secs(30));
    let server = server(Duration::from_secs(30));
    assert!(client.status.success(), "{client:?}");
    assert!(
        server.stdout == text,
        "nc received {} bytes",
        server.stdout.len()
    );
}

#[test]
fn ctrl_c_closes_connections_and_removes_the_device() {
    let Some(ns) = environment_ok("ctrlc", &[]).then(|| Netns::new("ctrlc")) else {
        return;
    };
    let (child, _) = start(&ns, &["serve", "--mode", "echo", "--port", "7"]);
    let mut conn = ns
        .spawn(|| TcpStream::connect("10.7.0.2:7"))
        .join()
        .unwrap()
        .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    assert!(device_exists(&ns));
    let out = interrupt(child);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("closing 1 connection"), "{log}");
    // The connection was closed with FIN, not reset: the kernel reads end of stream.
    assert_eq!(conn.read(&mut buf).unwrap(), 0);
    assert!(!device_exists(&ns));
}

#[test]
fn plain_messages_without_permission_or_without_dev_net_tun() {
    if !environment_ok("messages", &["setpriv", "unshare"]) {
        return;
    }
    // The binary may sit where `nobody` cannot reach it: run a copy.
    let dir = std::env::temp_dir().join(format!("tcp-tun-msg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("tcp-tun");
    std::fs::copy(BIN, &bin).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bin = bin.to_str().unwrap().to_owned();
    let unprivileged = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .args([&bin, "serve"])
        .output()
        .unwrap();
    let no_device = Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(format!("mount -t tmpfs none /dev/net && exec {bin} serve"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let msg = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    println!("{}{}", msg(&unprivileged), msg(&no_device));
    assert_eq!(unprivileged.status.code(), Some(1));
    assert!(msg(&unprivileged).contains("permission denied"));
    assert!(msg(&unprivileged).contains("CAP_NET_ADMIN"));
    assert_eq!(no_device.status.code(), Some(1));
    assert!(msg(&no_device).contains("/dev/net/tun does not exist"));
}
