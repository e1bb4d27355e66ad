//! The grid of a matrix's results: per cell, each run's verdict and the figures a reader
//! compares across settings (longest time a user could not work, acknowledged writes lost,
//! errors that reached users, logins lost, logouts undone); its terminal summary and its Markdown table. `files` writes it
//! after every run, so an interrupted matrix keeps what it found.
//!
//! It reads each run's own report; it must not judge a run itself. Which drills a shard runs is
//! `shard`'s; putting shards together is `merge`'s.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use super::rates::FailedExpectation;
use super::rates::{self, ExpectationRate};
use super::shard::{Drill, Shard};
use super::{Matrix, Row};
use crate::checker::Class;
use crate::report::RunReport;

/// One run of one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRun {
    /// Which run of the cell, from 1 to the matrix's `repeat` (0 in files of earlier versions).
    #[serde(default)]
    pub repetition: u32,
    /// The run's id, or empty when it could not start.
    pub run_id: String,
    /// Its directory, with its own report, or empty when it could not start.
    pub run_dir: PathBuf,
    /// Whether every expectation held (false when the run could not finish).
    pub passed: bool,
    /// The expectations that failed, each with what was measured.
    pub failed: Vec<FailedExpectation>,
    /// The counts only reported (never failing a run) that were above 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reported: Vec<FailedExpectation>,
    /// The longest time one user could not complete anything and then did, in seconds; users who
    /// never worked again are counted in `never_recovered`.
    pub longest_unavailable_s: f64,
    /// Users who never worked again before the run ended.
    pub never_recovered: u64,
    /// Acknowledged writes lost: lost writes and rolled-back values.
    pub lost_writes: u64,
    /// Operations that failed after the client's retries, each one seen by a user.
    pub user_errors: u64,
    /// Sessions whose login the cluster discarded with other acknowledged writes.
    #[serde(default)]
    pub lost_logins: u64,
    /// Replays of a logged-out cookie answered with the session; `None` when no logout was
    /// acknowledged, so the check was not made.
    #[serde(default)]
    pub resurrected: Option<u64>,
    /// The first fault's `+switch-master`, in milliseconds from the fault, when there was one.
    pub switch_master_ms: Option<f64>,
    /// Wall time of the drill, in seconds.
    pub took_s: f64,
    /// Why the run could not produce a verdict, when it could not.
    pub error: Option<String>,
}

impl CellRun {
    /// The figures of a finished run, the `repetition`th of its cell.
    pub fn of(report: &RunReport, repetition: u32, took_s: f64) -> Self {
        let errors = &report.user_errors;
        let measured = |x: &crate::verdict::ExpectationResult| FailedExpectation {
            expectation: x.expectation.clone(),
            actual: x.actual,
            shown: x.shown.clone(),
        };
        Self {
            repetition,
            run_id: report.run_id.clone(),
            run_dir: report.run_dir.clone(),
            passed: report.passed,
            failed: report
                .expectations
                .iter()
                .filter(|x| !x.passed)
                .map(measured)
                .collect(),
            reported: report
                .expectations
                .iter()
                .filter(|x| x.reported_only && x.actual > 0)
                .map(measured)
                .collect(),
            longest_unavailable_s: errors.longest_unavailable as f64 / 1e6,
            never_recovered: errors.never_recovered,
            lost_writes: report.findings.values(Class::LostWrite)
                + report.findings.values(Class::Rollback),
            user_errors: errors.visible,
            lost_logins: report.findings.count(Class::LostLogin),
            resurrected: (report.logouts.acknowledged > 0)
                .then(|| report.findings.count(Class::ResurrectedSession)),
            switch_master_ms: report.failovers.first().and_then(|f| f.switch_master_ms),
            took_s,
            error: None,
        }
    }

    /// The `repetition`th run of a cell, which could not produce a verdict.
    pub fn failed_to_finish(error: String, repetition: u32, took_s: f64) -> Self {
        Self {
            repetition,
            run_id: String::new(),
            run_dir: PathBuf::new(),
            passed: false,
            failed: Vec::new(),
            reported: Vec::new(),
            longest_unavailable_s: 0.0,
            never_recovered: 0,
            lost_writes: 0,
            user_errors: 0,
            lost_logins: 0,
            resurrected: None,
            switch_master_ms: None,
            took_s,
            error: Some(error),
        }
    }
}

