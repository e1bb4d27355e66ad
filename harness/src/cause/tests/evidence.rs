//! The rules that weigh offsets and what each node served: they claim a cause only when the
//! samples show it, refuse one the samples contradict, and say what was missing otherwise.

use super::*;
use crate::history::Served;

/// A master (process `run`) at `t` seconds whose offset grows 1000 a second from 1000, having
/// served `reads`.
fn master_at(run: &str, t: f64, reads: u64) -> NodeState {
    NodeState::Master {
        run_id: run.into(),
        offset: 1_000 + (t * 1_000.0) as i64,
        keys: 20,
        loaded_keys: Some(0),
        replicas: 2,
        served: Served {
            reads: Some(reads),
            writes: Some((t * 100.0) as u64),
        },
    }
}

/// A replica of `of` at `offset`, having served `reads`.
fn replica_at(of: &str, link_up: bool, offset: i64, reads: u64) -> NodeState {
    NodeState::Replica {
        run_id: "r".into(),
        offset,
        keys: 20,
        loaded_keys: None,
        master: addr(of),
        link_up,
        served: Served {
            reads: Some(reads),
            writes: Some(0),
        },
    }
}

impl Timeline {
    /// `node` sampled every 100 ms from `from` to `until`, in the state `at` gives for the time.
    fn each(
        &mut self,
        node: &str,
        from: f64,
        until: f64,
        at: impl Fn(f64) -> NodeState,
    ) -> &mut Self {
        let (from_ms, until_ms) = ((from * 1e3) as u64, (until * 1e3) as u64);
        for ms in (from_ms..until_ms).step_by(100) {
            let t = ms as f64 / 1e3;
            self.sample((t * 1e6) as Micros, node, at(t));
        }
        self
    }

    fn sentinel(&mut self, at: f64, channel: &str, message: &str) -> &mut Self {
        self.records.push(Record::Sentinel(SentinelEvent::heard(
            (at * 1e6) as Micros,
            "sentinel-1",
            channel,
            message,
        )));
        self
    }
}

/// The master killed at 6 s, redis-2 caught up with it until then (its offset kept after the
/// link went down), promoted at 8.1 s.
fn killed_and_failed_over(replica_offset: impl Fn(f64) -> i64) -> Timeline {
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 6.0, |t| master_at("a", t, 0))
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .samples("redis-1", 6.0, 20.0, down())
        .each("redis-2", 0.0, 6.0, |t| {
            replica_at("redis-1", true, replica_offset(t), 0)
        })
        .each("redis-2", 6.0, 8.1, |_| {
            replica_at("redis-1", false, replica_offset(5.9), 0)
        })
        .switch(8.1, "redis-1", "redis-2")
        .each("redis-2", 8.1, 20.0, |t| master_at("r", t, 0));
    t
}

#[test]
fn a_login_long_replicated_is_not_put_on_replication_and_a_401_during_the_kill_is_an_error_shown_as_a_logout(
) {
    let t = killed_and_failed_over(|t| 1_000 + (t * 1_000.0) as i64);
    let during_the_kill = explain(
        &t.view(),
        &finding(Class::LostSession, Some((0.5, 0.51)), (7.0, 7.01)),
    );
    assert_eq!(
        during_the_kill.kind,
        CauseKind::ErrorAsLogout,
        "{during_the_kill:?}"
    );
    assert!(
        during_the_kill
            .summary
            .contains("while the master redis-1 was killed"),
        "{}",
        during_the_kill.summary
    );
    assert!(
        during_the_kill.detail.contains(
            "redis-2, named master at 8.10 s, had replicated to offset 6900 by 8.00 s, past 1600, \
             where redis-1 was after it (at 0.60 s)"
        ),
        "{}",
        during_the_kill.detail
    );
    // The same login answered as gone after the switch, with nothing wrong then: not on
    // replication, whose offsets show the promoted replica had it.
    let later = explain(
        &t.view(),
        &finding(Class::LostSession, Some((0.5, 0.51)), (12.0, 12.01)),
    );
    assert_eq!(later.kind, CauseKind::Unknown, "{later:?}");
}

