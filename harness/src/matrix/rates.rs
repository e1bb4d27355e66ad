//! Per expectation, in how many of a cell's runs it failed: a drill's sensitivity as a figure
//! ("failed in 19 of 20 runs"). Some bugs show only when a request is in flight at the wrong
//! moment, so one green run says little; the rate says how much.
//!
//! It owns the tally of one cell's runs and its words; it must not judge a run (each run's
//! report did) nor decide a cell's verdict (`outcome` does).

use serde::{Deserialize, Serialize};

/// An expectation a run failed, or a reported count a run found above 0, with what was measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedExpectation {
    /// What is expected, for people: `lost sessions <= 0`.
    pub expectation: String,
    /// The measured count.
    pub actual: u64,
    /// The measure in words, for a time (`2.31 s`, `never`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<String>,
}

impl std::fmt::Display for FailedExpectation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.shown {
            Some(shown) => write!(f, "{} (was {shown})", self.expectation),
            None => write!(f, "{} (was {})", self.expectation, self.actual),
        }
    }
}

/// One expectation over a cell's finished runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationRate {
    /// What is expected, for people: `lost sessions <= 0`.
    pub expectation: String,
    /// Whether the count is only reported and never fails a run.
    pub reported_only: bool,
    /// Runs in which it failed (for a reported count: runs in which it was above 0).
    pub failed_in: u32,
    /// The cell's finished runs.
    pub runs: u32,
    /// The largest count of one of those runs.
    pub largest: u64,
    /// The counts of those runs together.
    pub total: u64,
    /// The largest measure in words, for a bound on time (`never`, `12.31 s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub largest_shown: Option<String>,
}

impl ExpectationRate {
    /// `lost sessions <= 0: failed in 3 of 20 runs (largest 5, 9 in all)`, or for a reported
    /// count `lost writes (reported): above 0 in 4 of 20 runs (...)`.
    pub fn text(&self) -> String {
        let verb = if self.reported_only {
            "above 0"
        } else {
            "failed"
        };
        let figures = match &self.largest_shown {
            Some(shown) => format!("largest {shown}"),
            None => format!("largest {}, {} in all", self.largest, self.total),
        };
        format!(
            "{}: {verb} in {} of {} runs ({figures})",
            self.expectation, self.failed_in, self.runs
        )
    }
}

/// The rates of the expectations that failed (or, reported, were above 0) in some of a cell's
/// finished runs, each given as its failed expectations and its reported counts above 0, in the
/// order first seen.
pub fn of_runs<'a>(
    runs: impl IntoIterator<Item = (&'a [FailedExpectation], &'a [FailedExpectation])>,
) -> Vec<ExpectationRate> {
    let finished: Vec<_> = runs.into_iter().collect();
    let count = u32::try_from(finished.len()).unwrap_or(u32::MAX);
    let mut rates: Vec<ExpectationRate> = Vec::new();
    for (failed, reported) in finished {
        let bounded = failed.iter().map(|f| (f, false));
        let reported = reported.iter().map(|f| (f, true));
        for (found, reported_only) in bounded.chain(reported) {
            let at = match rates
                .iter()
                .position(|r| r.expectation == found.expectation)
            {
                Some(at) => at,
                None => {
                    rates.push(ExpectationRate {
                        expectation: found.expectation.clone(),
                        reported_only,
                        failed_in: 0,
                        runs: count,
                        largest: 0,
                        total: 0,
                        largest_shown: None,
                    });
                    rates.len() - 1
                }
            };
            let rate = &mut rates[at];
            rate.failed_in += 1;
            rate.total += found.actual;
            if found.actual >= rate.largest {
                rate.largest = found.actual;
                rate.largest_shown.clone_from(&found.shown);
            }
        }
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(expectation: &str, actual: u64, shown: Option<&str>) -> FailedExpectation {
        FailedExpectation {
            expectation: expectation.into(),
            actual,
            shown: shown.map(Into::into),
        }
    }

    #[test]
    fn counts_the_runs_each_expectation_failed_in() {
        let lost = [measured("lost writes <= 0", 3, None)];
        let reported = [measured("lost writes (reported)", 4, None)];
        let slow = [measured(
            "time to recover <= 5 s",
            9_000_000,
            Some("9.00 s"),
        )];
        let runs: [(&[FailedExpectation], &[FailedExpectation]); 5] = [
            (&lost, &[]),
            (&[], &[]),
            (&[], &reported),
            (&lost, &[]),
            (&slow, &[]),
        ];
        let rates = of_runs(runs);
        let texts: Vec<String> = rates.iter().map(ExpectationRate::text).collect();
        assert_eq!(
            texts,
            [
                "lost writes <= 0: failed in 2 of 5 runs (largest 3, 6 in all)",
                "lost writes (reported): above 0 in 1 of 5 runs (largest 4, 4 in all)",
                "time to recover <= 5 s: failed in 1 of 5 runs (largest 9.00 s)",
            ]
        );
        assert!(rates[1].reported_only && !rates[0].reported_only);
    }
}
