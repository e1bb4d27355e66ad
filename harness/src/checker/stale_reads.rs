//! Stale reads: a read that missed a value the user had been told of (its append acknowledged
//! before the read was sent, or an earlier read showed it), where a later read of the same session
//! has it again. The store still had the value; the read was served from somewhere behind it.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{
    check_with, secs, successful_read, CheckResult, Checker, Class, Finding, Moment, WitnessOp,
};
use crate::history::{History, Micros, OpKind, Operation, Outcome};

/// Finds stale reads; each read counts once, however many values it missed.
pub fn check(history: &History) -> CheckResult {
    check_with(Class::StaleRead, StaleReads::default(), history)
}

/// How the user learnt of a value.
#[derive(Debug, Clone)]
struct Known {
    /// From when it is required of a read: its acknowledgement's end, or the read that showed it.
    since: Micros,
    /// The operation that told the user, and its moment.
    told: WitnessOp,
    moment: Moment,
}

/// A read that missed values, waiting to learn whether they come back.
#[derive(Debug)]
struct Missing {
    read: WitnessOp,
    moment: Moment,
    /// How many values it missed.
    missed: u64,
    reported: bool,
}

/// One user's current session.
#[derive(Debug, Default)]
struct Session {
    known: HashMap<String, Known>,
    reads: Vec<Missing>,
    /// For each value some read missed, those reads.
    missed_by: HashMap<String, Vec<usize>>,
}

/// [`check`] one operation at a time, keeping each user's current session only.
#[derive(Debug, Default)]
pub struct StaleReads {
    sessions: HashMap<u32, Session>,
}

impl Checker for StaleReads {
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding)) {
        if super::starts_session(op) {
            self.sessions.insert(op.user, Session::default());
            return;
        }
        let session = self.sessions.entry(op.user).or_default();
        if let (OpKind::Write { value }, Outcome::Ok(_)) = (&op.kind, &op.outcome) {
            let moment = Moment::answer_of(op);
            session.known.insert(
                value.clone(),
                Known {
                    since: moment.ended_at,
                    told: WitnessOp::of(op, None),
                    moment,
                },
            );
            return;
        }
        let Some((items, sent_at)) = successful_read(op) else {
            return;
        };
        let now: HashSet<&str> = items.iter().map(String::as_str).collect();
        // Each stale read this one settles, under the value it missed that was known last: the
        // latest acknowledgement it lacked says most of how far behind it was, which is what its
        // cause weighs. Chosen by time, then name, never by a set's order, so that one history
        // is always reported the same.
        let mut settled: BTreeMap<usize, &str> = BTreeMap::new();
        let since = |value: &str| session.known.get(value).map(|k| k.since);
        for value in items.iter().map(String::as_str) {
            let Some(readers) = session.missed_by.remove(value) else {
                continue;
            };
            for index in readers {
                let chosen = settled.entry(index).or_insert(value);
                if (since(value), value) > (since(chosen), *chosen) {
                    *chosen = value;
                }
            }
        }
        for (index, value) in settled {
            let stale = &mut session.reads[index];
            if std::mem::replace(&mut stale.reported, true) {
                continue;
            }
            let known = session.known.get(value);
            let mut witness: Vec<WitnessOp> = known.map(|k| k.told.clone()).into_iter().collect();
            witness.push(stale.read.clone());
            witness.push(WitnessOp::of(op, Some(format!("with {value} again"))));
            found(Finding {
                class: Class::StaleRead,
                at: stale.moment.ended_at,
                user: Some(op.user),
                message: format!(
                    "read {} missed '{value}', known since {}, which read {} has again",
                    stale.read.id,
                    known.map_or_else(|| "-".to_owned(), |k| secs(k.since)),
                    op.id
                ),
                witness,
                relied: known.map(|k| k.moment),
                answered: stale.moment,
                values: stale.missed,
            });
        }
        let mut missed: Vec<&String> = session
            .known
            .iter()
            .filter(|(v, k)| k.since < sent_at && !now.contains(v.as_str()))
            .map(|(v, _)| v)
            .collect();
        if !missed.is_empty() {
            missed.sort();
            let index = session.reads.len();
            let note = format!("without {}", missed[0]);
            let count = missed.len() as u64;
            for value in missed {
                session
                    .missed_by
                    .entry(value.clone())
                    .or_default()
                    .push(index);
            }
            session.reads.push(Missing {
                read: WitnessOp::of(op, Some(note)),
                moment: Moment::answer_of(op),
                missed: count,
                reported: false,
            });
        }
        let moment = Moment::answer_of(op);
        for value in items.iter().filter(|v| super::owned_by(v, op.user)) {
            session.known.entry(value.clone()).or_insert_with(|| Known {
                since: moment.ended_at,
                told: WitnessOp::of(op, Some(format!("with {value}"))),
                moment,
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
    fn reads_that_keep_up_are_valid() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .read(&["a"], 1)
            .write("b", 2)
            .read(&["a", "b"], 2);
        assert_eq!(check(&history_of(&[&u])).verdict, Verdict::Valid);
    }

    #[test]
    fn every_read_that_missed_a_value_which_came_back_is_stale() {
        let mut u = UserScript::new(1);
        u.login()
            .write("a", 1)
            .write("b", 2)
            .read(&[], 0)
            .read(&["a"], 1)
            .read(&["a", "b"], 2);
        let result = check(&history_of(&[&u]));
        assert_eq!((result.verdict, result.count), (Verdict::Invalid, 2));
        let first = &result.findings[0];
        let requests: Vec<&str> = first.witness.iter().map(|w| w.request.as_str()).collect();
        assert_eq!(requests, ["write a", "read", "read"]);
        assert!(first.relied.expect("acked").ended_at < first.answered.started_at);
    }

    #[test]
    fn a_stale_read_is_reported_under_the_value_it_missed_that_was_known_last_every_time() {
        let values = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let mut u = UserScript::new(1);
        u.login();
        for (version, value) in values.iter().enumerate() {
            u.write(value, version as u64 + 1);
        }
        u.read(&[], 0).read(&values, 8);
        let history = history_of(&[&u]);
        // Each check hashes with new keys: a set's order would differ between them.
        for _ in 0..20 {
            let result = check(&history);
            assert_eq!(result.count, 1);
            assert!(
                result.findings[0].message.contains("missed 'h'"),
                "{}",
                result.findings[0].message
            );
        }
    }

    #[test]
    fn a_value_that_never_comes_back_is_no_stale_read() {
        let mut u = UserScript::new(1);
        u.login().write("a", 1).read(&[], 0).read(&[], 0);
        assert_eq!(check(&history_of(&[&u])).count, 0);
    }

    #[test]
    fn a_value_shown_missed_and_shown_again_is_a_stale_read() {
        let mut u = UserScript::new(1);
        u.login()
            .read(&["user-1-x"], 1)
            .read(&[], 0)
            .read(&["user-1-x"], 1);
        assert_eq!(check(&history_of(&[&u])).count, 1);
    }
}