#[test]
fn an_offset_never_sampled_is_not_evidence_and_the_unknown_says_it_was_missing() {
    // A replica whose offset the samples never had: -1, as ROLE says with the link down.
    let t = killed_and_failed_over(|_| -1);
    let lost = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((5.98, 5.99)), (8.3, 8.31)),
    );
    assert_eq!(lost.kind, CauseKind::Unknown, "{lost:?}");
    assert!(
        lost.summary
            .contains("redis-2's replication offset before it was promoted was not sampled"),
        "{}",
        lost.summary
    );
    assert!(!lost.detail.contains("offset -1"), "{}", lost.detail);
}

#[test]
fn a_write_the_promoted_replica_had_not_reached_is_unreplicated_and_quotes_the_offsets() {
    // redis-2 lagged 2000 bytes behind: its last offset, 4900, was short of the master's 6100
    // just after the write at 5 s.
    let t = killed_and_failed_over(|t| (t * 1_000.0) as i64 - 1_000);
    let lost = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((5.0, 5.01)), (8.3, 8.31)),
    );
    assert_eq!(lost.kind, CauseKind::Unreplicated, "{lost:?}");
    assert!(
        lost.detail.contains(
            "redis-2's last offset before the switch was 4900 (at 8.00 s), short of 6100, where \
             redis-1 was after it (at 5.10 s)"
        ),
        "{}",
        lost.detail
    );
    // A write just before the kill, after the master's last sample: its offset is bounded by
    // the sample before it was sent.
    let last = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((5.95, 5.96)), (8.3, 8.31)),
    );
    assert_eq!(last.kind, CauseKind::Unreplicated, "{last:?}");
    assert!(
        last.detail
            .contains("redis-1 was at 6900 before the request was sent (at 5.90 s)"),
        "{}",
        last.detail
    );
    // Caught up: the promoted replica had the write, so replication did not lose it.
    let t = killed_and_failed_over(|t| 1_000 + (t * 1_000.0) as i64);
    let had_it = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((5.0, 5.01)), (8.3, 8.31)),
    );
    assert_ne!(had_it.kind, CauseKind::Unreplicated, "{had_it:?}");
}

/// redis-1 master throughout serving no reads; redis-2 a replica that served every read,
/// `lag` bytes behind.
fn reads_from_a_replica(lag: i64) -> Timeline {
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 20.0, |t| master_at("a", t, 0))
        .each("redis-2", 0.0, 20.0, |t| {
            replica_at(
                "redis-1",
                true,
                1_000 + (t * 1_000.0) as i64 - lag,
                (t * 50.0) as u64,
            )
        });
    t
}

#[test]
fn a_read_served_by_a_replica_short_of_the_login_is_a_replica_read() {
    let behind = reads_from_a_replica(500);
    let lost = explain(
        &behind.view(),
        &finding(Class::LostSession, Some((1.0, 1.01)), (1.02, 1.03)),
    );
    assert_eq!(lost.kind, CauseKind::ReplicaRead, "{lost:?}");
    assert!(
        lost.detail.contains(
            "reads served around the answer: redis-2 5, redis-1 none; redis-2's offset was 1600 \
             at 1.10 s, after the answer, not past 2000, where redis-1 was before the request was \
             sent (at 1.00 s)"
        ),
        "{}",
        lost.detail
    );
    // Caught up by the next sample: the read counts alone say where the answer came from, and
    // no offset is quoted that does not show it.
    let caught_up = reads_from_a_replica(0);
    let lost = explain(
        &caught_up.view(),
        &finding(Class::LostSession, Some((1.0, 1.01)), (1.02, 1.03)),
    );
    assert_eq!(lost.kind, CauseKind::ReplicaRead, "{lost:?}");
    assert!(!lost.detail.contains("offset"), "{}", lost.detail);
    // With the master serving reads too, the answer may have come from it: not this rule.
    let mut both = Timeline::default();
    both.each("redis-1", 0.0, 20.0, |t| {
        master_at("a", t, (t * 50.0) as u64)
    })
    .each("redis-2", 0.0, 20.0, |t| {
        replica_at(
            "redis-1",
            true,
            1_000 + (t * 1_000.0) as i64,
            (t * 50.0) as u64,
        )
    });
    let lost = explain(
        &both.view(),
        &finding(Class::LostSession, Some((1.0, 1.01)), (1.02, 1.03)),
    );
    assert_ne!(lost.kind, CauseKind::ReplicaRead, "{lost:?}");
}

