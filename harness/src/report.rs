//! What a run writes: `report.json` in the run directory and a terminal summary. Writers take any
//! `impl Write` so they are testable without a terminal.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::checker::timeline::FailoverTimeline;
use crate::checker::user_errors::UserErrors;
use crate::checker::CheckResult;
use crate::history::History;
use crate::verdict::ExpectationResult;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    fn from_micros(samples: impl Iterator<Item = u64>) -> Self {
        // Three significant figures over 1 µs .. 1 h; values outside are clamped, not dropped.
        let Ok(mut hist) = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3) else {
            return Self::default();
        };
        for us in samples {
            hist.saturating_record(us.max(1));
        }
        let ms = |us: u64| us as f64 / 1_000.0;
        Self {
            count: hist.len(),
            p50_ms: ms(hist.value_at_quantile(0.5)),
            p99_ms: ms(hist.value_at_quantile(0.99)),
            max_ms: ms(hist.max()),
        }
    }

    /// Request latency: each HTTP attempt, send to answer.
    pub fn of_requests(history: &History) -> Self {
        Self::from_micros(
            history
                .operations()
                .flat_map(|op| &op.attempts)
                .map(|a| a.ended_at.saturating_sub(a.started_at)),
        )
    }

    /// Operation latency: from the intended start to the last attempt's end, retries included.
    pub fn of_operations(history: &History) -> Self {
        Self::from_micros(
            history
                .operations()
                .map(|op| op.ended_at.saturating_sub(op.intended_at)),
        )
    }
}

/// The machine a run came from; failover timing depends on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU cores available.
    pub cores: usize,
    /// `uname -r`-like kernel release, when readable.
    pub kernel: String,
}

impl Machine {
    /// The machine running this process.
    pub fn current() -> Self {
        Self {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// Everything a run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Run id, also the Docker label value.
    pub run_id: String,
    /// Where the run wrote its files.
    pub run_dir: PathBuf,
    /// Where it ran.
    pub machine: Machine,
    /// The Redis image.
    pub image: String,
    /// Seconds from the first container to a ready cluster.
    pub cluster_startup_s: f64,
    /// Operations performed.
    pub operations: u64,
    /// HTTP attempts made.
    pub attempts: u64,
    /// Request latency.
    pub request_latency: Latency,
    /// Operation latency from intended start.
    pub operation_latency: Latency,
    /// One timeline per fault.
    pub failovers: Vec<FailoverTimeline>,
    /// Retry figures.
    pub user_errors: UserErrors,
    /// Session survival.
    pub survival: CheckResult,
    /// Lost acknowledged writes.
    pub lost_writes: CheckResult,
    /// The app's counters from `/metrics`.
    pub app_metrics: BTreeMap<String, f64>,
    /// Expectations and whether each held.
    pub expectations: Vec<ExpectationResult>,
    /// True when every expectation held.
    pub passed: bool,
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "never".to_owned(), |ms| format!("{ms:.0} ms"))
}

impl RunReport {
    /// Writes `report.json` into the run directory.
    pub fn write_json(&self) -> std::io::Result<PathBuf> {
        let path = self.run_dir.join("report.json");
        let file = std::fs::File::create(&path)?;
        serde_json::to_writer_pretty(std::io::BufWriter::new(file), self)?;
        Ok(path)
    }

