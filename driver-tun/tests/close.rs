//! Closing and refusing, checked against the kernel's own view (`ss -tan`): the active closer
//! ends in TIME-WAIT on either side, a SYN to a closed port is refused with RST both ways, and
//! a kernel RST surfaces as `ConnectionReset`.

mod common;

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::{environment_ok, Netns};
use driver_tun::{Stack, StackConfig};
use tcp_engine::conn::{Event, State};

/// Run the stack until a message comes
fn pump<T>(stack: &Stack, rx: &Receiver<T>) -> T {
    for _ in 0..3000 {
        if let Ok(v) = rx.try_recv() {
            return v;
        }
        stack.poll(Some(Duration::from_millis(10))).unwrap();
    }
    panic!("no word from the kernel side within 30 s");
}

/// Accept one connection or fail the test after `limit`
fn accept_within(l: &TcpListener, limit: Duration) -> (TcpStream, SocketAddr) {
    l.set_nonblocking(true).unwrap();
    let start = std::time::Instant::now();
    loop {
        match l.accept() {
            Ok((s, a)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                return (s, a);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && start.elapsed() < limit => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("no connection to the kernel listener: {e}"),
        }
    }
}

/// Every state change of every connection, in order
fn record(stack: &Stack) -> Rc<RefCell<Vec<(State, State)>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = Rc::clone(&log);
    stack.set_event_hook(Some(Box::new(move |e| {
        if let Event::StateChanged { from, to } = e.event {
            l.borrow_mut().push((from, to));
        }
    })));
    log
}

/// Wait for the kernel's socket toward `peer` to reach `state`; returns the states seen
fn await_kernel_state(ns: &Netns, peer: &str, state: &str) -> Vec<String> {
    for _ in 0..100 {
        let s = ns.states_to(peer);
        if s.iter().any(|x| x == state) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "kernel socket to {peer} never reached {state}: {:?}",
        ns.sockets()
    );
}

fn kernel_closes_first(tag: &str, engine: SocketAddr, peer: &str) {
    let Some(ns) = environment_ok(tag, &[]).then(|| Netns::new(tag)) else {
        return;
    };
    let (up_tx, up_rx) = mpsc::channel();
    let (eof_tx, eof_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let server = ns.spawn(move || {
        let stack = Stack::new(StackConfig::default()).unwrap();
        let log = record(&stack);
        let l = stack.listen(engine.port()).unwrap();
        up_tx.send(()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"bye");
        let state = s.state().unwrap();
        eof_tx.send(()).unwrap();
        pump(&stack, &go_rx);
        drop(s);
        assert!(stack.linger(Duration::from_secs(5)).unwrap());
        let tw = stack.time_wait_count();
        let log = log.borrow().clone();
        (state, tw, log)
    });
    up_rx.recv().unwrap();
    let client = ns.spawn(move || {
        let mut c = TcpStream::connect(engine).unwrap();
        c.write_all(b"bye").unwrap();
        drop(c); // the kernel closes first
    });
    client.join().unwrap();
    eof_rx.recv().unwrap();
    // The engine has the FIN and has not closed yet: the kernel waits in FIN-WAIT-2.
    let before = await_kernel_state(&ns, peer, "FIN-WAIT-2");
    go_tx.send(()).unwrap();
    let (state, tw, log) = server.join().unwrap();
    let after = await_kernel_state(&ns, peer, "TIME-WAIT");
    println!("{tag}: kernel {before:?} then {after:?}; engine {log:?}");
    assert_eq!(state, State::CloseWait);
    assert!(log.contains(&(State::CloseWait, State::LastAck)));
    assert!(log.contains(&(State::LastAck, State::Closed)));
    assert_eq!(tw, 0, "the passive closer keeps no TIME-WAIT");
}

fn engine_closes_first(tag: &str, kernel: SocketAddr, engine_ip: &str) {
    let Some(ns) = environment_ok(tag, &[]).then(|| Netns::new(tag)) else {
        return;
    };
    // A wildcard listener needs no address yet: bound before the stack exists.
    let l = ns
        .spawn(move || TcpListener::bind(("::", kernel.port())))
        .join()
        .unwrap()
        .expect("kernel listener");
    let (done_tx, done_rx) = mpsc::channel();
    let engine = ns.spawn(move || {
        let stack = Stack::new(StackConfig::default()).unwrap();
        let log = record(&stack);
        let mut s = stack.connect(kernel).unwrap();
        let local = s.local_addr();
        s.write_all(b"hello").unwrap();
        drop(s); // the engine closes first
        pump(&stack, &done_rx);
        stack.linger(Duration::from_secs(5)).unwrap();
        let tw = stack.time_wait_count();
        let log = log.borrow().clone();
        (local, tw, log)
    });
    let (mut c, from) = accept_within(&l, Duration::from_secs(10));
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"hello");
    let peer = from.to_string();
    assert!(peer.contains(engine_ip), "{peer}");
    let before = await_kernel_state(&ns, &peer, "CLOSE-WAIT");
    drop(c);
    // The kernel goes LAST-ACK -> CLOSED: no socket left toward the engine.
    let mut after = ns.states_to(&peer);
    for _ in 0..100 {
        if after.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        after = ns.states_to(&peer);
    }
    done_tx.send(()).unwrap();
    let (local, tw, log) = engine.join().unwrap();
    println!("{tag}: kernel {before:?} then {after:?}; engine {local} {log:?}");
    assert!(after.is_empty(), "kernel kept {after:?}");
    assert!(log.contains(&(State::Established, State::FinWait1)));
    // FIN-WAIT-1 straight to TIME-WAIT when the kernel's FIN acknowledges ours.
    assert!(log.iter().any(|&(_, to)| to == State::TimeWait), "{log:?}");
    assert_eq!(tw, 1, "the active closer keeps TIME-WAIT");
}