#[test]
fn a_reconfiguration_of_the_replica_the_app_reads_from_explains_errors_and_logouts() {
    let mut t = reads_from_a_replica(0);
    t.sentinel(
        8.2,
        "+slave-reconf-sent",
        "slave 10.0.0.2:6379 10.0.0.2 6379 @ mymaster 10.0.0.1 6379",
    );
    let error = explain(
        &t.view(),
        &finding(Class::UserVisibleError, None, (8.25, 8.3)),
    );
    assert_eq!(error.kind, CauseKind::NodeReconfigured, "{error:?}");
    assert!(
        error.summary.contains("reconfigured redis-2"),
        "{}",
        error.summary
    );
    let logout = explain(
        &t.view(),
        &finding(Class::LostSession, Some((0.5, 0.51)), (8.25, 8.3)),
    );
    assert_eq!(logout.kind, CauseKind::ErrorAsLogout, "{logout:?}");
    assert!(
        logout
            .detail
            .contains("redis-1 was the master from then to the answer and did not restart"),
        "{}",
        logout.detail
    );
    // Long after the reconfiguration, it explains nothing.
    let later = explain(
        &t.view(),
        &finding(Class::UserVisibleError, None, (12.0, 12.1)),
    );
    assert_eq!(later.kind, CauseKind::Unknown, "{later:?}");
}

#[test]
fn instances_that_disagree_with_nothing_wrong_in_the_cluster_are_named() {
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 20.0, |t| {
        master_at("a", t, (t * 50.0) as u64)
    });
    let mut across = finding(Class::LostWrite, Some((1.0, 1.01)), (2.0, 2.01));
    across.answered.instance = 1;
    let cause = explain(&t.view(), &across);
    assert_eq!(cause.kind, CauseKind::InstancesDisagree, "{cause:?}");
    assert!(
        cause
            .detail
            .contains("through app-0 at 1.01 s, answered through app-1 at 2.01 s"),
        "{}",
        cause.detail
    );
    // One instance alone, the store sound throughout: the app lost it itself.
    let alone = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((1.0, 1.01)), (2.0, 2.01)),
    );
    assert_eq!(alone.kind, CauseKind::LostByApp, "{alone:?}");
    // Unless a replica served reads meanwhile: it may have answered.
    let mut replica_reads = Timeline::default();
    replica_reads
        .each("redis-1", 0.0, 20.0, |t| {
            master_at("a", t, (t * 50.0) as u64)
        })
        .each("redis-2", 0.0, 20.0, |t| {
            replica_at(
                "redis-1",
                true,
                1_000 + (t * 1_000.0) as i64,
                (t * 10.0) as u64,
            )
        });
    assert_ne!(
        explain(
            &replica_reads.view(),
            &finding(Class::LostWrite, Some((1.0, 1.01)), (2.0, 2.01))
        )
        .kind,
        CauseKind::LostByApp
    );
    // A partition that cuts the master off from the cluster alone leaves the app's path to it.
    let mut cut = Timeline::default();
    cut.each("redis-1", 0.0, 20.0, |t| {
        master_at("a", t, (t * 50.0) as u64)
    })
    .fault(
        1.5,
        FaultKind::Partition,
        FaultPhase::Start,
        "redis-1",
        Some(Cut::Cluster),
    );
    assert_eq!(
        explain(&cut.view(), &across).kind,
        CauseKind::InstancesDisagree
    );
    // A fault that keeps the app from the master makes the instances not the only suspects.
    t.fault(1.5, FaultKind::Pause, FaultPhase::Start, "redis-1", None);
    assert_ne!(
        explain(&t.view(), &across).kind,
        CauseKind::InstancesDisagree
    );
    // Nor with another node taking writes as a master meanwhile (two masters).
    let mut two = Timeline::default();
    two.each("redis-1", 0.0, 20.0, |t| {
        master_at("a", t, (t * 50.0) as u64)
    })
    .each("redis-2", 0.0, 20.0, |t| {
        master_at("b", t, (t * 50.0) as u64)
    });
    assert_ne!(
        explain(&two.view(), &across).kind,
        CauseKind::InstancesDisagree
    );
}

