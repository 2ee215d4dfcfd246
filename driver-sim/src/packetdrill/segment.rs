//! What the engine sent, as fields: parsing, describing in script terms, option bytes

use tcp_engine::wire::{TcpFlags, TcpPacket};

use super::run::{Emitted, Runner};

/// A segment the engine sent, with its raw fields
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    pub(crate) at: u64,
    pub(crate) src_port: u16,
    pub(crate) dst_port: u16,
    pub(crate) flags: TcpFlags,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) win: u16,
    pub(crate) urg: u16,
    pub(crate) reserved: u8,
    pub(crate) options: Vec<u8>,
    pub(crate) payload: Vec<u8>,
}

/// One option as it is on the wire
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawOpt {
    Eol,
    Nop,
    Kind(u8, Vec<u8>),
    /// A length byte that does not fit
    Bad,
}

pub(crate) fn raw_options(mut b: &[u8]) -> Vec<RawOpt> {
    let mut out = Vec::new();
    while let Some(&k) = b.first() {
        match k {
            0 => {
                out.push(RawOpt::Eol);
                b = &b[1..];
            }
            1 => {
                out.push(RawOpt::Nop);
                b = &b[1..];
            }
            _ => {
                let len = usize::from(b.get(1).copied().unwrap_or(0));
                if len < 2 || len > b.len() {
                    out.push(RawOpt::Bad);
                    return out;
                }
                out.push(RawOpt::Kind(k, b[2..len].to_vec()));
                b = &b[len..];
            }
        }
    }
    out
}

pub(crate) fn be32(d: &[u8]) -> u32 {
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

pub(crate) fn describe_option(o: &RawOpt) -> String {
    match o {
        RawOpt::Eol => "eol".into(),
        RawOpt::Nop => "nop".into(),
        RawOpt::Bad => "(bad length)".into(),
        RawOpt::Kind(2, d) if d.len() == 2 => format!("mss {}", u16::from_be_bytes([d[0], d[1]])),
        RawOpt::Kind(3, d) if d.len() == 1 => format!("wscale {}", d[0]),
        RawOpt::Kind(4, d) if d.is_empty() => "sackOK".into(),
        RawOpt::Kind(5, d) if d.len() % 8 == 0 => {
            let mut s = "sack".to_string();
            for b in d.chunks(8) {
                s.push_str(&format!(" {}:{}", be32(&b[..4]), be32(&b[4..])));
            }
            s
        }
        RawOpt::Kind(8, d) if d.len() == 8 => {
            format!("TS val {} ecr {}", be32(&d[..4]), be32(&d[4..]))
        }
        RawOpt::Kind(k, d) => format!("kind {k} len {}", d.len() + 2),
    }
}

pub(crate) fn flag_letters(f: TcpFlags) -> String {
    let mut s = String::new();
    for (flag, c) in [
        (TcpFlags::SYN, 'S'),
        (TcpFlags::FIN, 'F'),
        (TcpFlags::RST, 'R'),
        (TcpFlags::PSH, 'P'),
        (TcpFlags::URG, 'U'),
        (TcpFlags::ECE, 'E'),
        (TcpFlags::CWR, 'W'),
    ] {
        if f.contains(flag) {
            s.push(c);
        }
    }
    if f.contains(TcpFlags::ACK) {
        s.push('.');
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

impl Seg {
    pub(crate) fn parse(e: &Emitted, r: &Runner) -> Result<Self, String> {
        let p = TcpPacket::new_checked(&e.bytes[..]).map_err(|err| format!("{err:?}"))?;
        if !p.verify_checksum(&r.local_ip, &r.remote_ip) {
            return Err("a bad checksum".into());
        }
        Ok(Self {
            at: e.at,
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            flags: p.flags(),
            seq: p.seq_number().0,
            ack: p.ack_number().0,
            win: p.window_len(),
            urg: p.urgent_at(),
            reserved: p.reserved_bits(),
            options: p.options().to_vec(),
            payload: p.payload().to_vec(),
        })
    }

    /// In script terms: SEQ relative to the engine's ISN `isn`
    pub(crate) fn describe(&self, isn: u32) -> String {
        let rel = self.seq.wrapping_sub(isn);
        let len = self.payload.len() as u32;
        let mut s = format!(
            "{} {rel}:{}({len})",
            flag_letters(self.flags),
            rel.wrapping_add(len)
        );
        if self.flags.contains(TcpFlags::ACK) || self.ack != 0 {
            s.push_str(&format!(" ack {}", self.ack));
        }
        s.push_str(&format!(" win {}", self.win));
        if self.urg != 0 {
            s.push_str(&format!(" urg {}", self.urg));
        }
        if !self.options.is_empty() {
            let opts: Vec<String> = raw_options(&self.options)
                .iter()
                .map(describe_option)
                .collect();
            s.push_str(&format!(" <{}>", opts.join(",")));
        }
        s
    }

    /// Same header as `self` but for SEQ, payload, PSH and FIN: a TSO piece of one line
    pub(crate) fn continues(&self, next: &Self) -> bool {
        let core = !(TcpFlags::PSH | TcpFlags::FIN);
        next.seq == self.seq.wrapping_add(self.payload.len() as u32)
            && !self.flags.contains(TcpFlags::FIN)
            && (self.src_port, self.dst_port, self.ack, self.win)
                == (next.src_port, next.dst_port, next.ack, next.win)
            && self.flags & core == next.flags & core
            && self.options.len() == next.options.len()
            && !next.payload.is_empty()
    }
}
