//! Packetdrill scripts against the engine
//!
//! [packetdrill](https://github.com/google/packetdrill) scripts state TCP behaviour as
//! segments in, segments expected out and socket calls, on a clock. This module runs the
//! subset described in the shared corpus's `README.md` against one [`tcp_engine`] engine on
//! a virtual clock:
//!
//! - inbound `<` lines become segments handed to
//!   [`Engine::handle_segment`](tcp_engine::engine::Engine::handle_segment);
//! - outbound `>` lines are matched field by field (flags, sequence and ACK numbers
//!   relative to each side's ISN, window, options in wire order with their padding, payload
//!   bytes, time within the tolerance) against what the engine emitted;
//! - system calls map onto the engine's application API (`connect` → `connect`, `write` →
//!   `send`, `close` → `close` or `abort` with `SO_LINGER` 0, ...);
//! - FreeBSD `sysctl` lines and Google's `defaults.sh` become engine settings;
//! - the script's times drive the engine's clock, which is never read from the host.
//!
//! A line the runner cannot run faithfully fails the script with its line number and the
//! reason: nothing is skipped. A [`Profile`] picks the engine settings that reproduce the
//! stack a script was written for.
//!
//! ```
//! use driver_sim::packetdrill::{run_script, RunOptions};
//!
//! let script = "
//!  0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
//! +0 bind(3, ..., ...) = 0
//! +0 listen(3, 1) = 0
//! +0 < S 0:0(0) win 65535 <mss 1460,nop,nop,sackOK>
//! +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK>
//! +.1 < . 1:1(0) ack 1 win 65535
//! +0 accept(3, ..., ...) = 4
//! ";
//! let outcome = run_script(script, None, &RunOptions::default());
//! assert!(outcome.passed(), "{:?}", outcome.result);
//! ```

mod ast;
mod clock;
mod lexer;
mod packets;
mod parser;
#[cfg(test)]
mod parser_tests;
mod profile;
mod report;
mod run;
mod segment;
mod shell;
mod sockopt;
mod streams;
mod syscalls;

pub use ast::{
    Action, Direction, Event, Expr, OptionSpec, PacketSpec, Script, ScriptOption, SyntaxError,
    SyscallSpec, TcpOpt, Timing, When,
};
pub use parser::parse;
pub use profile::{Applied, Profile, Settings};
pub use report::{
    collect_scripts, describe, execute, run_file, run_script, Failure, Outcome, PktArgs, RunOptions,
};
