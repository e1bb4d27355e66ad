//! A scenario's expectations held against the counts of each class of finding: the pass or fail
//! of a run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checker::Class;
use crate::scenario::{Bound, Expectations, FailoverExpectation};

/// One expectation and how the run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// What is expected, for people: `lost sessions <= 0`.
    pub expectation: String,
    /// The measured count.
    pub actual: u64,
    /// Whether it held.
    pub passed: bool,
    /// Whether the count is only reported and never fails the run.
    #[serde(default)]
    pub reported_only: bool,
}

/// The counts expectations are held against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Operations in the history.
    pub operations: u64,
    /// Findings of each class.
    pub findings: BTreeMap<Class, u64>,
    /// `+switch-master` messages, from every sentinel.
    pub switch_master_messages: u64,
}

/// The scenario's bound on `class`.
pub fn bound_of(expectations: &Expectations, class: Class) -> Bound {
    match class {
        Class::LostSession => expectations.lost_sessions,
        Class::LostWrite => expectations.lost_writes,
        Class::Rollback => expectations.rollbacks,
        Class::StaleRead => expectations.stale_reads,
        Class::DuplicateWrite => expectations.duplicate_writes,
        Class::ForeignSession => expectations.foreign_sessions,
        Class::UserVisibleError => expectations.user_visible_errors,
        Class::RetriedError => expectations.retried_errors,
    }
}

fn at_most(name: &str, bound: Bound, actual: u64) -> ExpectationResult {
    match bound {
        Bound::AtMost(bound) => ExpectationResult {
            expectation: format!("{name} <= {bound}"),
            actual,
            passed: actual <= bound,
            reported_only: false,
        },
        Bound::Report => ExpectationResult {
            expectation: format!("{name} reported"),
            actual,
            passed: true,
            reported_only: true,
        },
    }
}

/// Every expectation's result: a line per class of finding, then the failover. A run with no
/// operation proves nothing, so it always fails.
pub fn judge(expectations: &Expectations, counts: &Counts) -> Vec<ExpectationResult> {
    let mut results = vec![ExpectationResult {
        expectation: "operations > 0".to_owned(),
        actual: counts.operations,
        passed: counts.operations > 0,
        reported_only: false,
    }];
    for class in Class::ALL {
        let actual = counts.findings.get(&class).copied().unwrap_or(0);
        results.push(at_most(
            class.plural(),
            bound_of(expectations, class),
            actual,
        ));
    }
    let switches = counts.switch_master_messages;
    let failover = |expectation: &str, passed| ExpectationResult {
        expectation: expectation.to_owned(),
        actual: switches,
        passed,
        reported_only: false,
    };
    match expectations.failover {
        FailoverExpectation::Any => {}
        FailoverExpectation::Required => results.push(failover(
            "a failover happened (+switch-master messages > 0)",
            switches > 0,
        )),
        FailoverExpectation::None => results.push(failover(
            "no failover happened (+switch-master messages = 0)",
            switches == 0,
        )),
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(found: &[(Class, u64)], switches: u64) -> Counts {
        Counts {
            operations: 10,
            findings: found.iter().copied().collect(),
            switch_master_messages: switches,
        }
    }

    fn failed(results: &[ExpectationResult]) -> Vec<&str> {
        results
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.expectation.as_str())
            .collect()
    }

    #[test]
    fn bounds_fail_when_exceeded_and_reports_never_do() {
        let found = counts(
            &[
                (Class::LostSession, 1),
                (Class::RetriedError, 3),
                (Class::LostWrite, 7),
                (Class::Rollback, 2),
            ],
            0,
        );
        let results = judge(&Expectations::default(), &found);
        assert_eq!(failed(&results), ["lost sessions <= 0"]);
        let reported = results
            .iter()
            .find(|r| r.expectation == "rollbacks reported");
        assert_eq!(
            reported.map(|r| (r.actual, r.reported_only)),
            Some((2, true))
        );
        let strict = Expectations {
            lost_writes: Bound::AtMost(0),
            rollbacks: Bound::AtMost(2),
            retried_errors: Bound::AtMost(0),
            failover: FailoverExpectation::Required,
            ..Expectations::default()
        };
        assert_eq!(
            failed(&judge(&strict, &found)),
            [
                "lost sessions <= 0",
                "lost writes <= 0",
                "user-visible errors a client retry got past <= 0",
                "a failover happened (+switch-master messages > 0)"
            ]
        );
        assert_eq!(
            failed(&judge(&strict, &Counts::default()))[0],
            "operations > 0"
        );
    }
}
