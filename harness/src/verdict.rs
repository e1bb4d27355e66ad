//! A scenario's expectations held against the counts of each class of finding and the times the
//! run took: the pass or fail of a run.

use std::collections::BTreeMap;
use std::time::Duration;

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
    /// The measure in words, where a number alone would mislead: `2.31 s`, or `never` for a
    /// fault some user never recovered from (whose `actual` is then `u64::MAX`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<String>,
}

impl ExpectationResult {
    /// What was measured, for people.
    pub fn actual_text(&self) -> String {
        self.shown
            .clone()
            .unwrap_or_else(|| self.actual.to_string())
    }
}

/// The counts expectations are held against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Operations in the history.
    pub operations: u64,
    /// Findings of each class.
    pub findings: BTreeMap<Class, u64>,
    /// `+switch-master` messages, from every sentinel.
    pub switch_master_messages: u64,
    /// How long things took, for the bounds on time.
    pub times: Times,
    /// Whether the topology had to settle, because a fault healed: then each node that was not
    /// back in its place in time, with what it last said.
    pub settling: Option<Vec<String>>,
    /// Whether the logout check was made (some logout was acknowledged): without it the bound on
    /// resurrected sessions is not judged, rather than passed on a count of none.
    pub logouts_checked: bool,
    /// Logins that succeeded while the user held a session cookie: those the session-id check
    /// reads.
    pub logins_checked: u64,
    /// Users back from an idle spell past the session TTL: without one, the bound on immortal
    /// sessions is not judged.
    pub expiries_checked: u64,
    /// Whether the scenario names the app's session TTL, asking for the expiry check: then a run
    /// in which no user came back past it fails, the check not made.
    pub expiry_asked: bool,
}

/// How long things took in a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Times {
    /// Longest one user could not complete anything and then did, in ms.
    pub longest_unavailable_ms: f64,
    /// Each fault, named (`fault 1 (kill)`), and ms from its start until its last user
    /// succeeded again; `None` when some user never did.
    pub recoveries: Vec<(String, Option<f64>)>,
    /// Each fault on the master (the node the sentinels named master when it began), named, and
    /// ms from its start to `+switch-master`; `None` without one.
    pub failovers: Vec<(String, Option<f64>)>,
    /// Operation latency in ms, by (phase, kind, percentile) as the bounds name them.
    pub latency: Vec<((String, String, String), f64)>,
}

/// The scenario's bound on `class`.
pub fn bound_of(expectations: &Expectations, class: Class) -> Bound {
    match class {
        Class::LostSession => expectations.lost_sessions,
        Class::LostLogin => expectations.lost_logins(),
        Class::LostWrite => expectations.lost_writes,
        Class::Rollback => expectations.rollbacks,
        Class::StaleRead => expectations.stale_reads,
        Class::DuplicateWrite => expectations.duplicate_writes,
        Class::ForeignSession => expectations.foreign_sessions,
        Class::ResurrectedSession => expectations.resurrected_sessions,
        // Judged only when the scenario asks for it (see `judge`): an app may keep a cookie that
        // is no session id, which is none of the harness's business unless told otherwise.
        Class::SessionIdKept if expectations.session_id_cycled => Bound::AtMost(0),
        Class::SessionIdKept => Bound::Report,
        Class::ImmortalSession => expectations.immortal_sessions,
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
            shown: None,
        },
        Bound::Report => ExpectationResult {
            expectation: format!("{name} reported"),
            actual,
            passed: true,
            reported_only: true,
            shown: None,
        },
    }
}

/// `expectations.session_id_cycled`: no login kept the id, and some login was made holding a
/// session cookie, so that the check was made at all.
fn judge_session_ids(counts: &Counts) -> [ExpectationResult; 2] {
    let kept = counts
        .findings
        .get(&Class::SessionIdKept)
        .copied()
        .unwrap_or(0);
    [
        ExpectationResult {
            expectation: "logins made holding a session cookie > 0 (workload.relogin_after \
                          makes them)"
                .to_owned(),
            actual: counts.logins_checked,
            passed: counts.logins_checked > 0,
            reported_only: false,
            shown: None,
        },
        at_most(Class::SessionIdKept.plural(), Bound::AtMost(0), kept),
    ]
}

/// A bound on a time: `name <= bound`, held against `ms` (`None`: it never happened).
fn within(name: &str, bound: Duration, ms: Option<f64>) -> ExpectationResult {
    let bound_ms = bound.as_secs_f64() * 1e3;
    ExpectationResult {
        expectation: format!("{name} <= {}", humantime::format_duration(bound)),
        actual: ms.map_or(u64::MAX, |ms| ms.round() as u64),
        passed: ms.is_some_and(|ms| ms <= bound_ms),
        reported_only: false,
        shown: Some(ms.map_or_else(|| "never".to_owned(), |ms| format!("{:.2} s", ms / 1e3))),
    }
}

