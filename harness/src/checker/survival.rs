//! Session survival: once logged in, a user keeps the session until the end, and never sees
//! another user's.

use super::{by_user, CheckResult, Finding};
use std::collections::HashMap;

use crate::history::{user_name, History, OkValue, OpKind, Operation, Outcome};

/// Finds lost sessions (a 401 after a successful login) and leaked ones (a read that shows another
/// user). Each lost session counts once; the user logs in again and the check goes on.
pub fn check(history: &History) -> CheckResult {
    let mut checker = Survival::default();
    for op in by_user(history).values().flatten() {
        checker.observe(op);
    }
    checker.finish()
}

/// [`check`] one operation at a time, each user's in the order the user performed them.
#[derive(Debug, Default)]
pub struct Survival {
    logged_in: HashMap<u32, bool>,
    findings: Vec<Finding>,
}

impl Survival {
    /// Takes the next operation of its user.
    pub fn observe(&mut self, op: &Operation) {
        let user = op.user;
        let logged_in = self.logged_in.entry(user).or_default();
        match (&op.kind, &op.outcome) {
            (OpKind::Login, Outcome::Ok(_)) => *logged_in = true,
            (
                _,
                Outcome::Fail {
                    session_lost: true, ..
                },
            ) if *logged_in => {
                *logged_in = false;
                self.findings.push(Finding {
                    at: op.ended_at,
                    user: Some(user),
                    message: format!("session lost: operation {} answered 401", op.id),
                });
            }
            (_, Outcome::Ok(OkValue::Read { user: seen, .. })) if *seen != user_name(user) => {
                self.findings.push(Finding {
                    at: op.ended_at,
                    user: Some(user),
                    message: format!(
                        "read {} returned the session of '{seen}', not '{}'",
                        op.id,
                        user_name(user)
                    ),
                });
            }
            _ => {}
        }
    }

    /// The result.
    pub fn finish(self) -> CheckResult {
        CheckResult::from_findings("session-survival", self.findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::fixtures::{history_of, UserScript};
    use crate::checker::Verdict;

    #[test]
    fn a_kept_session_is_valid() {
        let mut u = UserScript::new(1);
        u.login().write("a", 1).read_after_503s(2, &["a"], 1);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Valid, 0));
    }

    #[test]
    fn a_401_after_login_is_a_lost_session() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .read_failing(401)
            .login()
            .read(&[], 0);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 1));
        assert_eq!(result.findings[0].user, Some(1));
    }

    #[test]
    fn another_users_session_is_reported() {
        let mut u = UserScript::new(1);
        u.login().read_as("user-2", &[], 0);
        let result = check(&history_of(&[&u]));
        assert_eq!(result.count, 1);
        assert!(result.findings[0].message.contains("user-2"));
    }
}