#[test]
fn kernel_closes_first_ipv4() {
    kernel_closes_first("kclose4", "10.7.0.2:5001".parse().unwrap(), "10.7.0.2:5001");
}

#[test]
fn kernel_closes_first_ipv6() {
    kernel_closes_first(
        "kclose6",
        "[fd00:7::2]:5001".parse().unwrap(),
        "[fd00:7::2]:5001",
    );
}

#[test]
fn engine_closes_first_ipv4() {
    engine_closes_first("eclose4", "10.7.0.1:5002".parse().unwrap(), "10.7.0.2]");
}

#[test]
fn engine_closes_first_ipv6() {
    engine_closes_first(
        "eclose6",
        "[fd00:7::1]:5002".parse().unwrap(),
        "[fd00:7::2]",
    );
}

/// A stack that runs on its own thread until told to stop; returns its counters
fn background_stack(
    ns: &Netns,
) -> (
    mpsc::Sender<()>,
    std::thread::JoinHandle<driver_tun::StackStats>,
) {
    let (up_tx, up_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel();
    let h = ns.spawn(move || {
        let stack = Stack::new(StackConfig::default()).unwrap();
        up_tx.send(()).unwrap();
        pump(&stack, &stop_rx);
        stack.stats()
    });
    up_rx.recv().unwrap();
    (stop_tx, h)
}

#[test]
fn kernel_connect_to_a_closed_engine_port_is_refused() {
    let Some(ns) = environment_ok("refused", &[]).then(|| Netns::new("refused")) else {
        return;
    };
    let (stop, stack) = background_stack(&ns);
    let errors = ns
        .spawn(|| {
            ["10.7.0.2:9", "[fd00:7::2]:9"].map(|a| {
                TcpStream::connect_timeout(&a.parse().unwrap(), Duration::from_secs(5))
                    .map(drop)
                    .map_err(|e| e.kind())
            })
        })
        .join()
        .unwrap();
    stop.send(()).unwrap();
    let stats = stack.join().unwrap();
    println!("refused: {errors:?}, {stats:?}");
    assert_eq!(errors, [Err(ErrorKind::ConnectionRefused); 2]);
    assert_eq!(stats.engine.resets_sent, 2);
}

#[test]
fn engine_connect_to_a_closed_kernel_port_is_refused() {
    let Some(ns) = environment_ok("erefused", &[]).then(|| Netns::new("erefused")) else {
        return;
    };
    let kinds = ns
        .spawn(|| {
            let stack = Stack::new(StackConfig::default()).unwrap();
            ["10.7.0.1:9", "[fd00:7::1]:9"].map(|a| {
                stack
                    .connect_timeout(a.parse().unwrap(), Duration::from_secs(5))
                    .map(drop)
                    .map_err(|e| e.kind())
            })
        })
        .join()
        .unwrap();
    assert_eq!(kinds, [Err(ErrorKind::ConnectionRefused); 2]);
}

#[test]
fn a_kernel_reset_reads_as_connection_reset() {
    let Some(ns) = environment_ok("reset", &[]).then(|| Netns::new("reset")) else {
        return;
    };
    let (up_tx, up_rx) = mpsc::channel();
    let server = ns.spawn(move || {
        let stack = Stack::new(StackConfig::default()).unwrap();
        let l = stack.listen(5003).unwrap();
        up_tx.send(()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 16];
        let first = s.read(&mut buf).map_err(|e| e.kind());
        let second = s.read(&mut buf).map_err(|e| e.kind());
        let write = s.write(b"x").map_err(|e| e.kind());
        (first, second, write)
    });
    up_rx.recv().unwrap();
    ns.spawn(|| {
        let mut c = TcpStream::connect("10.7.0.2:5003").unwrap();
        c.write_all(b"ab").unwrap();
        std::thread::sleep(Duration::from_millis(200));
        // SO_LINGER 0: close sends RST.
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        nix::sys::socket::setsockopt(&c.as_fd(), nix::sys::socket::sockopt::Linger, &linger)
            .unwrap();
        let _ = c.shutdown(Shutdown::Read);
        drop(c);
    })
    .join()
    .unwrap();
    let (first, second, write) = server.join().unwrap();
    assert_eq!(first, Ok(2));
    assert_eq!(second, Err(ErrorKind::ConnectionReset));
    assert_eq!(write, Err(ErrorKind::ConnectionReset));
}

#[test]
fn an_unanswered_connect_times_out() {
    let Some(ns) = environment_ok("timeout", &[]).then(|| Netns::new("timeout")) else {
        return;
    };
    let kind = ns
        .spawn(|| {
            let mut config = StackConfig::default();
            config.engine.conn.syn_retries = 1;
            config.engine.conn.initial_rto = Duration::from_millis(200);
            let stack = Stack::new(config).unwrap();
            // Inside the kernel's prefix but nobody's address: the SYNs go unanswered.
            let start = std::time::Instant::now();
            let r = stack.connect("10.7.0.99:80".parse().unwrap());
            (r.map(drop).map_err(|e| e.kind()), start.elapsed())
        })
        .join()
        .unwrap();
    println!("unanswered connect: {kind:?}");
    assert_eq!(kind.0, Err(ErrorKind::TimedOut));
    assert!(kind.1 < Duration::from_secs(10));
}
