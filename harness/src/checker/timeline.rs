//! The failover breakdown: from each fault's start to detection (`+sdown`, `+odown`), election
//! (`+elected-leader`), promotion (`+promoted-slave`, `+switch-master`), the app's first store
//! success on the new master, every user's first success, and the faulted node's heal, demotion
//! (`+convert-to-slave`) and return to its place.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::history::{
    FaultEvent, FaultKind, FaultPhase, History, InstanceEvent, Micros, Notice, Operation, Record,
    StoreChange,
};

/// Milestones of one failover, each in milliseconds after the fault started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailoverTimeline {
    /// The fault's kind (`kill`, `pause`, ...).
    pub fault: FaultKind,
    /// The faulted node.
    pub node: String,
    /// Its address.
    pub addr: String,
    /// When the fault began (applying it began), seconds into the run; every milestone is
    /// counted from here.
    pub fault_at_s: f64,
    /// When it was in place (the kill's call answered, the rules were in), after it began.
    #[serde(default)]
    pub in_place_ms: f64,
    /// First `+sdown` of that node from any sentinel.
    pub sdown_ms: Option<f64>,
    /// First `+odown` (quorum agrees).
    pub odown_ms: Option<f64>,
    /// First `+elected-leader`: a sentinel won the vote to run the failover.
    pub elected_leader_ms: Option<f64>,
    /// First `+promoted-slave`: the chosen replica reported itself master.
    pub promoted_ms: Option<f64>,
    /// First `+switch-master`.
    pub switch_master_ms: Option<f64>,
    /// The promoted master, from `+switch-master`.
    pub new_master: Option<String>,
    /// The app's first store success on a master other than the faulted node, when this fault's
    /// node was failed over.
    pub app_first_success_ms: Option<f64>,
    /// The first user to succeed again.
    pub first_user_success_ms: Option<f64>,
    /// The last user to succeed again; `None` if some user never did.
    pub last_user_success_ms: Option<f64>,
    /// The fault's heal (restart, resume, partition removed).
    pub healed_ms: Option<f64>,
    /// First `+convert-to-slave` of the faulted node: Sentinel demoted the returning old master.
    pub demoted_ms: Option<f64>,
    /// When the healed node was back in its place (a replica with its link up, or still master).
    pub settled_ms: Option<f64>,
    /// Users who succeeded again before the run ended, out of `users`.
    pub users_recovered: usize,
    /// Users who had at least one operation.
    pub users: usize,
}

fn ms_after(start: Micros, at: Micros) -> f64 {
    at.saturating_sub(start) as f64 / 1_000.0
}

/// One timeline per fault start, in order.
pub fn check(history: &History) -> Vec<FailoverTimeline> {
    let mut timelines = Timelines::new(
        history
            .records
            .iter()
            .filter(|r| !matches!(r, Record::Operation(_)))
            .cloned(),
    );
    for op in history.operations() {
        timelines.observe(op);
    }
    timelines.finish()
}

/// [`check`] in two steps, for histories too long to hold: first every record but the operations
/// (faults, sentinel and store events, a few hundred), then the operations one at a time in any
/// order.
#[derive(Debug)]
pub struct Timelines {
    context: History,
    /// Each fault start's time, and each user's first success that began after it.
    recovered: Vec<(Micros, BTreeMap<u32, Micros>)>,
    users: BTreeSet<u32>,
}

impl Timelines {
    /// Takes every record that is not an operation.
    pub fn new(context: impl IntoIterator<Item = Record>) -> Self {
        let context = History {
            records: context.into_iter().collect(),
        };
        let recovered = context
            .faults()
            .filter(|f| f.phase == FaultPhase::Start)
            .map(|f| (f.at, BTreeMap::new()))
            .collect();
        Self {
            context,
            recovered,
            users: BTreeSet::new(),
        }
    }

    /// Takes one operation; final reads, made after the workload, are not recoveries from a
    /// fault.
    pub fn observe(&mut self, op: &Operation) {
        if op.final_read {
            return;
        }
        self.users.insert(op.user);
        for (t0, recovered) in &mut self.recovered {
            let first = op
                .attempts
                .iter()
                .filter(|a| a.started_at >= *t0 && a.succeeded())
                .map(|a| a.ended_at)
                .min();
            if let Some(at) = first {
                let best = recovered.entry(op.user).or_insert(at);
                *best = (*best).min(at);
            }
        }
    }

