//! What a run writes: `report.json` in the run directory and a terminal summary. Writers take any
//! `impl Write` so they are testable without a terminal.

mod html;
pub(crate) mod latency;
pub mod plots;
mod samples;

pub use latency::{
    by_phase, write_hgrm, write_hgrm_files, Latency, Phase, PhaseBounds, PhaseLatency,
    LATE_AFTER_MICROS,
};
pub use samples::Samples;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::checker::timeline::FailoverTimeline;
use crate::checker::user_errors::UserErrors;
use crate::checker::CheckResult;
use crate::verdict::ExpectationResult;

/// What can stop a report from being written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A plot failed.
    #[error(transparent)]
    Plot(#[from] plots::PlotError),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
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
    /// What the nodes ran on: `image <name>`, or `local processes of <binary> <version>`.
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
    /// `open` or `closed`.
    #[serde(default)]
    pub load_model: String,
    /// Operations whose first attempt started more than 10 ms after it was due.
    #[serde(default)]
    pub late_starts: u64,
    /// Requests that came due but had not started when the workload's time was up.
    #[serde(default)]
    pub not_started: u64,
    /// Where the phases of `phase_latency` start.
    #[serde(default)]
    pub phases: Option<PhaseBounds>,
    /// Operation latency (from the intended start) per phase and kind; the full spectra are in
    /// `latency/<phase>-<kind>.hgrm`.
    #[serde(default)]
    pub phase_latency: Vec<PhaseLatency>,
    /// One timeline per fault.
    pub failovers: Vec<FailoverTimeline>,
    /// Retry figures.
    pub user_errors: UserErrors,
    /// Session survival.
    pub survival: CheckResult,
    /// Lost acknowledged writes.
    pub lost_writes: CheckResult,
    /// The app's command line (or `image <name>`), when it ran outside the harness; `None` for
    /// the in-process sample app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_command: Option<String>,
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

    /// Writes `report.html`, the self-contained page with the plots, into the run directory.
    pub fn write_html(&self, samples: &Samples) -> Result<PathBuf, ReportError> {
        let path = self.run_dir.join("report.html");
        let page = html::render(self, samples)?;
        std::fs::write(&path, page).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// The terminal summary.
    pub fn write_summary(&self, out: &mut impl Write) -> std::io::Result<()> {
        let verdict = if self.passed { "PASSED" } else { "FAILED" };
        writeln!(out, "scenario {}: {verdict}", self.scenario)?;
        writeln!(
            out,
            "  machine: {} cores, kernel {}; nodes on {}; cluster ready in {:.1} s",
            self.machine.cores, self.machine.kernel, self.image, self.cluster_startup_s
        )?;
        if let Some(command) = &self.app_command {
            writeln!(out, "  app: {command}")?;
        }
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
            // Only the in-process app reports its store's events.
            let app_first = match &self.app_command {
                None => opt_ms(f.app_first_success_ms),
                Some(_) => "not known (the app runs outside the harness)".to_owned(),
            };
            writeln!(
                out,
                "    app's first store success {}, first user {}, last user {} ({}/{} users recovered)",
                app_first,
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
        writeln!(
            out,
            "  load: {} model; {} operations started more than 10 ms after they were due; {} due but never started",
            self.load_model, self.late_starts, self.not_started
        )?;
        if !self.phase_latency.is_empty() {
            writeln!(
                out,
                "  operation latency (ms)  {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                "count", "p50", "p90", "p99", "p99.9", "p99.99", "max"
            )?;
        }
        for p in &self.phase_latency {
            write!(
                out,
                "    {:<7} {:<6}        {:>7}",
                p.phase.name(),
                p.kind,
                p.latency.count
            )?;
            for ms in p.latency.columns() {
                write!(out, " {ms:>8.2}")?;
            }
            writeln!(out)?;
        }
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
            "  report: {} (and report.json, latency/*.hgrm)",
            self.run_dir.join("report.html").display()
        )
    }
}
