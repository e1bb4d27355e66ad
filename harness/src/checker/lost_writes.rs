//! Lost writes: a value whose append was answered 2xx and that is absent from every successful read
//! of the same session sent after the acknowledgement (and at least one such read missed it).
//!
//! A value that a later read shows is not lost: if a read in between missed it, that read was
//! stale ([`super::stale_reads`]); if it was shown and then vanished for good, the session rolled
//! back ([`super::rollbacks`]). So a value is settled only when its session ends (a new login, or
//! the end of the history).

use std::collections::{HashMap, HashSet};

use super::{
    check_with, secs, successful_read, CheckResult, Checker, Class, Finding, Moment, WitnessOp,
};
use crate::history::{History, Micros, OpKind, Operation, Outcome};

/// Finds acknowledged values no later read of their session showed. Each value counts once, at
/// the first read that missed it. A write that timed out is maybe-applied and never required.
pub fn check(history: &History) -> CheckResult {
    check_with(Class::LostWrite, LostWrites::default(), history)
}

/// An acknowledged value no read has shown yet.
#[derive(Debug)]
struct Unshown {
    value: String,
    write: WitnessOp,
    acked: Moment,
    /// The first read sent after the acknowledgement that missed it, and the last one so far.
    missed: Option<(WitnessOp, Moment, WitnessOp)>,
}

/// [`check`] one operation at a time. It keeps each user's current session only, so its memory is
/// bounded by session size, not run length.
#[derive(Debug, Default)]
pub struct LostWrites {
    sessions: HashMap<u32, Vec<Unshown>>,
}

fn settle(user: u32, session: Vec<Unshown>, found: &mut dyn FnMut(Finding)) {
    for unshown in session {
        let Some((first, answered, last)) = unshown.missed else {
            continue;
        };
        let mut witness = vec![unshown.write, first];
        if last.id != witness[1].id {
            witness.push(last);
        }
        found(Finding {
            class: Class::LostWrite,
            at: answered.ended_at,
            user: Some(user),
            message: format!(
                "value '{}' acknowledged at {} is missing from read {} and every read after it",
                unshown.value,
                secs(unshown.acked.ended_at),
                witness[1].id
            ),
            witness,
            relied: Some(unshown.acked),
            answered,
            values: 1,
        });
    }
}

impl Checker for LostWrites {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        if super::starts_session(op) {
            let ended = self.sessions.insert(op.user, Vec::new());
            settle(op.user, ended.unwrap_or_default(), found);
            return;
        }
        let session = self.sessions.entry(op.user).or_default();
        if let (OpKind::Write { value }, Outcome::Ok(_)) = (&op.kind, &op.outcome) {
            session.push(Unshown {
                value: value.clone(),
                write: WitnessOp::of(op, None),
                acked: Moment::answer_of(op),
                missed: None,
            });
            return;
        }
        let Some((items, sent_at)) = successful_read(op) else {
            return;
        };
        let seen: HashSet<&str> = items.iter().map(String::as_str).collect();
        // A value shown is settled: whatever happens to it later is a rollback or a stale read.
        session.retain(|u| !(u.acked.ended_at < sent_at && seen.contains(u.value.as_str())));
        let required = |u: &Unshown, sent_at: Micros| u.acked.ended_at < sent_at;
        for unshown in session.iter_mut().filter(|u| required(u, sent_at)) {
            let note = Some(format!("without {}", unshown.value));
            match &mut unshown.missed {
                None => {
                    let read = WitnessOp::of(op, note);
                    unshown.missed = Some((read.clone(), Moment::answer_of(op), read));
                }
                Some((_, _, last)) => *last = WitnessOp::of(op, note),
            }
        }
    }

    fn finish(&mut self, found: &mut dyn FnMut(Finding)) {
        for (user, session) in super::drain_by_user(&mut self.sessions) {
            settle(user, session, found);
        }
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
    fn a_value_no_later_read_shows_is_one_lost_write_however_often_it_is_missed() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .write("b", 2)
            .read(&["a"], 1)
            .write("c", 2)
            .read(&["a", "c"], 2);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 1));
        let finding = &result.findings[0];
        assert!(finding.message.contains("'b'"));
        let requests: Vec<&str> = finding.witness.iter().map(|w| w.request.as_str()).collect();
        assert_eq!(requests, ["write b", "read", "read"]);
        assert_eq!(finding.witness[1].note.as_deref(), Some("without b"));
        assert!(finding.relied.expect("acked").ended_at < finding.answered.started_at);
    }

    #[test]
    fn a_value_a_later_read_shows_again_is_not_lost() {
        let mut u = UserScript::new(1);
        u.login().write("a", 1).read(&[], 0).read(&["a"], 1);
        assert_eq!(check(&history_of(&[&u])).count, 0);
        // Shown, then gone for good: a rollback, not a lost write.
        let mut u = UserScript::new(1);
        u.login().write("a", 1).read(&["a"], 1).read(&[], 0);
        assert_eq!(check(&history_of(&[&u])).count, 0);
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
    fn a_value_missed_before_a_new_login_is_settled_by_the_login() {
        let mut u = UserScript::new(1);
        u.login().write("a", 1).read(&[], 0).login().read(&[], 0);
        let result = check(&history_of(&[&u]));
        assert_eq!(result.count, 1);
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
