//! Errors absorbed by retry versus errors that reached users, and how long users were stuck.

use serde::{Deserialize, Serialize};

use super::{by_user, CheckResult, Finding};
use crate::history::{History, Micros, Outcome};

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
    let mut findings = Vec::new();
    let (mut failed_attempts, mut absorbed_attempts, mut retried_operations) = (0, 0, 0);
    let mut longest: (Micros, Option<u32>) = (0, None);
    for (user, ops) in by_user(history) {
        let mut waiting_since: Option<Micros> = None;
        for op in &ops {
            let failed = op.attempts.iter().filter(|a| !a.succeeded()).count() as u64;
            failed_attempts += failed;
            let since = *waiting_since.get_or_insert(op.intended_at);
            match &op.outcome {
                Outcome::Ok(_) => {
                    absorbed_attempts += failed;
                    retried_operations += u64::from(failed > 0);
                    let waited = op.ended_at.saturating_sub(since);
                    if waited > longest.0 {
                        longest = (waited, Some(user));
                    }
                    waiting_since = None;
                }
                Outcome::Fail { reason, .. } | Outcome::Info { reason } => {
                    findings.push(Finding {
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
        // A user who never recovered waited at least until their last operation ended.
        if let (Some(since), Some(last)) = (waiting_since, ops.last()) {
            let waited = last.ended_at.saturating_sub(since);
            if waited > longest.0 {
                longest = (waited, Some(user));
            }
        }
    }
    UserErrors {
        visible: CheckResult::from_findings("user-visible-errors", findings),
        failed_attempts,
        absorbed_attempts,
        retried_operations,
        longest_unavailable: longest.0,
        longest_unavailable_user: longest.1,
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
