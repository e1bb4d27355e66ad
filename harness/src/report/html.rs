//! `report.html`: one self-contained page per run (inline SVG and CSS, no script, nothing fetched),
//! so it opens from a CI artifact with no network: the verdict, the findings by class and cause
//! with a witness each, the latency of every request with the fault windows shaded, throughput and
//! errors per second, the nodes' states as swimlanes, the failover breakdown, and the latency per
//! phase.

use std::fmt::Write as _;

use super::plots::{self, milestones, PlotError};
use super::summary::{witness_line, witness_reference};
use super::{swimlanes, RunReport, Samples};
use crate::checker::Class;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // An app's answer may hold an escape sequence: shown, not passed on.
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&c.escape_default().to_string());
            }
            c => out.push(c),
        }
    }
    out
}

/// The page's CSS. A witness's lines wrap (`pre-wrap`): unwrapped, the longest one widened its
/// column until the cause beside it was a few words a line.
const STYLE: &str = "body{font-family:sans-serif;max-width:1040px;margin:24px auto;color:#222}\
h1 .passed{color:#2a7d2a}h1 .failed{color:#c0392b}\
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
td:first-child,th:first-child{text-align:left}.ok{color:#2a7d2a}.fail{color:#c0392b;font-weight:bold}\
figure{margin:16px 0}figure svg{max-width:100%;height:auto}\
td.cause,td.witness{text-align:left;vertical-align:top}td.cause{width:34%}\
td.witness pre{margin:0;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}\
.legend span{display:inline-block;margin-right:14px;font-size:13px}\
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}";

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "never".to_owned(), |ms| format!("{ms:.0}"))
}

/// The page's HTML.
pub(super) fn render(report: &RunReport, samples: &Samples) -> Result<String, PlotError> {
    let mut page = String::new();
    let verdict = if report.passed { "passed" } else { "failed" };
    // Writing to a String cannot fail.
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{name} {verdict}</title>\
         <style>{STYLE}</style></head><body>\
         <h1>{name}: <span class=\"{verdict}\">{upper}</span></h1>\
         <p>run {run} &middot; {cores} cores, kernel {kernel} &middot; nodes on {image} &middot; cluster ready in {startup:.1} s \
         &middot; {ops} operations ({model} model, {late} started late, {not_started} due but never started) &middot; {attempts} HTTP attempts</p>",
        name = escape(&report.scenario),
        upper = verdict.to_uppercase(),
        run = escape(&report.run_id),
        cores = report.machine.cores,
        kernel = escape(&report.machine.kernel),
        image = escape(&report.image),
        startup = report.cluster_startup_s,
        ops = report.operations,
        model = escape(&report.load_model),
        late = report.late_starts,
        not_started = report.not_started,
        attempts = report.attempts,
    );
    page.push_str("<h2>Verdict</h2><table><tr><th>expectation</th><th>actual</th><th></th></tr>");
    for x in report
        .expectations
        .iter()
        .filter(|x| !x.reported_only || x.actual > 0)
    {
        let (class, mark) = if x.passed {
            ("ok", "ok")
        } else {
            ("fail", "FAIL")
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{mark}</td></tr>",
            escape(&x.expectation),
            escape(&x.actual_text())
        );
    }
    let e = &report.user_errors;
    let anomalies: Vec<String> = Class::ANOMALIES
        .iter()
        .map(|c| format!("{}: {}", c.plural(), report.findings.count(*c)))
        .collect();
    let never = match e.never_recovered_since {
        Some(since) if e.never_recovered > 0 => format!(
            " &middot; {} users never worked again, the first from {:.1} s",
            e.never_recovered,
            since as f64 / 1e6
        ),
        _ => String::new(),
    };
    let _ = write!(
        page,
        "</table><p>{} &middot; user-visible errors: {} \
         &middot; failed attempts: {} ({} absorbed by client retries) &middot; longest a user could not work and then could: {:.0} ms{never}</p>",
        anomalies.join(" &middot; "),
        e.visible,
        e.failed_attempts,
        e.absorbed_attempts,
        e.longest_unavailable as f64 / 1e3
    );
    let _ = write!(
        page,
        "<p id=\"final-reads\">Final reads: {}</p><p id=\"logouts\">Logouts: {}</p>",
        escape(&report.final_reads.line()),
        escape(&report.logouts.line())
    );
    write_findings(&mut page, report);
    for (title, svg) in [
        ("latency", plots::latency_over_time(samples)?),
        ("throughput", plots::throughput(samples)?),
    ] {
        let _ = write!(page, "<figure class=\"plot\" id=\"{title}\">{svg}</figure>");
    }
    if let Some(svg) = swimlanes::node_states(samples)? {
        let _ = write!(
            page,
            "<figure class=\"plot\" id=\"nodes\">{svg}<figcaption class=\"legend\">"
        );
        for (colour, meaning) in swimlanes::legend(samples) {
            let _ = write!(
                page,
                "<span><i style=\"background:{colour}\"></i>{}</span>",
                escape(&meaning)
            );
        }
        page.push_str("</figcaption></figure>");
    }
    let _ = write!(
        page,
        "<figure class=\"plot\" id=\"failover\">{}</figure>",
        plots::failover_timeline(&report.failovers)?
    );
    page.push_str(
        "<h2>Failover breakdown (ms after each fault started)</h2><table><tr><th>fault</th>",
    );
    let names = [
        "+sdown",
        "+odown",
        "+elected-leader",
        "+promoted-slave",
        "+switch-master",
        "app first success",
        "last user success",
        "healed",
        "+convert-to-slave",
        "back in place",
    ];
    for name in names {
        let _ = write!(page, "<th>{name}</th>");
    }
    page.push_str("</tr>");
    for f in &report.failovers {
        let _ = write!(
            page,
            "<tr><td>{} {} at {:.1} s</td>",
            escape(f.fault.name()),
            escape(&f.node),
            f.fault_at_s
        );
        let happened = milestones(f);
        for name in names {
            let at = happened.iter().find(|(n, _)| *n == name).map(|(_, ms)| *ms);
            let _ = write!(page, "<td>{}</td>", ms(at));
        }
        page.push_str("</tr>");
    }
    page.push_str(
        "</table><h2>Operation latency by phase (ms, from the intended start)</h2>\
         <table><tr><th>phase</th><th>kind</th><th>count</th><th>p50</th><th>p90</th><th>p99</th>\
         <th>p99.9</th><th>p99.99</th><th>max</th></tr>",
    );
    for p in &report.phase_latency {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            p.phase.name(),
            escape(&p.kind),
            p.latency.count
        );
        for ms in p.latency.columns() {
            let _ = write!(page, "<td>{ms:.2}</td>");
        }
        page.push_str("</tr>");
    }
    page.push_str("</table><p>Full spectra: <code>latency/&lt;phase&gt;-&lt;kind&gt;.hgrm</code> beside this page.</p></body></html>\n");
    Ok(page)
}