#[test]
fn a_4xx_is_the_app_refusing_the_request_whatever_fault_is_in_force() {
    let t = killed_and_failed_over(|t| 1_000 + (t * 1_000.0) as i64);
    let mut refused = finding(Class::UserVisibleError, None, (7.0, 7.01));
    refused.answered.status = Some(404);
    let cause = explain(&t.view(), &refused);
    assert_eq!(cause.kind, CauseKind::AppRefused, "{cause:?}");
    assert!(cause.summary.contains("HTTP 404"), "{}", cause.summary);
    refused.answered.status = Some(401);
    assert_eq!(explain(&t.view(), &refused).kind, CauseKind::SessionGone);
    refused.answered.status = Some(503);
    assert_eq!(
        explain(&t.view(), &refused).kind,
        CauseKind::FaultOnMaster,
        "a 503 during the kill is the kill's"
    );
}

#[test]
fn an_app_that_never_reached_redis_again_after_losing_its_node_is_cut_from_the_store() {
    // The app read and wrote through redis-1 until Sentinel demoted it at 10 s; from then on no
    // node's counters moved.
    let frozen_after = |t: f64| t.min(10.0);
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 10.0, |t| {
        master_at("a", t, (t * 50.0) as u64)
    })
    .each("redis-1", 10.0, 20.0, |t| NodeState::Replica {
        // The same process, demoted.
        run_id: "a".into(),
        offset: 20_000 + (t * 1_000.0) as i64,
        keys: 20,
        loaded_keys: None,
        master: addr("redis-2"),
        link_up: true,
        served: Served {
            reads: Some((frozen_after(t) * 50.0) as u64),
            writes: Some(0),
        },
    })
    .each("redis-2", 0.0, 20.0, |_| replica_at("redis-1", true, 0, 0))
    .sentinel(
        10.0,
        "+convert-to-slave",
        "slave 10.0.0.1:6379 10.0.0.1 6379 @ mymaster 10.0.0.2 6379",
    );
    let error = explain(
        &t.view(),
        &finding(Class::UserVisibleError, None, (15.0, 15.1)),
    );
    assert_eq!(error.kind, CauseKind::AppCutFromStore, "{error:?}");
    assert!(
        error.summary.contains("failed after the app lost redis-1"),
        "{}",
        error.summary
    );
    // Had redis-2 served reads after the demotion, the app would have reached Redis.
    t.records
        .retain(|r| !matches!(r, Record::Node(s) if s.node == "redis-2"));
    t.each("redis-2", 0.0, 20.0, |t| {
        replica_at("redis-1", true, 0, (t.max(12.0) * 10.0) as u64)
    });
    let served = explain(
        &t.view(),
        &finding(Class::UserVisibleError, None, (15.0, 15.1)),
    );
    assert_ne!(served.kind, CauseKind::AppCutFromStore, "{served:?}");
}

#[test]
fn across_a_switch_the_offsets_show_the_store_held_what_another_instance_answered_without() {
    let t = killed_and_failed_over(|t| 1_000 + (t * 1_000.0) as i64);
    let mut across = finding(Class::StaleRead, Some((5.0, 5.01)), (8.5, 8.51));
    across.relied = across.relied.map(|m| Moment { instance: 1, ..m });
    let cause = explain(&t.view(), &across);
    assert_eq!(cause.kind, CauseKind::InstancesDisagree, "{cause:?}");
    assert!(
        cause.detail.contains(
            "redis-2, named master at 8.10 s, had replicated to offset 6900 by 8.00 s, past 6100"
        ),
        "{}",
        cause.detail
    );
    // Behind: the promoted replica lacked it, so the instances are not to blame.
    let behind = killed_and_failed_over(|t| (t * 1_000.0) as i64 - 1_000);
    assert_ne!(
        explain(&behind.view(), &across).kind,
        CauseKind::InstancesDisagree
    );
}

