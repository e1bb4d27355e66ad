//! Duplicate writes: every value is appended once, so a read that holds one twice shows an append
//! applied twice, typically a retried request the app had already applied.

use std::collections::{HashMap, HashSet};

use super::{check_with, successful_read, CheckResult, Checker, Class, Finding, Moment, WitnessOp};
use crate::history::{History, OpKind, Operation};

/// Finds values a session holds twice; each value counts once.
pub fn check(history: &History) -> CheckResult {
    check_with(Class::DuplicateWrite, DuplicateWrites::default(), history)
}

/// One user's current session.
#[derive(Debug, Default)]
struct Session {
    /// Appends that took more than one attempt: the ones a retry could have applied twice.
    retried: HashMap<String, (WitnessOp, Moment)>,
    reported: HashSet<String>,
}

/// [`check`] one operation at a time, keeping each user's current session only.
#[derive(Debug, Default)]
pub struct DuplicateWrites {
    sessions: HashMap<u32, Session>,
}

impl Checker for DuplicateWrites {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        if super::starts_session(op) {
            self.sessions.insert(op.user, Session::default());
            return;
        }
        let session = self.sessions.entry(op.user).or_default();
        if let OpKind::Write { value } = &op.kind {
            if op.attempts.len() > 1 {
                let first = Moment::first_of(op);
                session
                    .retried
                    .insert(value.clone(), (WitnessOp::of(op, None), first));
            }
            return;
        }
        let Some((items, _)) = successful_read(op) else {
            return;
        };
        let mut once = HashSet::new();
        for value in items {
            if once.insert(value.as_str()) || !session.reported.insert(value.clone()) {
                continue;
            }
            let write = session.retried.get(value);
            let mut witness: Vec<WitnessOp> = write.map(|(w, _)| w.clone()).into_iter().collect();
            witness.push(WitnessOp::of(op, Some(format!("{value} twice"))));
            found(Finding {
                class: Class::DuplicateWrite,
                at: op.ended_at,
                user: Some(op.user),
                message: format!("read {} holds '{value}' twice", op.id),
                witness,
                relied: write.map(|(_, m)| *m),
                answered: Moment::answer_of(op),
                values: 1,
            });
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
    fn a_value_held_twice_counts_once_and_names_its_retried_append() {
        let mut u = UserScript::new(1);
        u.login()
            .write_after_timeouts("a", 1, 1)
            .read(&["a", "a"], 2)
            .read(&["a", "a"], 2);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 1));
        let witness = &result.findings[0].witness;
        assert_eq!(witness[0].request, "write a");
        assert_eq!(witness[0].attempts, 2);
    }

    #[test]
    fn distinct_values_are_valid() {
        let mut u = UserScript::new(1);
        u.login().write("a", 1).write("b", 2).read(&["a", "b"], 2);
        assert_eq!(check(&history_of(&[&u])).verdict, Verdict::Valid);
    }
}
