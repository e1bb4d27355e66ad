//! What a run writes: `report.json` in the run directory and a terminal summary. Writers take any
//! `impl Write` so they are testable without a terminal.
//!
//! # Layout
//! - `summary`: the terminal summary, findings grouped by class and cause with a witness each.
//! - `html`: `report.html`.
//! - [`plots`]: latency, throughput and the failover breakdown as SVG; `swimlanes`: node states.
//! - [`lanes`]: node states merged into spans, for the swimlanes.
//! - [`latency`](self::Latency): HDR histograms per phase and kind, and `.hgrm` files.
//! - [`Samples`]: what the plots and latency figures keep of a history.
//! - `ci`: JUnit XML, a Markdown summary and GitHub `::error` lines of one run; `junit`: the JUnit
//!   XML shape a run and a repeat share.
//! - [`FinalReads`]: the final-read phase: the workload's end, settling, what the reads found.

mod ci;
mod final_reads;
pub(crate) mod html;
mod junit;
pub mod lanes;
pub(crate) mod latency;
mod logouts;
pub mod plots;
mod samples;
mod summary;
mod swimlanes;

pub use final_reads::FinalReads;
pub use junit::{write_scenario_junit, JunitCase};
pub use latency::{
    by_phase, write_hgrm, write_hgrm_files, Latency, Phase, PhaseBounds, PhaseLatency,
    LATE_AFTER_MICROS,
};
pub use logouts::Logouts;
pub use samples::Samples;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::cause::Findings;
use crate::checker::timeline::FailoverTimeline;
use crate::checker::user_errors::UserErrors;
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
    /// The final-read phase: how long the topology took to settle, what the reads found.
    #[serde(default)]
    pub final_reads: FinalReads,
    /// The logout check: logouts acknowledged, replays of their cookies, or why it was not made.
    #[serde(default)]
    pub logouts: Logouts,
    /// Retry figures.
    pub user_errors: UserErrors,
    /// Every finding, by class and cause.
    pub findings: Findings,
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
    /// The layout of `report.json` ([`REPORT_SCHEMA_VERSION`]); 0 in reports from before it was
    /// written.
    #[serde(default)]
    pub schema_version: u32,
    /// The version of failover-drill that wrote the report.
    #[serde(default)]
    pub tool_version: String,
    /// When the run started, RFC 3339 in UTC; `None` for a history assessed on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The scenario as it ran: every setting, defaults filled in, `app.env` values left out (see
    /// [`Scenario::settings`](crate::scenario::Scenario::settings)); also the run directory's
    /// `scenario.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}

/// The layout version of `report.json`; raised when a field changes meaning or goes away.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

impl RunReport {
    /// Each expectation that failed, as `lost sessions <= 0 (actual 3)`; empty when the run
    /// passed. For a test's assertion message.
    pub fn failed_expectations(&self) -> Vec<String> {
        self.expectations
            .iter()
            .filter(|e| !e.passed)
            .map(|e| format!("{} (actual {})", e.expectation, e.actual_text()))
            .collect()
    }

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
}
