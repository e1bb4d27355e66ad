//! Checker properties on generated histories: valid histories pass; each anomaly planted in one is
//! found as exactly that anomaly, of its own class and no other; and the interleaving of users
//! does not matter.

use failover_drill::assess::{assess, assess_file, RunFacts};
use failover_drill::checker::{
    duplicate_writes, foreign_sessions, lost_sessions, lost_writes, rollbacks, stale_reads,
    timeline, user_errors, Class, Verdict,
};
use failover_drill::history::synthetic::synthetic_history;
use failover_drill::history::{AttemptResult, History, OkValue, OpKind, Outcome, Record};
use failover_drill::scenario::Scenario;
use proptest::prelude::*;

/// The acknowledged values of a history, with their user and acknowledgement time.
fn acked_values(history: &History) -> Vec<(u32, String, u64)> {
    history
        .operations()
        .filter_map(|op| match (&op.kind, &op.outcome) {
            (OpKind::Write { value }, Outcome::Ok(_)) => {
                Some((op.user, value.clone(), op.ended_at))
            }
            _ => None,
        })
        .collect()
}

/// The anomaly classes [`anomaly_counts`] counts, in its order: those a checker finds from the
/// history alone (a lost login is a lost session its cause re-files, a resurrected session needs
/// logouts, which these histories do not make).
const COUNTED: [Class; 6] = [
    Class::LostSession,
    Class::LostWrite,
    Class::Rollback,
    Class::StaleRead,
    Class::DuplicateWrite,
    Class::ForeignSession,
];

/// How many findings of each anomaly class the history has, in [`COUNTED`] order.
fn anomaly_counts(h: &History) -> [u64; 6] {
    [
        lost_sessions::check(h).count,
        lost_writes::check(h).count,
        rollbacks::check(h).count,
        stale_reads::check(h).count,
        duplicate_writes::check(h).count,
        foreign_sessions::check(h).count,
    ]
}

/// Exactly `n` findings of `class` and none of any other anomaly class.
fn only(class: Class, n: u64) -> [u64; 6] {
    let mut counts = [0; 6];
    let at = COUNTED
        .iter()
        .position(|c| *c == class)
        .expect("a counted anomaly class");
    counts[at] = n;
    counts
}

fn all_checks(h: &History) -> String {
    format!(
        "{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
        lost_sessions::check(h),
        lost_writes::check(h),
        rollbacks::check(h),
        stale_reads::check(h),
        duplicate_writes::check(h),
        foreign_sessions::check(h),
        user_errors::check(h),
        timeline::check(h)
    )
}

/// A synthetic history and one acknowledged value of it, picked by `pick`: its user, the value
/// and when it was acknowledged; `None` when the history has no acknowledged value.
fn pick_acked(
    users: u32,
    ops: u64,
    pick: prop::sample::Index,
) -> Option<(History, u32, String, u64)> {
    let h = synthetic_history(users, ops);
    let acked = acked_values(&h);
    if acked.is_empty() {
        return None;
    }
    let (user, value, acked_at) = acked[pick.index(acked.len())].clone();
    Some((h, user, value, acked_at))
}

