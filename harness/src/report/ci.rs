//! What one run gives a CI system besides its exit status: JUnit XML of its expectations (one
//! test case per bounded expectation), a Markdown summary for GitHub Actions' step summary, and
//! `::error` workflow commands that put each failed expectation on the job's page.
//!
//! It owns those shapes only (the JUnit XML's is `junit`'s); the CLI decides where they go.

use std::io::Write;

use super::junit::{write_scenario_junit, JunitCase};
use super::RunReport;
use crate::verdict::ExpectationResult;

impl RunReport {
    fn bounded(&self) -> Vec<&ExpectationResult> {
        self.expectations
            .iter()
            .filter(|x| !x.reported_only)
            .collect()
    }

    /// JUnit XML: one test suite for the scenario, one test case per bounded expectation, failed
    /// with what was measured; reported counts go to the suite's output.
    pub fn write_junit(&self, out: impl Write) -> std::io::Result<()> {
        let cases: Vec<JunitCase> = self
            .bounded()
            .into_iter()
            .map(|x| JunitCase {
                name: x.expectation.clone(),
                failure: (!x.passed).then(|| {
                    (
                        format!("was {}", x.actual_text()),
                        format!(
                            "{}: expected {}, was {}; run {} in {}",
                            self.scenario,
                            x.expectation,
                            x.actual_text(),
                            self.run_id,
                            self.run_dir.display()
                        ),
                    )
                }),
            })
            .collect();
        let reported: Vec<String> = self
            .expectations
            .iter()
            .filter(|x| x.reported_only)
            .map(|x| format!("{}: {}", x.expectation, x.actual_text()))
            .collect();
        write_scenario_junit(out, &self.scenario, &cases, &reported.join("\n"))
    }

    /// The run in Markdown, for `$GITHUB_STEP_SUMMARY`: the verdict, each expectation, and where
    /// the report is.
    pub fn markdown_summary(&self) -> String {
        let verdict = if self.passed { "passed" } else { "**FAILED**" };
        let mut md = format!(
            "### failover-drill: {} {verdict}\n\n| expectation | actual | |\n|---|---|---|\n",
            self.scenario
        );
        for x in &self.expectations {
            let mark = match (x.passed, x.reported_only) {
                (false, _) => "**FAIL**",
                (true, true) => "reported",
                (true, false) => "ok",
            };
            md.push_str(&format!(
                "| {} | {} | {mark} |\n",
                x.expectation.replace('|', "\\|"),
                x.actual_text()
            ));
        }
        md.push_str(&format!(
            "\nLongest a user could not work: {:.2} s. Report: `{}`\n",
            self.user_errors.longest_unavailable as f64 / 1e6,
            self.run_dir.join("report.html").display()
        ));
        md
    }

    /// A GitHub Actions `::error` command for each failed expectation.
    pub fn github_errors(&self) -> Vec<String> {
        // Workflow commands end at a newline, `%` starts an escape, and in a property `:` and
        // `,` end it.
        let escape = |text: &str| {
            text.replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        };
        let property = |text: &str| escape(text).replace(':', "%3A").replace(',', "%2C");
        self.expectations
            .iter()
            .filter(|x| !x.passed)
            .map(|x| {
                format!(
                    "::error title=failover-drill {}::{}",
                    property(&self.scenario),
                    escape(&format!(
                        "expected {}, was {} (run {})",
                        x.expectation,
                        x.actual_text(),
                        self.run_id
                    ))
                )
            })
            .collect()
    }
}
