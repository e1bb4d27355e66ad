//! From a run's history to its report: runs every checker, gives each finding its cause, judges
//! the scenario's expectations, and gathers the latency figures and the samples the plots are drawn from. It reads the history
//! twice, one record at a time (first the faults and events, then the operations), so a run of
//! a million operations is assessed straight from its file without holding it. No container or
//! clock is touched: a history recorded earlier or made up for a test gets the same report.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cause::{self, lost_logins::LostLogins, ClusterView, Findings};
use crate::checker::timeline::{FailoverTimeline, Timelines};
use crate::checker::user_errors::{UserErrors, UserErrorsChecker};
use crate::checker::{self, Finding};
use crate::history::{FaultPhase, History, Notice, Record};
use crate::report::{
    by_phase, write_hgrm_files, FinalReads, Latency, Logouts, Machine, PhaseBounds, PhaseLatency,
    ReportError, RunReport, Samples,
};
use crate::scenario::{LoadModel, Scenario, PERCENTILES};
use crate::verdict::{self, Counts, Times};

/// What the run knows besides its history.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    /// The run's id.
    pub run_id: String,
    /// Where it writes.
    pub run_dir: PathBuf,
    /// The Redis image.
    pub image: String,
    /// How long the cluster took to be ready.
    pub startup: Duration,
    /// The app's counters.
    pub app_metrics: BTreeMap<String, f64>,
    /// Requests that came due but never started (open model, every user busy at the end).
    pub not_started: u64,
}

/// A run's report, and the samples its plots and latency spectra come from.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// The report.
    pub report: RunReport,
    /// Compact per-operation and per-attempt samples.
    pub samples: Samples,
}

/// Why a history file could not be assessed.
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    /// The file could not be read.
    #[error("cannot read the history {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a history record.
    #[error("{path} line {line}: not a history record: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why.
        source: serde_json::Error,
    },
}

impl Assessment {
    /// Writes `report.json`, `report.html` and `latency/*.hgrm` into the run directory.
    pub fn write_files(&self) -> Result<(), ReportError> {
        let dir = &self.report.run_dir;
        let written = |path: PathBuf| move |source| ReportError::Write { path, source };
        let hgrm = dir.join("latency");
        let phases = self
            .report
            .phases
            .unwrap_or_else(|| PhaseBounds::of(&self.report.failovers));
        write_hgrm_files(&self.samples, &phases, &hgrm).map_err(written(hgrm))?;
        self.report
            .write_json()
            .map_err(written(dir.join("report.json")))?;
        self.report.write_html(&self.samples)?;
        Ok(())
    }
}

/// The report of an in-memory `history`, run under `scenario`.
pub fn assess(scenario: &Scenario, history: &History, facts: RunFacts) -> Assessment {
    let passes = |visit: &mut dyn FnMut(&Record)| {
        history.records.iter().for_each(&mut *visit);
        Ok::<(), Infallible>(())
    };
    match assess_passes(scenario, facts, passes) {
        Ok(assessment) => assessment,
        Err(never) => match never {},
    }
}

/// The report of the history in the JSON-lines file at `path`, read twice, a record at a time.
pub fn assess_file(
    scenario: &Scenario,
    path: &Path,
    facts: RunFacts,
) -> Result<Assessment, AssessError> {
    let passes = |visit: &mut dyn FnMut(&Record)| {
        let read = |source| AssessError::Read {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read)?;
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(read)?;
            if line.trim().is_empty() {
                continue;
            }
            let record = serde_json::from_str(&line).map_err(|source| AssessError::Parse {
                path: path.to_owned(),
                line: n + 1,
                source,
            })?;
            visit(&record);
        }
        Ok(())
    };
    assess_passes(scenario, facts, passes)
}

/// How long things took, as the bounds on time name them.
fn times_of(
    view: &ClusterView,
    user_errors: &UserErrors,
    failovers: &[FailoverTimeline],
    phase_latency: &[PhaseLatency],
) -> Times {
    // Only a fault on the master calls for a failover: a killed replica or sentinel does not.
    let on_the_master = |f: &FailoverTimeline| {
        let at = (f.fault_at_s * 1e6) as crate::history::Micros;
        view.named_master(at) == Some(f.addr.as_str())
    };
    // By place and kind, not node or time, which differ from run to run: repeated runs of a
    // scenario tally the same expectation under the same name.
    let name = |i: usize, f: &FailoverTimeline| format!("fault {} ({})", i + 1, f.fault);
    Times {
        longest_unavailable_ms: user_errors.longest_unavailable as f64 / 1e3,
        recoveries: failovers
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let all_back = f.users_recovered == f.users;
                (name(i, f), f.last_user_success_ms.filter(|_| all_back))
            })
            .collect(),
        failovers: failovers
            .iter()
            .enumerate()
            .filter(|(_, f)| on_the_master(f))
            .map(|(i, f)| (name(i, f), f.switch_master_ms))
            .collect(),
        latency: phase_latency
            .iter()
            .flat_map(|p| {
                PERCENTILES
                    .iter()
                    .zip(p.latency.columns())
                    .map(|(percentile, ms)| {
                        let phase = p.phase.name().to_owned();
                        ((phase, p.kind.clone(), (*percentile).to_owned()), ms)
                    })
            })
            .collect(),
    }
}