#[test]
fn an_answer_from_the_cut_off_master_before_any_promotion_is_not_a_split_brain() {
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 20.0, master("a", 20))
        .samples("redis-2", 0.0, 20.0, replica("redis-1", true, 1_000))
        .fault(
            6.0,
            FaultKind::Partition,
            FaultPhase::Start,
            "redis-1",
            Some(Cut::Cluster),
        )
        .switch(9.0, "redis-1", "redis-2");
    let before = explain(
        &t.view(),
        &finding(Class::StaleRead, Some((5.0, 5.01)), (6.5, 6.51)),
    );
    assert_ne!(before.kind, CauseKind::SplitBrain, "{before:?}");
    let after = explain(
        &t.view(),
        &finding(Class::StaleRead, Some((5.0, 5.01)), (9.5, 9.51)),
    );
    assert_eq!(after.kind, CauseKind::SplitBrain, "{after:?}");
}

#[test]
fn a_loss_while_a_fault_held_the_master_from_the_app_is_unknown_and_says_so() {
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 20.0, |t| {
        master_at("a", t, (t * 50.0) as u64)
    })
    .fault(
        6.0,
        FaultKind::Reset,
        FaultPhase::Start,
        "redis-1",
        Some(Cut::App),
    )
    .fault(
        9.0,
        FaultKind::Reset,
        FaultPhase::Heal,
        "redis-1",
        Some(Cut::App),
    );
    let lost = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((6.5, 9.4)), (9.45, 9.5)),
    );
    assert_eq!(lost.kind, CauseKind::Unknown, "{lost:?}");
    assert!(
        lost.summary
            .contains("the reset of redis-1 was in force between the telling and the answer"),
        "{}",
        lost.summary
    );
}

#[test]
fn a_replica_cut_off_before_the_write_and_not_caught_up_after_the_heal_served_the_stale_read() {
    // redis-2 was cut off from 6 s to 14 s: its offset stayed at 7000 (where it was at 6 s)
    // until 15 s, while it kept serving reads.
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 20.0, |t| master_at("a", t, 0))
        .each("redis-2", 0.0, 20.0, |t| {
            let offset = 1_000 + (t.min(6.0).max(t - 9.0) * 1_000.0) as i64;
            replica_at("redis-1", true, offset, (t * 50.0) as u64)
        })
        .fault(
            6.0,
            FaultKind::Partition,
            FaultPhase::Start,
            "redis-2",
            Some(Cut::Cluster),
        )
        .fault(
            14.0,
            FaultKind::Partition,
            FaultPhase::Heal,
            "redis-2",
            Some(Cut::Cluster),
        );
    let stale = explain(
        &t.view(),
        &finding(Class::StaleRead, Some((6.08, 6.09)), (14.2, 14.21)),
    );
    assert_eq!(stale.kind, CauseKind::ReplicaBehind, "{stale:?}");
    assert!(
        stale
            .detail
            .contains("its offset 7000 at 14.30 s no further than its 7000 before the cut"),
        "{}",
        stale.detail
    );
}

#[test]
fn a_killed_master_serves_no_reads_so_a_replica_answered() {
    // The master killed at 6 s; redis-2, 500 behind it, serves every read.
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 6.0, |t| master_at("a", t, 0))
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .samples("redis-1", 6.0, 20.0, down())
        .each("redis-2", 0.0, 20.0, |t| {
            replica_at(
                "redis-1",
                t < 6.0,
                500 + (t.min(6.0) * 1_000.0) as i64,
                (t * 50.0) as u64,
            )
        });
    // Asked on its own: other rules come first for this finding in `explain`.
    let ruling = crate::cause::rules::replica_read(
        &t.view(),
        &finding(Class::LostSession, Some((5.9, 5.91)), (7.0, 7.01)),
    );
    let Ruling::Fits(cause) = ruling else {
        panic!("{ruling:?}");
    };
    assert_eq!(cause.kind, CauseKind::ReplicaRead);
    assert!(
        cause
            .detail
            .contains("reads served around the answer: redis-2 5, redis-1 none"),
        "{}",
        cause.detail
    );
}

