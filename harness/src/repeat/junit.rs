//! The JUnit XML of a repeat: one test case per bounded expectation, failed when it failed in any
//! run, with the runs it failed in. It says what goes in; `report::junit` owns the shape.

use std::io::Write;

use super::{DetectionRate, RepeatReport};
use crate::report::{write_scenario_junit, JunitCase};

impl RepeatReport {
    /// JUnit XML: one test suite for the scenario, one test case per bounded expectation, failed
    /// when it failed in any run, with the runs it failed in; reported counts go to the suite's
    /// output.
    pub fn write_junit(&self, out: impl Write) -> std::io::Result<()> {
        let cases: Vec<JunitCase> = self
            .expectations
            .iter()
            .filter(|r| !r.reported_only)
            .map(|rate| JunitCase {
                name: rate.expectation.clone(),
                failure: (rate.failed_in > 0).then(|| self.failure(rate)),
            })
            .collect();
        write_scenario_junit(out, &self.scenario, &cases, &self.reported_lines())
    }

    /// How many runs `rate`'s expectation failed in, and their directories.
    fn failure(&self, rate: &DetectionRate) -> (String, String) {
        let runs: Vec<String> = self
            .runs
            .iter()
            .filter(|r| r.failed.contains(&rate.expectation))
            .map(|r| r.run_dir.display().to_string())
            .collect();
        (
            format!("failed in {} of {} runs", rate.failed_in, rate.runs),
            runs.join("\n"),
        )
    }

    fn reported_lines(&self) -> String {
        self.expectations
            .iter()
            .filter(|r| r.reported_only)
            .map(|r| {
                format!(
                    "{}: above 0 in {} of {} runs (largest {}, {} in all)\n",
                    r.expectation, r.failed_in, r.runs, r.max_actual, r.total_actual
                )
            })
            .collect()
    }
}
