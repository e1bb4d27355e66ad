//! Lost sessions: once logged in, a user keeps the session until the end, its own logout, or an
//! idle spell past the app's session TTL. A 401 after a successful login, or a read that hands
//! back a session with no user in it, is a lost session.
//!
//! A logout that failed is the user's own request to end the session all the same, and may have
//! ended it: its deletion can reach the master, and be replicated, while the answer is lost (the
//! master killed just after), so a 401 after it is owed to nobody.

use std::collections::HashMap;

use super::{check_with, CheckResult, Checker, Class, Finding, Moment, WitnessOp};
use crate::history::{History, OkValue, OpKind, Operation, Outcome};

/// Finds lost sessions. Each counts once; the user logs in again and the check goes on.
pub fn check(history: &History) -> CheckResult {
    check_with(Class::LostSession, LostSessions::default(), history)
}

/// What is known of one user's live session.
#[derive(Debug)]
struct Live {
    login: WitnessOp,
    login_at: Moment,
    /// The last operation that succeeded in it, if any did after the login.
    last_success: Option<WitnessOp>,
}

/// [`check`] one operation at a time.
#[derive(Debug, Default)]
pub struct LostSessions {
    live: HashMap<u32, Live>,
}

impl Checker for LostSessions {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        let user = op.user;
        if super::starts_session(op) {
            self.live.insert(
                user,
                Live {
                    login: WitnessOp::of(op, None),
                    login_at: Moment::answer_of(op),
                    last_success: None,
                },
            );
            return;
        }
        if op.kind == OpKind::Logout {
            // The user ended it, or asked to and may have: nothing is owed of it any more.
            self.live.remove(&user);
            return;
        }
        if op.session_due_to_expire() {
            // Past the session TTL nothing is owed of it either: gone is the expiry working, and
            // still there is an immortal session, which its own checker reports.
            self.live.remove(&user);
            return;
        }
        let lost = match &op.outcome {
            Outcome::Fail {
                session_lost: true, ..
            } => Some(format!("operation {} answered 401", op.id)),
            Outcome::Ok(OkValue::Read { user: seen, .. }) if seen.is_empty() => Some(format!(
                "read {} handed back a session with no user in it",
                op.id
            )),
            _ => None,
        };
        match lost {
            Some(what) => {
                // Only a session the user had is lost; a 401 before any login is not, nor one
                // that expired as the app's session TTL says it should.
                let Some(live) = self.live.remove(&user) else {
                    return;
                };
                let mut witness = vec![live.login];
                witness.extend(live.last_success);
                witness.push(WitnessOp::of(op, Some("the session is gone".to_owned())));
                found(Finding {
                    class: Class::LostSession,
                    at: op.ended_at,
                    user: Some(user),
                    message: format!("session lost: {what}"),
                    witness,
                    relied: Some(live.login_at),
                    answered: Moment::answer_of(op),
                    values: 0,
                });
            }
            None => {
                if let (Outcome::Ok(_), Some(live)) = (&op.outcome, self.live.get_mut(&user)) {
                    live.last_success = Some(WitnessOp::of(op, None));
                }
            }
        }
    }

    fn finish(&mut self, _found: &mut dyn FnMut(Finding)) {}
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
    fn a_401_after_login_is_a_lost_session_with_its_login_as_witness() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .read_failing(401)
            .login()
            .read(&[], 0);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 1));
        let finding = &result.findings[0];
        assert_eq!(finding.user, Some(1));
        let requests: Vec<&str> = finding.witness.iter().map(|w| w.request.as_str()).collect();
        assert_eq!(requests, ["login", "write a", "read"]);
        assert_eq!(finding.witness[2].answer, "HTTP 401");
        let login = finding.relied.expect("the login is relied on");
        assert!(login.ended_at < finding.answered.started_at);
    }

    #[test]
    fn a_401_after_the_users_own_logout_is_owed_to_nobody_even_when_the_logout_failed() {
        let mut done = UserScript::new(1);
        done.login().write("a", 1).logout().read_failing(401);
        // Answered 503, its deletion may have reached the master all the same.
        let mut failed = UserScript::new(2);
        failed
            .login()
            .write("a", 1)
            .logout_failing(503)
            .read_failing(401);
        // A session lost before any logout is still lost.
        let mut lost = UserScript::new(3);
        lost.login()
            .read_failing(401)
            .login()
            .logout_failing(503)
            .read_failing(401);
        let result = check(&history_of(&[&done, &failed, &lost]));
        assert_eq!(result.count, 1);
        assert_eq!(result.findings[0].user, Some(3));
    }

    #[test]
    fn an_empty_session_handed_back_is_lost_and_a_401_before_login_is_not() {
        let mut u = UserScript::new(1);
        u.read_failing(401)
            .login()
            .write("a", 1)
            .read_as("", &[], 0);
        let result = check(&history_of(&[&u]));
        assert_eq!(result.count, 1);
        assert!(result.findings[0].message.contains("no user"));
    }
}
