//! Each rule on a hand-built cluster timeline: it names its cause when the evidence is there, and
//! the finding falls through to the next rule (or to unknown) when it is not.

mod evidence;

use super::*;
use crate::checker::{Moment, WitnessOp};
use crate::history::StoreChange;
use crate::history::{
    Cut, FaultEvent, FaultKind, FaultPhase, Micros, NodeSample, NodeState, NodeType, Record,
    SentinelEvent, StoreEvent,
};

const SECOND: Micros = 1_000_000;

fn addr(node: &str) -> String {
    match node.strip_prefix("app-") {
        Some(instance) => format!("127.0.0.1:80{instance:0>2}"),
        None => format!("10.0.0.{}:6379", &node[6..]),
    }
}

/// Builds the records of a cluster of redis-1 (master), redis-2 and redis-3.
#[derive(Default)]
struct Timeline {
    records: Vec<Record>,
}

impl Timeline {
    fn sample(&mut self, at: Micros, node: &str, state: NodeState) -> &mut Self {
        self.records.push(Record::Node(NodeSample {
            at,
            node: node.into(),
            kind: NodeType::Data,
            addr: addr(node),
            state,
        }));
        self
    }

    /// `node` sampled every 100 ms from `from` to `until` in `state`.
    fn samples(&mut self, node: &str, from: f64, until: f64, state: NodeState) -> &mut Self {
        let (from, until) = ((from * 1e6) as Micros, (until * 1e6) as Micros);
        for at in (from..until).step_by(100_000) {
            self.sample(at, node, state.clone());
        }
        self
    }

    fn fault(
        &mut self,
        at: f64,
        kind: FaultKind,
        phase: FaultPhase,
        node: &str,
        cut: Option<Cut>,
    ) -> &mut Self {
        self.records.push(Record::Fault(FaultEvent {
            at: (at * 1e6) as Micros,
            fault: kind,
            phase,
            node: node.into(),
            addr: addr(node),
            cut,
            applying_since: None,
            in_flight: None,
        }));
        self
    }

    fn switch(&mut self, at: f64, old: &str, new: &str) -> &mut Self {
        let (o, n) = (addr(old), addr(new));
        let (o, n) = (o.replace(':', " "), n.replace(':', " "));
        self.records.push(Record::Sentinel(SentinelEvent::heard(
            (at * 1e6) as Micros,
            "sentinel-1",
            "+switch-master",
            &format!("mymaster {o} {n}"),
        )));
        self
    }

    fn store(&mut self, at: f64, event: StoreChange, master: &str) -> &mut Self {
        self.records.push(Record::Store(StoreEvent {
            at: (at * 1e6) as Micros,
            instance: 0,
            event,
            master: addr(master),
        }));
        self
    }

    fn view(&self) -> ClusterView {
        ClusterView::new(&self.records)
    }
}

fn master(run: &str, keys: u64) -> NodeState {
    NodeState::Master {
        run_id: run.into(),
        offset: 1_000,
        keys,
        loaded_keys: Some(0),
        replicas: 2,
        served: Default::default(),
    }
}

fn replica(of: &str, link_up: bool, offset: i64) -> NodeState {
    NodeState::Replica {
        run_id: "r".into(),
        offset,
        keys: 20,
        loaded_keys: None,
        master: addr(of),
        link_up,
        served: Default::default(),
    }
}

fn down() -> NodeState {
    NodeState::Unreachable {
        error: "refused".into(),
    }
}

fn moment(from: f64, to: f64) -> Moment {
    Moment {
        started_at: (from * 1e6) as Micros,
        ended_at: (to * 1e6) as Micros,
        instance: 0,
        status: None,
    }
}

fn finding(class: Class, told: Option<(f64, f64)>, answered: (f64, f64)) -> Finding {
    Finding {
        class,
        at: (answered.1 * 1e6) as Micros,
        user: Some(1),
        message: String::new(),
        witness: Vec::new(),
        relied: told.map(|(a, b)| moment(a, b)),
        answered: moment(answered.0, answered.1),
        values: 1,
    }
}