    /// The terminal summary.
    pub fn write_summary(&self, out: &mut impl Write) -> std::io::Result<()> {
        let verdict = if self.passed { "PASSED" } else { "FAILED" };
        writeln!(out, "scenario {}: {verdict}", self.scenario)?;
        writeln!(
            out,
            "  machine: {} cores, kernel {}; image {}; cluster ready in {:.1} s",
            self.machine.cores, self.machine.kernel, self.image, self.cluster_startup_s
        )?;
        writeln!(
            out,
            "  operations: {}, HTTP attempts: {}",
            self.operations, self.attempts
        )?;
        for f in &self.failovers {
            writeln!(
                out,
                "  {} of {} ({}) at {:.1} s:",
                f.fault, f.node, f.addr, f.fault_at_s
            )?;
            writeln!(
                out,
                "    detection: +sdown {}, +odown {}; election: +elected-leader {}; promotion: +promoted-slave {}, +switch-master {} (new master {})",
                opt_ms(f.sdown_ms),
                opt_ms(f.odown_ms),
                opt_ms(f.elected_leader_ms),
                opt_ms(f.promoted_ms),
                opt_ms(f.switch_master_ms),
                f.new_master.as_deref().unwrap_or("none")
            )?;
            writeln!(
                out,
                "    app's first store success {}, first user {}, last user {} ({}/{} users recovered)",
                opt_ms(f.app_first_success_ms),
                opt_ms(f.first_user_success_ms),
                opt_ms(f.last_user_success_ms),
                f.users_recovered,
                f.users
            )?;
            writeln!(
                out,
                "    healed {}, demoted by +convert-to-slave {}, back in place {}",
                opt_ms(f.healed_ms),
                opt_ms(f.demoted_ms),
                opt_ms(f.settled_ms)
            )?;
            if f.node.starts_with("redis-") && f.sdown_ms.is_some() && f.switch_master_ms.is_none()
            {
                writeln!(
                    out,
                    "    no failover: the sentinels saw {} down but promoted no replica; the cluster stayed without a master until the heal ({})",
                    f.node,
                    opt_ms(f.healed_ms)
                )?;
            }
        }
        let e = &self.user_errors;
        writeln!(
            out,
            "  failed attempts: {} ({} absorbed by client retries, {} operations retried); user-visible errors: {}",
            e.failed_attempts, e.absorbed_attempts, e.retried_operations, e.visible.count
        )?;
        writeln!(
            out,
            "  longest a user could not work: {:.0} ms (user {})",
            e.longest_unavailable as f64 / 1_000.0,
            e.longest_unavailable_user
                .map_or("-".to_owned(), |u| u.to_string())
        )?;
        let metric = |name: &str| self.app_metrics.get(name).copied().unwrap_or(0.0);
        writeln!(
            out,
            "  app store: {} retries, {} errors, {} rediscoveries, {} +switch-master messages",
            metric("sample_app_store_retries_total"),
            metric("sample_app_store_errors_total"),
            metric("sample_app_rediscoveries_total"),
            metric("sample_app_switch_master_messages_total"),
        )?;
        writeln!(
            out,
            "  sessions lost: {}; acknowledged writes lost: {}",
            self.survival.count, self.lost_writes.count
        )?;
        let (r, o) = (&self.request_latency, &self.operation_latency);
        writeln!(
            out,
            "  request latency p50 {:.2} ms, p99 {:.2} ms, max {:.0} ms; operation (from intended start) p50 {:.2} ms, p99 {:.2} ms, max {:.0} ms",
            r.p50_ms, r.p99_ms, r.max_ms, o.p50_ms, o.p99_ms, o.max_ms
        )?;
        for check in [&self.survival, &self.lost_writes, &self.user_errors.visible] {
            for finding in check.findings.iter().take(5) {
                writeln!(
                    out,
                    "  {} at {:.3} s: {}",
                    check.checker,
                    finding.at as f64 / 1e6,
                    finding.message
                )?;
            }
        }
        for x in &self.expectations {
            let mark = if x.passed { "ok  " } else { "FAIL" };
            writeln!(out, "  [{mark}] {} (actual {})", x.expectation, x.actual)?;
        }
        writeln!(
            out,
            "  report: {}",
            self.run_dir.join("report.json").display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_samples() {
        let l = Latency::from_micros([1_000u64, 2_000, 3_000, 100_000].into_iter());
        assert_eq!(l.count, 4);
        assert!((l.p50_ms - 2.0).abs() < 0.01, "{l:?}");
        assert!((l.max_ms - 100.0).abs() < 0.1, "{l:?}");
    }
}
