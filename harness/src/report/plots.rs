//! The report's plots, drawn with plotters into SVG strings: every request's latency over time
//! with the fault windows shaded, throughput and errors per second, and the failover breakdown.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Samples;
use crate::checker::timeline::FailoverTimeline;
use crate::history::{FaultPhase, Micros};

/// Above this many requests, the latency plot shows the slowest request of each pixel column
/// instead of every request, so a long run still makes a page a browser opens.
const MAX_POINTS: usize = 20_000;
pub(super) const WIDTH: u32 = 1000;

/// A plot that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {plot} plot: {detail}")]
pub struct PlotError {
    plot: &'static str,
    detail: String,
}

pub(crate) fn plot_error<E: std::fmt::Display>(plot: &'static str) -> impl Fn(E) -> PlotError {
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

pub(super) const SHADE: RGBAColor = RGBAColor(220, 50, 47, 0.15);
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
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
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
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
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

/// An axis tick as people write numbers: `5000`, `2.5`, `0.01`; never `5000.0`.
pub(crate) fn axis_number(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        return format!("{v:.0}");
    }
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Pixels per character of the 11-pixel label font, a little generous so estimates never overlap.
const LABEL_CHAR_PX: f64 = 6.6;
/// Vertical distance between two label levels, and from the line to the first.
const LEVEL_PX: i32 = 15;

/// Each label's level, so no two on one level overlap: level 0 is just above the line, 1 just
/// below, 2 above 0, and so on. Labels start at their point, or end at the plot's right edge when
/// they would run past it; `xs` are in pixels, in any order.
fn label_levels(labels: &[(f64, usize)], plot_px: f64) -> Vec<(usize, f64)> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|a, b| labels[*a].0.total_cmp(&labels[*b].0));
    let mut ends: Vec<f64> = Vec::new();
    let mut placed = vec![(0, 0.0); labels.len()];
    for i in order {
        let (x, chars) = labels[i];
        let width = chars as f64 * LABEL_CHAR_PX;
        let start = x.min(plot_px - width).max(0.0);
        let level = match ends.iter().position(|end| *end + 6.0 <= start) {
            Some(level) => level,
            None => {
                ends.push(f64::NEG_INFINITY);
                ends.len() - 1
            }
        };
        ends[level] = start + width;
        placed[i] = (level, start);
    }
    placed
}

fn level_offset(level: usize) -> i32 {
    let step = i32::try_from(level / 2 + 1).unwrap_or(i32::MAX / LEVEL_PX);
    if level.is_multiple_of(2) {
        -step * LEVEL_PX
    } else {
        step * LEVEL_PX
    }
}

