//! Resurrected sessions: after the app acknowledged a logout, the cookie the user held before it
//! must open nothing. A replay of that cookie (at once, and again in the final reads) that the
//! app answers 2xx with the user's session is a session the logout did not end: whoever holds the
//! cookie (a shared computer, a stolen cookie) is logged in again. OWASP's session rules require
//! logout to invalidate the session on the server.
//!
//! It reads only logouts and their replays; the other checkers never see a replay.

use std::collections::BTreeMap;

use super::{check_with, secs, CheckResult, Checker, Class, Finding, Moment, WitnessOp};
use crate::history::{user_name, History, OkValue, OpKind, Operation, Outcome};

/// Finds replays of a logged-out cookie the app answered with the user's session; each replay
/// counts once.
pub fn check(history: &History) -> CheckResult {
    check_with(
        Class::ResurrectedSession,
        ResurrectedSessions::default(),
        history,
    )
}

/// [`check`] one operation at a time: it keeps each user's acknowledged logouts until replayed.
#[derive(Debug, Default)]
pub struct ResurrectedSessions {
    /// Acknowledged logouts by operation id.
    logouts: BTreeMap<u64, Operation>,
}

impl Checker for ResurrectedSessions {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        match (&op.kind, &op.outcome) {
            (OpKind::Logout, Outcome::Ok(OkValue::LoggedOut)) => {
                self.logouts.insert(op.id, op.clone());
            }
            (OpKind::Replay { of }, Outcome::Ok(OkValue::Read { user, items, .. }))
                if *user == user_name(op.user) =>
            {
                let Some(logout) = self.logouts.get(of) else {
                    return;
                };
                let relied = Moment::answer_of(logout);
                let message = format!(
                    "logout {} acknowledged at {} did not end the session: {} with the cookie \
                     held before it was answered {} with it ({} items)",
                    logout.id,
                    secs(relied.ended_at),
                    if op.final_read {
                        "the final replay"
                    } else {
                        "a replay"
                    },
                    status_of(op),
                    items.len()
                );
                found(Finding {
                    class: Class::ResurrectedSession,
                    at: op.ended_at,
                    user: Some(op.user),
                    witness: vec![
                        WitnessOp::of(logout, None),
                        WitnessOp::of(op, Some(message.clone())),
                    ],
                    message,
                    relied: Some(relied),
                    answered: Moment::answer_of(op),
                    values: 0,
                });
            }
            _ => {}
        }
    }

    fn finish(&mut self, _found: &mut dyn FnMut(Finding)) {}

    fn reads_replays(&self) -> bool {
        true
    }
}

/// The status `op`'s last attempt was answered with, as words.
fn status_of(op: &Operation) -> String {
    Moment::answer_of(op)
        .status
        .map_or_else(|| "2xx".to_owned(), |s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Attempt, AttemptResult, Record};

    fn op(id: u64, kind: OpKind, outcome: Outcome, at: u64) -> Operation {
        Operation {
            id,
            user: 1,
            kind,
            intended_at: at,
            ended_at: at + 1_000,
            attempts: vec![Attempt {
                started_at: at,
                ended_at: at + 1_000,
                result: AttemptResult::Ok { status: 200 },
                instance: 0,
            }],
            outcome,
            final_read: false,
            login_cookies: None,
            back_from_idle: None,
        }
    }

    fn history(replay: Outcome) -> History {
        let logout = op(
            1,
            OpKind::Logout,
            Outcome::Ok(OkValue::LoggedOut),
            1_000_000,
        );
        let replay = op(2, OpKind::Replay { of: 1 }, replay, 1_100_000);
        History {
            records: vec![Record::Operation(logout), Record::Operation(replay)],
        }
    }

    #[test]
    fn a_replay_answered_with_the_session_is_resurrected_and_a_401_is_not() {
        let back = check(&history(Outcome::Ok(OkValue::Read {
            user: "user-1".into(),
            items: vec!["user-1-1".into()],
            version: 1,
        })));
        assert_eq!(back.count, 1);
        let finding = &back.findings[0];
        assert!(
            finding.message.contains("logout 1 acknowledged at 1.00") && finding.witness.len() == 2,
            "{finding:?}"
        );
        let ended = check(&history(Outcome::Fail {
            reason: "HTTP 401".into(),
            session_lost: true,
        }));
        assert_eq!(ended.count, 0);
        let anonymous = check(&history(Outcome::Ok(OkValue::Read {
            user: String::new(),
            items: Vec::new(),
            version: 0,
        })));
        assert_eq!(anonymous.count, 0, "an empty session is no session");
    }
}
