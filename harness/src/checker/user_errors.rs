//! Errors absorbed by retry versus errors that reached users, and how long users were stuck.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{by_user, CheckResult, Finding};
use crate::history::{History, Micros, Operation, Outcome};

/// Retry figures of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserErrors {
    /// Operations that failed after the client's retries; each one reached a user.
    pub visible: CheckResult,
    /// HTTP attempts that failed (any status but 2xx, timeouts, transport errors).
    pub failed_attempts: u64,
    /// Of those, attempts whose operation still succeeded: errors the client's retries absorbed.
    pub absorbed_attempts: u64,
    /// Operations that needed more than one attempt and then succeeded.
    pub retried_operations: u64,
    /// The longest time one user could not complete anything: from the intended start of the
    /// earliest operation not yet completed to the end of the next successful one.
    pub longest_unavailable: Micros,
    /// The user who waited that long.
    pub longest_unavailable_user: Option<u32>,
}

/// Counts failed attempts and operations, and measures each user's longest wait for a success.
pub fn check(history: &History) -> UserErrors {
    let mut checker = UserErrorsChecker::default();
    for op in by_user(history).values().flatten() {
        checker.observe(op);
    }
    checker.finish()
}

/// One user's wait for a success.
#[derive(Debug, Default, Clone, Copy)]
struct Waiting {
    /// Intended start of the earliest operation not yet followed by a success.
    since: Option<Micros>,
    /// End of the user's last operation.
    last_end: Micros,
}

/// [`check`] one operation at a time, each user's in the order the user performed them.
#[derive(Debug, Default)]
pub struct UserErrorsChecker {
    users: HashMap<u32, Waiting>,
    findings: Vec<Finding>,
    failed_attempts: u64,
    absorbed_attempts: u64,
    retried_operations: u64,
    longest: (Micros, Option<u32>),
}

impl UserErrorsChecker {
    fn longer(&mut self, waited: Micros, user: u32) {
        // Ties go to the lower user, so the answer does not depend on how users interleave.
        let tie =
            waited == self.longest.0 && waited > 0 && self.longest.1.is_some_and(|u| user < u);
        if waited > self.longest.0 || tie {
            self.longest = (waited, Some(user));
        }
    }

    /// Takes the next operation of its user.
    pub fn observe(&mut self, op: &Operation) {
        let user = op.user;
        let failed = op.attempts.iter().filter(|a| !a.succeeded()).count() as u64;
        self.failed_attempts += failed;
        let state = self.users.entry(user).or_default();
        state.last_end = op.ended_at;
        let since = *state.since.get_or_insert(op.intended_at);
        match &op.outcome {
            Outcome::Ok(_) => {
                state.since = None;
                self.absorbed_attempts += failed;
                self.retried_operations += u64::from(failed > 0);
                self.longer(op.ended_at.saturating_sub(since), user);
            }
            Outcome::Fail { reason, .. } | Outcome::Info { reason } => {
                self.findings.push(Finding {
                    at: op.ended_at,
                    user: Some(user),
                    message: format!(
                        "operation {} ({:?}) failed after {} attempts: {reason}",
                        op.id,
                        op.kind,
                        op.attempts.len()
                    ),
                });
            }
        }
    }

    /// The result.
    pub fn finish(mut self) -> UserErrors {
        // A user who never recovered waited at least until their last operation ended.
        let unrecovered: Vec<(u32, Waiting)> = self.users.iter().map(|(u, w)| (*u, *w)).collect();
        for (user, waiting) in unrecovered {
            if let Some(since) = waiting.since {
                self.longer(waiting.last_end.saturating_sub(since), user);
            }
        }
        UserErrors {
            visible: CheckResult::from_findings("user-visible-errors", self.findings),
            failed_attempts: self.failed_attempts,
            absorbed_attempts: self.absorbed_attempts,
            retried_operations: self.retried_operations,
            longest_unavailable: self.longest.0,
            longest_unavailable_user: self.longest.1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::fixtures::{history_of, UserScript};
    use crate::checker::Verdict;

    #[test]
    fn retried_503s_are_absorbed_not_visible() {
        let mut u = UserScript::new(1);
        u.login().read_after_503s(3, &[], 0);
        let r = check(&history_of(&[&u]));
        assert_eq!(r.visible.verdict, Verdict::Valid);
        assert_eq!(
            (r.failed_attempts, r.absorbed_attempts, r.retried_operations),
            (3, 3, 1)
        );
        // Four attempts of 1 ms each: the user waited 4 ms for the read.
        assert_eq!(r.longest_unavailable, 4_000);
    }

    #[test]
    fn failures_after_retries_reach_users_and_stretch_the_outage() {
        let mut u = UserScript::new(7);
        u.login().read_failing(503).idle(10_000).read(&[], 0);
        let r = check(&history_of(&[&u]));
        assert_eq!((r.visible.verdict, r.visible.count), (Verdict::Invalid, 1));
        assert_eq!(r.longest_unavailable_user, Some(7));
        // From the failed read's start (1 ms) through the pause and gaps to the next read's end.
        assert_eq!(r.longest_unavailable, 1_000 + 1_000 + 10_000 + 1_000);
    }
}