/// The results of the bounds on time.
fn judge_times(expectations: &Expectations, times: &Times) -> Vec<ExpectationResult> {
    let mut results = Vec::new();
    if let Some(bound) = expectations.longest_unavailable {
        results.push(within(
            "longest a user could not work",
            bound,
            Some(times.longest_unavailable_ms),
        ));
    }
    if let Some(bound) = expectations.recovery {
        for (fault, ms) in &times.recoveries {
            results.push(within(&format!("recovery from {fault}"), bound, *ms));
        }
    }
    if let Some(bound) = expectations.failover_within {
        for (fault, ms) in &times.failovers {
            results.push(within(&format!("+switch-master after {fault}"), bound, *ms));
        }
    }
    for b in &expectations.latency.0 {
        let key = (b.phase.clone(), b.kind.clone(), b.percentile.clone());
        let ms = times
            .latency
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, ms)| *ms);
        // A phase with no operation of the kind has no latency to break the bound.
        let result = match ms {
            Some(ms) => within(&b.measure(), b.at_most, Some(ms)),
            None => ExpectationResult {
                expectation: b.describe(),
                actual: 0,
                passed: true,
                reported_only: false,
                shown: Some("no operation".to_owned()),
            },
        };
        results.push(result);
    }
    results
}

/// The expectations in words, named as a run's verdict names them, before any run: `lost
/// sessions <= 0`, `+switch-master after each fault on the master <= 5s`.
pub fn expectations_in_words(expectations: &Expectations) -> Vec<String> {
    // Judged against figures that name no fault in particular, so each bound is worded once,
    // where `judge` words it.
    let counts = Counts {
        operations: 1,
        times: Times {
            recoveries: vec![("each fault".to_owned(), None)],
            failovers: vec![("each fault on the master".to_owned(), None)],
            ..Times::default()
        },
        logouts_checked: true,
        ..Counts::default()
    };
    judge(expectations, &counts)
        .into_iter()
        .map(|result| result.expectation)
        .collect()
}