    /// The timelines.
    pub fn finish(self) -> Vec<FailoverTimeline> {
        let history = &self.context;
        let users = &self.users;
        history
            .faults()
            .filter(|f| f.phase == FaultPhase::Start)
            .zip(&self.recovered)
            .map(|(fault, (_, recovered))| timeline_of(history, fault, recovered, users))
            .collect()
    }
}

fn timeline_of(
    history: &History,
    fault: &FaultEvent,
    recovered: &BTreeMap<u32, Micros>,
    users: &BTreeSet<u32>,
) -> FailoverTimeline {
    let t0 = began(fault);
    let addr = fault.addr.as_str();
    // Events are matched to the fault by the node they are about, so faults that overlap
    // (a replica and then the master, say) each get their own milestones.
    let after = || history.sentinel_events().filter(|e| e.at >= t0);
    let first_about = |wanted: InstanceEvent| {
        after()
            .find(|e| e.notice.about() == Some((wanted, addr)))
            .map(|e| ms_after(t0, e.at))
    };
    let first_of_failover = |wanted: InstanceEvent| {
        after()
            .find(|e| {
                e.notice.about().is_some_and(|(event, _)| event == wanted)
                    && e.notice.failed_master() == Some(addr)
            })
            .map(|e| ms_after(t0, e.at))
    };
    let switch = after().find_map(|e| match &e.notice {
        Notice::SwitchMaster { old, new } if old == addr => Some((e.at, new.clone())),
        _ => None,
    });
    // Only a failover of this node has a new master to succeed on.
    let app_first_success = switch.as_ref().and_then(|_| {
        history
            .store_events()
            .filter(|e| {
                e.at >= t0 && e.event == StoreChange::FirstSuccess && e.master != fault.addr
            })
            .map(|e| e.at)
            .min()
    });

    let node_event = |phase: FaultPhase| {
        history
            .faults()
            .find(|f| f.at >= fault.at && f.node == fault.node && f.phase == phase)
            .map(|f| ms_after(t0, f.at))
    };
    let all_recovered = recovered.len() == users.len();
    FailoverTimeline {
        fault: fault.fault,
        node: fault.node.clone(),
        addr: fault.addr.clone(),
        fault_at_s: t0 as f64 / 1e6,
        in_place_ms: ms_after(t0, fault.at),
        sdown_ms: first_about(InstanceEvent::Sdown),
        odown_ms: first_about(InstanceEvent::Odown),
        elected_leader_ms: first_of_failover(InstanceEvent::ElectedLeader),
        promoted_ms: first_of_failover(InstanceEvent::PromotedReplica),
        switch_master_ms: switch.as_ref().map(|(at, _)| ms_after(t0, *at)),
        new_master: switch.map(|(_, new)| new),
        app_first_success_ms: app_first_success.map(|at| ms_after(t0, at)),
        first_user_success_ms: recovered.values().min().map(|&at| ms_after(t0, at)),
        last_user_success_ms: recovered
            .values()
            .max()
            .filter(|_| all_recovered)
            .map(|&at| ms_after(t0, at)),
        healed_ms: node_event(FaultPhase::Heal),
        demoted_ms: first_about(InstanceEvent::ConvertToReplica),
        settled_ms: node_event(FaultPhase::Rejoined),
        users_recovered: recovered.len(),
        users: users.len(),
    }
}

