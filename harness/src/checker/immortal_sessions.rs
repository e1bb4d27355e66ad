//! Immortal sessions: a user back from an idle spell longer than the app's session TTL
//! (`app.contract.session_ttl`, with [`crate::history::EXPIRY_GRACE`]) must find its session
//! ended. An operation that was answered with the session (a read showing it, an append stored
//! in it, a logout that found it) shows a session that outlived its TTL: one written back
//! without its expiry lives until someone deletes it, and so does whoever holds its cookie.
//! The 401 expected there is no lost session; [`super::lost_sessions`] and the error figures
//! leave it out.

use super::{check_with, CheckResult, Checker, Class, Finding, Moment, WitnessOp};
use crate::history::{History, OkValue, OpKind, Operation, Outcome};

/// Finds sessions that outlived their TTL; each counts once.
pub fn check(history: &History) -> CheckResult {
    check_with(Class::ImmortalSession, ImmortalSessions, history)
}

/// [`check`] one operation at a time; it keeps no state.
#[derive(Debug, Default)]
pub struct ImmortalSessions;

impl Checker for ImmortalSessions {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        let Some(idle) = op.back_from_idle.filter(|_| op.session_due_to_expire()) else {
            return;
        };
        let alive = match (&op.kind, &op.outcome) {
            // A login makes a session whatever the old one did.
            (OpKind::Login, _) => false,
            (_, Outcome::Ok(OkValue::Read { user, .. })) => !user.is_empty(),
            (_, Outcome::Ok(_)) => true,
            _ => false,
        };
        if !alive {
            return;
        }
        let unused = op
            .attempts
            .first()
            .map_or(op.intended_at, |a| a.started_at)
            .saturating_sub(idle.last_used);
        let message = format!(
            "operation {} found the session alive {:.1} s after its last use, past its TTL of \
             {:.1} s",
            op.id,
            unused as f64 / 1e6,
            idle.ttl as f64 / 1e6
        );
        found(Finding {
            class: Class::ImmortalSession,
            at: op.ended_at,
            user: Some(op.user),
            witness: vec![WitnessOp::of(
                op,
                Some("the session should have expired".to_owned()),
            )],
            message,
            relied: Some(Moment {
                started_at: idle.last_used,
                ended_at: idle.last_used,
                ..Moment::default()
            }),
            answered: Moment::answer_of(op),
            values: 0,
        });
    }

    fn finish(&mut self, _found: &mut dyn FnMut(Finding)) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::fixtures::{history_of, UserScript};
    use crate::checker::{lost_sessions, Verdict};

    #[test]
    fn a_session_alive_past_its_ttl_is_immortal_and_one_that_expired_is_not_lost() {
        // The read back from idle is sent 2 s after the write ended: past a TTL of 10 ms and the
        // second of grace.
        let mut alive = UserScript::new(1);
        alive
            .login()
            .write("a", 1)
            .idle(2_000_000)
            .read(&["a"], 1)
            .back_after_ttl(10_000);
        let result = check(&history_of(&[&alive]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 1));
        assert!(
            result.findings[0].message.contains("past its TTL of 0.0 s"),
            "{}",
            result.findings[0].message
        );

        let mut expired = UserScript::new(2);
        expired
            .login()
            .write("a", 1)
            .idle(2_000_000)
            .read_failing(401)
            .back_after_ttl(10_000)
            .login();
        let history = history_of(&[&expired]);
        assert_eq!(check(&history).count, 0);
        assert_eq!(lost_sessions::check(&history).count, 0, "it expired");
    }

    #[test]
    fn a_session_back_within_its_ttl_says_nothing() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .idle(2_000_000)
            .read(&["a"], 1)
            .back_after_ttl(60_000_000);
        assert_eq!(check(&history_of(&[&u])).count, 0);
    }
}
