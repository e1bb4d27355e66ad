//! Latency as HDR histograms: request latency (send to answer), operation latency (from the
//! intended start, retries included), and operation latency per kind and per phase of the run,
//! each with percentiles p50 to p99.99 and the full spectrum in HdrHistogram's `.hgrm` text form.

use std::io::Write;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::samples::Samples;
use crate::checker::timeline::FailoverTimeline;
use crate::history::Micros;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    #[serde(default)]
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    #[serde(default)]
    pub p999_ms: f64,
    /// 99.99th percentile.
    #[serde(default)]
    pub p9999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// A histogram of microseconds: three significant figures over 1 µs to 1 h.
pub(crate) fn histogram_of(samples: impl Iterator<Item = u64>) -> Option<Histogram<u64>> {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).ok()?;
    for us in samples {
        // Values outside the bounds are clamped, not dropped.
        hist.saturating_record(us.max(1));
    }
    Some(hist)
}

impl Latency {
    fn of_histogram(hist: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1_000.0;
        let at = |q: f64| ms(hist.value_at_quantile(q));
        Self {
            count: hist.len(),
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            p9999_ms: at(0.9999),
            max_ms: ms(hist.max()),
        }
    }

    /// p50, p90, p99, p99.9, p99.99 and max, in that order, as tables show them.
    pub fn columns(&self) -> [f64; 6] {
        [
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.p999_ms,
            self.p9999_ms,
            self.max_ms,
        ]
    }

    pub(crate) fn from_micros(samples: impl Iterator<Item = u64>) -> Self {
        histogram_of(samples).map_or_else(Self::default, |h| Self::of_histogram(&h))
    }

    /// Request latency: each HTTP attempt, send to answer.
    pub fn of_requests(samples: &Samples) -> Self {
        Self::from_micros(samples.attempts.iter().map(|a| u64::from(a.latency)))
    }

    /// Operation latency: from the intended start to the last attempt's end, retries included.
    pub fn of_operations(samples: &Samples) -> Self {
        Self::from_micros(samples.ops.iter().map(|o| u64::from(o.latency)))
    }
}

/// How late an operation may start and still count as on time. Tokio's timer ticks every
/// millisecond, so every start is up to about a millisecond late; lateness beyond this means the
/// load generator could not keep to its schedule: every user was busy, or the machine too slow.
pub const LATE_AFTER_MICROS: Micros = 10_000;

/// A part of the run, by when an operation was due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Before the first fault started.
    Before,
    /// From the first fault's start until every user has succeeded again after the last fault
    /// (to the end of the run if some user never did).
    During,
    /// After that.
    After,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 3] = [Phase::Before, Phase::During, Phase::After];

    /// The name in reports and file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::During => "during",
            Self::After => "after",
        }
    }
}

/// Where the phases start and end, in history time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseBounds {
    /// The first fault's start; `None` when no fault ran (the whole run is `before`).
    pub during_from: Option<Micros>,
    /// When every user had succeeded again after the last fault; `None` if some never did.
    pub after_from: Option<Micros>,
}

impl PhaseBounds {
    /// The bounds from the failover breakdowns.
    pub fn of(failovers: &[FailoverTimeline]) -> Self {
        let micros = |s: f64| (s * 1e6) as Micros;
        let during_from = failovers.iter().map(|f| micros(f.fault_at_s)).min();
        let recovered: Option<Vec<Micros>> = failovers
            .iter()
            .map(|f| {
                f.last_user_success_ms
                    .map(|ms| micros(f.fault_at_s) + (ms * 1e3) as Micros)
            })
            .collect();
        let after_from = recovered.and_then(|r| r.into_iter().max());
        Self {
            during_from,
            after_from: during_from.and(after_from),
        }
    }

    /// The phase of something due at `at`.
    pub fn phase_of(&self, at: Micros) -> Phase {
        match (self.during_from, self.after_from) {
            (Some(from), _) if at < from => Phase::Before,
            (None, _) => Phase::Before,
            (Some(_), Some(after)) if at >= after => Phase::After,
            (Some(_), _) => Phase::During,
        }
    }
}

/// Operation latency of one kind of operation (or `all`) in one phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseLatency {
    /// The phase.
    pub phase: Phase,
    /// `all`, `login`, `write` or `read`.
    pub kind: String,
    /// Operation latency from the intended start.
    pub latency: Latency,
}

/// The kinds reported per phase: every operation, then each kind.
const KINDS: [&str; 4] = ["all", "login", "write", "read"];

fn histograms(
    samples: &Samples,
    bounds: &PhaseBounds,
) -> Vec<(Phase, &'static str, Histogram<u64>)> {
    let mut out = Vec::new();
    for phase in Phase::ALL {
        for (k, kind) in KINDS.into_iter().enumerate() {
            let values = samples
                .ops
                .iter()
                .filter(|o| bounds.phase_of(o.intended_at) == phase)
                .filter(|o| k == 0 || usize::from(o.kind) + 1 == k)
                .map(|o| u64::from(o.latency));
            if let Some(hist) = histogram_of(values).filter(|h| !h.is_empty()) {
                out.push((phase, kind, hist));
            }
        }
    }
    out
}

