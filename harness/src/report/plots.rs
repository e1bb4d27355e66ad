//! The report's plots, drawn with plotters into SVG strings: every request's latency over time
//! with the fault windows shaded, throughput and errors per second, and the failover breakdown.

use plotters::prelude::*;

use super::Samples;
use crate::checker::timeline::FailoverTimeline;
use crate::history::{FaultPhase, Micros};

/// Above this many requests, the latency plot shows the slowest request of each pixel column
/// instead of every request, so a long run still makes a page a browser opens.
const MAX_POINTS: usize = 20_000;
const WIDTH: u32 = 1000;

/// A plot that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {plot} plot: {detail}")]
pub struct PlotError {
    plot: &'static str,
    detail: String,
}

fn plot_error<E: std::fmt::Display>(plot: &'static str) -> impl Fn(E) -> PlotError {
    move |e| PlotError {
        plot,
        detail: e.to_string(),
    }
}

/// A fault from its start to its heal, in seconds into the run.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    /// `kill redis-1`.
    pub label: String,
    /// Start.
    pub from_s: f64,
    /// Heal, or the end of the run.
    pub until_s: f64,
}

fn seconds(at: Micros) -> f64 {
    at as f64 / 1e6
}

/// Each fault's window: its start paired with the next heal of the same fault on the same node.
pub fn fault_windows(samples: &Samples, end_s: f64) -> Vec<FaultWindow> {
    let faults = &samples.faults;
    faults
        .iter()
        .enumerate()
        .filter(|(_, f)| f.phase == FaultPhase::Start)
        .map(|(i, start)| {
            let heal = faults[i..].iter().find(|f| {
                f.phase == FaultPhase::Heal && f.node == start.node && f.fault == start.fault
            });
            FaultWindow {
                label: format!("{} {}", start.fault, start.node),
                from_s: seconds(start.at),
                until_s: heal.map_or(end_s, |h| seconds(h.at)),
            }
        })
        .collect()
}

/// The run's end: when its last operation ended, at least a second in.
pub fn end_of(samples: &Samples) -> f64 {
    seconds(samples.end()).max(1.0)
}

const SHADE: RGBAColor = RGBAColor(220, 50, 47, 0.15);
const OK: RGBColor = RGBColor(38, 139, 210);
const FAILED: RGBColor = RGBColor(220, 50, 47);

/// Every request's latency (log scale) over time, failed ones in red, fault windows shaded.
pub fn latency_over_time(samples: &Samples) -> Result<String, PlotError> {
    let err = plot_error("latency");
    let end_s = end_of(samples);
    let mut points: Vec<(f64, f64, bool)> = samples
        .attempts
        .iter()
        .map(|a| {
            let ms = f64::from(a.latency) / 1e3;
            (seconds(a.started_at), ms.max(0.01), a.ok)
        })
        .collect();
    let caption = if points.len() > MAX_POINTS {
        points = slowest_per_column(&points, end_s);
        "Request latency (the slowest request of each pixel column)"
    } else {
        "Request latency"
    };
    let y_max = points.iter().map(|p| p.1).fold(1.0, f64::max) * 2.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..end_s, (0.01f64..y_max).log_scale())
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("seconds into the run")
            .y_desc("ms (log scale)")
            .draw()
            .map_err(&err)?;
        for window in fault_windows(samples, end_s) {
            chart
                .draw_series([Rectangle::new(
                    [(window.from_s, 0.01), (window.until_s, y_max)],
                    SHADE.filled(),
                )])
                .map_err(&err)?;
            chart
                .draw_series([Text::new(
                    window.label,
                    (window.from_s, y_max / 2.0),
                    ("sans-serif", 13).into_font().color(&FAILED),
                )])
                .map_err(&err)?;
        }
        chart
            .draw_series(points.iter().map(|&(x, y, ok)| {
                Circle::new((x, y), 2, if ok { OK.filled() } else { FAILED.filled() })
            }))
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

fn slowest_per_column(points: &[(f64, f64, bool)], end_s: f64) -> Vec<(f64, f64, bool)> {
    let columns = WIDTH as usize;
    let mut slowest: Vec<Option<(f64, f64, bool)>> = vec![None; columns];
    for &p in points {
        let column = ((p.0 / end_s) * columns as f64) as usize;
        let cell = &mut slowest[column.min(columns - 1)];
        if cell.is_none_or(|c| p.1 > c.1) {
            *cell = Some(p);
        }
    }
    slowest.into_iter().flatten().collect()
}

