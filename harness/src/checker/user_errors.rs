//! Errors absorbed by retry versus errors that reached users, and how long users were stuck. An
//! operation that still failed after the client's retries is a user-visible error; a failed
//! attempt inside an operation a retry then completed is an error the user reloaded past. A user
//! whose last operations all failed never recovered, and is reported as such, not as an outage as
//! long as the run.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{by_user, Class, Finding, Moment, WitnessOp};
use crate::history::{History, Micros, Operation, Outcome};

/// Retry figures of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserErrors {
    /// Operations that failed after the client's retries; each one reached a user. In a report,
    /// the 401 of a lost login is counted with the lost login instead.
    pub visible: u64,
    /// HTTP attempts that failed (any status but 2xx, timeouts, transport errors).
    pub failed_attempts: u64,
    /// Of those, attempts whose operation still succeeded: errors the client's retries absorbed.
    pub absorbed_attempts: u64,
    /// Operations that needed more than one attempt and then succeeded.
    pub retried_operations: u64,
    /// The longest time one user could not complete anything and then did: from the intended
    /// start of the earliest operation not yet completed to the end of the next successful one.
    pub longest_unavailable: Micros,
    /// The user who waited that long.
    pub longest_unavailable_user: Option<u32>,
    /// Users whose operations failed from some moment to the end of the run.
    #[serde(default)]
    pub never_recovered: u64,
    /// The earliest moment one of them stopped being able to work.
    #[serde(default)]
    pub never_recovered_since: Option<Micros>,
}

