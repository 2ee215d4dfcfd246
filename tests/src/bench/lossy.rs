//! `lossy`: 8 MiB with 1 % random loss each way and 5 ms one-way delay, over many seeds;
//! the median virtual completion time for each congestion control a stack offers (the best
//! one is reported), and the lossless time with the same delay
//!
//! smoltcp's default is no congestion control at all; it is measured and noted but not
//! compared, since it is not a congestion control (ours: NewReno or CUBIC; smoltcp: Reno or
//! CUBIC).

use smoltcp::socket::tcp::CongestionControl;
use tcp_engine::conn::Algorithm;

use super::bulk::transfer;
use super::link::{Link, LinkParams};
use super::net::{Net, Recovery, RunError, World};
use super::ours::{Ours, OursConfig};
use super::pattern::Pattern;
use super::smol::Smol;
use super::{Figure, Stacks, MIB};

/// One-way delay, microseconds
pub const DELAY_US: u64 = 5_000;
/// Loss probability per packet, each way
pub const LOSS: f64 = 0.01;
/// Virtual seconds after which a run counts as failed
pub const LIMIT_S: u64 = 3600;

/// Virtual seconds to move `bytes` over a link with `loss` and seed `seed`, and the
/// sender's recovery counters
pub fn completion<N: Net>(
    make: &dyn Fn(&mut Link) -> N,
    bytes: u64,
    loss: f64,
    seed: u64,
) -> Result<(f64, Option<Recovery>), RunError> {
    let link = Link::new(LinkParams {
        delay_us: DELAY_US,
        loss,
        seed,
    });
    let mut world = World::new(link, LIMIT_S);
    let mut net = make(&mut world.link);
    net.listen(1);
    let t = transfer(&mut net, &mut world, &Pattern::new(), bytes)?;
    Ok((t.virtual_us as f64 / 1e6, t.recovery))
}

/// The median of some values (NaN-free)
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Median completion over `seeds` seeds (a run that fails counts as the time limit)
fn median_over<N: Net>(make: &dyn Fn(&mut Link) -> N, bytes: u64, seeds: u64, label: &str) -> f64 {
    let mut total: Option<Recovery> = None;
    let times: Vec<f64> = (0..seeds)
        .map(|seed| match completion(make, bytes, LOSS, seed) {
            Ok((t, r)) => {
                if let Some(r) = r {
                    *total.get_or_insert_with(Recovery::default) += r;
                }
                t
            }
            Err(e) => {
                eprintln!("  {label} seed {seed}: {e}");
                LIMIT_S as f64
            }
        })
        .collect();
    let m = median(times.clone());
    let (lo, hi) = times
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &t| (a.min(t), b.max(t)));
    eprintln!("  {label}: median {m:.3} s (min {lo:.3}, max {hi:.3}) over {seeds} seeds");
    if let Some(r) = total {
        eprintln!(
            "  {label}: per run {:.1} timeouts, {:.1} fast retransmits, {:.1} segments resent",
            f64::from(r.timeouts) / seeds as f64,
            f64::from(r.fast_retransmits) / seeds as f64,
            f64::from(r.retransmissions) / seeds as f64
        );
    }
    m
}

/// A named way to build a stack's hosts
type Choice<N> = (&'static str, Box<dyn Fn(&mut Link) -> N>);

/// Best median and the lossless time, for a list of (name, constructor) choices
fn best_of<N: Net>(
    choices: Vec<Choice<N>>,
    bytes: u64,
    seeds: u64,
    stack: &str,
) -> Result<(f64, f64, &'static str), RunError> {
    let mut best: Option<(f64, f64, &'static str)> = None;
    for (name, make) in &choices {
        let label = format!("{stack} {name}");
        let m = median_over(make.as_ref(), bytes, seeds, &label);
        let (lossless, _) = completion(make.as_ref(), bytes, 0.0, 0)?;
        eprintln!("  {label}: lossless {lossless:.3} s");
        if best.map_or(true, |(b, _, _)| m < b) {
            best = Some((m, lossless, name));
        }
    }
    Ok(best.expect("at least one choice"))
}

fn ours_choices() -> Vec<Choice<Ours>> {
    let make = |congestion| {
        Box::new(move |_: &mut Link| {
            Ours::new(OursConfig {
                congestion,
                ..OursConfig::default()
            })
        }) as Box<dyn Fn(&mut Link) -> Ours>
    };
    vec![
        ("NewReno", make(Algorithm::NewReno)),
        ("CUBIC", make(Algorithm::Cubic)),
        ("BBR", make(Algorithm::Bbr)),
    ]
}

fn smol_choices() -> Vec<Choice<Smol>> {
    let make =
        |cc| Box::new(move |l: &mut Link| Smol::new(l, cc)) as Box<dyn Fn(&mut Link) -> Smol>;
    vec![
        ("Reno", make(CongestionControl::Reno)),
        ("CUBIC", make(CongestionControl::Cubic)),
    ]
}

/// The `lossy` figures: median completion under loss and the lossless time, in seconds
pub fn lossy(stacks: Stacks, seeds: u64) -> Result<Vec<Figure>, RunError> {
    let bytes = 8 * MIB;
    let ours = stacks
        .ours()
        .then(|| best_of(ours_choices(), bytes, seeds, "ours"))
        .transpose()?;
    let smol = stacks
        .smoltcp()
        .then(|| best_of(smol_choices(), bytes, seeds, "smoltcp"))
        .transpose()?;
    // smoltcp's default is no congestion control at all: shown, not compared.
    let uncontrolled = stacks
        .smoltcp()
        .then(|| {
            let make = |l: &mut Link| Smol::new(l, CongestionControl::None);
            median_over(&make, bytes, seeds, "smoltcp without congestion control")
        })
        .map_or(String::new(), |m| {
            format!("; smoltcp without congestion control {m:.3} s")
        });
    let note = format!(
        "ours {}, smoltcp {}; {seeds} seeds{uncontrolled}",
        ours.map_or("-", |o| o.2),
        smol.map_or("-", |s| s.2)
    );
    Ok(vec![
        Figure::new(
            "lossy",
            "median_s",
            ours.map(|o| o.0),
            smol.map(|s| s.0),
            false,
        )
        .with_note(note),
        Figure::new(
            "lossy",
            "lossless_s",
            ours.map(|o| o.1),
            smol.map(|s| s.1),
            false,
        ),
    ])
}