/// Each user's records must come in the order the user performed them, which a recorded history
/// guarantees: a user has one request in flight, and its operation is recorded when it ends.
fn assess_passes<E>(
    scenario: &Scenario,
    facts: RunFacts,
    mut passes: impl FnMut(&mut dyn FnMut(&Record)) -> Result<(), E>,
) -> Result<Assessment, E> {
    let mut context = Vec::new();
    let mut samples = Samples::default();
    let mut final_reads = FinalReads::default();
    let mut logouts = Logouts::default();
    passes(&mut |record| match record {
        Record::Operation(_) => {}
        // Node samples go into the compact forms below, not into the context kept whole.
        Record::Node(sample) => {
            samples.lanes.observe(sample);
            context.push(record.clone());
        }
        other => context.push(other.clone()),
    })?;
    samples.lanes.finish();
    let view = ClusterView::new(&context);
    let switch_master_messages = context
        .iter()
        .filter(
            |r| matches!(r, Record::Sentinel(e) if matches!(e.notice, Notice::SwitchMaster { .. })),
        )
        .count() as u64;
    for record in &context {
        if let Record::Fault(fault) = record {
            samples.observe_fault(fault);
        }
        final_reads.observe_context(record);
    }
    let healed = context
        .iter()
        .any(|r| matches!(r, Record::Fault(f) if f.phase == FaultPhase::Heal));
    let mut timelines = Timelines::new(
        context
            .into_iter()
            .filter(|r| !matches!(r, Record::Node(_))),
    );
    let mut checkers = checker::anomaly_checkers();
    let mut user_errors = UserErrorsChecker::default();
    let mut findings = Findings::new();
    let mut lost_logins = LostLogins::default();
    let mut explained = |finding: Finding| {
        let finding = finding.escaped();
        let cause = cause::explain(&view, &finding);
        if let Some(finding) = lost_logins.sort(finding, &cause) {
            findings.add(finding, cause);
        }
    };
    let (mut operations, mut attempts) = (0u64, 0u64);
    let (mut logins_checked, mut expiries_checked) = (0u64, 0u64);
    passes(&mut |record| {
        if let Record::Operation(op) = record {
            operations += 1;
            attempts += op.attempts.len() as u64;
            if op.kind.is_replay() {
                for checker in checkers.iter_mut().filter(|c| c.reads_replays()) {
                    checker.observe(op, &mut explained);
                }
                logouts.observe(op);
                return;
            }
            logins_checked += u64::from(op.login_holding_cookies().is_some());
            expiries_checked += u64::from(op.session_due_to_expire());
            timelines.observe(op);
            for checker in &mut checkers {
                checker.observe(op, &mut explained);
            }
            user_errors.observe(op, &mut explained);
            samples.observe(op);
            final_reads.observe(op);
            logouts.observe(op);
        }
    })?;
    for checker in &mut checkers {
        checker.finish(&mut explained);
    }
    let findings = findings.finish();
    let failovers = timelines.finish();
    let mut user_errors = user_errors.finish();
    user_errors.visible = user_errors.visible.saturating_sub(lost_logins.absorbed());
    let phases = PhaseBounds::of(&failovers);
    let phase_latency = by_phase(&samples, &phases);
    let expectations = verdict::judge(
        &scenario.expectations,
        &Counts {
            operations,
            findings: findings.counts.clone(),
            switch_master_messages,
            times: times_of(&view, &user_errors, &failovers, &phase_latency),
            settling: healed.then(|| final_reads.unsettled.clone()),
            logouts_checked: logouts.acknowledged > 0,
            logins_checked,
            expiries_checked,
            expiry_asked: scenario.app.contract.session_ttl.is_some(),
        },
    );
    let report = RunReport {
        scenario: scenario.name.clone(),
        run_id: facts.run_id,
        run_dir: facts.run_dir,
        machine: Machine::current(),
        image: facts.image,
        cluster_startup_s: facts.startup.as_secs_f64(),
        operations,
        attempts,
        request_latency: Latency::of_requests(&samples),
        operation_latency: Latency::of_operations(&samples),
        load_model: match scenario.workload.model {
            LoadModel::Open => "open".into(),
            LoadModel::Closed => "closed".into(),
        },
        late_starts: samples.late_starts,
        not_started: facts.not_started,
        phases: Some(phases),
        phase_latency,
        failovers,
        final_reads,
        logouts,
        user_errors,
        findings,
        app_command: scenario.app.command.clone().or_else(|| {
            scenario
                .app
                .image
                .as_ref()
                .map(|image| format!("image {image}"))
        }),
        app_metrics: facts.app_metrics,
        passed: expectations.iter().all(|e| e.passed),
        expectations,
        schema_version: crate::report::REPORT_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: None,
        settings: None,
    };
    Ok(Assessment { report, samples })
}
