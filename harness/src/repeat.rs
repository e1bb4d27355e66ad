//! One scenario run many times, and per expectation in how many of the runs it failed: a drill's
//! sensitivity as a figure ("failed in 19 of 20 runs"). Some bugs show only when a request is in
//! flight at the wrong moment, so one green run says little; the rate says how much.
//!
//! It owns the tally and its three outputs: the terminal summary, `repeat.json` and `junit.xml`,
//! rewritten after every run so an interrupted repeat keeps what it gathered. Each run is an
//! ordinary run with its own directory inside the repeat's. It must not judge a run itself: it
//! reads each run's expectation results.
//!
//! `junit`: the JUnit XML of a repeat.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::RunReport;
use crate::run::{run, RunError, RunOptions};
use crate::scenario::Scenario;
use crate::verdict::ExpectationResult;

mod junit;

/// Most runs one repeat may make.
pub const MAX_REPEAT: u32 = 1000;

/// Failed runs the summary names; the rest are in `repeat.json`.
const LISTED_FAILED_RUNS: usize = 5;

/// Why a repeat stopped before its last run.
#[derive(Debug, thiserror::Error)]
pub enum RepeatError {
    /// The count is out of range.
    #[error("--repeat {0}: must be between 1 and {MAX_REPEAT}")]
    Count(u32),
    /// One run could not produce a verdict; the runs before it are in the repeat's files.
    #[error("run {index} of {of} could not finish (the {done} before it are tallied in {dir}): {source}")]
    Run {
        /// Which run, from 1.
        index: u32,
        /// Runs planned.
        of: u32,
        /// Runs finished before it.
        done: u32,
        /// The repeat's directory.
        dir: PathBuf,
        /// Why the run failed.
        source: Box<RunError>,
    },
    /// A file of the repeat could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One run of a repeat, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunBrief {
    /// The run's id.
    pub run_id: String,
    /// Its directory, with its own `report.json` and `report.html`.
    pub run_dir: PathBuf,
    /// Whether every expectation held.
    pub passed: bool,
    /// The expectations that failed.
    pub failed: Vec<String>,
}

/// One expectation over every run of a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionRate {
    /// What is expected, for people: `lost sessions <= 0`.
    pub expectation: String,
    /// Whether the count is only reported and never fails a run.
    pub reported_only: bool,
    /// Runs in which it failed (for a reported count: runs in which it was above 0).
    pub failed_in: u32,
    /// Runs it was held against.
    pub runs: u32,
    /// The largest count of one run.
    pub max_actual: u64,
    /// The counts of every run together.
    pub total_actual: u64,
}

impl DetectionRate {
    fn new(expectation: &str, reported_only: bool) -> Self {
        Self {
            expectation: expectation.to_owned(),
            reported_only,
            failed_in: 0,
            runs: 0,
            max_actual: 0,
            total_actual: 0,
        }
    }
}

/// What a repeat found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatReport {
    /// Scenario name.
    pub scenario: String,
    /// Where the repeat wrote its files and its runs.
    pub repeat_dir: PathBuf,
    /// Runs asked for.
    pub planned: u32,
    /// Every finished run, in order.
    pub runs: Vec<RunBrief>,
    /// Every expectation, in the scenario's order, with the runs it failed in.
    pub expectations: Vec<DetectionRate>,
    /// True when every finished run passed.
    pub passed: bool,
}

impl RepeatReport {
    fn new(scenario: &str, repeat_dir: PathBuf, planned: u32) -> Self {
        Self {
            scenario: scenario.to_owned(),
            repeat_dir,
            planned,
            runs: Vec::new(),
            expectations: Vec::new(),
            passed: true,
        }
    }

    /// Adds one run's verdict to the tally.
    pub fn add(&mut self, report: &RunReport) {
        self.add_results(
            &report.run_id,
            &report.run_dir,
            &report.expectations,
            report.passed,
        );
    }

    fn add_results(
        &mut self,
        run_id: &str,
        run_dir: &Path,
        results: &[ExpectationResult],
        passed: bool,
    ) {
        let mut failed = Vec::new();
        for result in results {
            let at = match self
                .expectations
                .iter()
                .position(|d| d.expectation == result.expectation)
            {
                Some(at) => at,
                None => {
                    self.expectations.push(DetectionRate::new(
                        &result.expectation,
                        result.reported_only,
                    ));
                    self.expectations.len() - 1
                }
            };
            let rate = &mut self.expectations[at];
            rate.runs += 1;
            rate.max_actual = rate.max_actual.max(result.actual);
            rate.total_actual += result.actual;
            let counts = if result.reported_only {
                result.actual > 0
            } else {
                !result.passed
            };
            if counts {
                rate.failed_in += 1;
            }
            if !result.passed {
                failed.push(result.expectation.clone());
            }
        }
        self.passed &= passed;
        self.runs.push(RunBrief {
            run_id: run_id.to_owned(),
            run_dir: run_dir.to_owned(),
            passed,
            failed,
        });
    }

