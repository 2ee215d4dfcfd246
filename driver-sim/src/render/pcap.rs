//! `--pcap`: every segment that entered the link, as raw IP with simulated timestamps.

use std::io::{self, Write};

use driver_pcap_replay::PcapWriter;

use crate::sim::TraceEvent;

/// Writes a classic pcap file (raw IP, microsecond timestamps counted from the Unix epoch as
/// simulated time 0) holding every segment of `trace` as it entered the link: lost ones too,
/// and each duplicated or corrupted one once, with the bytes that were sent.
///
/// # Errors
///
/// Any error of `out`.
pub fn write_pcap<W: Write>(trace: &[TraceEvent], out: W) -> io::Result<W> {
    let mut w = PcapWriter::new(out)?;
    for e in trace {
        if let TraceEvent::Segment(s) = e {
            w.write_packet(s.t_us, &s.packet)?;
        }
    }
    Ok(w.into_inner())
}
