//! From tokens to a [`Script`]
//!
//! The grammar is packetdrill's, restricted to what the interpreter can run: every construct
//! it does not know is a [`SyntaxError`] naming the line, never something skipped.

use tcp_engine::wire::TcpFlags;

use super::ast::{
    Action, Direction, Event, Expr, OptionSpec, PacketSpec, Script, ScriptOption, SyntaxError,
    SyscallSpec, TcpOpt, Timing, When,
};
use super::lexer::{lex, Tok, Token};

/// Parse a whole script
pub fn parse(text: &str) -> Result<Script, SyntaxError> {
    let tokens = lex(text)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut p = Parser {
        toks: &tokens,
        pos: 0,
        lines: &lines,
    };
    p.script()
}

/// Seconds as written (`0.100`, `.01`, `5`) to microseconds, exactly
pub(crate) fn micros(num: &str) -> Option<u64> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if frac.len() > 6 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u64>().ok()? * 10u64.pow(6 - frac.len() as u32)
    };
    int.checked_mul(1_000_000)?.checked_add(frac)
}

/// An integer as written: decimal or `0x` hexadecimal
pub(crate) fn integer(num: &str) -> Option<i64> {
    match num.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => num.parse().ok(),
    }
}

struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    lines: &'t [&'t str],
}