    /// Finished runs.
    pub fn done(&self) -> u32 {
        u32::try_from(self.runs.len()).unwrap_or(u32::MAX)
    }

    /// Runs in which some expectation failed.
    pub fn failed_runs(&self) -> u32 {
        u32::try_from(self.runs.iter().filter(|r| !r.passed).count()).unwrap_or(u32::MAX)
    }

    /// The terminal summary: the verdict over all runs, then each expectation's rate.
    pub fn write_summary(&self, out: &mut impl Write) -> std::io::Result<()> {
        let done = self.done();
        let verdict = if self.passed {
            format!("PASSED in all {done} runs")
        } else {
            format!("FAILED in {} of {done} runs", self.failed_runs())
        };
        writeln!(out, "scenario {}, repeated: {verdict}", self.scenario)?;
        if done < self.planned {
            writeln!(out, "  (stopped after {done} of {} runs)", self.planned)?;
        }
        for rate in &self.expectations {
            let spread = format!("largest {}, {} in all", rate.max_actual, rate.total_actual);
            if rate.reported_only {
                if rate.failed_in > 0 {
                    writeln!(
                        out,
                        "  [info] {}: above 0 in {} of {} runs ({spread})",
                        rate.expectation, rate.failed_in, rate.runs
                    )?;
                }
                continue;
            }
            let mark = if rate.failed_in == 0 { "ok  " } else { "FAIL" };
            writeln!(
                out,
                "  [{mark}] {}: failed in {} of {} runs ({spread})",
                rate.expectation, rate.failed_in, rate.runs
            )?;
        }
        let failed: Vec<&RunBrief> = self.runs.iter().filter(|r| !r.passed).collect();
        for run in failed.iter().take(LISTED_FAILED_RUNS) {
            writeln!(
                out,
                "  failed: {} ({})",
                run.run_dir.display(),
                run.failed.join(", ")
            )?;
        }
        if failed.len() > LISTED_FAILED_RUNS {
            writeln!(
                out,
                "  ... and {} more failed runs, listed in repeat.json",
                failed.len() - LISTED_FAILED_RUNS
            )?;
        }
        writeln!(
            out,
            "  tallies: {}, {}",
            self.repeat_dir.join("repeat.json").display(),
            self.repeat_dir.join("junit.xml").display()
        )
    }

