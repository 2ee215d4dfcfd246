//! Tests of the parser on lines of every kind

use tcp_engine::wire::TcpFlags;

use super::ast::{Action, Event, Expr, OptionSpec, TcpOpt, Timing, When};
use super::parser::{micros, parse};
fn one(s: &str) -> Event {
    let script = parse(s).unwrap();
    assert_eq!(script.events.len(), 1, "{script:?}");
    script.events.into_iter().next().unwrap()
}

#[test]
fn times() {
    assert_eq!(micros("0.100"), Some(100_000));
    assert_eq!(micros(".01"), Some(10_000));
    assert_eq!(micros("5"), Some(5_000_000));
    assert_eq!(micros("1.0000001"), None);
    let e = one("+.01...0.011 connect(3, ..., ...) = 0");
    assert_eq!(e.timing, Timing::Blocking(When::Rel(10_000), 11_000));
    let e = one("+.3~+.400 > F. 1:1(0) ack 1");
    assert_eq!(
        e.timing,
        Timing::Range(When::Rel(300_000), When::Rel(400_000))
    );
    assert_eq!(one("* > . 1:1(0) ack 1").timing, Timing::Any);
}

#[test]
fn packet_lines() {
    let e = one("+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>");
    let Action::Packet(p) = e.action else {
        panic!()
    };
    assert_eq!(p.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!((p.start, p.len, p.ack, p.win), (0, 0, Some(1), Some(65535)));
    assert_eq!(
        p.options,
        OptionSpec::List(vec![
            TcpOpt::Mss(1460),
            TcpOpt::Nop,
            TcpOpt::WScale(6),
            TcpOpt::SackOk,
            TcpOpt::Timestamp { val: 100, ecr: 0 }
        ])
    );
    let e = one("0.1 < - 1:1001(1000) win 20000");
    let Action::Packet(p) = e.action else {
        panic!()
    };
    assert!(p.flags.is_empty());
    let e = one("+0 > . 1:1(0) ack 1 <nop,nop,sack 16:32 40:48>");
    let Action::Packet(p) = e.action else {
        panic!()
    };
    assert_eq!(
        p.options,
        OptionSpec::List(vec![
            TcpOpt::Nop,
            TcpOpt::Nop,
            TcpOpt::Sack(vec![(16, 32), (40, 48)])
        ])
    );
    assert!(parse("0 < S 0:0(0)").is_err(), "inbound needs win");
    assert!(parse("0 > S 0:5(0)").is_err(), "END = START + LEN");
    let e = parse("0 > S 0:0(0)\n+0 > S 0:0(0) <FO abc>").unwrap_err();
    assert_eq!(e.line, 2);
}

#[test]
fn syscalls_and_commands() {
    let s = parse(
        "--tolerance_usecs=10000\n`../common/defaults.sh`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
         +0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n\
         +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n\
         +0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [65536], [4]) = 0\n\
         +0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n\
         +0 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)\n\
         +0 %{ assert tcpi_state == TCPI_ESTABLISHED }%\n",
    )
    .unwrap();
    assert_eq!(s.options[0].name, "tolerance_usecs");
    assert_eq!(s.events.len(), 8);
    assert_eq!(
        s.events[0].action,
        Action::Shell("../common/defaults.sh".into())
    );
    assert_eq!(s.events[0].timing, Timing::At(When::Abs(0)));
    let Action::Syscall(c) = &s.events[3].action else {
        panic!()
    };
    assert_eq!((c.ret, c.errno.as_deref()), (-1, Some("EINPROGRESS")));
    let Action::Syscall(c) = &s.events[2].action else {
        panic!()
    };
    assert_eq!(
        c.args[2],
        Expr::Or(vec![
            Expr::Ident("O_RDWR".into()),
            Expr::Ident("O_NONBLOCK".into())
        ])
    );
    let Action::Syscall(c) = &s.events[6].action else {
        panic!()
    };
    assert_eq!(c.ret, 2);
    assert_eq!(s.events[4].line, 6);
}
