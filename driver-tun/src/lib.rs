//! Binds the TCP engine to a Linux TUN device.
//!
//! Not built yet: this crate holds no code so far, and claims nothing. The plan (see
//! `ARCHITECTURE.md` and issue 7) is a TUN device for IPv4 and IPv6, the real clock, a poll
//! loop, and a std socket-like API on top.