/// Operation latency per phase and kind; phases and kinds with no operation are left out.
pub fn by_phase(samples: &Samples, bounds: &PhaseBounds) -> Vec<PhaseLatency> {
    histograms(samples, bounds)
        .into_iter()
        .map(|(phase, kind, hist)| PhaseLatency {
            phase,
            kind: kind.to_owned(),
            latency: Latency::of_histogram(&hist),
        })
        .collect()
}

/// Writes one `<phase>-<kind>.hgrm` per phase and kind into `dir`; returns the files written.
pub fn write_hgrm_files(
    samples: &Samples,
    bounds: &PhaseBounds,
    dir: &std::path::Path,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (phase, kind, hist) in histograms(samples, bounds) {
        let path = dir.join(format!("{}-{kind}.hgrm", phase.name()));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        write_hgrm(&hist, &mut file)?;
        file.flush()?;
        written.push(path);
    }
    Ok(written)
}

/// HdrHistogram's percentile distribution text (values in milliseconds, 5 ticks per half
/// distance), as its plotters read it.
pub fn write_hgrm(hist: &Histogram<u64>, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let ms = |us: u64| us as f64 / 1_000.0;
    let mut total = 0;
    for v in hist.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        if q < 1.0 {
            writeln!(
                out,
                "{:>12.3} {:>2.12} {:>10} {:>14.2}",
                ms(v.value_iterated_to()),
                q,
                total,
                1.0 / (1.0 - q)
            )?;
        } else {
            writeln!(
                out,
                "{:>12.3} {:>2.12} {:>10}",
                ms(v.value_iterated_to()),
                q,
                total
            )?;
        }
    }
    writeln!(
        out,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        hist.mean() / 1_000.0,
        hist.stdev() / 1_000.0
    )?;
    writeln!(
        out,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        ms(hist.max()),
        hist.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        hist.buckets(),
        2048
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_samples() {
        let l = Latency::from_micros((1..=10_000u64).map(|i| i * 100));
        assert_eq!(l.count, 10_000);
        assert!((l.p50_ms - 500.0).abs() / 500.0 < 0.001, "{l:?}");
        assert!((l.p90_ms - 900.0).abs() / 900.0 < 0.001, "{l:?}");
        assert!((l.p999_ms - 999.0).abs() / 999.0 < 0.001, "{l:?}");
        assert!((l.max_ms - 1_000.0).abs() / 1_000.0 < 0.001, "{l:?}");
    }

    #[test]
    fn phases_split_at_the_first_fault_and_at_the_last_recovery() {
        let timeline = |at_s: f64, last_user_ms: Option<f64>| FailoverTimeline {
            fault: crate::history::FaultKind::Kill,
            node: "redis-1".into(),
            addr: "10.0.0.2:6379".into(),
            fault_at_s: at_s,
            in_place_ms: 0.0,
            sdown_ms: None,
            odown_ms: None,
            elected_leader_ms: None,
            promoted_ms: None,
            switch_master_ms: None,
            new_master: None,
            app_first_success_ms: None,
            first_user_success_ms: None,
            last_user_success_ms: last_user_ms,
            healed_ms: None,
            demoted_ms: None,
            settled_ms: None,
            users_recovered: 0,
            users: 0,
        };
        let bounds = PhaseBounds::of(&[timeline(6.0, Some(2_000.0)), timeline(10.0, Some(500.0))]);
        assert_eq!(bounds.during_from, Some(6_000_000));
        assert_eq!(bounds.after_from, Some(10_500_000));
        assert_eq!(bounds.phase_of(5_999_999), Phase::Before);
        assert_eq!(bounds.phase_of(9_000_000), Phase::During);
        assert_eq!(bounds.phase_of(10_500_000), Phase::After);
        let unrecovered = PhaseBounds::of(&[timeline(6.0, None)]);
        assert_eq!(unrecovered.phase_of(60_000_000), Phase::During);
        assert_eq!(PhaseBounds::of(&[]).phase_of(1), Phase::Before);
    }

    #[test]
    fn hgrm_text_ends_at_the_whole_count() {
        let hist = histogram_of((1..=1_000u64).map(|i| i * 10)).unwrap();
        let mut text = Vec::new();
        write_hgrm(&hist, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("       Value     Percentile TotalCount"));
        let last_row = text
            .lines()
            .rfind(|l| !l.starts_with('#') && !l.trim().is_empty())
            .unwrap();
        let cols: Vec<&str> = last_row.split_whitespace().collect();
        assert_eq!(cols[1].parse::<f64>().unwrap(), 1.0);
        assert_eq!(cols[2], "1000");
        assert!(text.contains("Total count    =         1000"), "{text}");
    }
}
