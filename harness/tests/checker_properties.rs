//! Checker properties on generated histories: valid histories pass, one removed value is reported
//! as exactly that lost write, and the interleaving of users does not matter.

use failover_drill::assess::{assess, assess_file, RunFacts};
use failover_drill::checker::{lost_writes, survival, timeline, user_errors, Verdict};
use failover_drill::history::synthetic::synthetic_history;
use failover_drill::history::{History, OkValue, OpKind, Outcome, Record};
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

fn all_checks(h: &History) -> String {
    format!(
        "{:?}{:?}{:?}{:?}",
        survival::check(h),
        lost_writes::check(h),
        user_errors::check(h),
        timeline::check(h)
    )
}

proptest! {
    #[test]
    fn valid_histories_pass(users in 1u32..6, ops in 2u64..60) {
        let h = synthetic_history(users, ops);
        prop_assert_eq!(survival::check(&h).verdict, Verdict::Valid);
        prop_assert_eq!(lost_writes::check(&h).verdict, Verdict::Valid);
        prop_assert_eq!(user_errors::check(&h).visible.verdict, Verdict::Valid);
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
            prop_assert_eq!(result.count, 1);
            prop_assert_eq!(result.findings[0].user, Some(user));
            let quoted = format!("'{value}'");
            prop_assert!(result.findings[0].message.contains(&quoted));
        } else {
            // The value was the last write, never read back: nothing to miss.
            prop_assert_eq!(result.count, 0);
        }
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
        prop_assert_eq!(&in_memory.lost_writes, &from_file.lost_writes);
        prop_assert_eq!(in_memory.lost_writes.count, u64::from(drop_value && ops > 2));
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
