//! Two runs side by side: percentiles, recovery times and loss, each with the ratio of the second
//! to the first, so a configuration change can be judged by what it did to users.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::checker::Class;
use crate::report::{Phase, RunReport};

/// What can stop a comparison.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// No report where one was named.
    #[error("cannot read {path}: {source}; name a run directory (it holds report.json) or a report.json")]
    Read {
        /// The file tried.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file that is not a report.
    #[error("{path} is not a failover-drill report: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

/// Loads a report from a run directory or a `report.json`.
pub fn load(path: &Path) -> Result<RunReport, CompareError> {
    let file = if path.is_dir() {
        path.join("report.json")
    } else {
        path.to_owned()
    };
    let text = std::fs::read_to_string(&file).map_err(|source| CompareError::Read {
        path: file.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| CompareError::Parse { path: file, source })
}

/// One compared figure.
struct Row {
    name: String,
    a: Option<f64>,
    b: Option<f64>,
}

fn rows(a: &RunReport, b: &RunReport) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut add = |name: &str, f: &dyn Fn(&RunReport) -> Option<f64>| {
        rows.push(Row {
            name: name.to_owned(),
            a: f(a),
            b: f(b),
        });
    };
    add("operations", &|r| Some(r.operations as f64));
    add("user-visible errors", &|r| {
        Some(r.user_errors.visible as f64)
    });
    for class in Class::ANOMALIES {
        add(class.plural(), &move |r| {
            Some(r.findings.count(class) as f64)
        });
    }
    add("late starts", &|r| Some(r.late_starts as f64));
    add("never started", &|r| Some(r.not_started as f64));
    add("failed attempts", &|r| {
        Some(r.user_errors.failed_attempts as f64)
    });
    add("longest unavailable (ms)", &|r| {
        Some(r.user_errors.longest_unavailable as f64 / 1_000.0)
    });
    add("request p50 (ms)", &|r| Some(r.request_latency.p50_ms));
    add("request p99 (ms)", &|r| Some(r.request_latency.p99_ms));
    add("operation p50 (ms)", &|r| Some(r.operation_latency.p50_ms));
    add("operation p90 (ms)", &|r| Some(r.operation_latency.p90_ms));
    add("operation p99 (ms)", &|r| Some(r.operation_latency.p99_ms));
    add("operation p99.9 (ms)", &|r| {
        Some(r.operation_latency.p999_ms)
    });
    add("operation p99.99 (ms)", &|r| {
        Some(r.operation_latency.p9999_ms)
    });
    add("operation max (ms)", &|r| Some(r.operation_latency.max_ms));
    for phase in Phase::ALL {
        let name = format!("{} p99 (ms)", phase.name());
        add(&name, &move |r| {
            r.phase_latency
                .iter()
                .find(|p| p.phase == phase && p.kind == "all")
                .map(|p| p.latency.p99_ms)
        });
    }
    add("+sdown (ms)", &|r| r.failovers.first()?.sdown_ms);
    add("+odown (ms)", &|r| r.failovers.first()?.odown_ms);
    add("+switch-master (ms)", &|r| {
        r.failovers.first()?.switch_master_ms
    });
    add("app first success (ms)", &|r| {
        r.failovers.first()?.app_first_success_ms
    });
    add("last user success (ms)", &|r| {
        r.failovers.first()?.last_user_success_ms
    });
    add("store retries", &|r| {
        r.app_metrics.get("sample_app_store_retries_total").copied()
    });
    rows
}

fn cell(v: Option<f64>) -> String {
    match v {
        None => "-".to_owned(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e12 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// The ratio of the second run's figure to the first's, when both exist and the first is not 0.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a != 0.0 => format!("{:.2}x", b / a),
        (Some(a), Some(b)) if a == b => "=".to_owned(),
        _ => "-".to_owned(),
    }
}

/// Writes the comparison table; fault times are of each run's first fault, in ms after it started.
pub fn write_comparison(a: &RunReport, b: &RunReport, out: &mut impl Write) -> std::io::Result<()> {
    let label = |r: &RunReport| format!("{} {}", r.scenario, r.run_id);
    let (la, lb) = (label(a), label(b));
    let width = la.len().max(lb.len()).max(12);
    writeln!(out, "{:<26} {la:>width$} {lb:>width$} {:>9}", "", "b/a")?;
    for row in rows(a, b) {
        writeln!(
            out,
            "{:<26} {:>width$} {:>width$} {:>9}",
            row.name,
            cell(row.a),
            cell(row.b),
            ratio(row.a, row.b)
        )?;
    }
    let verdict = |r: &RunReport| if r.passed { "passed" } else { "FAILED" };
    writeln!(
        out,
        "{:<26} {:>width$} {:>width$}",
        "verdict",
        verdict(a),
        verdict(b)
    )?;
    match (&a.settings, &b.settings) {
        (Some(sa), Some(sb)) => {
            let differ = differing_settings(sa, sb);
            if differ.is_empty() {
                writeln!(out, "settings: the same")?;
            } else {
                writeln!(out, "settings that differ (a -> b):")?;
                for (key, va, vb) in differ {
                    writeln!(out, "  {key}: {va} -> {vb}")?;
                }
            }
        }
        _ => writeln!(
            out,
            "settings: not recorded in both reports (written since report schema 1)"
        )?,
    }
    Ok(())
}

/// Every leaf of `value` as a dotted key (`workload.rate`) and its value in JSON.
fn leaves(
    prefix: &str,
    value: &serde_json::Value,
    out: &mut std::collections::BTreeMap<String, String>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(&key, inner, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// The settings whose values differ between `a` and `b` (absent on one side shows as `-`).
fn differing_settings(
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Vec<(String, String, String)> {
    let (mut la, mut lb) = (Default::default(), Default::default());
    leaves("", a, &mut la);
    leaves("", b, &mut lb);
    let keys: std::collections::BTreeSet<&String> = la.keys().chain(lb.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (va, vb) = (la.get(key), lb.get(key));
            (va != vb).then(|| {
                let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "-".to_owned());
                (key.clone(), show(va), show(vb))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_second_over_first_and_never_divide_by_zero() {
        assert_eq!(ratio(Some(2.0), Some(3.0)), "1.50x");
        assert_eq!(ratio(Some(0.0), Some(3.0)), "-");
        assert_eq!(ratio(Some(0.0), Some(0.0)), "=");
        assert_eq!(ratio(None, Some(3.0)), "-");
        assert_eq!(cell(Some(12.0)), "12");
        assert_eq!(cell(Some(1.234)), "1.23");
    }

    #[test]
    fn settings_that_differ_are_listed_by_dotted_key() {
        let a = serde_json::json!({"name": "k", "workload": {"rate": 200.0, "users": 20}});
        let b = serde_json::json!({"name": "k", "workload": {"rate": 400.0, "users": 20}, "extra": [1]});
        assert_eq!(
            differing_settings(&a, &b),
            [
                ("extra".to_owned(), "-".to_owned(), "[1]".to_owned()),
                (
                    "workload.rate".to_owned(),
                    "200.0".to_owned(),
                    "400.0".to_owned()
                )
            ]
        );
        assert!(differing_settings(&a, &a).is_empty());
    }

    #[test]
    fn a_missing_report_says_what_to_name() {
        let e = load(Path::new("/nonexistent-run")).unwrap_err().to_string();
        assert!(
            e.contains("report.json") && e.contains("run directory"),
            "{e}"
        );
    }
}