    /// Writes `repeat.json` and `junit.xml` into the repeat's directory.
    pub fn write_files(&self) -> Result<(), RepeatError> {
        let json = self.repeat_dir.join("repeat.json");
        let written = std::fs::File::create(&json).and_then(|file| {
            serde_json::to_writer_pretty(std::io::BufWriter::new(file), self)
                .map_err(std::io::Error::from)
        });
        written.map_err(write_error(&json))?;
        let junit = self.repeat_dir.join("junit.xml");
        std::fs::File::create(&junit)
            .and_then(|file| {
                let mut out = std::io::BufWriter::new(file);
                self.write_junit(&mut out)?;
                out.flush()
            })
            .map_err(write_error(&junit))
    }
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> RepeatError + '_ {
    move |source| RepeatError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Runs `scenario` `times` times, one after another, each in its own directory inside
/// `<out>/<scenario>-repeat-<id>`; `after_each` hears of every finished run. The tally is on disk
/// after every run.
pub async fn repeat(
    scenario: &Scenario,
    options: &RunOptions,
    times: u32,
    mut after_each: impl FnMut(u32, &RunReport),
) -> Result<RepeatReport, RepeatError> {
    if times == 0 || times > MAX_REPEAT {
        return Err(RepeatError::Count(times));
    }
    let repeat_dir = options.out_dir.join(format!(
        "{}-repeat-{}",
        scenario.name,
        crate::run::new_run_id()
    ));
    std::fs::create_dir_all(&repeat_dir).map_err(write_error(&repeat_dir))?;
    let mut tally = RepeatReport::new(&scenario.name, repeat_dir.clone(), times);
    tally.write_files()?;
    let each = RunOptions {
        out_dir: repeat_dir.clone(),
        ..options.clone()
    };
    for index in 1..=times {
        let report = run(scenario, &each)
            .await
            .map_err(|source| RepeatError::Run {
                index,
                of: times,
                done: tally.done(),
                dir: repeat_dir.clone(),
                source: Box::new(source),
            })?;
        tally.add(&report);
        tally.write_files()?;
        after_each(index, &report);
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Run {
        id: &'static str,
        results: Vec<ExpectationResult>,
    }

    fn run_with(id: &'static str, lost_sessions: u64, lost_writes: u64) -> Run {
        Run {
            id,
            results: vec![
                ExpectationResult {
                    expectation: "lost sessions <= 0".into(),
                    actual: lost_sessions,
                    passed: lost_sessions == 0,
                    reported_only: false,
                    shown: None,
                },
                ExpectationResult {
                    expectation: "user-visible errors <= 0".into(),
                    actual: 0,
                    passed: true,
                    reported_only: false,
                    shown: None,
                },
                ExpectationResult {
                    expectation: "lost writes (reported)".into(),
                    actual: lost_writes,
                    passed: true,
                    reported_only: true,
                    shown: None,
                },
            ],
        }
    }

    fn tally(runs: &[Run]) -> RepeatReport {
        let mut tally = RepeatReport::new("kill-master", PathBuf::from("runs"), 3);
        for run in runs {
            let passed = run.results.iter().all(|r| r.passed);
            let dir = PathBuf::from(format!("runs/kill-master-{}", run.id));
            tally.add_results(run.id, &dir, &run.results, passed);
        }
        tally
    }

    #[test]
    fn counts_the_runs_each_expectation_failed_in() {
        let t = tally(&[
            run_with("a", 2, 0),
            run_with("b", 0, 5),
            run_with("c", 1, 1),
        ]);
        assert!(!t.passed);
        assert_eq!(t.failed_runs(), 2);
        let lost = &t.expectations[0];
        assert_eq!(
            (
                lost.failed_in,
                lost.runs,
                lost.max_actual,
                lost.total_actual
            ),
            (2, 3, 2, 3)
        );
        assert_eq!(t.expectations[1].failed_in, 0);
        let writes = &t.expectations[2];
        assert_eq!((writes.failed_in, writes.reported_only), (2, true));
        assert_eq!(t.runs[1].failed, Vec::<String>::new());
        assert_eq!(t.runs[2].failed, vec!["lost sessions <= 0".to_owned()]);

        let mut text = Vec::new();
        t.write_summary(&mut text).expect("summary");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(text.contains("FAILED in 2 of 3 runs"), "{text}");
        assert!(
            text.contains("[FAIL] lost sessions <= 0: failed in 2 of 3 runs"),
            "{text}"
        );
        assert!(
            text.contains("[ok  ] user-visible errors <= 0: failed in 0 of 3 runs"),
            "{text}"
        );
        assert!(
            text.contains("lost writes (reported): above 0 in 2 of 3 runs"),
            "{text}"
        );
        assert!(
            text.contains("runs/kill-master-c (lost sessions <= 0)"),
            "{text}"
        );
    }

    #[test]
    fn the_summary_names_a_few_failed_runs_and_counts_the_rest() {
        let ids = ["a", "b", "c", "d", "e", "f", "g"];
        let runs: Vec<Run> = ids.iter().map(|id| run_with(id, 1, 0)).collect();
        let mut text = Vec::new();
        tally(&runs).write_summary(&mut text).expect("summary");
        let text = String::from_utf8(text).expect("utf-8");
        assert_eq!(
            text.matches("  failed: ").count(),
            LISTED_FAILED_RUNS,
            "{text}"
        );
        assert!(
            text.contains("... and 2 more failed runs, listed in repeat.json"),
            "{text}"
        );
    }

    #[test]
    fn all_green_passes() {
        let t = tally(&[run_with("a", 0, 0), run_with("b", 0, 0)]);
        assert!(t.passed);
        let mut text = Vec::new();
        t.write_summary(&mut text).expect("summary");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(text.contains("PASSED in all 2 runs"), "{text}");
        assert!(text.contains("(stopped after 2 of 3 runs)"), "{text}");
    }

    #[test]
    fn junit_has_a_case_per_bounded_expectation_failed_with_its_runs() {
        let t = tally(&[run_with("a", 2, 0), run_with("b", 0, 5)]);
        let mut xml = Vec::new();
        t.write_junit(&mut xml).expect("junit");
        let xml = String::from_utf8(xml).expect("utf-8");
        assert!(
            xml.contains(r#"<testsuites name="failover-drill" tests="2" failures="1">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase classname="kill-master" name="lost sessions &lt;= 0">"#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<failure message="failed in 1 of 2 runs">runs/kill-master-a</failure>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testcase classname="kill-master" name="user-visible errors &lt;= 0"/>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains("lost writes (reported): above 0 in 1 of 2 runs"),
            "{xml}"
        );
    }
}
