//! Rollbacks: a read that shows an older session than an earlier read of the same session did,
//! because values an earlier read showed are gone, and stay gone. A session that went back and
//! then forward again (the values came back) was read stale ([`super::stale_reads`]), not rolled
//! back; so a rollback is settled when its session ends.
//!
//! Values are compared, not the app's version number: an app need not expose one, and a session
//! can go back and then grow past its old version with different values.

use std::collections::{HashMap, HashSet};

use super::{check_with, successful_read, CheckResult, Checker, Class, Finding, Moment, WitnessOp};
use crate::history::{History, Operation};

/// Finds reads that went back; each counts once, however many values it lost.
pub fn check(history: &History) -> CheckResult {
    check_with(Class::Rollback, Rollbacks::default(), history)
}

/// A read that lacked values an earlier read showed.
#[derive(Debug)]
struct WentBack {
    earlier: (WitnessOp, Moment),
    read: (WitnessOp, Moment),
    /// When the oldest of the values it lacked was first shown: the state it went back from was
    /// in place from then on.
    since: Moment,
    /// Values it lacked, and how many of them have not come back.
    lacked: usize,
    still_gone: usize,
    example: String,
}

/// One user's current session.
#[derive(Debug, Default)]
struct Session {
    /// Every value a read has shown and no later read lacked, with the read that first showed it.
    shown: HashMap<String, Moment>,
    /// The last successful read: it showed every value in `shown`.
    last_read: Option<(WitnessOp, Moment)>,
    went_back: Vec<WentBack>,
    /// A value some read lacked, and the [`WentBack`] it belongs to.
    gone: HashMap<String, usize>,
}

/// [`check`] one operation at a time, keeping each user's current session only.
#[derive(Debug, Default)]
pub struct Rollbacks {
    sessions: HashMap<u32, Session>,
}

fn settle(user: u32, session: Session, found: &mut dyn FnMut(Finding)) {
    for back in session.went_back.into_iter().filter(|b| b.still_gone > 0) {
        let message = format!(
            "read {} shows an older session than read {}: {} of the values read {} showed are gone for good ('{}'{})",
            back.read.0.id,
            back.earlier.0.id,
            back.still_gone,
            back.earlier.0.id,
            back.example,
            if back.lacked > 1 { ", ..." } else { "" }
        );
        found(Finding {
            class: Class::Rollback,
            at: back.read.1.ended_at,
            user: Some(user),
            message,
            witness: vec![back.earlier.0, back.read.0],
            relied: Some(back.since),
            answered: back.read.1,
            values: back.still_gone as u64,
        });
    }
}

impl Checker for Rollbacks {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        if super::starts_session(op) {
            if let Some(ended) = self.sessions.insert(op.user, Session::default()) {
                settle(op.user, ended, found);
            }
            return;
        }
        let Some((items, _)) = successful_read(op) else {
            return;
        };
        let session = self.sessions.entry(op.user).or_default();
        let now: HashSet<&str> = items.iter().map(String::as_str).collect();
        for value in &now {
            if let Some(back) = session.gone.remove(*value) {
                session.went_back[back].still_gone -= 1;
            }
        }
        let mut lacked: Vec<String> = session
            .shown
            .keys()
            .filter(|v| !now.contains(v.as_str()))
            .cloned()
            .collect();
        if let (false, Some(earlier)) = (lacked.is_empty(), session.last_read.take()) {
            lacked.sort();
            let index = session.went_back.len();
            let mut since = earlier.1;
            for value in &lacked {
                if let Some(shown) = session.shown.remove(value) {
                    if shown.ended_at < since.ended_at {
                        since = shown;
                    }
                }
                session.gone.insert(value.clone(), index);
            }
            let note = Some(format!("without {} of its values", lacked.len()));
            session.went_back.push(WentBack {
                earlier,
                read: (WitnessOp::of(op, note), Moment::answer_of(op)),
                since,
                lacked: lacked.len(),
                still_gone: lacked.len(),
                example: lacked.swap_remove(0),
            });
        }
        let (user, moment) = (op.user, Moment::answer_of(op));
        for value in items.iter().filter(|v| super::owned_by(v, user)) {
            session.shown.entry(value.clone()).or_insert(moment);
        }
        session.last_read = Some((WitnessOp::of(op, None), moment));
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
    fn a_growing_session_never_goes_back() {
        let mut u = UserScript::new(1);
        u.login()
            .write("user-1-a", 1)
            .read(&["user-1-a"], 1)
            .write("user-1-b", 2)
            .read(&["user-1-a", "user-1-b"], 2);
        assert_eq!(check(&history_of(&[&u])).verdict, Verdict::Valid);
    }

    #[test]
    fn values_shown_and_then_gone_for_good_are_one_rollback() {
        let mut u = UserScript::new(1);
        u.login()
            .write("user-1-a", 1)
            .write("user-1-b", 2)
            .read(&["user-1-a", "user-1-b"], 2)
            .read(&["user-1-a"], 1)
            .write("user-1-c", 2)
            .read(&["user-1-a", "user-1-c"], 2);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 1));
        let finding = &result.findings[0];
        assert!(
            finding.message.contains("'user-1-b'"),
            "{}",
            finding.message
        );
        assert_eq!(finding.witness.len(), 2);
        assert_eq!(
            finding.witness[0].answer,
            "200: session of 'user-1', 2 items, version 2"
        );
        let earlier = finding.relied.expect("the state it went back from");
        assert!(earlier.ended_at < finding.answered.started_at);
    }

    #[test]
    fn a_session_that_grows_past_its_old_version_with_other_values_still_went_back() {
        let mut u = UserScript::new(1);
        u.login()
            .read(&["user-1-a", "user-1-b"], 2)
            .read(&["user-1-a"], 1)
            .read(&["user-1-a", "user-1-c", "user-1-d"], 3);
        assert_eq!(check(&history_of(&[&u])).count, 1);
    }

    #[test]
    fn values_that_come_back_make_a_stale_read_not_a_rollback() {
        let mut u = UserScript::new(1);
        u.login()
            .read(&["user-1-a", "user-1-b"], 2)
            .read(&["user-1-a"], 1)
            .read(&["user-1-a", "user-1-b"], 2);
        assert_eq!(check(&history_of(&[&u])).count, 0);
    }
}