/// A cell's verdict over its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellVerdict {
    /// No run finished yet.
    Pending,
    /// Every run passed.
    Passed,
    /// Some run failed an expectation.
    Failed,
    /// Some run could not finish, and none failed an expectation.
    Error,
}

impl CellVerdict {
    /// The word in tables.
    pub fn word(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Passed => "passed",
            Self::Failed => "FAILED",
            Self::Error => "ERROR",
        }
    }
}

/// One cell's runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellOutcome {
    /// Index into the rows.
    pub row: usize,
    /// Index into the columns.
    pub column: usize,
    /// Runs of this cell asked of this matrix (or shard): 0 for a cell another shard drills.
    #[serde(default)]
    pub planned: u32,
    /// Every finished run, in the order of their repetition.
    pub runs: Vec<CellRun>,
    /// Per expectation that failed (or, reported, was above 0) in some run, in how many.
    #[serde(default)]
    pub rates: Vec<ExpectationRate>,
}

/// A spread of one figure over a cell's runs: its median, least and largest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// The middle value (the lower middle for an even count).
    pub median: f64,
    /// The least.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        Some(Self {
            median: values[(values.len() - 1) / 2],
            min: values[0],
            max: values[values.len() - 1],
        })
    }

    /// `4.2` or `4.2–5.1` with `decimals` decimals.
    pub fn text(&self, decimals: usize) -> String {
        let (min, max) = (
            format!("{:.decimals$}", self.min),
            format!("{:.decimals$}", self.max),
        );
        if min == max {
            min
        } else {
            format!("{min}–{max}")
        }
    }
}

impl CellOutcome {
    /// The cell's verdict over its finished runs.
    pub fn verdict(&self) -> CellVerdict {
        if self.runs.is_empty() {
            CellVerdict::Pending
        } else if self.runs.iter().any(|r| r.error.is_none() && !r.passed) {
            CellVerdict::Failed
        } else if self.runs.iter().any(|r| r.error.is_some()) {
            CellVerdict::Error
        } else {
            CellVerdict::Passed
        }
    }

    fn finished(&self) -> impl Iterator<Item = &CellRun> {
        self.runs.iter().filter(|r| r.error.is_none())
    }

    /// The most users who never worked again after a fault, over the finished runs: they are
    /// not in the longest unavailable time, which counts only the users who got back.
    pub fn never_recovered(&self) -> u64 {
        self.finished()
            .map(|r| r.never_recovered)
            .max()
            .unwrap_or(0)
    }

    /// Longest unavailable time, seconds, over the finished runs.
    pub fn unavailable(&self) -> Option<Spread> {
        Spread::of(self.finished().map(|r| r.longest_unavailable_s).collect())
    }

    /// Acknowledged writes lost, over the finished runs.
    pub fn lost_writes(&self) -> Option<Spread> {
        Spread::of(self.finished().map(|r| r.lost_writes as f64).collect())
    }

    /// Errors users saw, over the finished runs.
    pub fn user_errors(&self) -> Option<Spread> {
        Spread::of(self.finished().map(|r| r.user_errors as f64).collect())
    }

    /// Sessions whose login was lost, over the finished runs.
    pub fn lost_logins(&self) -> Option<Spread> {
        Spread::of(self.finished().map(|r| r.lost_logins as f64).collect())
    }

    /// Resurrected sessions, over the finished runs that checked logouts; `None` when none did.
    pub fn resurrected(&self) -> Option<Spread> {
        Spread::of(
            self.finished()
                .filter_map(|r| r.resurrected)
                .map(|n| n as f64)
                .collect(),
        )
    }

    /// Runs that failed an expectation or could not finish.
    pub fn failed_runs(&self) -> usize {
        self.runs.iter().filter(|r| !r.passed).count()
    }

    /// Whether this grid drills the cell: always, unless the grid is a shard's and other shards
    /// run every one of the cell's drills.
    pub fn drilled(&self) -> bool {
        self.planned > 0 || !self.runs.is_empty()
    }

    /// Adds a finished run, in the order of repetitions, and tallies its expectations again.
    pub fn add(&mut self, run: CellRun) {
        let at = self
            .runs
            .partition_point(|r| r.repetition <= run.repetition);
        self.runs.insert(at, run);
        self.rates = rates::of_runs(
            self.runs
                .iter()
                .filter(|r| r.error.is_none())
                .map(|r| (r.failed.as_slice(), r.reported.as_slice())),
        );
    }

