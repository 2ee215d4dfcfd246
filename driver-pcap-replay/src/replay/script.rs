//! The replay script: a flow's segments in replay order, with virtual times
//! and what the engine's application does at each recorded segment.

use tcp_engine::wire::{ChecksumCheck, TcpFlags, TcpOptions, TcpRepr};

use super::Role;
use crate::flows::{Flow, Side};
use crate::segment::{padded_payload, HeaderView};
use crate::{Capture, CapturedSegment};

/// A hole in the recorded stream larger than this is taken as garbage, not data.
const MAX_GAP: i64 = 16 << 20;
/// The most application bytes a replay hands to the engine.
const MAX_STREAM: i64 = 256 << 20;

/// How the application ends its side when the recorded side sent FIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FinKind {
    /// Half-close: FIN, keep receiving.
    Shutdown,
    /// Full close: data arriving afterwards is answered with RST.
    Close,
}

/// What the engine's application does when a recorded segment goes out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AppStep {
    /// Active open (the recorded client's first SYN).
    pub connect: bool,
    /// New bytes of the recorded side's stream first sent in this segment.
    pub data: Vec<u8>,
    /// The recorded side's first FIN.
    pub fin: Option<FinKind>,
    /// The recorded side sent a RST.
    pub rst: bool,
}

/// One captured segment of the flow, in replay order.
#[derive(Debug, Clone)]
pub(crate) struct Event<'c> {
    pub seg: &'c CapturedSegment,
    pub view: HeaderView,
    /// Sent by the side the engine plays (compared), else by the peer (fed in).
    pub recorded: bool,
    /// Virtual time in microseconds, never decreasing along the script.
    pub time_us: u64,
    pub app: AppStep,
}

/// A flow ready to replay.
#[derive(Debug, Clone)]
pub(crate) struct Script<'c> {
    pub events: Vec<Event<'c>>,
    pub recorded_isn: Option<u32>,
    pub peer_isn: Option<u32>,
    /// Options of the recorded side's first SYN or SYN-ACK (the engine offers the same).
    pub recorded_syn_options: Option<TcpOptions>,
    pub notes: Vec<String>,
}

type Item<'c> = (&'c CapturedSegment, HeaderView, bool);

impl<'c> Script<'c> {
    /// Builds the script, or says why the flow cannot be replayed.
    pub(crate) fn build(capture: &'c Capture, flow: &Flow, role: Role) -> Result<Self, String> {
        let side = role.side();
        let mut items: Vec<Item<'c>> = flow
            .segments
            .iter()
            .filter_map(|&i| {
                let seg = capture.segments.get(i)?;
                let view = HeaderView::of(seg)?;
                Some((seg, view, flow.side_of(seg)? == side))
            })
            .collect();
        let from_client = |item: &Item<'_>| item.2 == (side == Side::Client);
        let Some(syn_at) = items.iter().position(|x| x.1.is_syn() && from_client(x)) else {
            return Err("no handshake, cannot replay: no SYN from the client was captured".into());
        };
        let mut notes = Vec::new();
        if let Some(sa) = items
            .iter()
            .position(|x| x.1.is_syn_ack() && !from_client(x))
        {
            if sa < syn_at {
                let syn = items.remove(syn_at);
                items.insert(sa, syn);
                notes.push(format!(
                    "the SYN-ACK (frame {}) was captured before the SYN: replayed after it",
                    items[sa + 1].0.frame
                ));
            }
        }
        uncross_fins(&mut items, &mut notes);
        let isn_of = |recorded: bool| {
            items
                .iter()
                .find(|x| x.2 == recorded && x.1.has(TcpFlags::SYN))
                .and_then(|x| x.1.seq)
        };
        let (recorded_isn, peer_isn) = (isn_of(true), isn_of(false));
        let recorded_syn_options = items
            .iter()
            .find(|x| x.2 && x.1.has(TcpFlags::SYN))
            .and_then(|x| {
                let ip = x.0.src;
                TcpRepr::parse_bytes(&x.0.tcp, &ip, &x.0.dst, ChecksumCheck::Skip).ok()
            })
            .map(|r| r.options);
        let events = app_steps(&items, role, recorded_isn, &mut notes);
        Ok(Self {
            events,
            recorded_isn,
            peer_isn,
            recorded_syn_options,
            notes,
        })
    }
}

