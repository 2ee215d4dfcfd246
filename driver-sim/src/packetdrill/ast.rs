//! What a parsed packetdrill script is made of
//!
//! Times are microseconds. Sequence numbers are kept as written in the script: the
//! interpreter maps the engine's own numbers (relative to its ISN) when it runs.

use std::fmt;

use tcp_engine::wire::TcpFlags;

/// Why a script could not be read, with the line it happened on
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Line number, from 1
    pub line: usize,
    /// What was wrong
    pub reason: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for SyntaxError {}

/// A whole script: command-line options, then events in order
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    /// `--name=value` lines at the top
    pub options: Vec<ScriptOption>,
    /// The events, in script order
    pub events: Vec<Event>,
}

/// One `--name[=value]` line
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOption {
    /// Line number
    pub line: usize,
    /// Name without the leading dashes
    pub name: String,
    /// The value after `=`, if any
    pub value: Option<String>,
}

/// One event: a time and what happens then
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Line number of the event's first token
    pub line: usize,
    /// The source text of that line, trimmed (for messages)
    pub text: String,
    /// When it happens
    pub timing: Timing,
    /// What happens
    pub action: Action,
}

/// A time as written: absolute (`0.100`) or relative to the previous event (`+0.1`)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Microseconds since the script started
    Abs(u64),
    /// Microseconds after the previous event
    Rel(u64),
}

/// The time part of an event
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// At one time (within the tolerance, for outbound packets and blocking calls)
    At(When),
    /// `*`: any time
    Any,
    /// `a~b`: anywhere in this window
    Range(When, When),
    /// `start...end`: a blocking call issued at `start` that returns at `end`
    /// (absolute when `start` is, otherwise relative to the same base)
    Blocking(When, u64),
}

/// What an event does
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A segment into the engine (`<`) or expected from it (`>`)
    Packet(PacketSpec),
    /// A system call mapped onto the engine API
    Syscall(SyscallSpec),
    /// A backquoted shell command
    Shell(String),
    /// A `%{ ... }%` Python block
    Python(String),
}

/// Direction of a packet line
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `<`: from the remote peer into the engine
    Inbound,
    /// `>`: from the engine to the remote peer
    Outbound,
}

/// A packet line: `<dir> FLAGS START:END(LEN) [ack N] [win N] [urg N] [<OPTIONS>]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketSpec {
    /// `<` or `>`
    pub dir: Direction,
    /// The flags (`.` is ACK, `-` none)
    pub flags: TcpFlags,
    /// First sequence number, as written
    pub start: u32,
    /// Payload bytes
    pub len: u32,
    /// `ack N`
    pub ack: Option<u32>,
    /// `win N`
    pub win: Option<u16>,
    /// `urg N`
    pub urg: Option<u16>,
    /// The option list
    pub options: OptionSpec,
}

/// The `<...>` part of a packet line
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionSpec {
    /// Not written: no options at all
    Absent,
    /// `<...>`: not checked
    Any,
    /// An explicit list, in wire order
    List(Vec<TcpOpt>),
}

/// One option of an explicit list
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOpt {
    /// `nop`
    Nop,
    /// `eol`
    Eol,
    /// `mss N`
    Mss(u16),
    /// `wscale N`
    WScale(u8),
    /// `sackOK`
    SackOk,
    /// `sack A:B C:D ...`
    Sack(Vec<(u32, u32)>),
    /// `TS val X ecr Y`
    Timestamp {
        /// TSval
        val: u32,
        /// TSecr
        ecr: u32,
    },
}

impl TcpOpt {
    /// Bytes on the wire
    pub fn wire_len(&self) -> usize {
        match self {
            Self::Nop | Self::Eol => 1,
            Self::Mss(_) => 4,
            Self::WScale(_) => 3,
            Self::SackOk => 2,
            Self::Sack(blocks) => 2 + 8 * blocks.len(),
            Self::Timestamp { .. } => 10,
        }
    }
}

impl fmt::Display for TcpOpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nop => f.write_str("nop"),
            Self::Eol => f.write_str("eol"),
            Self::Mss(m) => write!(f, "mss {m}"),
            Self::WScale(s) => write!(f, "wscale {s}"),
            Self::SackOk => f.write_str("sackOK"),
            Self::Sack(blocks) => {
                f.write_str("sack")?;
                for (a, b) in blocks {
                    write!(f, " {a}:{b}")?;
                }
                Ok(())
            }
            Self::Timestamp { val, ecr } => write!(f, "TS val {val} ecr {ecr}"),
        }
    }
}

/// A system-call line: `name(args) = result [ERRNO (text)]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallSpec {
    /// The call's name
    pub name: String,
    /// Its arguments
    pub args: Vec<Expr>,
    /// The expected return value
    pub ret: i64,
    /// The expected errno name, for `-1 ENAME`
    pub errno: Option<String>,
}

/// A system-call argument
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// An integer
    Int(i64),
    /// `...`: don't care
    Ellipsis,
    /// A symbolic constant (`SOCK_STREAM`, `SO_ERROR`, `ECONNRESET`, ...)
    Ident(String),
    /// A quoted string
    Str(String),
    /// `A | B | ...`
    Or(Vec<Self>),
    /// `[v, ...]`: an in/out value
    Array(Vec<Self>),
    /// `{name=value, ...}`
    Struct(Vec<(String, Self)>),
    /// `name(args)`, e.g. `htons(8080)`
    Call(String, Vec<Self>),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{e}")?;
            }
            Ok(())
        }
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Ellipsis => f.write_str("..."),
            Self::Ident(s) => f.write_str(s),
            Self::Str(s) => write!(f, "{s:?}"),
            Self::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Self::Array(items) => {
                f.write_str("[")?;
                list(f, items)?;
                f.write_str("]")
            }
            Self::Struct(fields) => {
                f.write_str("{")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("}")
            }
            Self::Call(name, args) => {
                write!(f, "{name}(")?;
                list(f, args)?;
                f.write_str(")")
            }
        }
    }
}
