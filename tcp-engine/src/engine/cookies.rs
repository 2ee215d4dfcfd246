//! SYN cookies (RFC 4987 §3.6): answer SYNs without keeping state when the SYN queue is full
//!
//! The initial sequence number of the SYN-ACK is the cookie, 32 bits:
//!
//! | bits | meaning |
//! |---|---|
//! | 0–2 | time counter `t` (64-second periods) modulo 8 |
//! | 3–4 | the peer's MSS, as an index into [`MSS_TABLE`] (rounded down) |
//! | 5–8 | the peer's window shift + 1 (0: no window scaling) |
//! | 9 | the peer permitted SACK |
//! | 10–31 | SipHash of the 4-tuple, the peer's ISN and the full `t`, under the cookie key |
//!
//! Hashing the full time counter rotates the effective secret every 64 s; a cookie is good
//! for the period it was made in and the next one. Memory per pending SYN: none.

use core::hash::Hasher;

use siphasher::sip::SipHasher24;

use super::isn::Keys;
use crate::conn::FourTuple;
use crate::seq::SeqNumber;
use crate::time::Instant;
use crate::wire::TcpOptions;

/// MSS values a cookie can carry (RFC 4987: a few common values)
pub(crate) const MSS_TABLE: [u16; 4] = [536, 1220, 1440, 1460];

const PERIOD_SECS: u64 = 64;

fn period(now: Instant) -> u64 {
    now.total_micros() / 1_000_000 / PERIOD_SECS
}

impl Keys {
    fn cookie_hash(&self, t: &FourTuple, peer_isn: SeqNumber, period: u64) -> u32 {
        let mut h = SipHasher24::new_with_key(&self.cookie_key());
        super::isn::write_tuple(&mut h, t);
        h.write_u32(peer_isn.0);
        h.write_u64(period);
        (h.finish() as u32) >> 10
    }

    /// The cookie for a SYN from the peer with ISN `peer_isn` and options `opts`
    pub(crate) fn make_cookie(
        &self,
        now: Instant,
        t: &FourTuple,
        peer_isn: SeqNumber,
        opts: &TcpOptions,
    ) -> SeqNumber {
        let p = period(now);
        let mss = opts.mss.unwrap_or(536);
        let mss_idx = MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32;
        let ws = opts.window_scale.map_or(0, |s| u32::from(s.min(14)) + 1);
        let sack = u32::from(opts.sack_permitted);
        let low = (p as u32 & 7) | mss_idx << 3 | ws << 5 | sack << 9;
        SeqNumber(low | self.cookie_hash(t, peer_isn, p) << 10)
    }

    /// The peer's options if `cookie` (the ACK number minus one) is one we made for this
    /// tuple and ISN in this or the previous period
    pub(crate) fn check_cookie(
        &self,
        now: Instant,
        t: &FourTuple,
        peer_isn: SeqNumber,
        cookie: SeqNumber,
    ) -> Option<TcpOptions> {
        let c = cookie.0;
        let now_p = period(now);
        let p = (0..2u64)
            .map(|k| now_p.wrapping_sub(k))
            .find(|p| (*p as u32 & 7) == (c & 7))?;
        if self.cookie_hash(t, peer_isn, p) != c >> 10 {
            return None;
        }
        let ws = (c >> 5) & 0xf;
        Some(TcpOptions {
            mss: Some(MSS_TABLE[((c >> 3) & 3) as usize]),
            window_scale: (ws != 0).then(|| (ws - 1) as u8),
            sack_permitted: (c >> 9) & 1 == 1,
            ..TcpOptions::NONE
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    fn tuple() -> FourTuple {
        FourTuple {
            local_addr: Ipv4Addr::new(10, 0, 0, 2).into(),
            remote_addr: Ipv4Addr::new(10, 0, 0, 1).into(),
            local_port: 80,
            remote_port: 40000,
        }
    }

    #[test]
    fn cookie_round_trips_options_and_expires() {
        let k = Keys::new([3; 16]);
        let opts = TcpOptions {
            mss: Some(1400),
            window_scale: Some(7),
            sack_permitted: true,
            ..TcpOptions::NONE
        };
        let now = Instant::from_secs(1000);
        let c = k.make_cookie(now, &tuple(), SeqNumber(77), &opts);
        let back = k
            .check_cookie(
                now + core::time::Duration::from_secs(30),
                &tuple(),
                SeqNumber(77),
                c,
            )
            .unwrap();
        assert_eq!(
            (back.mss, back.window_scale, back.sack_permitted),
            (Some(1220), Some(7), true)
        );
        assert!(
            k.check_cookie(now, &tuple(), SeqNumber(78), c).is_none(),
            "other ISN"
        );
        assert!(
            k.check_cookie(now, &tuple(), SeqNumber(77), c + 1u32)
                .is_none(),
            "forged"
        );
        assert!(
            k.check_cookie(
                now + core::time::Duration::from_secs(200),
                &tuple(),
                SeqNumber(77),
                c
            )
            .is_none(),
            "expired"
        );
        assert!(
            Keys::new([4; 16])
                .check_cookie(now, &tuple(), SeqNumber(77), c)
                .is_none(),
            "other key"
        );
    }
}