/// Crossing FINs: when the recorded side's FIN follows the peer's FIN in the
/// capture but does not acknowledge it, the recorded host had not yet received
/// the peer's FIN when it sent its own; deliver the peer's FIN after it.
fn uncross_fins(items: &mut Vec<Item<'_>>, notes: &mut Vec<String>) {
    let Some(i) = items
        .iter()
        .position(|x| !x.2 && x.1.has(TcpFlags::FIN) && !x.1.has(TcpFlags::RST))
    else {
        return;
    };
    let (seg, view, _) = items[i];
    let Some(seq) = view.seq else { return };
    let fin_end = seq.wrapping_add(view.seq_len(seg));
    let mut target = None;
    for (j, (_, v, recorded)) in items.iter().enumerate().skip(i + 1) {
        if !recorded {
            break;
        }
        let acks =
            v.has(TcpFlags::ACK) && v.ack.is_some_and(|a| (a.wrapping_sub(fin_end) as i32) >= 0);
        if acks || v.has(TcpFlags::RST) {
            break;
        }
        if v.has(TcpFlags::FIN) {
            target = Some(j);
            break;
        }
    }
    if let Some(j) = target {
        let fin = items.remove(i);
        items.insert(j, fin);
        notes.push(format!(
            "crossing FINs: the peer's FIN (frame {}) is delivered after the recorded FIN \
             (frame {}), which does not acknowledge it",
            fin.0.frame,
            items[j - 1].0.frame
        ));
    }
}

/// Virtual times and application steps for the items, in order.
fn app_steps<'c>(
    items: &[Item<'c>],
    role: Role,
    recorded_isn: Option<u32>,
    notes: &mut Vec<String>,
) -> Vec<Event<'c>> {
    let base = items.iter().map(|x| x.0.timestamp_us).min().unwrap_or(0);
    let last_rst = items.iter().rposition(|x| x.2 && x.1.has(TcpFlags::RST));
    let mut offset: i64 = 0; // stream bytes handed to the application so far
    let (mut connected, mut fin_seen) = (false, false);
    let (mut gaps, mut gap_bytes, mut ignored) = (0usize, 0i64, 0usize);
    let mut time = 0u64;
    let mut events = Vec::with_capacity(items.len());
    for (k, &(seg, view, recorded)) in items.iter().enumerate() {
        time = time.max(seg.timestamp_us.saturating_sub(base));
        let mut app = AppStep::default();
        if recorded {
            if role == Role::Client && view.is_syn() && !connected {
                connected = true;
                app.connect = true;
            }
            let len = view.payload_len(seg) as i64;
            if let (true, Some(seq), Some(isn)) = (len > 0, view.seq, recorded_isn) {
                let start = seq.wrapping_add(u32::from(view.has(TcpFlags::SYN)));
                let rel = i64::from(start.wrapping_sub(isn.wrapping_add(1)) as i32);
                let end = rel + len;
                if rel > offset + MAX_GAP || end > MAX_STREAM {
                    ignored += 1;
                } else if end > offset {
                    let bytes = padded_payload(seg, &view);
                    if rel > offset {
                        gaps += 1;
                        gap_bytes += rel - offset;
                        app.data.resize((rel - offset) as usize, 0);
                    }
                    let from = (offset.max(rel) - rel) as usize;
                    app.data.extend_from_slice(bytes.get(from..).unwrap_or(&[]));
                    offset = end;
                }
            }
            if view.has(TcpFlags::FIN) && !view.has(TcpFlags::RST) && !fin_seen {
                fin_seen = true;
                let reset_later = last_rst.is_some_and(|r| r > k);
                app.fin = Some(if reset_later {
                    FinKind::Close
                } else {
                    FinKind::Shutdown
                });
            }
            app.rst = view.has(TcpFlags::RST);
        }
        events.push(Event {
            seg,
            view,
            recorded,
            time_us: time,
            app,
        });
    }
    if gaps > 0 {
        notes.push(format!(
            "{gaps} hole(s) in the recorded side's stream ({gap_bytes} bytes never captured) \
             were filled with zeros"
        ));
    }
    if ignored > 0 {
        notes.push(format!(
            "{ignored} recorded segment(s) carry data far outside the stream; not sent"
        ));
    }
    events
}