    /// Each failed expectation once, in the order first seen, with in how many runs it failed;
    /// then each reason a run could not finish, with how many it stopped.
    pub fn failures(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .rates
            .iter()
            .filter(|r| !r.reported_only)
            .map(ExpectationRate::text)
            .collect();
        let mut errors: Vec<(&str, usize)> = Vec::new();
        for error in self.runs.iter().filter_map(|r| r.error.as_deref()) {
            match errors.iter_mut().find(|(e, _)| *e == error) {
                Some((_, n)) => *n += 1,
                None => errors.push((error, 1)),
            }
        }
        for (error, n) in errors {
            lines.push(format!(
                "could not finish: {error} (in {n} of {} runs)",
                self.runs.len()
            ));
        }
        lines
    }

    /// The counts only reported that were above 0 in some finished run, each with in how many.
    pub fn reported(&self) -> Vec<String> {
        self.rates
            .iter()
            .filter(|r| r.reported_only)
            .map(ExpectationRate::text)
            .collect()
    }

    /// The short text of the cell in a table: verdict, then the three figures.
    pub fn summary(&self, repeat: u32) -> String {
        format!("{}{}", self.verdict().word(), self.details(repeat))
    }

    /// What follows the verdict in [`summary`](Self::summary): the runs that failed when there
    /// are several, the three figures, the lost logins when there were some, and the resurrected
    /// sessions (or that no logout was checked).
    fn details(&self, repeat: u32) -> String {
        let mut text = String::new();
        if repeat > 1 || self.runs.len() > 1 {
            text = format!(
                " ({} of {} runs failed)",
                self.failed_runs(),
                self.runs.len()
            );
        }
        if let (Some(unavailable), Some(lost), Some(errors)) =
            (self.unavailable(), self.lost_writes(), self.user_errors())
        {
            text.push_str(&format!(
                "; {} s unavailable, {} lost, {} errors",
                unavailable.text(1),
                lost.text(0),
                errors.text(0)
            ));
        }
        if let Some(logins) = self.lost_logins().filter(|l| l.max > 0.0) {
            text.push_str(&format!(", {} logins lost", logins.text(0)));
        }
        if self.finished().next().is_some() {
            match self.resurrected() {
                Some(resurrected) => {
                    text.push_str(&format!(", {} resurrected", resurrected.text(0)));
                }
                None => text.push_str(", logout not checked"),
            }
        }
        let never = self.never_recovered();
        if never > 0 {
            text.push_str(&format!(", {never} users never worked again"));
        }
        text
    }

    /// [`summary`](Self::summary) in Markdown: a verdict other than passed in bold.
    fn markdown(&self, repeat: u32) -> String {
        let verdict = self.verdict();
        let word = match verdict {
            CellVerdict::Failed | CellVerdict::Error => format!("**{}**", verdict.word()),
            CellVerdict::Passed | CellVerdict::Pending => verdict.word().to_owned(),
        };
        format!("{word}{}", self.details(repeat))
    }
}

/// A matrix's results so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixOutcome {
    /// The matrix's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Where its files and its runs are.
    pub dir: PathBuf,
    /// Runs of each cell.
    pub repeat: u32,
    /// Settings of every cell.
    pub fixed: Vec<super::Setting>,
    /// Drills run at once.
    pub jobs: usize,
    /// App × settings.
    pub rows: Vec<Row>,
    /// Scenarios.
    pub columns: Vec<String>,
    /// Row by row, column by column.
    pub cells: Vec<CellOutcome>,
    /// Wall time so far, in seconds.
    pub wall_s: f64,
    /// The drills asked for (cells × repeat, or the shard's slice of them).
    pub planned: usize,
    /// The matrix's identity ([`Matrix::identity`]): shards with the same one can be merged.
    #[serde(default)]
    pub identity: String,
    /// The version of failover-drill that drilled it.
    #[serde(default)]
    pub tool_version: String,
    /// The slice of the matrix this directory holds, when it was split with `--shard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// For a merged report: the shards it was made from, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<MergedShard>,
}

