//! `matrix.html`: one self-contained page (inline SVG and CSS, no script, nothing fetched) with the
//! grid, rows app × settings and a column per scenario, each cell coloured by its verdict with
//! its longest unavailable time, acknowledged writes lost and errors users saw, linked to its
//! runs' own reports; then, for sweeps, acknowledged writes lost against the longest time a user
//! could not work, one numbered point per cell with its repeats as whiskers: what each setting
//! buys and what it costs. It owns the page only.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::outcome::{CellOutcome, CellVerdict, MatrixOutcome};
use crate::report::html::escape;
use crate::report::plots::{axis_number, plot_error, PlotError};

const STYLE: &str = "body{font-family:sans-serif;max-width:1200px;margin:24px auto;color:#222}\
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}\
th{background:#f4f4f4}td.row{font-weight:bold}td.passed{background:#e3f4e3}td.failed{background:#f9dcd9}\
td.error{background:#e6e6e6}td.pending{background:#fff;color:#888}.verdict{font-weight:bold}\
td small{color:#444}figure{margin:16px 0}figure svg{max-width:100%;height:auto}";

const PASSED: RGBColor = RGBColor(42, 125, 42);
const FAILED: RGBColor = RGBColor(192, 57, 43);
const OTHER: RGBColor = RGBColor(120, 120, 120);

/// Characters a URL path segment holds as they are (RFC 3986's unreserved); every other byte
/// is percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A relative file path as a URL path: a scenario's name may hold a space, `#`, `?` or `%`, which
/// a link must not read as its own syntax.
fn url_path(path: &str) -> String {
    path.split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The page's HTML.
pub(super) fn render(outcome: &MatrixOutcome) -> Result<String, PlotError> {
    let mut page = String::new();
    let verdict = if outcome.passed() { "passed" } else { "failed" };
    // Writing to a String cannot fail.
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{name} {verdict}</title>\
         <style>{STYLE}</style></head><body><h1>matrix {name}</h1><p>{description}</p>\
         <p>{done} of {planned} drills, {pace}; each cell runs {repeat} \
         time(s). A cell shows its verdict, the longest time a user could not work, the \
         acknowledged writes lost and the errors users saw{spread}.</p>",
        name = escape(&outcome.name),
        description = escape(&outcome.description),
        done = outcome.done(),
        planned = outcome.planned,
        pace = escape(&outcome.pace()),
        repeat = outcome.repeat,
        spread = if outcome.repeat > 1 {
            " (least–largest over the runs)"
        } else {
            ""
        },
    );
    if !outcome.fixed.is_empty() {
        let fixed: Vec<String> = outcome.fixed.iter().map(super::Setting::short).collect();
        let _ = write!(page, "<p>Every cell: {}.</p>", escape(&fixed.join(", ")));
    }
    grid(outcome, &mut page);
    if outcome.is_sweep() {
        let points = points(outcome);
        if !points.is_empty() {
            let svg = loss_against_outage(&points)?;
            let _ = write!(
                page,
                "<h2>What each setting buys and costs</h2><figure>{svg}</figure><table>\
                 <tr><th>point</th><th>app × settings</th><th>scenario</th><th>verdict</th>\
                 <th>longest unavailable (s)</th><th>acknowledged writes lost</th></tr>"
            );
            for p in &points {
                let cell = p.cell;
                let _ = write!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    p.number,
                    escape(&outcome.rows[cell.row].label()),
                    escape(&outcome.columns[cell.column]),
                    cell.verdict().word(),
                    cell.unavailable().map_or_else(String::new, |s| s.text(1)),
                    cell.lost_writes().map_or_else(String::new, |s| s.text(0)),
                );
            }
            page.push_str("</table>");
        }
    }
    page.push_str("</body></html>");
    Ok(page)
}

fn grid(outcome: &MatrixOutcome, page: &mut String) {
    page.push_str("<table><tr><th>app × settings</th>");
    for column in &outcome.columns {
        let _ = write!(page, "<th>{}</th>", escape(column));
    }
    page.push_str("</tr>");
    for (r, row) in outcome.rows.iter().enumerate() {
        let _ = write!(
            page,
            "<tr><td class=\"row\">{}<br><small>{}</small></td>",
            escape(&row.app),
            escape(&row.settings_label())
        );
        for c in 0..outcome.columns.len() {
            match outcome.cell(r, c).filter(|cell| cell.drilled()) {
                Some(cell) => cell_html(outcome, cell, page),
                None => page.push_str("<td class=\"pending\">—</td>"),
            }
        }
        page.push_str("</tr>");
    }
    page.push_str("</table>");
}

