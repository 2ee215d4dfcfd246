//! Whole capture files: the pcap/pcapng reader, then flow extraction and the
//! flow table, must never panic, whatever the bytes.
#![no_main]

use driver_pcap_replay::render::flows_table;
use driver_pcap_replay::{extract_flows, read_capture};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(capture) = read_capture(data) else {
        return;
    };
    let flows = extract_flows(&capture);
    // Every segment is either in exactly one flow or unassigned.
    let assigned: usize = flows.flows.iter().map(|f| f.segments.len()).sum();
    assert_eq!(assigned + flows.unassigned.len(), capture.segments.len());
    let _ = flows_table(&flows);
});
