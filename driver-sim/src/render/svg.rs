//! `--svg`: the time-sequence graph (Stevens / tcptrace style) of each direction that carried
//! data: every data segment as a vertical bar from its first to its last sequence number at
//! the time it was sent, retransmissions in red, lost segments crossed out, the receiver's
//! cumulative ACK as a step line and the right edge of its window (ACK + window) above it.

use core::fmt;

use plotters::prelude::*;
use tcp_engine::wire::TcpFlags;

use crate::sim::{host_name, SegmentRecord, TraceEvent};

/// Drawing the graph failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvgError(String);

impl fmt::Display for SvgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "drawing the time-sequence graph: {}", self.0)
    }
}

impl std::error::Error for SvgError {}

fn err(e: impl fmt::Display) -> SvgError {
    SvgError(e.to_string())
}

/// What one direction's panel shows, in ms and relative sequence numbers.
#[derive(Debug, Default)]
struct Panel {
    title: String,
    sent: Vec<(f64, f64, f64)>,
    retransmitted: Vec<(f64, f64, f64)>,
    lost: Vec<(f64, f64)>,
    acks: Vec<(f64, f64)>,
    window: Vec<(f64, f64)>,
    t_max: f64,
    seq_max: f64,
}

/// Pushes a step to `y` at `t` onto a step line.
fn step(line: &mut Vec<(f64, f64)>, t: f64, y: f64) {
    if let Some(&(_, last)) = line.last() {
        if last == y {
            return;
        }
        line.push((t, last));
    }
    line.push((t, y));
}

fn panel(trace: &[TraceEvent], from: u32, to: u32) -> Option<Panel> {
    let segs: Vec<&SegmentRecord> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Segment(s) => Some(s),
            TraceEvent::State(_) => None,
        })
        .collect();
    let data: Vec<&&SegmentRecord> = segs
        .iter()
        .filter(|s| s.src == from && s.dst == to && s.len > 0)
        .collect();
    if data.is_empty() {
        return None;
    }
    let mut p = Panel {
        title: format!("{} → {}", host_name(from), host_name(to)),
        ..Panel::default()
    };
    let ms = |s: &SegmentRecord| s.t_us as f64 / 1000.0;
    let mut top = 0f64;
    for s in &data {
        let (lo, hi) = (
            f64::from(s.rel_seq()),
            f64::from(s.rel_seq()) + s.len as f64,
        );
        top = top.max(hi);
        let bar = (ms(s), lo, hi);
        if s.is_lost() {
            p.lost.push((ms(s), (lo + hi) / 2.0));
        }
        if s.notes.retransmission {
            p.retransmitted.push(bar);
        } else {
            p.sent.push(bar);
        }
    }
    // The receiver's ACKs, up to the one that covers all the data (plus one RTT or so).
    let mut t_end = data.iter().map(|s| ms(s)).fold(0.0, f64::max);
    for s in segs.iter().filter(|s| s.src == to && s.dst == from) {
        if !s.flags.contains(TcpFlags::ACK) || s.flags.contains(TcpFlags::RST) {
            continue;
        }
        let ack = f64::from(s.rel_ack());
        step(&mut p.acks, ms(s), ack);
        step(&mut p.window, ms(s), ack + f64::from(s.win));
        if ack >= top {
            t_end = t_end.max(ms(s));
            break;
        }
    }
    p.t_max = (t_end * 1.05).max(1.0);
    p.seq_max = p
        .window
        .iter()
        .map(|&(_, y)| y)
        .fold(top, f64::max)
        .max(1.0)
        * 1.05;
    Some(p)
}

/// Draws the time-sequence graph of the A → B and B → A directions (those that carried data)
/// as an SVG document; `title` heads it.
///
/// # Errors
///
/// [`SvgError`] if no direction carried data, or plotting failed.
pub fn time_sequence_svg(trace: &[TraceEvent], title: &str) -> Result<String, SvgError> {
    let panels: Vec<Panel> = [(0, 1), (1, 0)]
        .into_iter()
        .filter_map(|(f, t)| panel(trace, f, t))
        .collect();
    if panels.is_empty() {
        return Err(SvgError("no data segments to draw".to_string()));
    }
    let mut svg = String::new();
    {
        let height = 80 + 420 * panels.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (1000, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(err)?;
        let areas = root.split_evenly((panels.len(), 1));
        for (area, p) in areas.iter().zip(&panels) {
            draw_panel(area, p).map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn draw_panel(area: &Area<'_>, p: &Panel) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..p.t_max, 0f64..p.seq_max)?;
    chart
        .configure_mesh()
        .x_desc("time (ms)")
        .y_desc("relative sequence number")
        .light_line_style(WHITE.mix(0.0))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    let blue = RGBColor(31, 90, 200);
    let bar = |(t, lo, hi): (f64, f64, f64), c: RGBColor, w: u32| {
        PathElement::new(vec![(t, lo), (t, hi)], c.stroke_width(w))
    };
    let tick = |c: RGBColor, w: u32| {
        move |(x, y): (i32, i32)| {
            PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], c.stroke_width(w))
        }
    };
    chart
        .draw_series(p.sent.iter().map(|&b| bar(b, blue, 2)))?
        .label("data sent")
        .legend(tick(blue, 2));
    chart
        .draw_series(p.retransmitted.iter().map(|&b| bar(b, RED, 4)))?
        .label("retransmission")
        .legend(tick(RED, 4));
    chart.draw_series(
        p.retransmitted
            .iter()
            .map(|&(t, lo, hi)| Circle::new((t, (lo + hi) / 2.0), 4, RED.stroke_width(1))),
    )?;
    chart
        .draw_series(
            p.lost
                .iter()
                .map(|&(t, y)| Cross::new((t, y), 5, RED.stroke_width(2))),
        )?
        .label("lost")
        .legend(|(x, y)| Cross::new((x + 7, y), 5, RED.stroke_width(2)));
    let green = RGBColor(20, 140, 60);
    chart
        .draw_series(LineSeries::new(
            p.acks.iter().copied(),
            green.stroke_width(2),
        ))?
        .label("ACK")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], green.stroke_width(2)));
    let orange = RGBColor(230, 140, 20);
    chart
        .draw_series(LineSeries::new(
            p.window.iter().copied(),
            orange.stroke_width(1),
        ))?
        .label("ACK + window")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], orange.stroke_width(1)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()?;
    Ok(())
}