#[test]
fn a_write_acknowledged_by_an_isolated_master_is_a_split_brain() {
    // redis-1's offset grows 1000 a second; redis-2 follows it until the partition at 6 s.
    let mut t = Timeline::default();
    for tenth in 0..200 {
        let at = f64::from(tenth) / 10.0;
        let offset = 1_000 + (at * 1_000.0) as i64;
        t.sample(
            (at * 1e6) as Micros,
            "redis-1",
            NodeState::Master {
                run_id: "a".into(),
                offset,
                keys: 20,
                loaded_keys: Some(0),
                replicas: 2,
                served: Default::default(),
            },
        )
        .sample(
            (at * 1e6) as Micros,
            "redis-2",
            replica("redis-1", at < 6.0, offset.min(7_000)),
        );
    }
    t.fault(
        6.0,
        FaultKind::Partition,
        FaultPhase::Start,
        "redis-1",
        Some(Cut::Cluster),
    )
    .switch(8.0, "redis-1", "redis-2")
    .fault(
        14.0,
        FaultKind::Partition,
        FaultPhase::Heal,
        "redis-1",
        None,
    );
    let cause = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((7.0, 7.01)), (9.0, 9.01)),
    );
    assert_eq!(cause.kind, CauseKind::SplitBrain, "{cause:?}");
    assert!(cause
        .summary
        .contains("redis-1 was cut off from the sentinels"));
    assert!(
        cause.detail.contains("+switch-master to redis-2 at 8.00 s"),
        "{}",
        cause.detail
    );
    // The same write before the partition is not explained by it.
    let before = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((5.0, 5.01)), (9.0, 9.01)),
    );
    assert_ne!(before.kind, CauseKind::SplitBrain);
}

#[test]
fn an_answer_from_a_master_that_came_back_empty_names_the_restart_and_the_missing_demotion() {
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 6.0, master("a", 20))
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .samples("redis-1", 6.0, 14.0, down())
        .switch(8.0, "redis-1", "redis-2")
        .fault(14.0, FaultKind::Kill, FaultPhase::Heal, "redis-1", None)
        .samples("redis-1", 14.1, 20.0, master("b", 3));
    let cause = explain(
        &t.view(),
        &finding(Class::LostSession, Some((0.0, 0.01)), (14.5, 14.51)),
    );
    assert_eq!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
    assert_eq!(
        cause.summary,
        "answered after redis-1 restarted empty and before Sentinel demoted it"
    );
    assert!(
        cause
            .detail
            .contains("came back at 14.00 s, 8.0 s after the kill"),
        "{}",
        cause.detail
    );
    assert!(cause.detail.contains("not demoted"), "{}", cause.detail);
    // A session made after the restart is not lost to it.
    let later = explain(
        &t.view(),
        &finding(Class::LostSession, Some((14.2, 14.21)), (14.5, 14.51)),
    );
    assert_ne!(later.kind, CauseKind::RestartedEmpty);
}

#[test]
fn a_master_back_empty_with_none_promoted_names_the_election_that_chose_no_leader() {
    // redis-1 killed at 6 s and back empty at 14 s, with no switch: the sentinels' election in
    // epoch 1 split three ways, and they gave up at 17 s.
    let heard = |at: f64, sentinel: &str, channel: &str, message: &str| {
        Record::Sentinel(SentinelEvent::heard(
            (at * 1e6) as Micros,
            sentinel,
            channel,
            message,
        ))
    };
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 6.0, master("a", 20))
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .samples("redis-1", 6.0, 14.0, down())
        .fault(14.0, FaultKind::Kill, FaultPhase::Heal, "redis-1", None)
        .samples("redis-1", 14.1, 20.0, master("b", 0));
    let lost = finding(Class::LostSession, Some((0.0, 0.01)), (14.5, 14.51));
    let without = explain(&t.view(), &lost);
    assert_eq!(without.kind, CauseKind::RestartedEmpty, "{without:?}");
    assert!(!without.detail.contains("election"), "{}", without.detail);
    for (i, s) in ["sentinel-1", "sentinel-2", "sentinel-3"]
        .iter()
        .enumerate()
    {
        let at = 7.2 + i as f64 * 0.005;
        t.records.push(heard(at, s, "+new-epoch", "1"));
        t.records
            .push(heard(at, s, "+vote-for-leader", &format!("id-{s} 1")));
        t.records.push(heard(
            17.0 + i as f64 * 0.1,
            s,
            "-failover-abort-not-elected",
            "master mymaster 10.0.0.1 6379",
        ));
    }
    let with = explain(&t.view(), &lost);
    assert_eq!(with.kind, CauseKind::RestartedEmpty, "{with:?}");
    assert!(
        with.detail.contains(
            "no replica had been promoted: the sentinels' election in epoch 1 chose no leader: its 3 \
             votes went to 3 different sentinels (a split vote), and sentinel-1, sentinel-2, \
             sentinel-3 gave up between 17.00 s and 17.20 s"
        ),
        "{}",
        with.detail
    );
}