/// The findings, a table per class: each cause with its count, one witness (the user's operations
/// with times from the fault before them) and that witness's own account of the cause.
fn write_findings(page: &mut String, report: &RunReport) {
    let found = &report.findings;
    if found.groups.is_empty() {
        page.push_str("<h2>Findings</h2><p>None: no anomaly and no error.</p>");
        return;
    }
    page.push_str("<h2>Findings by class and cause</h2>");
    for class in Class::ALL {
        let mut groups = found.of(class).peekable();
        if groups.peek().is_none() {
            continue;
        }
        let _ = write!(
            page,
            "<h3 id=\"{}\">{}: {}</h3><table><tr><th>count</th><th>cause</th><th>witness</th></tr>",
            serde_json::to_value(class)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            escape(class.plural()),
            found.count(class)
        );
        for group in groups {
            let witness = &group.witness;
            let (from, t0) = witness_reference(&report.failovers, witness);
            let lines: Vec<String> = witness
                .finding
                .witness
                .iter()
                .map(|op| escape(&witness_line(op, t0)))
                .collect();
            let _ = write!(
                page,
                "<tr><td>{}</td><td class=\"cause\">{}<br><small>{}</small></td>\
                 <td class=\"witness\">{} (user {}; times due and answered, from the {})<pre>{}</pre></td></tr>",
                group.count,
                escape(&group.summary),
                escape(&witness.cause.detail),
                escape(&witness.finding.message),
                witness
                    .finding
                    .user
                    .map_or_else(|| "-".to_owned(), |u| u.to_string()),
                escape(&from),
                lines.join("\n")
            );
        }
        page.push_str("</table>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_outside_cannot_become_markup() {
        assert_eq!(
            escape("<b a=\"x\">&'"),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
