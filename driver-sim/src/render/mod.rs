//! Ways to show a run: the ladder diagram, JSON lines, a pcap file, the time-sequence graph,
//! and the text summary.

mod json;
mod ladder;
mod pcap;
mod summary;
mod svg;

pub use json::{json_lines, segment_json, state_json, summary_json};
pub use ladder::{ladder, segment_label, LadderOptions};
pub use pcap::write_pcap;
pub use summary::summary_text;
pub use svg::{time_sequence_svg, SvgError};