/// redis-1 killed at 6 s, redis-2 master from 8 s, redis-1 restarted at 14 s and first sampled at
/// 14.6 s as `restarted`.
fn restarted_and_first_sampled_late(restarted: NodeState) -> Timeline {
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 6.0, master("a", 20))
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .samples("redis-1", 6.0, 14.6, down())
        .switch(8.0, "redis-1", "redis-2")
        .samples("redis-2", 8.0, 20.0, master("c", 20))
        .fault(14.0, FaultKind::Kill, FaultPhase::Heal, "redis-1", None)
        .samples("redis-1", 14.6, 20.0, restarted);
    t
}

#[test]
fn an_answer_before_the_sampler_reached_the_restarted_master_is_still_explained_by_it() {
    // Answered at 14.3 s: after the restart, before the sampler's first answer from it.
    let lost = finding(Class::LostSession, Some((0.0, 0.01)), (14.3, 14.31));
    let t = restarted_and_first_sampled_late(master("b", 3));
    let cause = explain(&t.view(), &lost);
    assert_eq!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
    // A new process that first answered as a replica in sync does not explain it.
    let replica = |link_up| NodeState::Replica {
        run_id: "b".into(),
        offset: -1,
        keys: 0,
        loaded_keys: Some(0),
        master: addr("redis-2"),
        link_up,
        served: Default::default(),
    };
    let t = restarted_and_first_sampled_late(replica(true));
    let cause = explain(&t.view(), &lost);
    assert_ne!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
    // One that had not synced yet answers reads from its empty data set.
    let t = restarted_and_first_sampled_late(replica(false));
    let cause = explain(&t.view(), &lost);
    assert_eq!(cause.kind, CauseKind::RestartedEmpty, "{cause:?}");
    assert_eq!(
        cause.summary,
        "answered by redis-1 after it restarted empty, as a replica that had not yet copied the master's data"
    );
    assert!(
        cause
            .detail
            .contains("as a replica of redis-2 with its link down"),
        "{}",
        cause.detail
    );
}

#[test]
fn a_master_promoted_again_without_a_resync_serves_its_old_data() {
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 20.0, master("a", 20))
        .samples("redis-2", 0.0, 5.0, replica("redis-1", true, 900))
        .samples("redis-2", 5.0, 20.0, master("c", 20))
        .switch(5.0, "redis-1", "redis-2")
        .switch(14.5, "redis-2", "redis-1");
    let cause = explain(
        &t.view(),
        &finding(Class::Rollback, Some((14.3, 14.31)), (14.6, 14.61)),
    );
    assert_eq!(cause.kind, CauseKind::StalePromotion, "{cause:?}");
    assert!(
        cause.summary.starts_with("redis-1 was promoted again"),
        "{}",
        cause.summary
    );
}

#[test]
fn a_write_to_the_old_master_after_a_replica_took_over_is_two_masters() {
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 20.0, master("a", 20))
        .samples("redis-2", 0.0, 4.2, replica("redis-1", true, 900))
        .samples("redis-2", 4.2, 20.0, master("c", 20))
        .switch(5.2, "redis-1", "redis-2");
    let cause = explain(
        &t.view(),
        &finding(Class::StaleRead, Some((4.69, 4.7)), (5.3, 5.31)),
    );
    assert_eq!(cause.kind, CauseKind::TwoMasters, "{cause:?}");
    assert!(
        cause
            .summary
            .contains("by redis-1 after redis-2 was promoted"),
        "{}",
        cause.summary
    );
}