#[test]
fn of_two_nodes_saying_master_only_one_that_took_writes_can_have_told_the_user() {
    // redis-2 promoted at 8 s takes the writes; redis-1, back at 14 s as master and demoted at
    // 24 s, takes none.
    let took = |from: f64| move |t: f64| ((t - from).max(0.0) * 100.0) as u64;
    let mut t = Timeline::default();
    t.each("redis-1", 14.0, 24.0, |_| master_at("b", 0.0, 0))
        .each("redis-2", 0.0, 8.0, |t| {
            replica_at("redis-1", true, 1_000 + (t * 1_000.0) as i64, 0)
        })
        .each("redis-2", 8.0, 30.0, move |t| NodeState::Master {
            run_id: "r".into(),
            offset: 1_000 + (t * 1_000.0) as i64,
            keys: 20,
            loaded_keys: None,
            replicas: 1,
            served: Served {
                reads: Some(0),
                writes: Some(took(8.0)(t)),
            },
        })
        .switch(8.0, "redis-1", "redis-2");
    let lost = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((17.0, 17.05)), (17.1, 17.15)),
    );
    assert_ne!(lost.kind, CauseKind::TwoMasters, "{lost:?}");
}

/// redis-1 → redis-2 at 5.26 s → redis-3 at 10.28 s → redis-1 again at 14.46 s, the in-process
/// app following each switch at once. redis-1 answered as master just after the first switch,
/// then followed redis-2 from 5.4 s with its link down until its promotion; redis-3 followed
/// redis-2 with its link up. `replica_reads` is what the replicas counted serving.
fn flapping(replica_reads: Option<u64>) -> Timeline {
    let node = |run: &'static str, master_of: Option<&'static str>, offset: i64| match master_of {
        None => NodeState::Master {
            run_id: run.into(),
            offset,
            keys: 20,
            loaded_keys: None,
            replicas: 2,
            served: Served::default(),
        },
        Some(of) => NodeState::Replica {
            run_id: run.into(),
            offset,
            keys: 20,
            loaded_keys: None,
            master: addr(of),
            link_up: offset != 6_300,
            served: Served {
                reads: replica_reads,
                writes: None,
            },
        },
    };
    let grow = |t: f64| 1_000 + (t * 1_000.0) as i64;
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 5.4, |t| node("a", None, grow(t)))
        .each("redis-1", 5.4, 14.5, |_| node("a", Some("redis-2"), 6_300))
        .each("redis-1", 14.5, 20.0, |t| node("a", None, grow(t)))
        .each("redis-2", 0.0, 5.3, |t| node("b", Some("redis-1"), grow(t)))
        .each("redis-2", 5.3, 10.3, |t| node("b", None, grow(t)))
        .each("redis-2", 10.3, 20.0, |t| {
            node("b", Some("redis-3"), grow(t))
        })
        .each("redis-3", 0.0, 10.3, |t| {
            node("c", Some("redis-2"), grow(t))
        })
        .each("redis-3", 10.3, 14.5, |t| node("c", None, grow(t)))
        .each("redis-3", 14.5, 20.0, |t| {
            node("c", Some("redis-1"), grow(t))
        })
        .switch(5.26, "redis-1", "redis-2")
        .switch(10.28, "redis-2", "redis-3")
        .switch(14.46, "redis-3", "redis-1")
        .store(5.27, StoreChange::MasterResolved, "redis-2")
        .store(10.29, StoreChange::MasterResolved, "redis-3")
        .store(14.47, StoreChange::MasterResolved, "redis-1");
    t
}