/// Every expectation's result: a line per class of finding, then the failover. A run with no
/// operation proves nothing, so it always fails.
pub fn judge(expectations: &Expectations, counts: &Counts) -> Vec<ExpectationResult> {
    let mut results = vec![ExpectationResult {
        expectation: "operations > 0".to_owned(),
        actual: counts.operations,
        passed: counts.operations > 0,
        reported_only: false,
        shown: None,
    }];
    for class in Class::ALL {
        if class == Class::ResurrectedSession && !counts.logouts_checked {
            continue;
        }
        if class == Class::ImmortalSession && counts.expiries_checked == 0 {
            if counts.expiry_asked {
                results.push(ExpectationResult {
                    expectation: "users back after the session TTL > 0 (a workload.idle \
                                  spell longer than app.contract.session_ttl makes them)"
                        .to_owned(),
                    actual: 0,
                    passed: false,
                    reported_only: false,
                    shown: None,
                });
            }
            continue;
        }
        if class == Class::SessionIdKept {
            if expectations.session_id_cycled {
                results.extend(judge_session_ids(counts));
            }
            continue;
        }
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
        shown: None,
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
    if let Some(unsettled) = &counts.settling {
        // Not a bound of the scenario's: findings on a topology that never settled say less
        // than they seem to, and its final reads were made on a cluster still broken.
        results.push(ExpectationResult {
            expectation: "the topology settled after every fault".to_owned(),
            actual: unsettled.len() as u64,
            passed: unsettled.is_empty(),
            reported_only: false,
            shown: Some(if unsettled.is_empty() {
                "yes".to_owned()
            } else {
                format!("no: {}", unsettled.join("; "))
            }),
        });
    }
    results.extend(judge_times(expectations, &counts.times));
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
            times: Times::default(),
            settling: None,
            logouts_checked: true,
            logins_checked: 0,
            expiries_checked: 0,
            expiry_asked: false,
        }
    }

    #[test]
    fn resurrected_sessions_are_judged_only_when_some_logout_was_acknowledged() {
        let named = |counts: &Counts| -> Vec<String> {
            judge(&Expectations::default(), counts)
                .into_iter()
                .map(|r| r.expectation)
                .collect()
        };
        let mut found = counts(&[(Class::ResurrectedSession, 2)], 1);
        assert!(
            failed(&judge(&Expectations::default(), &found)).contains(&"resurrected sessions <= 0")
        );
        found.logouts_checked = false;
        assert!(!named(&found).iter().any(|e| e.contains("resurrected")));
    }

    #[test]
    fn session_ids_are_judged_only_when_asked_for_and_fail_when_no_login_was_checked() {
        let kept = counts(&[(Class::SessionIdKept, 3)], 1);
        let asked = Expectations {
            session_id_cycled: true,
            ..Expectations::default()
        };
        assert!(judge(&Expectations::default(), &kept)
            .iter()
            .all(|r| !r.expectation.contains("session id")
                && !r.expectation.contains("session cookie")));
        assert_eq!(
            failed(&judge(&asked, &kept)),
            [
                "logins made holding a session cookie > 0 (workload.relogin_after makes them)",
                "session ids kept at login <= 0"
            ]
        );
        let mut cycled = counts(&[], 1);
        cycled.logins_checked = 40;
        assert!(judge(&asked, &cycled).iter().all(|r| r.passed));
    }

    #[test]
    fn immortal_sessions_are_judged_when_a_user_came_back_late_and_asked_for_they_must_be() {
        let immortal = counts(&[(Class::ImmortalSession, 1)], 1);
        let named = |counts: &Counts| -> Vec<String> {
            judge(&Expectations::default(), counts)
                .into_iter()
                .filter(|r| !r.passed)
                .map(|r| r.expectation)
                .collect()
        };
        assert!(named(&immortal).is_empty(), "no user came back late");
        let mut late = immortal.clone();
        late.expiries_checked = 5;
        assert_eq!(named(&late), ["immortal sessions <= 0"]);
        let mut asked = counts(&[], 1);
        asked.expiry_asked = true;
        assert_eq!(named(&asked).len(), 1);
        assert!(named(&asked)[0].starts_with("users back after the session TTL > 0"));
    }

    #[test]
    fn a_topology_that_never_settled_fails_the_run_naming_the_node() {
        let mut unsettled = counts(&[], 1);
        unsettled.settling = Some(vec![
            "redis-1 was not back in its place after 30000 ms".into()
        ]);
        let results = judge(&Expectations::default(), &unsettled);
        assert_eq!(failed(&results), ["the topology settled after every fault"]);
        let line = results.last().expect("a result");
        assert!(
            line.actual_text().contains("redis-1 was not back"),
            "{line:?}"
        );
        let mut settled = counts(&[], 1);
        settled.settling = Some(Vec::new());
        assert!(judge(&Expectations::default(), &settled)
            .iter()
            .all(|r| r.passed));
        assert!(
            judge(&Expectations::default(), &counts(&[], 0))
                .iter()
                .all(|r| r.expectation != "the topology settled after every fault"),
            "a run without a heal has nothing to settle"
        );
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

    #[test]
    fn time_bounds_fail_when_exceeded_or_never_met() {
        let mut found = counts(&[], 3);
        found.times = Times {
            longest_unavailable_ms: 2_300.0,
            recoveries: vec![
                ("fault 1 (kill)".into(), Some(2_400.0)),
                ("fault 2 (kill)".into(), None),
            ],
            failovers: vec![("fault 1 (kill)".into(), Some(2_100.0))],
            latency: vec![(("during".into(), "all".into(), "p99".into()), 2_900.0)],
        };
        let bounds: Expectations = toml::from_str(
            "longest_unavailable = \"2s\"\nrecovery = \"5s\"\nfailover_within = \"3s\"\n\
             [latency]\nduring.p99 = \"3s\"\nafter.write.p50 = \"100ms\"",
        )
        .expect("bounds");
        let results = judge(&bounds, &found);
        assert_eq!(
            failed(&results),
            [
                "longest a user could not work <= 2s",
                "recovery from fault 2 (kill) <= 5s"
            ]
        );
        assert!(
            results
                .iter()
                .any(|r| r.expectation == "during operation latency p99 <= 3s" && r.passed),
            "the bound is named once: {results:?}"
        );
        let shown: Vec<String> = results.iter().map(ExpectationResult::actual_text).collect();
        assert!(shown.contains(&"2.30 s".to_owned()) && shown.contains(&"never".to_owned()));
        let no_ops = results
            .iter()
            .find(|r| r.expectation == "after write operation latency p50 <= 100ms")
            .expect("the bound is listed");
        assert!(
            no_ops.passed,
            "no operation of the kind: nothing to break it"
        );
    }

    #[test]
    fn latency_bounds_name_what_is_wrong() {
        let err = |text: &str| {
            toml::from_str::<Expectations>(text)
                .expect_err("refused")
                .to_string()
        };
        assert!(err("[latency]\nduring.p98 = \"1s\"").contains("latency.during.p98"));
        assert!(err("[latency]\nlater.p99 = \"1s\"").contains("no such phase"));
        assert!(err("[latency]\nduring.delete.p99 = \"1s\"").contains("no such kind"));
        assert!(err("[latency]\nduring.p99 = \"soon\"").contains("not a duration"));
    }
}