#[test]
fn a_write_just_before_the_kill_that_the_promoted_replica_lacked_is_unreplicated() {
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 6.0, master("a", 20))
        .samples("redis-2", 0.0, 6.0, replica("redis-1", true, 900))
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .samples("redis-2", 6.0, 8.1, replica("redis-1", false, 900))
        .samples("redis-2", 8.1, 20.0, master("r", 20))
        .switch(8.1, "redis-1", "redis-2");
    let cause = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((5.98, 5.99)), (8.3, 8.31)),
    );
    assert_eq!(cause.kind, CauseKind::Unreplicated, "{cause:?}");
    assert!(
        cause
            .summary
            .contains("by redis-1 before it was killed, and redis-2 was promoted without it"),
        "{}",
        cause.summary
    );
    assert!(
        cause.detail.contains(
            "redis-2's last offset before the switch was 900 (at 8.00 s); redis-1 was at 1000 \
             before the request was sent (at 5.90 s)"
        ),
        "{}",
        cause.detail
    );
}

#[test]
fn errors_name_the_old_master_the_app_kept_and_the_fault_before_the_switch() {
    let mut t = Timeline::default();
    t.store(0.0, StoreChange::MasterResolved, "redis-1")
        .samples("redis-1", 0.0, 6.0, master("a", 20))
        .samples("redis-2", 0.0, 1.0, replica("redis-1", true, 1_000))
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .switch(8.0, "redis-1", "redis-2")
        .store(8.01, StoreChange::SwitchAnnounced, "redis-2");
    let view = t.view();
    let after = explain(&view, &finding(Class::UserVisibleError, None, (10.0, 12.0)));
    assert_eq!(after.kind, CauseKind::OldMaster, "{after:?}");
    assert_eq!(
        after.summary,
        "the app was still using the old master redis-1 after +switch-master named redis-2"
    );
    assert!(
        after.detail.contains("2.0 s after +switch-master"),
        "{}",
        after.detail
    );
    assert!(
        after.detail.contains("had heard it at 8.01 s"),
        "{}",
        after.detail
    );
    let before = explain(&view, &finding(Class::RetriedError, None, (6.5, 7.0)));
    assert_eq!(before.kind, CauseKind::FaultOnMaster, "{before:?}");
    assert_eq!(
        before.summary,
        "failed while the master redis-1 was killed and before a replica was promoted"
    );
    // Sent before the switch, failed (timed out) after it: not a failure while the master was down.
    let waited = explain(&view, &finding(Class::RetriedError, None, (6.5, 16.5)));
    assert_eq!(waited.kind, CauseKind::FaultOnMaster, "{waited:?}");
    assert_eq!(
        waited.summary,
        "sent while the master redis-1 was killed and before a replica was promoted; it failed \
         only after the switch"
    );
    assert!(
        waited.detail.contains("sent at 6.50 s") && waited.detail.contains("failed at 16.50 s"),
        "{}",
        waited.detail
    );
}

#[test]
fn a_read_behind_the_master_without_a_switch_was_served_by_a_cut_off_replica() {
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 20.0, master("a", 20))
        .samples("redis-2", 0.0, 20.0, replica("redis-1", true, 1_000))
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
            None,
        );
    let view = t.view();
    let cause = explain(
        &view,
        &finding(Class::StaleRead, Some((7.0, 7.01)), (7.1, 7.11)),
    );
    assert_eq!(cause.kind, CauseKind::ReplicaBehind, "{cause:?}");
    assert!(cause.summary.contains("(redis-2)"), "{}", cause.summary);
    // A value acknowledged before the cut reached the replica: nothing explains missing it.
    let earlier = explain(
        &view,
        &finding(Class::StaleRead, Some((5.0, 5.01)), (7.1, 7.11)),
    );
    assert_eq!(earlier.kind, CauseKind::Unknown, "{earlier:?}");
    assert!(
        earlier.detail.contains("partition of redis-2"),
        "{}",
        earlier.detail
    );
}

