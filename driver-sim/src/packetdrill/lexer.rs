//! Tokens of a packetdrill script
//!
//! The lexer ignores whitespace and comments (`// ...`, `/* ... */`) between tokens, keeps
//! backquoted shell commands and `%{ ... }%` blocks whole (they may span lines), reads
//! `--name=value` option lines, and applies the `nplab/packetdrill` preprocessor
//! (`#ifdef NAME` ... `#else` ... `#endif`, no nesting) with only `STANDARD` defined.

use super::ast::SyntaxError;

/// The names `#ifdef` sees as defined: an RFC engine runs the `STANDARD` branches
const DEFINED: &[&str] = &["STANDARD"];

/// One token
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A number as written: `0.100`, `.01`, `65535`, `0x02`
    Num(String),
    /// A name: `ack`, `SOCK_STREAM`, `sackOK`, `S`, ...
    Ident(String),
    /// `"..."`
    Str(String),
    /// `` `...` ``
    Shell(String),
    /// `%{ ... }%`
    Python(String),
    /// `--name[=value]` at the start of a line
    Opt(String, Option<String>),
    /// `...`
    Ellipsis,
    /// Any other single character: `< > ( ) [ ] { } , : = | ! * ~ + - .`
    Punct(char),
}

/// A token and the line it starts on
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) line: usize,
}

fn err(line: usize, reason: impl Into<String>) -> SyntaxError {
    SyntaxError {
        line,
        reason: reason.into(),
    }
}

/// Blank out lines excluded by `#ifdef` (keeping line numbers), or fail on bad nesting
fn preprocess(text: &str) -> Result<String, SyntaxError> {
    let mut out = String::with_capacity(text.len());
    // None: outside any block; Some(keep): inside one, keeping its lines or not.
    let mut block: Option<bool> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        let t = line.trim();
        let mut words = t.split_whitespace();
        let directive = t.starts_with('#').then(|| words.next()).flatten();
        match directive {
            Some(d @ ("#ifdef" | "#ifndef")) => {
                if block.is_some() {
                    return Err(err(n, "nested #ifdef is not supported"));
                }
                let name = words
                    .next()
                    .ok_or_else(|| err(n, format!("{d} without a name")))?;
                let defined = DEFINED.contains(&name);
                block = Some(if d == "#ifdef" { defined } else { !defined });
            }
            Some("#else") => match block {
                Some(keep) => block = Some(!keep),
                None => return Err(err(n, "#else without #ifdef")),
            },
            Some("#endif") => {
                if block.take().is_none() {
                    return Err(err(n, "#endif without #ifdef"));
                }
            }
            Some(other) => return Err(err(n, format!("unknown preprocessor directive {other}"))),
            None => {
                if block != Some(false) {
                    out.push_str(line);
                    continue;
                }
            }
        }
        // Directive or excluded line: keep the line break only.
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    if block.is_some() {
        return Err(err(
            text.lines().count(),
            "#ifdef without #endif at the end of the script",
        ));
    }
    Ok(out)
}

