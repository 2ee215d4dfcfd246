//! `size`: memory per connection and per TIME-WAIT entry, buffers excluded
//!
//! Ours: what [`EngineStorage::owned`](tcp_engine::engine::EngineStorage::owned) sets aside
//! per connection slot (the slot with its [`Connection`], two index cells, a timer-heap entry
//! and its position) and per TIME-WAIT entry (the entry and two index cells). smoltcp: what
//! a `SocketSet` holds per TCP socket; it has no TIME-WAIT entry, a socket in TIME-WAIT is a
//! whole socket.

use core::mem::size_of;

use smoltcp::iface::SocketStorage;
use smoltcp::socket::tcp;
use tcp_engine::conn::Connection;
use tcp_engine::engine::{ConnSlot, TimeWaitEntry};

use super::Figure;

/// Bytes of every per-connection piece of our engine's storage
pub fn ours_per_conn() -> usize {
    size_of::<ConnSlot>() + 2 * size_of::<u32>() + size_of::<(u64, u32)>() + size_of::<u32>()
}

/// Bytes of our TIME-WAIT entry with its index cells
pub fn ours_per_time_wait() -> usize {
    size_of::<TimeWaitEntry>() + 2 * size_of::<u32>()
}

/// Bytes of one smoltcp socket slot in a `SocketSet`
pub fn smol_per_conn() -> usize {
    size_of::<SocketStorage<'static>>()
}

/// The `size` figures
pub fn size() -> Vec<Figure> {
    let conn = format!(
        "ours: Connection {} + slot {} + index/timers {}; smoltcp: tcp::Socket {} + set {}",
        size_of::<Connection>(),
        size_of::<ConnSlot>() - size_of::<Connection>(),
        ours_per_conn() - size_of::<ConnSlot>(),
        size_of::<tcp::Socket<'static>>(),
        smol_per_conn() - size_of::<tcp::Socket<'static>>(),
    );
    let tw = format!(
        "ours: TimeWaitEntry {} + index {}; smoltcp keeps the socket",
        size_of::<TimeWaitEntry>(),
        2 * size_of::<u32>()
    );
    vec![
        Figure::new(
            "size",
            "bytes_per_conn",
            Some(ours_per_conn() as f64),
            Some(smol_per_conn() as f64),
            false,
        )
        .with_note(conn),
        Figure::new(
            "size",
            "bytes_per_timewait",
            Some(ours_per_time_wait() as f64),
            Some(smol_per_conn() as f64),
            false,
        )
        .with_note(tw),
    ]
}