#[test]
fn what_nothing_explains_is_unknown_and_says_what_was_missing_and_what_the_nodes_showed() {
    // A replica that did not count what it served: whether it answered the read is not known.
    let mut t = Timeline::default();
    t.samples("redis-1", 0.0, 20.0, master("a", 20)).samples(
        "redis-2",
        0.0,
        20.0,
        replica("redis-1", true, 1_000),
    );
    let cause = explain(
        &t.view(),
        &finding(Class::LostWrite, Some((1.0, 1.01)), (2.0, 2.01)),
    );
    assert_eq!(cause.kind, CauseKind::Unknown);
    assert_eq!(
        cause.summary,
        "unknown: whether redis-2 served the app's reads then was not counted"
    );
    assert!(
        cause
            .detail
            .contains("redis-1 master, which answered the harness as master"),
        "{}",
        cause.detail
    );
    let nothing = explain(
        &ClusterView::default(),
        &finding(Class::LostWrite, Some((1.0, 1.01)), (2.0, 2.01)),
    );
    assert_eq!(nothing.detail, "no node states were recorded");
}

#[test]
fn a_duplicate_of_a_retried_append_names_the_retry() {
    let mut f = finding(Class::DuplicateWrite, Some((1.0, 1.5)), (2.0, 2.01));
    f.witness.push(WitnessOp {
        id: 7,
        request: "write user-1-3".into(),
        intended_at: SECOND,
        ended_at: 2 * SECOND,
        attempts: 2,
        answer: "200, version 3".into(),
        note: None,
    });
    let cause = explain(&ClusterView::default(), &f);
    assert_eq!(cause.kind, CauseKind::RetriedAppend);
    f.witness[0].attempts = 1;
    assert_eq!(
        explain(&ClusterView::default(), &f).kind,
        CauseKind::Unknown
    );
}

#[test]
fn a_replica_whose_offset_never_passed_the_write_served_the_stale_read() {
    let mut t = Timeline::default();
    // The replica's link looks up (Redis notices a dead link only after repl-timeout), but its
    // offset stays where the master was before the write was sent.
    t.samples("redis-1", 0.0, 20.0, master("a", 20)).samples(
        "redis-2",
        0.0,
        20.0,
        replica("redis-1", true, 1_000),
    );
    let mut f = finding(Class::StaleRead, Some((5.0, 5.01)), (15.0, 15.01));
    let unexplained = explain(&t.view(), &f);
    assert_eq!(
        unexplained.kind,
        CauseKind::Unknown,
        "a value only seen in a read has no offset to compare: {unexplained:?}"
    );
    f.witness.push(WitnessOp {
        id: 1,
        request: "write user-1-1".into(),
        intended_at: 5 * SECOND,
        ended_at: 5 * SECOND + 10_000,
        attempts: 1,
        answer: "200, version 1".into(),
        note: None,
    });
    let cause = explain(&t.view(), &f);
    assert_eq!(cause.kind, CauseKind::ReplicaBehind, "{cause:?}");
    assert!(
        cause.detail.contains("not past the master's 1000"),
        "{}",
        cause.detail
    );
}

#[test]
fn errors_at_a_crashed_app_instance_name_the_crash_not_the_master() {
    let mut t = Timeline::default();
    t.store(0.0, StoreChange::MasterResolved, "redis-1")
        .samples("redis-1", 0.0, 6.0, master("a", 20))
        .fault(6.0, FaultKind::Kill, FaultPhase::Start, "redis-1", None)
        .switch(8.0, "redis-1", "redis-2")
        .fault(7.0, FaultKind::KillApp, FaultPhase::Start, "app-1", None)
        .fault(9.0, FaultKind::KillApp, FaultPhase::Heal, "app-1", None);
    let view = t.view();
    let mut crashed = finding(Class::RetriedError, None, (8.3, 8.31));
    crashed.answered.instance = 1;
    let cause = explain(&view, &crashed);
    assert_eq!(cause.kind, CauseKind::AppDown, "{cause:?}");
    assert_eq!(
        cause.summary,
        "sent to the app instance app-1 while it was crashed"
    );
    // The other instance was up: its errors have another cause.
    let other = explain(&view, &finding(Class::RetriedError, None, (8.3, 8.31)));
    assert_ne!(other.kind, CauseKind::AppDown, "{other:?}");
}