/// Split a script into tokens
pub(crate) fn lex(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let text = preprocess(text)?;
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0usize, 1usize);
    let mut line_start = true;
    let at = |i: usize| b.get(i).copied().unwrap_or('\0');
    while i < b.len() {
        let c = b[i];
        if c == '\n' {
            line += 1;
            i += 1;
            line_start = true;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start_line = line;
        let was_line_start = std::mem::replace(&mut line_start, false);
        // Comments.
        if c == '/' && at(i + 1) == '/' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            line_start = was_line_start;
            continue;
        }
        if c == '/' && at(i + 1) == '*' {
            i += 2;
            while i < b.len() && !(b[i] == '*' && at(i + 1) == '/') {
                line += usize::from(b[i] == '\n');
                i += 1;
            }
            if i >= b.len() {
                return Err(err(start_line, "unterminated /* comment"));
            }
            i += 2;
            line_start = was_line_start;
            continue;
        }
        // `--name=value` option lines.
        if was_line_start && c == '-' && at(i + 1) == '-' {
            let s: String = b[i + 2..].iter().take_while(|&&ch| ch != '\n').collect();
            i += 2 + s.chars().count();
            let s = s.split("//").next().unwrap_or("").trim().to_string();
            let (name, value) = match s.split_once('=') {
                Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
                None => (s, None),
            };
            out.push(Token {
                tok: Tok::Opt(name, value),
                line: start_line,
            });
            continue;
        }
        let tok = match c {
            '`' => {
                let mut s = String::new();
                i += 1;
                while i < b.len() && b[i] != '`' {
                    line += usize::from(b[i] == '\n');
                    s.push(b[i]);
                    i += 1;
                }
                if i >= b.len() {
                    return Err(err(start_line, "unterminated backquoted command"));
                }
                i += 1;
                Tok::Shell(s.trim().to_string())
            }
            '%' if at(i + 1) == '{' => {
                let mut s = String::new();
                i += 2;
                while i < b.len() && !(b[i] == '}' && at(i + 1) == '%') {
                    line += usize::from(b[i] == '\n');
                    s.push(b[i]);
                    i += 1;
                }
                if i >= b.len() {
                    return Err(err(start_line, "unterminated %{ block"));
                }
                i += 2;
                Tok::Python(s.trim().to_string())
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                while i < b.len() && b[i] != '"' {
                    if b[i] == '\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    line += usize::from(b[i] == '\n');
                    s.push(b[i]);
                    i += 1;
                }
                if i >= b.len() {
                    return Err(err(start_line, "unterminated string"));
                }
                i += 1;
                Tok::Str(s)
            }
            '.' if at(i + 1) == '.' && at(i + 2) == '.' => {
                i += 3;
                Tok::Ellipsis
            }
            c if c.is_ascii_digit() || (c == '.' && at(i + 1).is_ascii_digit()) => {
                let mut s = String::new();
                if c == '0' && matches!(at(i + 1), 'x' | 'X') {
                    s.push_str("0x");
                    i += 2;
                    while at(i).is_ascii_hexdigit() {
                        s.push(b[i]);
                        i += 1;
                    }
                } else {
                    while at(i).is_ascii_digit() {
                        s.push(b[i]);
                        i += 1;
                    }
                    // A fraction, but not the start of `...`.
                    if at(i) == '.' && at(i + 1).is_ascii_digit() {
                        s.push('.');
                        i += 1;
                        while at(i).is_ascii_digit() {
                            s.push(b[i]);
                            i += 1;
                        }
                    }
                }
                Tok::Num(s)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut s = String::new();
                while at(i).is_ascii_alphanumeric() || at(i) == '_' {
                    s.push(b[i]);
                    i += 1;
                }
                Tok::Ident(s)
            }
            c => {
                i += 1;
                Tok::Punct(c)
            }
        };
        out.push(Token {
            tok,
            line: start_line,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_ellipsis_and_flags() {
        use Tok::*;
        assert_eq!(
            toks("+0...0.200 > S. 0:0(0) <...>"),
            vec![
                Punct('+'),
                Num("0".into()),
                Ellipsis,
                Num("0.200".into()),
                Punct('>'),
                Ident("S".into()),
                Punct('.'),
                Num("0".into()),
                Punct(':'),
                Num("0".into()),
                Punct('('),
                Num("0".into()),
                Punct(')'),
                Punct('<'),
                Ellipsis,
                Punct('>'),
            ]
        );
        assert_eq!(
            toks("+.01 0x02"),
            vec![Punct('+'), Num(".01".into()), Num("0x02".into())]
        );
    }

    #[test]
    fn comments_shell_python_and_options_keep_line_numbers() {
        let t = lex("--tolerance_usecs=5000 // note\n/* a\nb */ 0 `sysctl -w\n x=1`\n+0 %{ assert tcpi_state == 1 }%\n")
            .unwrap();
        assert_eq!(
            t[0].tok,
            Tok::Opt("tolerance_usecs".into(), Some("5000".into()))
        );
        assert_eq!((t[1].tok.clone(), t[1].line), (Tok::Num("0".into()), 3));
        assert_eq!(t[2].tok, Tok::Shell("sysctl -w\n x=1".into()));
        assert_eq!(t[4].line, 5);
        assert_eq!(t[5].tok, Tok::Python("assert tcpi_state == 1".into()));
    }

    #[test]
    fn ifdef_keeps_standard_branches() {
        let t =
            lex("#ifdef STANDARD\n1\n#else\n2\n#endif\n#ifdef FreeBSD\n3\n#endif\n4\n").unwrap();
        let got: Vec<_> = t.iter().map(|t| (t.tok.clone(), t.line)).collect();
        assert_eq!(
            got,
            vec![(Tok::Num("1".into()), 2), (Tok::Num("4".into()), 9)]
        );
        assert!(lex("#ifdef A\n#ifdef B\n#endif\n#endif\n").is_err());
        assert!(lex("#ifdef A\n").is_err());
    }
}
