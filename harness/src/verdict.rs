//! A scenario's expectations held against the checkers' counts: the pass or fail of a run.

use serde::{Deserialize, Serialize};

use crate::scenario::{Expectations, FailoverExpectation, LostWrites};

/// One expectation and how the run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// What is expected, for people: `lost sessions <= 0`.
    pub expectation: String,
    /// The measured count.
    pub actual: u64,
    /// Whether it held.
    pub passed: bool,
}

/// The counts expectations are held against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Operations in the history.
    pub operations: u64,
    /// Sessions lost.
    pub lost_sessions: u64,
    /// Operations failed after retries.
    pub user_visible_errors: u64,
    /// Failed attempts within operations that a client retry completed.
    pub retried_errors: u64,
    /// Acknowledged writes missing later.
    pub lost_writes: u64,
    /// `+switch-master` messages, from every sentinel.
    pub switch_master_messages: u64,
}

fn at_most(name: &str, bound: u64, actual: u64) -> ExpectationResult {
    ExpectationResult {
        expectation: format!("{name} <= {bound}"),
        actual,
        passed: actual <= bound,
    }
}

/// Every expectation's result. A run with no operation proves nothing, so it always fails.
pub fn judge(expectations: &Expectations, counts: Counts) -> Vec<ExpectationResult> {
    let mut results = vec![
        ExpectationResult {
            expectation: "operations > 0".to_owned(),
            actual: counts.operations,
            passed: counts.operations > 0,
        },
        at_most(
            "lost sessions",
            expectations.lost_sessions,
            counts.lost_sessions,
        ),
        at_most(
            "user-visible errors",
            expectations.user_visible_errors,
            counts.user_visible_errors,
        ),
    ];
    if let Some(bound) = expectations.retried_errors {
        results.push(at_most(
            "user-visible errors a client retry got past",
            bound,
            counts.retried_errors,
        ));
    }
    let switches = counts.switch_master_messages;
    match expectations.failover {
        FailoverExpectation::Any => {}
        FailoverExpectation::Required => results.push(ExpectationResult {
            expectation: "a failover happened (+switch-master messages > 0)".to_owned(),
            actual: switches,
            passed: switches > 0,
        }),
        FailoverExpectation::None => results.push(ExpectationResult {
            expectation: "no failover happened (+switch-master messages = 0)".to_owned(),
            actual: switches,
            passed: switches == 0,
        }),
    }
    results.push(match expectations.lost_writes {
        LostWrites::AtMost(bound) => at_most("lost writes", bound, counts.lost_writes),
        LostWrites::Report => ExpectationResult {
            expectation: "lost writes reported".to_owned(),
            actual: counts.lost_writes,
            passed: true,
        },
    });
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_fail_when_exceeded_and_reports_never_do() {
        let counts = Counts {
            operations: 10,
            lost_sessions: 1,
            user_visible_errors: 0,
            retried_errors: 3,
            lost_writes: 7,
            switch_master_messages: 0,
        };
        let results = judge(&Expectations::default(), counts);
        let passed: Vec<bool> = results.iter().map(|r| r.passed).collect();
        assert_eq!(passed, vec![true, false, true, true]);
        let strict = Expectations {
            lost_writes: LostWrites::AtMost(0),
            failover: FailoverExpectation::Required,
            ..Expectations::default()
        };
        let strict_results = judge(&strict, counts);
        assert!(!strict_results[3].passed, "no +switch-master was counted");
        assert!(!strict_results[4].passed, "7 lost writes exceed 0");
        assert!(!judge(&strict, Counts::default())[0].passed);
        let no_error_page = Expectations {
            retried_errors: Some(0),
            ..Expectations::default()
        };
        let retried = judge(&no_error_page, counts);
        assert_eq!(
            retried[3].expectation,
            "user-visible errors a client retry got past <= 0"
        );
        assert!(!retried[3].passed, "3 retried errors exceed 0");
    }
}