fn cell_html(outcome: &MatrixOutcome, cell: &CellOutcome, page: &mut String) {
    let verdict = cell.verdict();
    let class = match verdict {
        CellVerdict::Pending => "pending",
        CellVerdict::Passed => "passed",
        CellVerdict::Failed => "failed",
        CellVerdict::Error => "error",
    };
    let _ = write!(
        page,
        "<td class=\"{class}\"><span class=\"verdict\">{}</span>",
        verdict.word()
    );
    if cell.runs.len() > 1 {
        let _ = write!(
            page,
            " <small>{} of {} runs failed</small>",
            cell.failed_runs(),
            cell.runs.len()
        );
    }
    if let (Some(unavailable), Some(lost), Some(errors)) =
        (cell.unavailable(), cell.lost_writes(), cell.user_errors())
    {
        let _ = write!(
            page,
            "<br>{} s unavailable<br>{} writes lost<br>{} user errors",
            unavailable.text(1),
            lost.text(0),
            errors.text(0)
        );
    }
    let never = cell.never_recovered();
    if never > 0 {
        let _ = write!(
            page,
            "<br><strong>{never} users never worked again</strong>"
        );
    }
    for failure in cell.failures().iter().chain(&cell.reported()) {
        let _ = write!(page, "<br><small>{}</small>", escape(failure));
    }
    let links: Vec<String> = cell
        .runs
        .iter()
        .enumerate()
        .filter(|(_, run)| run.error.is_none())
        .map(|(i, run)| {
            let href = format!("{}/report.html", outcome.relative(&run.run_dir));
            // Numbered by repetition, so run 3 is the third run however the drills were split.
            let number = if run.repetition > 0 {
                run.repetition as usize
            } else {
                i + 1
            };
            format!("<a href=\"{}\">{number}</a>", escape(&url_path(&href)))
        })
        .collect();
    if !links.is_empty() {
        let _ = write!(page, "<br><small>reports: {}</small>", links.join(" "));
    }
    page.push_str("</td>");
}

/// A cell on the plot, numbered for its row in the key.
struct Point<'a> {
    number: usize,
    cell: &'a CellOutcome,
}

fn points(outcome: &MatrixOutcome) -> Vec<Point<'_>> {
    outcome
        .cells
        .iter()
        .filter(|c| c.unavailable().is_some())
        .enumerate()
        .map(|(i, cell)| Point {
            number: i + 1,
            cell,
        })
        .collect()
}

/// Acknowledged writes lost (y) against the longest unavailable time (x): each cell's median,
/// with whiskers from its least to its largest run on both axes.
fn loss_against_outage(points: &[Point<'_>]) -> Result<String, PlotError> {
    let err = plot_error("loss against outage");
    let spreads: Vec<_> = points
        .iter()
        .filter_map(|p| Some((p, p.cell.unavailable()?, p.cell.lost_writes()?)))
        .collect();
    let x_max = spreads.iter().map(|(_, x, _)| x.max).fold(1.0, f64::max) * 1.15;
    let y_max = spreads.iter().map(|(_, _, y)| y.max).fold(1.0, f64::max) * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Acknowledged writes lost against the longest time a user could not work",
                ("sans-serif", 18),
            )
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("longest time a user could not work (s)")
            .y_desc("acknowledged writes lost")
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .draw()
            .map_err(&err)?;
        // Where each label went, in pixels, so that cells at one spot get labels one above another.
        let mut labels: Vec<(i32, i32)> = Vec::new();
        for (point, x, y) in &spreads {
            let colour = match point.cell.verdict() {
                CellVerdict::Passed => PASSED,
                CellVerdict::Failed => FAILED,
                _ => OTHER,
            };
            let style = ShapeStyle::from(&colour).stroke_width(1);
            chart
                .draw_series([
                    PathElement::new(vec![(x.min, y.median), (x.max, y.median)], style),
                    PathElement::new(vec![(x.median, y.min), (x.median, y.max)], style),
                ])
                .map_err(&err)?;
            let at = chart.backend_coord(&(x.median, y.median));
            let lift = label_lift(&mut labels, at);
            chart
                .draw_series([EmptyElement::at((x.median, y.median))
                    + Circle::new((0, 0), 5, colour.filled())
                    + Text::new(
                        point.number.to_string(),
                        (7, -17 - lift),
                        ("sans-serif", 13).into_font().color(&BLACK),
                    )])
                .map_err(&err)?;
        }
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// A label's height and a number label's width, in pixels, with some room.
const LABEL_PX: (i32, i32) = (14, 22);

/// How far above its usual place the label of the point at `at` must go so it overlaps no label
/// placed before; records where it went.
fn label_lift(placed: &mut Vec<(i32, i32)>, at: (i32, i32)) -> i32 {
    let (height, width) = LABEL_PX;
    let mut lift = 0;
    while placed
        .iter()
        .any(|(x, y)| (x - at.0).abs() < width && (y - (at.1 - lift)).abs() < height)
    {
        lift += height;
    }
    placed.push((at.0, at.1 - lift));
    lift
}

#[cfg(test)]
mod tests {
    use super::{label_lift, url_path};

    #[test]
    fn a_link_to_a_run_encodes_what_a_url_would_read() {
        assert_eq!(
            url_path("kill master #2?x=%/report.html"),
            "kill%20master%20%232%3Fx%3D%25/report.html"
        );
        assert_eq!(
            url_path("kill-master-ab12/report.html"),
            "kill-master-ab12/report.html"
        );
    }

    #[test]
    fn labels_of_points_at_one_spot_stack_up_and_others_stay() {
        let mut placed = Vec::new();
        assert_eq!(label_lift(&mut placed, (100, 200)), 0);
        assert_eq!(label_lift(&mut placed, (102, 200)), 14);
        assert_eq!(label_lift(&mut placed, (98, 200)), 28);
        assert_eq!(label_lift(&mut placed, (300, 200)), 0, "far enough apart");
    }
}