#[test]
fn a_flapping_cluster_that_promotes_back_a_node_never_linked_to_the_data_is_a_stale_promotion() {
    let rollback = explain(
        &flapping(Some(0)).view(),
        &finding(Class::Rollback, Some((5.37, 5.375)), (14.57, 14.58)),
    );
    assert_eq!(rollback.kind, CauseKind::StalePromotion, "{rollback:?}");
    assert!(
        rollback.summary.starts_with(
            "redis-1 was promoted without the newer session: after the newer session was read by \
             redis-2, redis-1 was never seen replicating from redis-2, nor from a node that was"
        ),
        "{}",
        rollback.summary
    );
    assert!(
        rollback.detail.contains(
            "the nodes seen replicating from redis-2, or from one that was, after it: redis-3 \
             from 5.40 s"
        ) && rollback
            .detail
            .contains("redis-1 was a replica of redis-2 with its link down from 5.40 s to 14.40 s"),
        "{}",
        rollback.detail
    );
}

#[test]
fn a_replica_that_may_hold_the_data_and_did_not_count_its_reads_may_have_answered_so_offsets_decide(
) {
    // redis-3 had it and may have served the read. Its offset in redis-2's stream shows it had
    // it at its promotion; redis-1's offset, never linked to redis-3, counts another stream.
    let rollback = explain(
        &flapping(None).view(),
        &finding(Class::Rollback, Some((5.37, 5.375)), (14.57, 14.58)),
    );
    assert_eq!(rollback.kind, CauseKind::Unknown, "{rollback:?}");
    assert!(
        rollback.summary.contains(
            "redis-1 was not seen linked to redis-3 as a replica before it was promoted, so its \
             offset counted another stream"
        ),
        "{}",
        rollback.summary
    );
}

#[test]
fn a_node_promoted_after_replicating_from_a_replica_of_the_teller_is_not_called_unlinked() {
    // redis-1 killed at 6 s; redis-2, linked to it, promoted at 8.1 s; redis-3 follows redis-2
    // with its link up from 9 s and is promoted at 12 s, short of the write by its offset.
    let mut t = killed_and_failed_over(|t| 1_000 + (t * 1_000.0) as i64 - 200);
    t.each("redis-3", 0.0, 9.0, |_| {
        replica_at("redis-1", false, 900, 0)
    })
    .each("redis-3", 9.0, 12.0, |t| {
        replica_at("redis-2", true, (t * 1_000.0) as i64 - 6_000, 0)
    })
    .each("redis-3", 12.0, 20.0, |t| NodeState::Master {
        run_id: "r".into(),
        offset: (t * 1_000.0) as i64,
        keys: 20,
        loaded_keys: None,
        replicas: 1,
        served: Served::default(),
    })
    .switch(12.0, "redis-2", "redis-3");
    let lost = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((5.5, 5.51)), (12.5, 12.51)),
    );
    assert_eq!(lost.kind, CauseKind::StalePromotion, "{lost:?}");
    assert!(
        lost.summary
            .starts_with("redis-3 was promoted without the write it had not replicated"),
        "{}",
        lost.summary
    );
}

/// redis-2 cut off at 6 s, its offset frozen at 7000 while the master goes on until `master_until`
/// (killed then); both serve reads (the app writes through the master, reads from the replica).
fn replica_cut_off(master_until: f64) -> Timeline {
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, master_until, |t| {
        master_at("a", t, (t * 50.0) as u64)
    })
    .samples("redis-1", master_until, 20.0, down())
    .each("redis-2", 0.0, 20.0, |t| {
        replica_at(
            "redis-1",
            true,
            1_000 + (t.min(6.0) * 1_000.0) as i64,
            (t * 50.0) as u64,
        )
    })
    .fault(
        6.0,
        FaultKind::Partition,
        FaultPhase::Start,
        "redis-2",
        Some(Cut::Cluster),
    );
    t
}

