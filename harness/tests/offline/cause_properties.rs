//! Cause properties on generated cluster timelines: whatever the nodes answered (or did not), no
//! cause quotes an offset or a key count that was not sampled, and no cause quotes the -1 a
//! replica's `ROLE` gives when it does not know its offset.

use std::collections::BTreeSet;

use failover_drill::cause::{explain, ClusterView};
use failover_drill::checker::{Class, Finding, Moment};
use failover_drill::history::{
    FaultEvent, FaultKind, FaultPhase, NodeSample, NodeState, NodeType, Record, SentinelEvent,
    Served,
};
use proptest::prelude::*;

const NODES: [&str; 3] = ["redis-1", "redis-2", "redis-3"];

fn addr(node: usize) -> String {
    format!("10.0.0.{}:6379", node + 1)
}

/// An offset, often the -1 of a replica whose `ROLE` did not know it.
fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![1 => Just(-1i64), 2 => 0i64..5_000]
}

/// One sample's state: unreachable, or a master or replica with an offset that may be unknown
/// (-1), a key count, a process and served counts that may be missing.
fn state() -> impl Strategy<Value = NodeState> {
    let served = (
        proptest::option::of(0u64..500),
        proptest::option::of(0u64..500),
    )
        .prop_map(|(reads, writes)| Served { reads, writes });
    prop_oneof![
        1 => Just(NodeState::Unreachable { error: "refused".into() }),
        3 => (offset(), 0u64..40, 0usize..2, proptest::option::of(0u64..40), served.clone())
            .prop_map(|(offset, keys, run, loaded_keys, served)| NodeState::Master {
                run_id: format!("run-{run}"),
                offset,
                keys,
                loaded_keys,
                replicas: 2,
                served,
            }),
        3 => (offset(), 0u64..40, 0usize..2, 0usize..3, any::<bool>(), served)
            .prop_map(|(offset, keys, run, of, link_up, served)| NodeState::Replica {
                run_id: format!("run-{run}"),
                offset,
                keys,
                loaded_keys: None,
                master: addr(of),
                link_up,
                served,
            }),
    ]
}

/// Samples of each node every 100 ms over 3 s, redis-1 master at its first sample; a switch
/// from redis-1 at 1.5 s after a fault on a node in the second before it, and a reconfiguration.
fn records() -> impl Strategy<Value = Vec<Record>> {
    (
        proptest::collection::vec(state(), 90),
        1usize..3,
        0u64..3_000_000,
        0usize..3,
        500_000u64..1_500_000,
        1u64..2_000_000,
    )
        .prop_map(
            |(mut states, new, reconf_at, faulted, fault_from, fault_for)| {
                let (old, switch_at) = (0, 1_500_000);
                if let NodeState::Master { .. } = states[0] {
                } else {
                    states[0] = NodeState::Master {
                        run_id: "run-0".into(),
                        offset: 100,
                        keys: 20,
                        loaded_keys: None,
                        replicas: 2,
                        served: Served::default(),
                    };
                }
                let mut records: Vec<Record> = states
                    .into_iter()
                    .enumerate()
                    .map(|(i, state)| {
                        let node = i % 3;
                        Record::Node(NodeSample {
                            at: (i / 3) as u64 * 100_000,
                            node: NODES[node].into(),
                            kind: NodeType::Data,
                            addr: addr(node),
                            state,
                        })
                    })
                    .collect();
                let (o, n) = (addr(old).replace(':', " "), addr(new).replace(':', " "));
                records.push(Record::Sentinel(SentinelEvent::heard(
                    switch_at,
                    "sentinel-1",
                    "+switch-master",
                    &format!("mymaster {o} {n}"),
                )));
                records.push(Record::Sentinel(SentinelEvent::heard(
                    reconf_at,
                    "sentinel-1",
                    "+slave-reconf-sent",
                    &format!("slave {} {o} @ mymaster {n}", addr(old)),
                )));
                for (at, phase) in [
                    (fault_from, FaultPhase::Start),
                    (fault_from + fault_for, FaultPhase::Heal),
                ] {
                    records.push(Record::Fault(FaultEvent {
                        at,
                        fault: FaultKind::Kill,
                        phase,
                        node: NODES[faulted].into(),
                        addr: addr(faulted),
                        cut: None,
                        applying_since: None,
                        in_flight: None,
                    }));
                }
                records.sort_by_key(|r| match r {
                    Record::Node(s) => s.at,
                    Record::Sentinel(e) => e.at,
                    Record::Fault(f) => f.at,
                    _ => 0,
                });
                records
            },
        )
}

fn moment() -> impl Strategy<Value = Moment> {
    (0u64..3_000_000, 1u64..200_000, 0u32..2).prop_map(|(started_at, took, instance)| Moment {
        started_at,
        ended_at: started_at + took,
        instance,
        status: None,
    })
}

/// A finding, most often told before the switch at 1.5 s and contradicted after it.
fn finding() -> impl Strategy<Value = Finding> {
    (
        proptest::sample::select(Class::ALL.to_vec()),
        proptest::option::of(prop_oneof![
            3 => (0u64..1_500_000, 1u64..100_000, 0u32..2).prop_map(|(at, took, instance)| Moment {
                started_at: at,
                ended_at: at + took,
                instance,
                status: None,
            }),
            1 => moment(),
        ]),
        moment(),
    )
        .prop_map(|(class, relied, answered)| Finding {
            class,
            at: answered.ended_at,
            user: Some(1),
            message: String::new(),
            witness: Vec::new(),
            relied,
            answered,
            values: 1,
        })
}

/// The numbers that follow `before` (and precede `after`) in `text`: `offset 1234`.
fn numbers_around(text: &str, before: &str, after: &str) -> Vec<i128> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices(before) {
        let rest = &text[i + before.len()..];
        let digits: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        if rest[digits.len()..].starts_with(after) {
            if let Ok(n) = digits.parse() {
                found.push(n);
            }
        }
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_cause_quotes_an_offset_or_a_key_count_that_was_not_sampled(
        records in records(),
        findings in proptest::collection::vec(finding(), 1..8),
    ) {
        let sampled = |field: fn(&NodeState) -> Option<i128>| -> BTreeSet<i128> {
            records
                .iter()
                .filter_map(|r| match r {
                    Record::Node(s) => field(&s.state),
                    _ => None,
                })
                .collect()
        };
        let offsets: BTreeSet<i128> = sampled(|s| s.offset().map(i128::from))
            .into_iter()
            .filter(|o| *o >= 0)
            .collect();
        // A node says how many keys it holds, and how many it loaded from disk at its start.
        let mut keys = sampled(|s| s.keys().map(i128::from));
        keys.extend(sampled(|s| s.loaded_keys().map(i128::from)));
        let view = ClusterView::new(&records);
        for finding in &findings {
            let cause = explain(&view, finding);
            let text = format!("{} {}", cause.summary, cause.detail);
            prop_assert!(!text.contains("offset -"), "{}", text);
            let quoted_offsets = [
                numbers_around(&text, "offset ", ""),
                numbers_around(&text, "past ", ","),
                numbers_around(&text, "short of ", ","),
                numbers_around(&text, " was at ", " "),
            ]
            .concat();
            for offset in quoted_offsets {
                prop_assert!(offsets.contains(&offset), "offset {} was not sampled: {}", offset, text);
            }
            for count in [
                numbers_around(&text, "with ", " keys"),
                numbers_around(&text, "instead of ", ","),
            ]
            .concat()
            {
                prop_assert!(keys.contains(&count), "{} keys were not sampled: {}", count, text);
            }
        }
    }
}