/// One row per fault: its milestones on a line from the fault's start, each labelled; labels that
/// would overlap go to further levels above and below the line, with a leader to their point.
pub fn failover_timeline(failovers: &[FailoverTimeline]) -> Result<String, PlotError> {
    let err = plot_error("failover timeline");
    let x_max = failovers
        .iter()
        .flat_map(milestones)
        .map(|(_, ms)| ms)
        .fold(100.0, f64::max)
        * 1.04;
    // The plot area is the width less the margins; labels are placed in its pixels.
    let plot_px = f64::from(WIDTH) - 24.0 - 10.0;
    // Per fault: its milestones, and each label's level and start.
    type Row<'f> = (Vec<(&'f str, f64)>, Vec<(usize, f64)>);
    let rows: Vec<Row<'_>> = failovers
        .iter()
        .map(|f| {
            let points = milestones(f);
            let labels: Vec<(f64, usize)> = points
                .iter()
                .map(|(name, ms)| (ms / x_max * plot_px, format!("{name} {ms:.0}").len()))
                .collect();
            let levels = label_levels(&labels, plot_px);
            (points, levels)
        })
        .collect();
    // Each row is as tall as its deepest level needs, above and below its line.
    let heights: Vec<i32> = rows
        .iter()
        .map(|(_, levels)| {
            let deepest = levels.iter().map(|(l, _)| *l).max().unwrap_or(0);
            2 * (i32::try_from(deepest / 2 + 1).unwrap_or(8) * LEVEL_PX) + 2 * LEVEL_PX + 10
        })
        .collect();
    let total: i32 = heights.iter().sum::<i32>().max(120);
    let height = 90 + u32::try_from(total).unwrap_or(600);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        // y counts pixels from the top of the plot area down.
        let mut chart = ChartBuilder::on(&root)
            .caption("Failover breakdown", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(10)
            .build_cartesian_2d(0f64..x_max, f64::from(total)..0f64)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("ms after the fault started")
            .x_label_formatter(&axis_number)
            .disable_y_mesh()
            .disable_y_axis()
            .draw()
            .map_err(&err)?;
        let mut top = 0;
        for (f, ((points, levels), row_height)) in failovers.iter().zip(rows.iter().zip(&heights)) {
            let y = f64::from(top + row_height / 2 + LEVEL_PX / 2);
            top += row_height;
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
                    (0.0, f64::from(top - row_height + 2)),
                    ("sans-serif", 13).into_font().color(&FAILED),
                )])
                .map_err(&err)?;
            for ((name, ms), (level, start_px)) in points.iter().zip(levels) {
                let offset = f64::from(level_offset(*level));
                let label_y = y + offset - if offset < 0.0 { 6.0 } else { -6.0 };
                chart
                    .draw_series([Circle::new((*ms, y), 4, OK.filled())])
                    .map_err(&err)?;
                chart
                    .draw_series(LineSeries::new(
                        [(*ms, y), (*ms, y + offset)],
                        BLACK.mix(0.25),
                    ))
                    .map_err(&err)?;
                chart
                    .draw_series([Text::new(
                        format!("{name} {ms:.0}"),
                        (start_px / plot_px * x_max, label_y),
                        TextStyle::from(("sans-serif", 11).into_font())
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )])
                    .map_err(&err)?;
            }
        }
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_print_whole_numbers_without_a_decimal() {
        assert_eq!(axis_number(&5000.0), "5000");
        assert_eq!(axis_number(&2.5), "2.5");
        assert_eq!(axis_number(&0.01), "0.01");
        assert_eq!(axis_number(&(0.1 + 0.2)), "0.3");
    }

    #[test]
    fn labels_close_together_go_to_different_levels_and_never_overlap() {
        // +sdown 911, +odown 1055, first and last user 2252 and 2276 on a 24 s axis: the four
        // labels of kill-master's breakdown that used to print over each other.
        let x_max = 24_000.0;
        let plot = 966.0;
        let labels: Vec<(f64, usize)> = [
            ("+sdown 911", 911.0),
            ("+odown 1055", 1055.0),
            ("+switch-master 2157", 2157.0),
            ("app first success 2235", 2235.0),
            ("last user success 2276", 2276.0),
            ("back in place 23469", 23469.0),
        ]
        .iter()
        .map(|(text, ms)| (ms / x_max * plot, text.len()))
        .collect();
        let placed = label_levels(&labels, plot);
        for (i, a) in placed.iter().enumerate() {
            for (j, b) in placed.iter().enumerate().skip(i + 1) {
                if a.0 != b.0 {
                    continue;
                }
                let (wa, wb) = (
                    labels[i].1 as f64 * LABEL_CHAR_PX,
                    labels[j].1 as f64 * LABEL_CHAR_PX,
                );
                assert!(
                    a.1 + wa <= b.1 || b.1 + wb <= a.1,
                    "labels {i} and {j} overlap on level {}",
                    a.0
                );
            }
        }
        let last = placed[5];
        assert!(
            last.1 + labels[5].1 as f64 * LABEL_CHAR_PX <= plot,
            "kept inside the plot"
        );
    }
}
