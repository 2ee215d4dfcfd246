//! Reads pcap and pcapng captures and extracts their TCP segments.