/// Counts failed attempts and operations, measures each user's longest wait for a success, and
/// returns the error findings with the figures.
pub fn check(history: &History) -> (UserErrors, Vec<Finding>) {
    let mut checker = UserErrorsChecker::default();
    let mut findings = Vec::new();
    for op in by_user(history).values().flatten() {
        checker.observe(op, &mut |f| findings.push(f.escaped()));
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    (checker.finish(), findings)
}

/// One user's wait for a success.
#[derive(Debug, Default, Clone, Copy)]
struct Waiting {
    /// Intended start of the earliest operation not yet followed by a success.
    since: Option<Micros>,
}

/// [`check`] one operation at a time, each user's in the order the user performed them.
#[derive(Debug, Default)]
pub struct UserErrorsChecker {
    users: HashMap<u32, Waiting>,
    figures: UserErrors,
}

impl UserErrorsChecker {
    fn longer(&mut self, waited: Micros, user: u32) {
        let longest = &mut self.figures;
        // Ties go to the lower user, so the answer does not depend on how users interleave.
        let tie = waited == longest.longest_unavailable
            && waited > 0
            && longest.longest_unavailable_user.is_some_and(|u| user < u);
        if waited > longest.longest_unavailable || tie {
            longest.longest_unavailable = waited;
            longest.longest_unavailable_user = Some(user);
        }
    }

    /// Takes the next operation of its user; reports its errors to `found`.
    pub fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        let expired = op.session_due_to_expire()
            && matches!(
                op.outcome,
                Outcome::Fail {
                    session_lost: true,
                    ..
                }
            );
        if op.kind.is_replay() || op.logout_without_route().is_some() || expired {
            // A replay is the harness's probe, not the user's request; a logout the app has no
            // route for is the check not made (the report says so), not an error; a 401 after
            // an idle spell past the session TTL is the session expiring as it should.
            return;
        }
        let user = op.user;
        let failed = op.attempts.iter().filter(|a| !a.succeeded()).count() as u64;
        self.figures.failed_attempts += failed;
        // A final read's errors count as any; the waits describe the workload, which had ended,
        // so the final read neither ends nor stretches one.
        let waited = if op.final_read {
            None
        } else {
            let state = self.users.entry(user).or_default();
            let since = *state.since.get_or_insert(op.intended_at);
            if matches!(op.outcome, Outcome::Ok(_)) {
                state.since = None;
            }
            Some(op.ended_at.saturating_sub(since))
        };
        match &op.outcome {
            Outcome::Ok(_) => {
                self.figures.absorbed_attempts += failed;
                self.figures.retried_operations += u64::from(failed > 0);
                if let Some(waited) = waited {
                    self.longer(waited, user);
                }
                let last = op.attempts.len().saturating_sub(1);
                for (n, attempt) in op.attempts.iter().enumerate().take(last) {
                    let note = format!("attempt {} of {} failed", n + 1, op.attempts.len());
                    found(Finding {
                        class: Class::RetriedError,
                        at: attempt.ended_at,
                        user: Some(user),
                        message: format!(
                            "operation {} ({}) saw {} before a retry succeeded",
                            op.id,
                            WitnessOp::of(op, None).request,
                            crate::checker::witness::result_text(&attempt.result)
                        ),
                        witness: vec![WitnessOp::of(op, Some(note))],
                        relied: None,
                        answered: Moment::of_attempt(attempt),
                        values: 0,
                    });
                }
            }
            Outcome::Fail { reason, .. } | Outcome::Info { reason } => {
                self.figures.visible += 1;
                found(Finding {
                    class: Class::UserVisibleError,
                    at: op.ended_at,
                    user: Some(user),
                    message: format!(
                        "operation {} ({}) failed after {} attempts: {reason}",
                        op.id,
                        WitnessOp::of(op, None).request,
                        op.attempts.len()
                    ),
                    witness: vec![WitnessOp::of(op, None)],
                    relied: Some(Moment::first_of(op)),
                    answered: Moment::answer_of(op),
                    values: 0,
                });
            }
        }
    }

    /// The figures.
    pub fn finish(mut self) -> UserErrors {
        let stuck: Vec<Micros> = self.users.values().filter_map(|w| w.since).collect();
        self.figures.never_recovered = stuck.len() as u64;
        self.figures.never_recovered_since = stuck.into_iter().min();
        self.figures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::fixtures::{history_of, UserScript};

    #[test]
    fn retried_503s_are_absorbed_not_visible() {
        let mut u = UserScript::new(1);
        u.login().read_after_503s(3, &[], 0);
        let (r, findings) = check(&history_of(&[&u]));
        assert_eq!(r.visible, 0);
        assert_eq!(
            (r.failed_attempts, r.absorbed_attempts, r.retried_operations),
            (3, 3, 1)
        );
        // Four attempts of 1 ms each: the user waited 4 ms for the read.
        assert_eq!(r.longest_unavailable, 4_000);
        assert_eq!(findings.len(), 3, "one finding per absorbed error");
        assert!(findings.iter().all(|f| f.class == Class::RetriedError));
        assert!(
            findings[0].message.contains("503"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn failures_after_retries_reach_users_and_stretch_the_outage() {
        let mut u = UserScript::new(7);
        u.login().read_failing(503).idle(10_000).read(&[], 0);
        let (r, findings) = check(&history_of(&[&u]));
        assert_eq!(r.visible, 1);
        assert_eq!(findings[0].class, Class::UserVisibleError);
        assert_eq!(r.longest_unavailable_user, Some(7));
        // From the failed read's start (1 ms) through the pause and gaps to the next read's end.
        assert_eq!(r.longest_unavailable, 1_000 + 1_000 + 10_000 + 1_000);
        assert_eq!(r.never_recovered, 0);
    }

    #[test]
    fn a_final_read_counts_its_errors_but_neither_ends_nor_stretches_a_wait() {
        let mut stuck = UserScript::new(1);
        stuck.login().read_failing(503).idle(50_000).read(&[], 0);
        let mut history = history_of(&[&stuck]);
        let last = history.records.len() - 1;
        if let crate::history::Record::Operation(op) = &mut history.records[last] {
            op.final_read = true;
        }
        let (r, _) = check(&history);
        assert_eq!(r.never_recovered, 1, "the final read is not a recovery");
        assert_eq!(
            r.longest_unavailable, 1_000,
            "the login's own millisecond, not the 50 ms to the final read"
        );
        let mut failing = UserScript::new(2);
        failing.login().read(&[], 0).read_failing(503);
        let mut history = history_of(&[&failing]);
        let last = history.records.len() - 1;
        if let crate::history::Record::Operation(op) = &mut history.records[last] {
            op.final_read = true;
        }
        let (r, findings) = check(&history);
        assert_eq!((r.visible, r.never_recovered), (1, 0));
        assert_eq!(findings[0].class, Class::UserVisibleError);
    }

    #[test]
    fn a_user_who_never_worked_again_is_not_an_outage_of_the_whole_run() {
        let mut stuck = UserScript::new(1);
        stuck
            .login()
            .read_failing(503)
            .idle(50_000)
            .read_failing(503);
        let mut fine = UserScript::new(2);
        fine.login().read_after_503s(1, &[], 0);
        let (r, _) = check(&history_of(&[&stuck, &fine]));
        assert_eq!(r.never_recovered, 1);
        assert_eq!(r.never_recovered_since, Some(3_000));
        assert_eq!(r.longest_unavailable_user, Some(2));
        assert_eq!(r.longest_unavailable, 2_000);
    }
}
