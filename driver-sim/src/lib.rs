//! A deterministic simulated network for the TCP engine.
