//! From a run's history to its report: runs every checker, judges the scenario's expectations,
//! and gathers the latency figures. Pure: no container, file or clock is touched, so a history
//! recorded earlier or made up for a test gets the same report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::checker;
use crate::history::History;
use crate::report::{latency, Latency, Machine, PhaseBounds, RunReport};
use crate::scenario::{LoadModel, Scenario};
use crate::verdict::{self, Counts};

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

/// The report of `history`, run under `scenario`.
pub fn assess(scenario: &Scenario, history: &History, facts: RunFacts) -> RunReport {
    let survival = checker::survival::check(history);
    let lost_writes = checker::lost_writes::check(history);
    let user_errors = checker::user_errors::check(history);
    let failovers = checker::timeline::check(history);
    let phases = PhaseBounds::of(&failovers);
    let operations = history.operations().count() as u64;
    let expectations = verdict::judge(
        &scenario.expectations,
        Counts {
            operations,
            lost_sessions: survival.count,
            user_visible_errors: user_errors.visible.count,
            lost_writes: lost_writes.count,
            switch_master_messages: history
                .sentinel_events()
                .filter(|e| e.channel == "+switch-master")
                .count() as u64,
        },
    );
    RunReport {
        scenario: scenario.name.clone(),
        run_id: facts.run_id,
        run_dir: facts.run_dir,
        machine: Machine::current(),
        image: facts.image,
        cluster_startup_s: facts.startup.as_secs_f64(),
        operations,
        attempts: history
            .operations()
            .map(|op| op.attempts.len() as u64)
            .sum(),
        request_latency: Latency::of_requests(history),
        operation_latency: Latency::of_operations(history),
        load_model: match scenario.workload.model {
            LoadModel::Open => "open".into(),
            LoadModel::Closed => "closed".into(),
        },
        late_starts: latency::late_starts(history),
        not_started: facts.not_started,
        phases: Some(phases),
        phase_latency: latency::by_phase(history, &phases),
        failovers,
        user_errors,
        survival,
        lost_writes,
        app_metrics: facts.app_metrics,
        passed: expectations.iter().all(|e| e.passed),
        expectations,
    }
}
