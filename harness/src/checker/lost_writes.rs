//! Acknowledged writes: a value whose append was answered 2xx must be in every later successful read
//! of the same session.

use std::collections::{HashMap, HashSet};

use super::{by_user, CheckResult, Finding};
use crate::history::{History, Micros, OkValue, OpKind, Operation, Outcome};

/// Finds acknowledged values missing from a read that started after the acknowledgement. Each value
/// counts once, at the first read that missed it. A write that timed out is maybe-applied and is
/// never required. A new login starts a new session, with nothing required of the old one.
pub fn check(history: &History) -> CheckResult {
    let mut checker = LostWrites::default();
    for op in by_user(history).values().flatten() {
        checker.observe(op);
    }
    checker.finish()
}

/// What one user's current session must hold.
#[derive(Debug, Default)]
struct Session {
    /// Acknowledged values and when they were acknowledged.
    acked: Vec<(String, Micros)>,
    /// Values already reported missing.
    reported: HashSet<String>,
}

/// [`check`] one operation at a time, each user's in the order the user performed them. It keeps
/// each user's current session only, so its memory is bounded by session size, not run length.
#[derive(Debug, Default)]
pub struct LostWrites {
    sessions: HashMap<u32, Session>,
    findings: Vec<Finding>,
}

impl LostWrites {
    /// Takes the next operation of its user.
    pub fn observe(&mut self, op: &Operation) {
        let session = self.sessions.entry(op.user).or_default();
        match (&op.kind, &op.outcome) {
            (OpKind::Login, Outcome::Ok(_)) => *session = Session::default(),
            (OpKind::Write { value }, Outcome::Ok(_)) => {
                session.acked.push((value.clone(), op.ended_at));
            }
            (OpKind::Read, Outcome::Ok(OkValue::Read { items, .. })) => {
                // The successful attempt is the last one; only writes acknowledged before it was
                // sent can be required of it.
                let sent_at = op.attempts.last().map_or(op.intended_at, |a| a.started_at);
                let seen: HashSet<&str> = items.iter().map(String::as_str).collect();
                for (value, acked_at) in &session.acked {
                    if *acked_at < sent_at
                        && !seen.contains(value.as_str())
                        && session.reported.insert(value.clone())
                    {
                        self.findings.push(Finding {
                            at: op.ended_at,
                            user: Some(op.user),
                            message: format!(
                                "value '{value}' acknowledged at {:.3}s is missing from read {}",
                                *acked_at as f64 / 1e6,
                                op.id
                            ),
                        });
                    }
                }
            }
            _ => {}
        }
    }

    /// The result.
    pub fn finish(self) -> CheckResult {
        CheckResult::from_findings("lost-writes", self.findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::fixtures::{history_of, UserScript};
    use crate::checker::Verdict;

    #[test]
    fn every_acknowledged_value_read_back_is_valid() {
        let mut u = UserScript::new(1);
        u.login().write("a", 1).write("b", 2).read(&["a", "b"], 2);
        assert_eq!(check(&history_of(&[&u])).verdict, Verdict::Valid);
    }

    #[test]
    fn a_missing_value_is_one_lost_write_however_often_it_is_missed() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .write("b", 2)
            .read(&["a"], 1)
            .write("c", 2)
            .read(&["a", "c"], 2);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 1));
        assert!(result.findings[0].message.contains("'b'"));
    }

    #[test]
    fn timed_out_writes_are_not_required_and_new_sessions_start_empty() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .write_timing_out("b")
            .read(&["a"], 1)
            .login()
            .read(&[], 0);
        assert_eq!(check(&history_of(&[&u])).count, 0);
    }

    #[test]
    fn users_are_checked_apart() {
        let mut u1 = UserScript::new(1);
        let mut u2 = UserScript::new(2);
        u1.login().write("x", 1);
        u2.login().read(&[], 0);
        assert_eq!(check(&history_of(&[&u1, &u2])).count, 0);
    }
}