/// A shard a merged report was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedShard {
    /// Which slice.
    pub shard: Shard,
    /// Its directory, as given to `merge`.
    pub dir: PathBuf,
    /// Its drills at once.
    pub jobs: usize,
    /// Its wall time, in seconds.
    pub wall_s: f64,
}

/// A matrix file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

impl MatrixOutcome {
    /// An empty grid for `matrix`, written under `dir`, for the drills of `plan` (all of them, or
    /// `shard`'s).
    pub fn new(
        matrix: &Matrix,
        dir: PathBuf,
        jobs: usize,
        plan: &[Drill],
        shard: Option<Shard>,
    ) -> Self {
        let planned = |cell: usize| {
            let runs = plan.iter().filter(|d| d.cell == cell).count();
            u32::try_from(runs).unwrap_or(u32::MAX)
        };
        Self {
            name: matrix.name.clone(),
            description: matrix.description.clone(),
            dir,
            repeat: matrix.repeat,
            fixed: matrix.fixed.clone(),
            jobs,
            rows: matrix.rows.clone(),
            columns: matrix.columns.clone(),
            cells: matrix
                .cells
                .iter()
                .enumerate()
                .map(|(index, c)| CellOutcome {
                    row: c.row,
                    column: c.column,
                    planned: planned(index),
                    runs: Vec::new(),
                    rates: Vec::new(),
                })
                .collect(),
            wall_s: 0.0,
            planned: plan.len(),
            identity: matrix.identity(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            shard,
            merged: Vec::new(),
        }
    }

    /// Adds a finished run of cell `cell` (an index into the matrix's cells).
    pub fn add(&mut self, cell: usize, run: CellRun) {
        if let Some(outcome) = self.cells.get_mut(cell) {
            outcome.add(run);
        }
    }

    /// The cells this directory drills: all of them, or the shard's (a cell whose runs all went
    /// to other shards is left out).
    pub fn drilled_cells(&self) -> impl Iterator<Item = &CellOutcome> {
        self.cells.iter().filter(|c| c.drilled())
    }

    /// How the drills were run: `4 at a time, in 120 s`, with the shard when this is one, or the
    /// shards a merged report was made from.
    pub fn pace(&self) -> String {
        if !self.merged.is_empty() {
            let longest = self.merged.iter().map(|m| m.wall_s).fold(0.0, f64::max);
            return format!(
                "from {} shards run apart, the longest in {longest:.0} s",
                self.merged.len()
            );
        }
        let pace = format!("{} at a time, in {:.0} s", self.jobs, self.wall_s);
        match self.shard {
            Some(shard) => format!("as shard {shard} of the matrix, {pace}"),
            None => pace,
        }
    }

    /// The cell at a row and column.
    pub fn cell(&self, row: usize, column: usize) -> Option<&CellOutcome> {
        self.cells
            .iter()
            .find(|c| c.row == row && c.column == column)
    }

    /// Finished runs, all cells together.
    pub fn done(&self) -> usize {
        self.cells.iter().map(|c| c.runs.len()).sum()
    }

    /// True when every run finished and passed.
    pub fn passed(&self) -> bool {
        self.cells.iter().all(|c| c.runs.iter().all(|r| r.passed))
    }

    /// True when some run could not produce a verdict.
    pub fn any_error(&self) -> bool {
        self.cells
            .iter()
            .any(|c| c.runs.iter().any(|r| r.error.is_some()))
    }

    /// True when some row has swept settings: the grid then answers what a setting costs.
    pub fn is_sweep(&self) -> bool {
        self.rows.iter().any(|r| !r.settings.is_empty())
    }

    /// `run_dir` relative to the matrix's directory, for links that survive moving the
    /// directory (a merged report's runs are in its shards' directories, beside it).
    pub fn relative(&self, run_dir: &Path) -> String {
        pathdiff::diff_paths(run_dir, &self.dir)
            .unwrap_or_else(|| run_dir.to_owned())
            .display()
            .to_string()
    }

    /// The grid as a Markdown table: rows app × settings, a column per scenario.
    pub fn write_markdown(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        writeln!(out, "### {}", self.name)?;
        if !self.description.is_empty() {
            writeln!(out, "\n{}", self.description)?;
        }
        writeln!(
            out,
            "\n{} of {} drills, {}. Each cell: verdict; longest time a user could not work; \
             acknowledged writes lost; errors users saw{}.\n",
            self.done(),
            self.planned,
            self.pace(),
            if self.repeat > 1 {
                format!(" (least–largest over {} runs)", self.repeat)
            } else {
                String::new()
            }
        )?;
        if !self.fixed.is_empty() {
            let fixed: Vec<String> = self.fixed.iter().map(super::Setting::short).collect();
            writeln!(out, "Every cell: {}.\n", fixed.join(", "))?;
        }
        let escape = |s: &str| s.replace('|', "\\|");
        write!(out, "| app × settings |")?;
        for column in &self.columns {
            write!(out, " {} |", escape(column))?;
        }
        writeln!(out)?;
        writeln!(out, "|---|{}", "---|".repeat(self.columns.len()))?;
        for (r, row) in self.rows.iter().enumerate() {
            write!(out, "| {} |", escape(&row.label()))?;
            for c in 0..self.columns.len() {
                let text = self
                    .cell(r, c)
                    .filter(|cell| cell.drilled())
                    .map_or_else(|| "—".to_owned(), |cell| cell.markdown(self.repeat));
                write!(out, " {} |", escape(&text))?;
            }
            writeln!(out)?;
        }
        let failing: Vec<(String, &str, Vec<String>)> = self
            .cells
            .iter()
            .filter(|c| matches!(c.verdict(), CellVerdict::Failed | CellVerdict::Error))
            .map(|c| {
                (
                    self.rows[c.row].label(),
                    self.columns[c.column].as_str(),
                    c.failures(),
                )
            })
            .collect();
        if !failing.is_empty() {
            writeln!(out, "\nFailed cells:")?;
            for (row, column, failures) in failing {
                writeln!(out, "- {row} × {column}: {}", failures.join("; "))?;
            }
        }
        let reported: Vec<(String, &str, Vec<String>)> = self
            .cells
            .iter()
            .map(|c| {
                (
                    self.rows[c.row].label(),
                    self.columns[c.column].as_str(),
                    c.reported(),
                )
            })
            .filter(|(_, _, reported)| !reported.is_empty())
            .collect();
        if !reported.is_empty() {
            writeln!(out, "\nReported counts above 0 (they fail no cell):")?;
            for (row, column, reported) in reported {
                writeln!(out, "- {row} × {column}: {}", reported.join("; "))?;
            }
        }
        Ok(())
    }

    /// The terminal summary: the verdict, the grid as Markdown, and where the files are.
    pub fn write_summary(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let verdict = if self.passed() {
            "every cell PASSED".to_owned()
        } else {
            let failed = self
                .drilled_cells()
                .filter(|c| c.verdict() != CellVerdict::Passed)
                .count();
            format!(
                "{failed} of {} cells FAILED or could not run",
                self.drilled_cells().count()
            )
        };
        writeln!(out, "matrix {}: {verdict}", self.name)?;
        if self.done() < self.planned {
            writeln!(
                out,
                "  (stopped after {} of {} drills)",
                self.done(),
                self.planned
            )?;
        }
        writeln!(out)?;
        self.write_markdown(out)?;
        writeln!(
            out,
            "\nreport: {} (and matrix.md, matrix.json, junit.xml)",
            self.dir.join("matrix.html").display()
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn run(passed: bool, unavailable: f64, lost: u64) -> CellRun {
        CellRun {
            repetition: 1,
            run_id: "r".into(),
            run_dir: PathBuf::from("/m/row/kill-master-r"),
            passed,
            failed: if passed {
                Vec::new()
            } else {
                vec![FailedExpectation {
                    expectation: "lost writes <= 0".into(),
                    actual: 3,
                    shown: None,
                }]
            },
            reported: Vec::new(),
            longest_unavailable_s: unavailable,
            never_recovered: 0,
            lost_writes: lost,
            user_errors: 0,
            lost_logins: 0,
            resurrected: Some(0),
            switch_master_ms: Some(2000.0),
            took_s: 30.0,
            error: None,
        }
    }

    /// A cell of these runs, numbered in order.
    fn cell(runs: Vec<CellRun>) -> CellOutcome {
        let mut cell = CellOutcome {
            row: 0,
            column: 0,
            planned: u32::try_from(runs.len()).expect("a few runs"),
            runs: Vec::new(),
            rates: Vec::new(),
        };
        for (i, mut run) in runs.into_iter().enumerate() {
            run.repetition = u32::try_from(i + 1).expect("a few runs");
            cell.add(run);
        }
        cell
    }

    #[test]
    fn a_cell_fails_when_any_run_fails_and_spreads_its_figures() {
        let cell = cell(vec![
            run(true, 4.0, 0),
            run(false, 6.0, 3),
            run(true, 5.0, 1),
        ]);
        assert_eq!(cell.verdict(), CellVerdict::Failed);
        let lost = cell.lost_writes().expect("runs");
        assert_eq!((lost.median, lost.min, lost.max), (1.0, 0.0, 3.0));
        assert_eq!(cell.unavailable().expect("runs").text(1), "4.0–6.0");
        assert_eq!(
            cell.failures(),
            vec!["lost writes <= 0: failed in 1 of 3 runs (largest 3, 3 in all)".to_owned()]
        );
        assert!(cell.summary(3).starts_with("FAILED (1 of 3 runs failed)"));
    }

    #[test]
    fn runs_are_kept_in_the_order_of_their_repetition_whatever_order_they_finish_in() {
        let mut c = cell(Vec::new());
        for repetition in [3, 1, 2] {
            let mut r = run(true, 1.0, 0);
            r.repetition = repetition;
            c.add(r);
        }
        let order: Vec<u32> = c.runs.iter().map(|r| r.repetition).collect();
        assert_eq!(order, [1, 2, 3]);
    }

    #[test]
    fn a_cell_names_its_lost_logins_and_resurrected_sessions_or_the_logout_check_not_made() {
        let mut checked = run(true, 2.0, 0);
        checked.resurrected = Some(2);
        checked.lost_logins = 4;
        let mut unchecked = run(true, 2.0, 0);
        unchecked.resurrected = None;
        assert_eq!(
            cell(vec![checked.clone()]).summary(1),
            "passed; 2.0 s unavailable, 0 lost, 0 errors, 4 logins lost, 2 resurrected"
        );
        assert_eq!(
            cell(vec![unchecked.clone()]).summary(1),
            "passed; 2.0 s unavailable, 0 lost, 0 errors, logout not checked"
        );
        // A run that did not check logouts does not count as none resurrected.
        assert!(cell(vec![checked, unchecked])
            .summary(2)
            .ends_with("0–4 logins lost, 2 resurrected"));
    }

    #[test]
    fn a_run_that_could_not_finish_is_an_error_not_a_pass() {
        let cell = cell(vec![
            run(true, 4.0, 0),
            CellRun::failed_to_finish("no engine".into(), 2, 1.0),
        ]);
        assert_eq!(cell.verdict(), CellVerdict::Error);
        assert_eq!(cell.unavailable().expect("one finished").median, 4.0);
        assert_eq!(
            cell.failures(),
            vec!["could not finish: no engine (in 1 of 2 runs)".to_owned()]
        );
    }

    #[test]
    fn a_shard_shows_and_counts_only_its_own_cells() {
        let matrix = Matrix::parse(
            "scenarios = [\"kill-master\", \"pause-master\", \"stop-master\"]",
            Path::new("m.toml"),
            &crate::scenario::Catalogue::built_in(),
        )
        .expect("valid");
        let shard = Shard { index: 0, count: 3 };
        let plan = matrix.plan(Some(shard));
        assert_eq!(plan.len(), 1, "three drills over three shards");
        let mut outcome = MatrixOutcome::new(&matrix, PathBuf::from("/m"), 1, &plan, Some(shard));
        outcome.add(plan[0].cell, run(false, 1.0, 3));
        let mut text = Vec::new();
        outcome.write_summary(&mut text).expect("summary");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(text.contains("1 of 1 cells FAILED"), "{text}");
        assert!(
            text.contains("1 of 1 drills, as shard 0/3 of the matrix"),
            "{text}"
        );
        let row = text
            .lines()
            .find(|l| l.starts_with("| sample app |"))
            .expect("the row");
        assert_eq!(row.matches(" — |").count(), 2, "{row}");
        let mut xml = Vec::new();
        outcome.write_junit(&mut xml).expect("junit");
        let xml = String::from_utf8(xml).expect("utf-8");
        assert!(xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
    }
}