/// When a fault began: when applying it began, which is before it was recorded in place. A kill
/// takes effect during the engine's call, and a kill timed to requests in flight freezes the
/// node first, so what happened to users from then on is the fault's.
pub fn began(fault: &FaultEvent) -> Micros {
    fault.applying_since.unwrap_or(fault.at).min(fault.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::fixtures::{history_of, UserScript};
    use crate::history::{FaultEvent, Record, SentinelEvent, StoreEvent};

    fn sentinel(at: Micros, channel: &str, message: &str) -> Record {
        Record::Sentinel(SentinelEvent::heard(at, "sentinel-1", channel, message))
    }

    #[test]
    fn measures_each_milestone_from_the_kill() {
        let mut u1 = UserScript::new(1);
        let mut u2 = UserScript::new(2);
        u1.login().idle(20_000).read(&[], 0); // its read ends at 24 ms
        u2.login().idle(30_000).read(&[], 0); // its read ends at 34 ms
        let mut history = history_of(&[&u1, &u2]);
        history.records.extend([
            Record::Fault(FaultEvent {
                at: 10_000,
                fault: FaultKind::Kill,
                phase: FaultPhase::Start,
                node: "redis-1".into(),
                addr: "10.0.0.2:6379".into(),
                cut: None,
                applying_since: None,
                in_flight: None,
            }),
            sentinel(12_000, "+sdown", "master mymaster 10.0.0.2 6379"),
            sentinel(
                13_000,
                "+odown",
                "master mymaster 10.0.0.2 6379 #quorum 2/2",
            ),
            sentinel(
                15_000,
                "+switch-master",
                "mymaster 10.0.0.2 6379 10.0.0.3 6379",
            ),
            Record::Store(StoreEvent {
                at: 16_000,
                instance: 0,
                event: StoreChange::FirstSuccess,
                master: "10.0.0.3:6379".into(),
            }),
        ]);
        let t = &check(&history)[0];
        assert_eq!(t.sdown_ms, Some(2.0));
        assert_eq!(t.odown_ms, Some(3.0));
        assert_eq!(t.switch_master_ms, Some(5.0));
        assert_eq!(t.new_master.as_deref(), Some("10.0.0.3:6379"));
        assert_eq!(t.app_first_success_ms, Some(6.0));
        assert_eq!(t.first_user_success_ms, Some(14.0));
        assert_eq!(t.last_user_success_ms, Some(24.0));
        assert_eq!((t.users_recovered, t.users), (2, 2));
        assert_eq!(
            (t.healed_ms, t.settled_ms, t.demoted_ms),
            (None, None, None)
        );
        assert_eq!((t.elected_leader_ms, t.promoted_ms), (None, None));
    }

    #[test]
    fn overlapping_faults_each_get_the_events_about_their_own_node() {
        let mut u1 = UserScript::new(1);
        u1.login().idle(20_000).read(&[], 0);
        let mut history = history_of(&[&u1]);
        let fault = |at, node: &str, addr: &str| {
            Record::Fault(FaultEvent {
                at,
                fault: FaultKind::Kill,
                phase: FaultPhase::Start,
                node: node.into(),
                addr: addr.into(),
                cut: None,
                applying_since: None,
                in_flight: None,
            })
        };
        history.records.extend([
            fault(10_000, "redis-1", "10.0.0.2:6379"),
            fault(11_000, "redis-2", "10.0.0.3:6379"),
            // The replica's event names the master after '@': it is not about the master.
            sentinel(
                12_000,
                "+sdown",
                "slave 10.0.0.3:6379 10.0.0.3 6379 @ mymaster 10.0.0.2 6379",
            ),
            sentinel(14_000, "+sdown", "master mymaster 10.0.0.2 6379"),
            sentinel(15_000, "+elected-leader", "master mymaster 10.0.0.2 6379"),
            sentinel(
                15_500,
                "+promoted-slave",
                "slave 10.0.0.4:6379 10.0.0.4 6379 @ mymaster 10.0.0.2 6379",
            ),
            sentinel(
                16_000,
                "+switch-master",
                "mymaster 10.0.0.2 6379 10.0.0.4 6379",
            ),
            sentinel(
                30_000,
                "+convert-to-slave",
                "slave 10.0.0.2:6379 10.0.0.2 6379 @ mymaster 10.0.0.4 6379",
            ),
        ]);
        let timelines = check(&history);
        let (master, replica) = (&timelines[0], &timelines[1]);
        assert_eq!(master.sdown_ms, Some(4.0));
        assert_eq!(master.elected_leader_ms, Some(5.0));
        assert_eq!(master.promoted_ms, Some(5.5));
        assert_eq!(master.switch_master_ms, Some(6.0));
        assert_eq!(master.demoted_ms, Some(20.0));
        assert_eq!(replica.sdown_ms, Some(1.0));
        assert_eq!(
            (replica.switch_master_ms, replica.demoted_ms),
            (None, None),
            "the master's failover is not the replica's: {replica:?}"
        );
    }
}