/// The reads of `user` that began after `after`, in order, as mutable item lists.
fn reads_after(h: &mut History, user: u32, after: u64) -> Vec<&mut Vec<String>> {
    h.records
        .iter_mut()
        .filter_map(|r| match r {
            Record::Operation(op) if op.user == user && op.intended_at > after => {
                match &mut op.outcome {
                    Outcome::Ok(OkValue::Read { items, .. }) => Some(items),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

proptest! {
    #[test]
    fn valid_histories_pass(users in 1u32..6, ops in 2u64..60) {
        let h = synthetic_history(users, ops);
        prop_assert_eq!(anomaly_counts(&h), [0; 6]);
        prop_assert_eq!(lost_writes::check(&h).verdict, Verdict::Valid);
        let (errors, findings) = user_errors::check(&h);
        prop_assert_eq!(errors.visible, 0);
        prop_assert!(findings.is_empty());
    }

    #[test]
    fn a_value_removed_from_later_reads_is_exactly_one_lost_write(
        users in 1u32..5,
        ops in 4u64..60,
        pick in any::<prop::sample::Index>(),
    ) {
        let mut h = synthetic_history(users, ops);
        let acked = acked_values(&h);
        prop_assume!(!acked.is_empty());
        let (user, value, acked_at) = acked[pick.index(acked.len())].clone();
        let mut removed_somewhere = false;
        for record in &mut h.records {
            if let Record::Operation(op) = record {
                if op.user != user || op.intended_at <= acked_at {
                    continue;
                }
                if let Outcome::Ok(OkValue::Read { items, .. }) = &mut op.outcome {
                    let before = items.len();
                    items.retain(|v| *v != value);
                    removed_somewhere |= items.len() < before;
                }
            }
        }
        let result = lost_writes::check(&h);
        if removed_somewhere {
            prop_assert_eq!(anomaly_counts(&h), only(Class::LostWrite, 1));
            prop_assert_eq!(result.findings[0].user, Some(user));
            let quoted = format!("'{value}'");
            prop_assert!(result.findings[0].message.contains(&quoted));
        } else {
            // The value was the last write, never read back: nothing to miss.
            prop_assert_eq!(anomaly_counts(&h), [0; 6]);
        }
    }

    #[test]
    fn a_value_missing_from_some_reads_and_back_later_is_that_many_stale_reads(
        users in 1u32..5,
        ops in 8u64..60,
        pick in any::<prop::sample::Index>(),
        gap in 1usize..4,
    ) {
        let picked = pick_acked(users, ops, pick);
        prop_assume!(picked.is_some());
        let Some((mut h, user, value, acked_at)) = picked else { return Ok(()) };
        let mut reads = reads_after(&mut h, user, acked_at);
        // Some read must still show it afterwards for the value to come back.
        prop_assume!(reads.len() > gap);
        for items in reads.iter_mut().take(gap) {
            items.retain(|v| *v != value);
        }
        prop_assert_eq!(anomaly_counts(&h), only(Class::StaleRead, gap as u64));
    }

    #[test]
    fn a_value_shown_and_then_gone_for_good_is_one_rollback(
        users in 1u32..5,
        ops in 6u64..60,
        pick in any::<prop::sample::Index>(),
    ) {
        let picked = pick_acked(users, ops, pick);
        prop_assume!(picked.is_some());
        let Some((mut h, user, value, acked_at)) = picked else { return Ok(()) };
        let mut reads = reads_after(&mut h, user, acked_at);
        // The first read shows it; every read after it lacks it.
        prop_assume!(reads.len() >= 2);
        for items in reads.iter_mut().skip(1) {
            items.retain(|v| *v != value);
        }
        prop_assert_eq!(anomaly_counts(&h), only(Class::Rollback, 1));
    }

    #[test]
    fn a_value_held_twice_is_one_duplicate_write(
        users in 1u32..5,
        ops in 4u64..60,
        pick in any::<prop::sample::Index>(),
    ) {
        let picked = pick_acked(users, ops, pick);
        prop_assume!(picked.is_some());
        let Some((mut h, user, value, acked_at)) = picked else { return Ok(()) };
        let mut reads = reads_after(&mut h, user, acked_at);
        prop_assume!(!reads.is_empty());
        for items in reads.iter_mut() {
            let at = items.iter().position(|v| *v == value).unwrap_or(0);
            items.insert(at, value.clone());
        }
        prop_assert_eq!(anomaly_counts(&h), only(Class::DuplicateWrite, 1));
    }

    #[test]
    fn another_users_value_in_a_read_is_one_foreign_session(
        users in 2u32..5,
        ops in 4u64..60,
        pick in any::<prop::sample::Index>(),
    ) {
        let picked = pick_acked(users, ops, pick);
        prop_assume!(picked.is_some());
        let Some((mut h, user, _, acked_at)) = picked else { return Ok(()) };
        let other = if user == 1 { 2 } else { 1 };
        let mut reads = reads_after(&mut h, user, acked_at);
        prop_assume!(!reads.is_empty());
        reads[0].push(format!("user-{other}-999"));
        prop_assert_eq!(anomaly_counts(&h), only(Class::ForeignSession, 1));
    }

    #[test]
    fn a_read_answered_401_after_login_is_one_lost_session(
        users in 1u32..5,
        ops in 3u64..60,
        pick in any::<prop::sample::Index>(),
    ) {
        let mut h = synthetic_history(users, ops);
        let reads: Vec<usize> = h
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r, Record::Operation(op) if op.kind == OpKind::Read))
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!reads.is_empty());
        if let Record::Operation(op) = &mut h.records[reads[pick.index(reads.len())]] {
            op.outcome = Outcome::Fail { reason: "HTTP 401".into(), session_lost: true };
            if let Some(last) = op.attempts.last_mut() {
                last.result = AttemptResult::Status { status: 401 };
            }
        }
        // The rest of the user's session stays as it was; no other anomaly follows from a 401.
        let counts = anomaly_counts(&h);
        prop_assert_eq!(counts[0], 1);
    }

    #[test]
    fn interleaving_users_changes_nothing(users in 1u32..5, ops in 2u64..40, seed in any::<u64>()) {
        let h = synthetic_history(users, ops);
        let mut shuffled = h.clone();
        // A deterministic shuffle from the seed; each user's own order is what the checkers use.
        let mut state = seed | 1;
        for i in (1..shuffled.records.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.records.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(all_checks(&h), all_checks(&shuffled));
    }

    #[test]
    fn a_history_assessed_from_its_file_matches_it_assessed_in_memory(
        users in 1u32..5,
        ops in 2u64..40,
        seed in any::<u64>(),
        drop_value in any::<bool>(),
    ) {
        let mut h = synthetic_history(users, ops);
        if drop_value {
            // Something for the lost-writes checker to find.
            if let Some(Record::Operation(op)) = h.records.iter_mut().rev().find(|r| {
                matches!(r, Record::Operation(op) if matches!(&op.outcome, Outcome::Ok(OkValue::Read { items, .. }) if !items.is_empty()))
            }) {
                if let Outcome::Ok(OkValue::Read { items, .. }) = &mut op.outcome {
                    items.remove(0);
                }
            }
        }
        // Users interleaved as a recording interleaves them: each user's own records in order.
        let mut queues: Vec<Vec<Record>> = (1..=users)
            .map(|u| {
                h.records
                    .iter()
                    .filter(|r| matches!(r, Record::Operation(op) if op.user == u))
                    .rev()
                    .cloned()
                    .collect()
            })
            .collect();
        let mut recorded = Vec::new();
        let mut state = seed | 1;
        while queues.iter().any(|q| !q.is_empty()) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let live: Vec<usize> = (0..queues.len()).filter(|&i| !queues[i].is_empty()).collect();
            let pick = live[(state % live.len() as u64) as usize];
            recorded.extend(queues[pick].pop());
        }
        let text: String = recorded
            .iter()
            .map(|r| serde_json::to_string(r).expect("serialise") + "\n")
            .collect();
        let path = std::env::temp_dir().join(format!("fd-assess-{}-{seed}.jsonl", std::process::id()));
        std::fs::write(&path, text).expect("write the history");
        let scenario = Scenario::parse("name = \"x\"", std::path::Path::new("x.toml")).expect("scenario");
        let in_memory = assess(&scenario, &h, RunFacts::default()).report;
        let from_file = assess_file(&scenario, &path, RunFacts::default()).expect("assessed").report;
        std::fs::remove_file(&path).expect("remove the history");
        prop_assert_eq!(&in_memory.findings, &from_file.findings);
        // The value is missing from the last read only: a lost write if no read showed it before,
        // a rollback if one did.
        let planted = in_memory.findings.count(Class::LostWrite) + in_memory.findings.count(Class::Rollback);
        prop_assert_eq!(planted, u64::from(drop_value && ops > 2));
        prop_assert_eq!(in_memory, from_file);
    }

    #[test]
    fn the_scenario_parser_never_panics(text in ".{0,400}") {
        let _ = Scenario::parse(&text, std::path::Path::new("fuzz.toml"));
    }

    #[test]
    fn the_scenario_parser_never_panics_on_near_valid_files(
        key in "[a-z_]{1,12}",
        value in prop_oneof![Just("\"1s\"".to_owned()), Just("-1".to_owned()), Just("0".to_owned()),
                             Just("1e309".to_owned()), Just("\"\"".to_owned()), "[0-9]{1,20}"],
        table in prop_oneof![Just("topology"), Just("workload"), Just("app"), Just("expectations")],
    ) {
        let text = format!("name = \"x\"\n[{table}]\n{key} = {value}\n");
        if let Err(e) = Scenario::parse(&text, std::path::Path::new("near.toml")) {
            prop_assert!(e.to_string().contains("near.toml"));
        }
    }
}
