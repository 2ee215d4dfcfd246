//! The eight TCP control bits (RFC 9293 §3.1, RFC 3168 §6.1 for ECE and CWR)

use core::fmt;

bitflags::bitflags! {
    /// The control bits of a TCP header, in their wire positions (byte 13)
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TcpFlags: u8 {
        /// No more data from sender
        const FIN = 0x01;
        /// Synchronize sequence numbers
        const SYN = 0x02;
        /// Reset the connection
        const RST = 0x04;
        /// Push function
        const PSH = 0x08;
        /// The acknowledgment field is significant
        const ACK = 0x10;
        /// The urgent pointer field is significant
        const URG = 0x20;
        /// ECN-Echo (RFC 3168)
        const ECE = 0x40;
        /// Congestion Window Reduced (RFC 3168)
        const CWR = 0x80;
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for TcpFlags {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=u8:#04x}", self.bits())
    }
}

impl TcpFlags {
    /// The flags as letters in the order `FSRPAUEC` (as tcpdump-like traces print them)
    pub fn letters(self) -> FlagLetters {
        FlagLetters(self)
    }
}

/// Displays flags as the letters of the set flags in the order `FSRPAUEC`
#[derive(Debug, Clone, Copy)]
pub struct FlagLetters(TcpFlags);

impl fmt::Display for FlagLetters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LETTERS: [(TcpFlags, char); 8] = [
            (TcpFlags::FIN, 'F'),
            (TcpFlags::SYN, 'S'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::ACK, 'A'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'C'),
        ];
        for (flag, c) in LETTERS {
            if self.0.contains(flag) {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn letters_in_fsrpauec_order() {
        let f = TcpFlags::ACK | TcpFlags::SYN;
        assert_eq!(format!("{}", f.letters()), "SA");
        assert_eq!(format!("{}", TcpFlags::all().letters()), "FSRPAUEC");
        assert_eq!(format!("{}", TcpFlags::empty().letters()), "");
    }
}