type R<T> = Result<T, SyntaxError>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek2(&self) -> Option<&Tok> {
        self.toks.get(self.pos + 1).map(|t| &t.tok)
    }

    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or_else(|| self.toks.last())
            .map_or(1, |t| t.line)
    }

    fn err<T>(&self, reason: impl Into<String>) -> R<T> {
        Err(SyntaxError {
            line: self.line(),
            reason: reason.into(),
        })
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.tok.clone());
        self.pos += usize::from(t.is_some());
        t
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> R<()> {
        if self.eat(c) {
            Ok(())
        } else {
            self.err(format!("expected `{c}`, found {}", self.describe()))
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the script".into(),
            Some(Tok::Num(s) | Tok::Ident(s)) => format!("`{s}`"),
            Some(Tok::Punct(c)) => format!("`{c}`"),
            Some(Tok::Ellipsis) => "`...`".into(),
            Some(Tok::Str(s)) => format!("string {s:?}"),
            Some(Tok::Shell(_)) => "a backquoted command".into(),
            Some(Tok::Python(_)) => "a %{ }% block".into(),
            Some(Tok::Opt(n, _)) => format!("option --{n}"),
        }
    }

    fn number<T: TryFrom<i64>>(&mut self, what: &str) -> R<T> {
        match self.peek().cloned() {
            Some(Tok::Num(s)) => {
                let v = integer(&s)
                    .and_then(|v| T::try_from(v).ok())
                    .map_or_else(|| self.err(format!("{what} `{s}` is out of range")), Ok)?;
                self.pos += 1;
                Ok(v)
            }
            _ => self.err(format!("expected {what}, found {}", self.describe())),
        }
    }

    fn ident_is(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == name)
    }

    fn script(&mut self) -> R<Script> {
        let mut script = Script::default();
        while let Some(Tok::Opt(name, value)) = self.peek().cloned() {
            script.options.push(ScriptOption {
                line: self.line(),
                name,
                value,
            });
            self.pos += 1;
        }
        while self.peek().is_some() {
            let line = self.line();
            let text = self
                .lines
                .get(line - 1)
                .map_or(String::new(), |l| l.trim().to_string());
            // A backquoted command with no time: the init command (before the first event)
            // or the cleanup command (after the last), run at +0.
            let timing = if matches!(self.peek(), Some(Tok::Shell(_))) {
                Timing::At(if script.events.is_empty() {
                    When::Abs(0)
                } else {
                    When::Rel(0)
                })
            } else {
                self.timing()?
            };
            let action = self.action()?;
            script.events.push(Event {
                line,
                text,
                timing,
                action,
            });
        }
        Ok(script)
    }

    fn when(&mut self) -> R<When> {
        let rel = self.eat('+');
        match self.peek().cloned() {
            Some(Tok::Num(s)) => {
                let us = micros(&s).map_or_else(|| self.err(format!("bad time `{s}`")), Ok)?;
                self.pos += 1;
                Ok(if rel { When::Rel(us) } else { When::Abs(us) })
            }
            _ => self.err(format!("expected a time, found {}", self.describe())),
        }
    }

    fn timing(&mut self) -> R<Timing> {
        if self.eat('*') {
            return Ok(Timing::Any);
        }
        let start = self.when()?;
        if self.eat('~') {
            return Ok(Timing::Range(start, self.when()?));
        }
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            let end = match self.when()? {
                When::Abs(us) | When::Rel(us) => us,
            };
            return Ok(Timing::Blocking(start, end));
        }
        Ok(Timing::At(start))
    }

    fn action(&mut self) -> R<Action> {
        match self.peek().cloned() {
            Some(Tok::Punct('<')) => self.packet(Direction::Inbound).map(Action::Packet),
            Some(Tok::Punct('>')) => self.packet(Direction::Outbound).map(Action::Packet),
            Some(Tok::Shell(s)) => {
                self.pos += 1;
                Ok(Action::Shell(s))
            }
            Some(Tok::Python(s)) => {
                self.pos += 1;
                Ok(Action::Python(s))
            }
            Some(Tok::Ident(_)) if self.peek2() == Some(&Tok::Punct('(')) => {
                self.syscall().map(Action::Syscall)
            }
            Some(Tok::Ident(s)) if matches!(s.as_str(), "IPv4" | "IPv6" | "udp" | "icmp") => {
                self.err(format!("{s} packet lines are not supported (TCP only)"))
            }
            _ => self.err(format!(
                "expected a packet, a system call or a command, found {}",
                self.describe()
            )),
        }
    }

    fn flags(&mut self) -> R<TcpFlags> {
        if self.eat('-') {
            return Ok(TcpFlags::empty());
        }
        let mut flags = TcpFlags::empty();
        if let Some(Tok::Ident(s)) = self.peek().cloned() {
            for c in s.chars() {
                flags |= match c {
                    'S' => TcpFlags::SYN,
                    'F' => TcpFlags::FIN,
                    'R' => TcpFlags::RST,
                    'P' => TcpFlags::PSH,
                    'U' => TcpFlags::URG,
                    'E' => TcpFlags::ECE,
                    'W' => TcpFlags::CWR,
                    _ => return self.err(format!("unknown TCP flag `{c}` in `{s}`")),
                };
            }
            self.pos += 1;
        }
        if self.eat('.') {
            flags |= TcpFlags::ACK;
        } else if flags.is_empty() {
            return self.err(format!("expected TCP flags, found {}", self.describe()));
        }
        Ok(flags)
    }

    fn packet(&mut self, dir: Direction) -> R<PacketSpec> {
        self.pos += 1; // < or >
        if self.eat('[') {
            return self.err("IP fields in brackets ([ect0], ...) are not supported");
        }
        let flags = self.flags()?;
        if self.peek() == Some(&Tok::Ellipsis) {
            return self.err("`...(LEN)` (any sequence number) is not supported");
        }
        let start: u32 = self.number("a sequence number")?;
        self.expect(':')?;
        let end: u32 = self.number("a sequence number")?;
        self.expect('(')?;
        let len: u32 = self.number("a payload length")?;
        self.expect(')')?;
        if self.eat('!') {
            return self.err("absolute sequence numbers (`!`) are not supported");
        }
        if end.wrapping_sub(start) != len {
            return self.err(format!("{start}:{end}({len}): END must be START + LEN"));
        }
        let mut spec = PacketSpec {
            dir,
            flags,
            start,
            len,
            ack: None,
            win: None,
            urg: None,
            options: OptionSpec::Absent,
        };
        loop {
            if self.ident_is("ack") {
                self.pos += 1;
                spec.ack = Some(self.number("an ACK number")?);
            } else if self.ident_is("win") {
                self.pos += 1;
                spec.win = Some(self.number("a window")?);
            } else if self.ident_is("urg") {
                self.pos += 1;
                spec.urg = Some(self.number("an urgent pointer")?);
            } else if self.eat('<') {
                spec.options = self.options()?;
                break;
            } else {
                break;
            }
        }
        if dir == Direction::Inbound && spec.win.is_none() {
            return self.err("an inbound packet needs `win N`");
        }
        Ok(spec)
    }

    fn options(&mut self) -> R<OptionSpec> {
        if self.peek() == Some(&Tok::Ellipsis) {
            self.pos += 1;
            self.expect('>')?;
            return Ok(OptionSpec::Any);
        }
        let mut list = Vec::new();
        loop {
            let Some(Tok::Ident(name)) = self.next() else {
                self.pos -= 1;
                return self.err(format!("expected a TCP option, found {}", self.describe()));
            };
            let opt = match name.as_str() {
                "nop" => TcpOpt::Nop,
                "eol" => TcpOpt::Eol,
                "mss" => TcpOpt::Mss(self.number("an MSS")?),
                "wscale" => TcpOpt::WScale(self.number("a window scale")?),
                "sackOK" => TcpOpt::SackOk,
                "sack" => {
                    let mut blocks = Vec::new();
                    while matches!(self.peek(), Some(Tok::Num(_))) {
                        let a = self.number("a SACK edge")?;
                        self.expect(':')?;
                        blocks.push((a, self.number("a SACK edge")?));
                    }
                    TcpOpt::Sack(blocks)
                }
                "TS" => {
                    if !self.ident_is("val") {
                        return self.err("expected `val` after `TS`");
                    }
                    self.pos += 1;
                    let val = self.number("a TS value")?;
                    if !self.ident_is("ecr") {
                        return self.err("expected `ecr` in the TS option");
                    }
                    self.pos += 1;
                    let ecr = self.number("a TS echo reply")?;
                    TcpOpt::Timestamp { val, ecr }
                }
                other => {
                    self.pos -= 1;
                    return self.err(format!("TCP option `{other}` is not supported"));
                }
            };
            list.push(opt);
            if self.eat(',') {
                continue;
            }
            self.expect('>')?;
            return Ok(OptionSpec::List(list));
        }
    }

    fn syscall(&mut self) -> R<SyscallSpec> {
        let Some(Tok::Ident(name)) = self.next() else {
            return self.err("expected a system call");
        };
        self.expect('(')?;
        let args = self.exprs(')')?;
        self.expect('=')?;
        let neg = self.eat('-');
        let ret: i64 = self.number("a return value")?;
        let ret = if neg { -ret } else { ret };
        let mut errno = None;
        if let Some(Tok::Ident(e)) = self.peek().cloned() {
            errno = Some(e);
            self.pos += 1;
        }
        // A note in parentheses: `(Operation now in progress)`, `(flags O_RDWR)`.
        if self.peek() == Some(&Tok::Punct('(')) {
            let mut depth = 0usize;
            while let Some(t) = self.next() {
                match t {
                    Tok::Punct('(') => depth += 1,
                    Tok::Punct(')') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if depth != 0 {
                return self.err("unclosed `(` after the return value");
            }
        }
        Ok(SyscallSpec {
            name,
            args,
            ret,
            errno,
        })
    }

    /// Comma-separated expressions up to and including `close`
    fn exprs(&mut self, close: char) -> R<Vec<Expr>> {
        let mut out = Vec::new();
        if self.eat(close) {
            return Ok(out);
        }
        loop {
            out.push(self.expr()?);
            if self.eat(',') {
                continue;
            }
            self.expect(close)?;
            return Ok(out);
        }
    }

    fn expr(&mut self) -> R<Expr> {
        let first = self.primary()?;
        if self.peek() != Some(&Tok::Punct('|')) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat('|') {
            items.push(self.primary()?);
        }
        Ok(Expr::Or(items))
    }

    fn primary(&mut self) -> R<Expr> {
        match self.peek().cloned() {
            Some(Tok::Ellipsis) => {
                self.pos += 1;
                Ok(Expr::Ellipsis)
            }
            Some(Tok::Punct('-')) => {
                self.pos += 1;
                Ok(Expr::Int(-self.number::<i64>("a number")?))
            }
            Some(Tok::Num(_)) => Ok(Expr::Int(self.number("a number")?)),
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Some(Tok::Punct('[')) => {
                self.pos += 1;
                Ok(Expr::Array(self.exprs(']')?))
            }
            Some(Tok::Punct('{')) => {
                self.pos += 1;
                let mut fields = Vec::new();
                if !self.eat('}') {
                    loop {
                        let Some(Tok::Ident(k)) = self.next() else {
                            self.pos -= 1;
                            return self.err("expected a field name");
                        };
                        self.expect('=')?;
                        fields.push((k, self.expr()?));
                        if self.eat(',') {
                            continue;
                        }
                        self.expect('}')?;
                        break;
                    }
                }
                Ok(Expr::Struct(fields))
            }
            Some(Tok::Ident(s)) => {
                self.pos += 1;
                if self.eat('(') {
                    return Ok(Expr::Call(s, self.exprs(')')?));
                }
                Ok(Expr::Ident(s))
            }
            _ => self.err(format!("expected an argument, found {}", self.describe())),
        }
    }
}
