//! The node-state swimlanes of the report: one lane per node, coloured by what the harness saw it
//! be over time (master, replica with its link up or down, unreachable; for a sentinel, the node it
//! named master), each data node's restarts marked, and the fault windows shaded.

use plotters::prelude::*;

use super::lanes::{Lane, LaneState};
use super::plots::{axis_number, end_of, fault_windows, plot_error, PlotError, SHADE, WIDTH};
use super::Samples;

const MASTER: RGBColor = RGBColor(42, 125, 42);
const REPLICA: RGBColor = RGBColor(107, 174, 214);
const LINK_DOWN: RGBColor = RGBColor(253, 174, 107);
const UNREACHABLE: RGBColor = RGBColor(150, 150, 150);
const NONE_NAMED: RGBColor = RGBColor(240, 240, 240);
/// Colours for "names this data node as master", in data-node order.
const NAMED: [RGBColor; 6] = [
    RGBColor(140, 107, 177),
    RGBColor(231, 41, 138),
    RGBColor(102, 166, 30),
    RGBColor(230, 171, 2),
    RGBColor(166, 118, 29),
    RGBColor(27, 158, 119),
];

/// The legend's entries: a colour and what it means, for the page to print beside the plot.
pub(super) fn legend(samples: &Samples) -> Vec<(String, String)> {
    let hex = |c: RGBColor| format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2);
    let mut entries = vec![
        (hex(MASTER), "master".to_owned()),
        (hex(REPLICA), "replica, link up".to_owned()),
        (hex(LINK_DOWN), "replica, link down".to_owned()),
        (hex(UNREACHABLE), "no answer".to_owned()),
    ];
    for (i, lane) in data_lanes(samples).enumerate() {
        entries.push((
            hex(NAMED[i % NAMED.len()]),
            format!("sentinel names {} master", lane.node),
        ));
    }
    entries.push((hex(NONE_NAMED), "sentinel names no master".to_owned()));
    entries
}

fn data_lanes(samples: &Samples) -> impl Iterator<Item = &Lane> {
    samples.lanes.lanes.iter().filter(|l| !l.sentinel)
}

fn colour(samples: &Samples, state: &LaneState) -> RGBColor {
    match state {
        LaneState::Master => MASTER,
        LaneState::Replica => REPLICA,
        LaneState::ReplicaLinkDown => LINK_DOWN,
        LaneState::Unreachable => UNREACHABLE,
        LaneState::NamesNone => NONE_NAMED,
        LaneState::Names(node) => data_lanes(samples)
            .position(|l| l.node == *node)
            .map_or(UNREACHABLE, |i| NAMED[i % NAMED.len()]),
    }
}

/// One lane per node, first data nodes, then sentinels; `None` when no node was sampled.
pub(super) fn node_states(samples: &Samples) -> Result<Option<String>, PlotError> {
    let lanes = &samples.lanes.lanes;
    if lanes.is_empty() {
        return Ok(None);
    }
    let err = plot_error("node states");
    let end_s = end_of(samples).max(
        lanes
            .iter()
            .flat_map(|l| l.spans.last())
            .map(|s| s.until as f64 / 1e6)
            .fold(0.0, f64::max),
    );
    let rows = lanes.len() as i32;
    let height = 110 + 36 * rows.max(3) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Node states (as the harness sampled them)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..end_s, (0..rows - 1).into_segmented())
            .map_err(&err)?;
        let name_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => lanes
                .get(usize::try_from(rows - 1 - i).unwrap_or(usize::MAX))
                .map_or_else(String::new, |l| l.node.clone()),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("seconds into the run")
            .axis_desc_style(("sans-serif", 14))
            .label_style(("sans-serif", 13))
            .x_label_formatter(&axis_number)
            .y_label_formatter(&name_of)
            .y_labels(lanes.len())
            .draw()
            .map_err(&err)?;
        for (i, lane) in lanes.iter().enumerate() {
            // The first lane on top.
            let row = rows - 1 - i as i32;
            let spans = lane.spans.iter().map(|span| {
                let (from, until) = (span.from as f64 / 1e6, span.until as f64 / 1e6);
                let bar = [
                    (from, SegmentValue::Exact(row)),
                    (until.max(from + 0.02), SegmentValue::Exact(row + 1)),
                ];
                Rectangle::new(bar, colour(samples, &span.state).filled())
            });
            chart.draw_series(spans).map_err(&err)?;
            let restarts = lane.restarts.iter().map(|&(at, empty)| {
                let label = if empty {
                    "restarted empty"
                } else {
                    "restarted"
                };
                EmptyElement::at((at as f64 / 1e6, SegmentValue::CenterOf(row)))
                    + Circle::new((0, 0), 4, BLACK.filled())
                    + Text::new(label, (6, -6), ("sans-serif", 12))
            });
            chart.draw_series(restarts).map_err(&err)?;
        }
        // Over the lanes, translucent, so each fault's window reads across every node.
        for window in fault_windows(samples, end_s) {
            chart
                .draw_series([Rectangle::new(
                    [
                        (window.from_s, SegmentValue::Exact(0)),
                        (window.until_s, SegmentValue::Exact(rows)),
                    ],
                    SHADE.filled(),
                )])
                .map_err(&err)?;
        }
        root.present().map_err(&err)?;
    }
    Ok(Some(svg))
}