/// Successful and failed HTTP attempts per second, by when they ended.
pub fn throughput(samples: &Samples) -> Result<String, PlotError> {
    let err = plot_error("throughput");
    let end_s = end_of(samples);
    let bins = end_s.ceil().max(1.0) as usize;
    let (mut ok, mut failed) = (vec![0u32; bins], vec![0u32; bins]);
    for a in &samples.attempts {
        let bin = (seconds(a.ended_at()) as usize).min(bins - 1);
        if a.ok {
            ok[bin] += 1;
        } else {
            failed[bin] += 1;
        }
    }
    let y_max = f64::from(ok.iter().chain(&failed).copied().max().unwrap_or(1).max(1)) * 1.2;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Throughput and errors per second", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..end_s, 0f64..y_max)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("seconds into the run")
            .y_desc("requests / s")
            .draw()
            .map_err(&err)?;
        for window in fault_windows(samples, end_s) {
            chart
                .draw_series([Rectangle::new(
                    [(window.from_s, 0.0), (window.until_s, y_max)],
                    SHADE.filled(),
                )])
                .map_err(&err)?;
        }
        let line = |counts: &[u32]| {
            counts
                .iter()
                .enumerate()
                .map(|(i, &n)| (i as f64 + 0.5, f64::from(n)))
                .collect::<Vec<_>>()
        };
        chart
            .draw_series(LineSeries::new(line(&ok), OK.stroke_width(2)))
            .map_err(&err)?
            .label("succeeded")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], OK.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(line(&failed), FAILED.stroke_width(2)))
            .map_err(&err)?
            .label("failed")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], FAILED.stroke_width(2)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// A timeline's milestones that happened, by name, in ms after its fault started.
pub fn milestones(f: &FailoverTimeline) -> Vec<(&'static str, f64)> {
    [
        ("+sdown", f.sdown_ms),
        ("+odown", f.odown_ms),
        ("+elected-leader", f.elected_leader_ms),
        ("+promoted-slave", f.promoted_ms),
        ("+switch-master", f.switch_master_ms),
        ("app first success", f.app_first_success_ms),
        ("last user success", f.last_user_success_ms),
        ("healed", f.healed_ms),
        ("+convert-to-slave", f.demoted_ms),
        ("back in place", f.settled_ms),
    ]
    .into_iter()
    .filter_map(|(name, ms)| ms.map(|ms| (name, ms)))
    .collect()
}

/// One row per fault: its milestones on a line from the fault's start.
pub fn failover_timeline(failovers: &[FailoverTimeline]) -> Result<String, PlotError> {
    let err = plot_error("failover timeline");
    let rows = failovers.len().max(1);
    let x_max = failovers
        .iter()
        .flat_map(milestones)
        .map(|(_, ms)| ms)
        .fold(100.0, f64::max)
        * 1.08;
    let height = 90 + 110 * rows as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Failover breakdown", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(10)
            .build_cartesian_2d(0f64..x_max, 0f64..rows as f64)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("ms after the fault started")
            .disable_y_mesh()
            .disable_y_axis()
            .draw()
            .map_err(&err)?;
        for (i, f) in failovers.iter().enumerate() {
            // The first fault on top.
            let y = (rows - 1 - i) as f64 + 0.5;
            let points = milestones(f);
            let last = points.iter().map(|p| p.1).fold(0.0, f64::max);
            chart
                .draw_series(LineSeries::new([(0.0, y), (last, y)], BLACK.mix(0.4)))
                .map_err(&err)?;
            chart
                .draw_series([Circle::new((0.0, y), 4, FAILED.filled())])
                .map_err(&err)?;
            chart
                .draw_series([Text::new(
                    format!("{} {} at {:.1} s", f.fault, f.node, f.fault_at_s),
                    (0.0, y + 0.42),
                    ("sans-serif", 13).into_font().color(&FAILED),
                )])
                .map_err(&err)?;
            for (k, (name, ms)) in points.into_iter().enumerate() {
                // Alternate above and below, and step outwards, so close milestones stay legible.
                let offset =
                    (0.12 + 0.08 * (k / 2 % 3) as f64) * if k % 2 == 0 { 1.0 } else { -1.0 };
                chart
                    .draw_series([Circle::new((ms, y), 4, OK.filled())])
                    .map_err(&err)?;
                chart
                    .draw_series([Text::new(
                        format!("{name} {ms:.0}"),
                        (ms, y + offset),
                        ("sans-serif", 11),
                    )])
                    .map_err(&err)?;
            }
        }
        root.present().map_err(&err)?;
    }
    Ok(svg)
}
