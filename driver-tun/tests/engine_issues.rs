//! Minimal, sans-IO reproductions of engine problems met over the TUN device (no root
//! needed), kept as regression tests now that they are fixed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tcp_engine::conn::ConnConfig;
use tcp_engine::engine::{Disposition, Engine, EngineConfig, EngineStorage, Limits};
use tcp_engine::seq::SeqNumber;
use tcp_engine::time::Instant;
use tcp_engine::wire::{ChecksumCheck, TcpFlags, TcpOptions, TcpRepr};

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 7, 0, 1));
const US: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 7, 0, 2));

fn segment(seq: u32, ack: u32, flags: TcpFlags, options: TcpOptions) -> Vec<u8> {
    let repr = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        flags,
        seq_number: SeqNumber(seq),
        ack_number: SeqNumber(ack),
        window_len: 65535,
        urgent_pointer: 0,
        options,
        payload: &[],
    };
    let mut buf = vec![0u8; 64];
    let n = repr.emit(&mut buf, &PEER, &US).unwrap();
    buf.truncate(n);
    buf
}

/// (seq, ack, window) of the engine's next segment
fn next_out(engine: &mut Engine<'static>) -> (u32, u32, u16, usize) {
    let mut buf = [0u8; 2048];
    let t = engine
        .poll_transmit(Instant::ZERO, &mut buf)
        .expect("a segment");
    let r = TcpRepr::parse_bytes(&buf[..t.len], &US, &PEER, ChecksumCheck::Verify).unwrap();
    (
        r.seq_number.0,
        r.ack_number.0,
        r.window_len,
        r.payload.len(),
    )
}

/// RFC 9293 §3.10.7.4 asks for "special allowance" for valid ACKs, and Linux accepts a
/// zero-length segment whose SEQ is at most RCV.NXT + RCV.WND. The engine drops it as out of
/// window, with its ACK: when the peer's data filling our window was lost (or, over TUN, when
/// the engine dropped data it had advertised room for), every later pure ACK of the peer
/// carries SEQ = RCV.NXT + RCV.WND and is thrown away, and the connection crawls on the
/// peer's backed-off retransmission timer.
#[test]
fn a_pure_ack_at_the_right_edge_of_the_window_is_accepted() {
    let config = EngineConfig {
        conn: ConnConfig {
            timestamps: false,
            sack: false,
            window_scaling: false,
            ..ConnConfig::default()
        },
        rx_buffer: 4096,
        tx_buffer: 4096,
        ..EngineConfig::default()
    };
    let storage = EngineStorage::owned(&Limits::default(), 4096, 4096);
    let mut engine = Engine::new(config, storage).unwrap();
    let l = engine.listen(SocketAddr::new(US, 80), 4).unwrap();
    let syn = TcpOptions {
        mss: Some(1460),
        ..TcpOptions::NONE
    };
    let _ = engine.handle_segment(
        Instant::ZERO,
        PEER,
        US,
        &segment(1000, 0, TcpFlags::SYN, syn),
    );
    let (iss, _, _, _) = next_out(&mut engine);
    let ack = segment(1001, iss + 1, TcpFlags::ACK, TcpOptions::NONE);
    let _ = engine.handle_segment(Instant::ZERO, PEER, US, &ack);
    let h = engine.accept(l).unwrap();
    assert_eq!(engine.send(h, b"hello"), Ok(5));
    let (seq, rcv_nxt, wnd, len) = next_out(&mut engine);
    assert_eq!((seq, rcv_nxt, len), (iss + 1, 1001, 5));
    // The peer sent `wnd` bytes that are lost; its ACK of our "hello" sits at the right edge.
    let edge_ack = segment(
        1001 + u32::from(wnd),
        iss + 6,
        TcpFlags::ACK,
        TcpOptions::NONE,
    );
    let d = engine.handle_segment(Instant::ZERO, PEER, US, &edge_ack);
    assert!(matches!(d, Disposition::Accepted(_)), "{d:?}");
    assert_eq!(
        engine.send_queue(h),
        Ok(0),
        "the ACK of our data was ignored"
    );
}