#[test]
fn a_login_the_cut_off_replica_never_got_is_a_lost_session_served_by_a_replica_behind() {
    let mut lost = finding(Class::LostSession, Some((8.0, 8.01)), (8.5, 8.51));
    lost.witness.push(WitnessOp {
        id: 1,
        request: "login".into(),
        intended_at: 8 * SECOND,
        ended_at: 8 * SECOND + 10_000,
        attempts: 1,
        answer: "200".into(),
        note: None,
    });
    let cause = explain(&replica_cut_off(20.0).view(), &lost);
    assert_eq!(cause.kind, CauseKind::ReplicaBehind, "{cause:?}");
    assert_eq!(
        cause.summary,
        "served by a replica behind the master (redis-2), which kept the session"
    );
    assert!(
        cause
            .detail
            .starts_with("logged in at 8.01 s, read at 8.51 s; the master redis-1 kept it"),
        "{}",
        cause.detail
    );
    // A master down at the answer cannot be said to have kept anything.
    let dead = explain(&replica_cut_off(8.2).view(), &lost);
    assert_ne!(dead.kind, CauseKind::ReplicaBehind, "{dead:?}");
}

/// redis-1 master (offset 1000 + 1000 a second) until killed at 6 s, redis-2 master from 8 s, and
/// redis-1 back at 14 s as master `restarted` (before 6 s, it is `before_kill` from 4 s).
fn back_from_disk(before_kill: NodeState, restarted: NodeState) -> Timeline {
    let mut t = Timeline::default();
    t.each("redis-1", 0.0, 4.0, |at| master_at("a", at, 0))
        .samples("redis-1", 4.0, 6.0, before_kill)
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .samples("redis-1", 6.0, 14.0, down())
        .switch(8.0, "redis-1", "redis-2")
        .each("redis-2", 8.0, 20.0, |at| master_at("c", at, 0))
        .fault(14.0, FaultKind::Kill, FaultPhase::Heal, "redis-1", None)
        .samples("redis-1", 14.1, 20.0, restarted);
    t
}

/// A process that loaded `loaded` keys from disk and answered as master at `offset`.
fn loaded(offset: i64, loaded: u64) -> NodeState {
    NodeState::Master {
        run_id: "b".into(),
        offset,
        keys: 20,
        loaded_keys: Some(loaded),
        replicas: 0,
        served: Served {
            reads: Some(0),
            writes: Some(0),
        },
    }
}

#[test]
fn a_master_back_from_a_snapshot_older_than_the_login_by_its_offset_lost_the_session() {
    // Logged in from 3.0 s, when redis-1 was sampled at offset 4000.
    let lost = finding(Class::LostSession, Some((3.0, 3.01)), (14.5, 14.51));
    let t = back_from_disk(master_at("a", 5.0, 0), loaded(3_500, 20));
    let cause = explain(&t.view(), &lost);
    assert_eq!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
    assert_eq!(
        cause.summary,
        "answered after redis-1 restarted from an older snapshot on its disk and before Sentinel demoted it"
    );
    assert!(
        cause.detail.contains(
            "with 20 keys loaded from disk at offset 3500, not past 4000, where it was at 3.00 s \
             (before the login at 3.01 s)"
        ),
        "{}",
        cause.detail
    );
    // A snapshot whose offset is past where the master was before the login may hold it.
    let t = back_from_disk(master_at("a", 5.0, 0), loaded(4_001, 20));
    let cause = explain(&t.view(), &lost);
    assert_ne!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
    // An RDB file without replication information leaves the offset at 0: it dates nothing.
    let t = back_from_disk(master_at("a", 5.0, 0), loaded(0, 20));
    let cause = explain(&t.view(), &lost);
    assert_ne!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
}

#[test]
fn a_snapshot_is_dated_only_while_the_node_stayed_master_as_one_process() {
    let lost = finding(Class::LostSession, Some((3.0, 3.01)), (14.5, 14.51));
    // Demoted after the login, it may have copied a shorter stream into a newer snapshot.
    let demoted = replica_at("redis-2", true, 2_000, 0);
    let t = back_from_disk(demoted, loaded(3_500, 20));
    let cause = explain(&t.view(), &lost);
    assert_ne!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
    // Restarted in between (from a snapshot of its own), its offsets no longer grow from the one
    // sampled before the login.
    let between = NodeState::Master {
        run_id: "d".into(),
        offset: 5_000,
        keys: 20,
        loaded_keys: Some(20),
        replicas: 0,
        served: Served::default(),
    };
    let t = back_from_disk(between, loaded(3_500, 20));
    let cause = explain(&t.view(), &lost);
    assert_ne!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
}
