//! The cluster's state over time, as the history recorded it: fault windows, the masters the
//! sentinels named (`+switch-master`), their elections (read by `elections`), promotions and
//! demotions, every data node's sampled role, offset, keys and run id, and the in-process app's
//! view of the master. Built once from the records that are not operations (a few per second per
//! node), then asked "what was true at this moment". It must not judge findings: that is the
//! rules' job.

use std::collections::{BTreeMap, HashMap};

use super::elections::Elections;

use crate::history::{
    Cut, FaultKind, FaultPhase, InstanceEvent, Micros, NodeState, NodeType, Notice, Record, Served,
    StoreChange,
};

/// One fault on one node, from its start to its heal (`None`: not healed in the run).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpan {
    /// `kill`, `partition`, ...
    pub kind: FaultKind,
    /// The node's name.
    pub node: String,
    /// Whom a partition or reset cut the node off from.
    pub cut: Option<Cut>,
    /// Start: when applying it began.
    pub from: Micros,
    /// Heal: when applying it began.
    pub until: Option<Micros>,
}

impl FaultSpan {
    /// Whether the fault was in force at `t`.
    pub fn active_at(&self, t: Micros) -> bool {
        self.from <= t && self.until.is_none_or(|u| t < u)
    }

    /// What it did to its node, in words: `killed`, `frozen`, `cut off from the app`.
    pub fn verb(&self) -> &'static str {
        self.kind.verb(self.cut)
    }
}

/// The sentinels named a new master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    /// When the first sentinel announced it.
    pub at: Micros,
    /// The old master, `host:port`.
    pub old: String,
    /// The new master.
    pub new: String,
}

/// A sentinel reconfigured a data node (told it to follow a master, or to become one): Sentinel
/// closes the node's normal clients as it does so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconfiguration {
    /// When the first sentinel said so.
    pub at: Micros,
    /// The node, `host:port`.
    pub addr: String,
    /// Which reconfiguration.
    pub event: InstanceEvent,
}

impl Reconfiguration {
    /// The event's channel, for causes: `+slave-reconf-sent`.
    pub fn channel(&self) -> &'static str {
        match self.event {
            InstanceEvent::PromotionSent => "+failover-state-send-slaveof-noone",
            InstanceEvent::ReplicaReconfSent => "+slave-reconf-sent",
            InstanceEvent::ConvertToReplica => "+convert-to-slave",
            InstanceEvent::FixReplicaConfig => "+fix-slave-config",
            _ => "a reconfiguration",
        }
    }
}

/// What a data node answered, compactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// No answer.
    Unreachable,
    /// `ROLE` master.
    Master,
    /// `ROLE` slave, with the link up or down.
    Replica {
        /// `connected`.
        link_up: bool,
    },
}

impl Role {
    /// Whether the node said it was a replica, link up or not.
    pub fn is_replica(self) -> bool {
        matches!(self, Role::Replica { .. })
    }
}

/// One sample of a data node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When.
    pub at: Micros,
    /// Its role.
    pub role: Role,
    /// Replication offset; `None` when unreachable, or when the node did not say (a replica's
    /// -1 in histories that took it from `ROLE`).
    pub offset: Option<u64>,
    /// Reads and writes it had served since it started.
    pub served: Served,
    /// Keys (0 when unreachable).
    pub keys: u64,
    /// Index of its run id in its track (0 when unreachable and none seen yet).
    pub run: usize,
    /// Keys it loaded from disk at its start, if it said.
    pub loaded_keys: Option<u64>,
    /// For a replica, the master it follows, as an index into the view's addresses.
    pub follows: Option<usize>,
}

/// What one node served between two of its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedSpan {
    /// The earlier sample.
    pub from: Micros,
    /// The later sample.
    pub until: Micros,
    /// Key lookups for reading in between, if counted.
    pub reads: Option<u64>,
    /// Writing commands in between, if counted.
    pub writes: Option<u64>,
}

/// A data node came back as a new process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restart {
    /// When it came back: the heal that restarted it, if one was recorded after its last answer as
    /// the old process, else its first answer as the new one.
    pub at: Micros,
    /// Its last answer as the old process.
    pub last_before: Micros,
    /// Keys it held before.
    pub keys_before: u64,
    /// Keys it held at its first answer after.
    pub keys_after: u64,
    /// Keys it said it loaded from disk at its start (no append-only file), if it said.
    pub loaded_keys: Option<u64>,
    /// Its replication offset at its first answer after: where a snapshot it loaded left it (Redis
    /// restores the offset an RDB file records), plus whatever it took before that answer.
    pub offset_after: Option<u64>,
}

impl Restart {
    /// Whether it came back empty; see [`came_back_empty`].
    pub fn empty(&self) -> bool {
        came_back_empty(self.keys_before, self.keys_after, self.loaded_keys)
    }
}

/// Whether a data node that held `keys_before` keys came back empty: it loaded none from disk, or
/// its key count collapsed (writes after the restart may already have added some back).
pub fn came_back_empty(keys_before: u64, keys_after: u64, loaded_keys: Option<u64>) -> bool {
    keys_before > 0 && (loaded_keys == Some(0) || keys_after * 10 <= keys_before)
}

/// Every sample of one data node.
#[derive(Debug, Clone, Default)]
pub struct Track {
    /// Its name.
    pub node: String,
    /// Its `host:port`.
    pub addr: String,
    /// In time order.
    pub samples: Vec<Sample>,
    /// Every time it answered as a new process, in order.
    pub restarts: Vec<Restart>,
    run_ids: Vec<String>,
}

impl Track {
    /// The last sample at or before `t`.
    pub fn at(&self, t: Micros) -> Option<&Sample> {
        let after = self.samples.partition_point(|s| s.at <= t);
        after.checked_sub(1).map(|i| &self.samples[i])
    }

    /// The last sample at or before `t` in which the node answered.
    pub fn answered_at(&self, t: Micros) -> Option<&Sample> {
        let upto = self.samples.partition_point(|s| s.at <= t);
        self.samples[..upto]
            .iter()
            .rev()
            .find(|s| s.role != Role::Unreachable)
    }

    /// The first sample at or after `t` in which the node answered.
    pub fn answered_from(&self, t: Micros) -> Option<&Sample> {
        let from = self.samples.partition_point(|s| s.at < t);
        self.samples[from..]
            .iter()
            .find(|s| s.role != Role::Unreachable)
    }

    /// Samples in `[from, until]`.
    pub fn between(&self, from: Micros, until: Micros) -> &[Sample] {
        let start = self.samples.partition_point(|s| s.at < from);
        let end = self.samples.partition_point(|s| s.at <= until);
        &self.samples[start..end.max(start)]
    }

    /// The last sample in `[from, until]` in which the node was a replica and its offset was
    /// sampled: what it held as a replica before then.
    pub fn last_replica_offset(&self, from: Micros, until: Micros) -> Option<&Sample> {
        self.between(from, until)
            .iter()
            .rev()
            .find(|s| s.role.is_replica() && s.offset.is_some())
    }

    /// What the node served between its last answer at or before `from` and its first answer at
    /// or after `until`, as one process: `None` when either answer is missing, the process
    /// restarted in between, or the node did not count what it served.
    pub fn served_between(&self, from: Micros, until: Micros) -> Option<ServedSpan> {
        let before = self.answered_at(from)?;
        let after = self.answered_from(until)?;
        if before.run != after.run {
            return None;
        }
        let delta = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
        Some(ServedSpan {
            from: before.at,
            until: after.at,
            reads: delta(before.served.reads, after.served.reads),
            writes: delta(before.served.writes, after.served.writes),
        })
    }

    /// What the node served between its first answer at or after `from` and its last at or
    /// before `until`, as one process: what it served inside the window, looking no further.
    /// `None` when it answered fewer than twice in the window as one process, or did not count.
    pub fn served_within(&self, from: Micros, until: Micros) -> Option<ServedSpan> {
        let window = self.between(from, until);
        let mut answers = window.iter().filter(|s| s.role != Role::Unreachable);
        let first = answers.next()?;
        let last = answers.rfind(|s| s.run == first.run)?;
        let delta = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
        Some(ServedSpan {
            from: first.at,
            until: last.at,
            reads: delta(first.served.reads, last.served.reads),
            writes: delta(first.served.writes, last.served.writes),
        })
    }

    /// Whether the node served nothing from `from` to `until` that the harness could see: from
    /// its last answer at or before `from` to its first at or after `until`, its counters did not
    /// move while it was one process, and a process that started in between showed nothing
    /// served at its first answer; or it was sampled in the window and never answered. `None`
    /// when that cannot be told (no answer on one side, counters it did not give). Reads count
    /// always; writes only with `as_master_too` and only while it was master (a replica's writes
    /// are what it replicated).
    pub fn served_nothing_within(
        &self,
        from: Micros,
        until: Micros,
        as_master_too: bool,
    ) -> Option<bool> {
        let window = self.between(from, until);
        if !window.is_empty() && window.iter().all(|s| s.role == Role::Unreachable) {
            return Some(true);
        }
        let before = self.answered_at(from)?;
        let after = self.answered_from(until)?;
        let answers: Vec<&Sample> = self
            .between(before.at, after.at)
            .iter()
            .filter(|s| s.role != Role::Unreachable)
            .collect();
        let writes_count = |s: &Sample| as_master_too && s.role == Role::Master;
        for pair in answers.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let moved = if a.run == b.run {
                let reads = b.served.reads? > a.served.reads?;
                let writes =
                    (writes_count(a) || writes_count(b)) && b.served.writes? > a.served.writes?;
                reads || writes
            } else {
                // A new process counts from zero.
                b.served.reads? > 0 || (writes_count(b) && b.served.writes? > 0)
            };
            if moved {
                return Some(false);
            }
        }
        Some(true)
    }

    fn find_restarts(&self) -> Vec<Restart> {
        let mut restarts = Vec::new();
        let mut last: Option<&Sample> = None;
        for sample in self.samples.iter().filter(|s| s.role != Role::Unreachable) {
            if let Some(before) = last.filter(|b| b.run != sample.run) {
                restarts.push(Restart {
                    at: sample.at,
                    last_before: before.at,
                    keys_before: before.keys,
                    keys_after: sample.keys,
                    loaded_keys: sample.loaded_keys,
                    offset_after: sample.offset,
                });
            }
            last = Some(sample);
        }
        restarts
    }
}

/// What the in-process app's store reported.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StoreMark {
    at: Micros,
    resolved: bool,
    master: String,
}

/// The cluster over the run; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct ClusterView {
    faults: Vec<FaultSpan>,
    switches: Vec<Switch>,
    /// `+promoted-slave` and `+switch-master` about a node: it became master by a failover.
    promotions: Vec<(Micros, String)>,
    /// `+convert-to-slave` about a node.
    demotions: Vec<(Micros, String)>,
    /// Every time a sentinel reconfigured a data node, closing its clients.
    reconfigurations: Vec<Reconfiguration>,
    tracks: Vec<Track>,
    /// The master the sentinels named at their first sample.
    first_master: Option<String>,
    /// Per app instance, its store's resolutions and announcements.
    store: BTreeMap<u32, Vec<StoreMark>>,
    names: HashMap<String, String>,
    /// Addresses replicas were seen following.
    addrs: Vec<String>,
    /// The sentinels' leader elections.
    elections: Elections,
}

impl ClusterView {
    /// Builds the view from the records that are not operations, in recording order.
    pub fn new<'a>(records: impl IntoIterator<Item = &'a Record>) -> Self {
        let mut view = Self::default();
        let mut tracks: BTreeMap<String, Track> = BTreeMap::new();
        let mut first_named: BTreeMap<String, Option<String>> = BTreeMap::new();
        // Each data node's role at its last answer, to see a replica turn master.
        let mut last_answer: HashMap<String, Role> = HashMap::new();
        for record in records {
            match record {
                Record::Fault(f) => {
                    view.names.insert(f.addr.clone(), f.node.clone());
                    match f.phase {
                        FaultPhase::Start => view.faults.push(FaultSpan {
                            kind: f.fault,
                            node: f.node.clone(),
                            cut: f.cut,
                            from: f.applying_since.unwrap_or(f.at).min(f.at),
                            until: None,
                        }),
                        FaultPhase::Heal => {
                            if let Some(open) = view.faults.iter_mut().find(|s| {
                                s.node == f.node && s.kind == f.fault && s.until.is_none()
                            }) {
                                // A restarted node can answer before the heal's call returns.
                                open.until = Some(f.applying_since.unwrap_or(f.at).min(f.at));
                            }
                        }
                        FaultPhase::Rejoined => {}
                    }
                }
                Record::Sentinel(e) => {
                    view.elections.hear(e);
                    match &e.notice {
                        Notice::SwitchMaster { old, new } => {
                            // Every sentinel announces the same switch; the first is the moment.
                            if view.switches.last().is_none_or(|s| s.new != *new) {
                                view.promotions.push((e.at, new.clone()));
                                view.switches.push(Switch {
                                    at: e.at,
                                    old: old.clone(),
                                    new: new.clone(),
                                });
                            }
                        }
                        Notice::Instance { event, instance } => {
                            let addr = instance.addr.clone();
                            match event {
                                InstanceEvent::PromotedReplica => {
                                    view.promotions.push((e.at, addr.clone()));
                                }
                                InstanceEvent::ConvertToReplica => {
                                    view.demotions.push((e.at, addr.clone()));
                                }
                                _ => {}
                            }
                            if event.closes_clients() {
                                view.reconfigurations.push(Reconfiguration {
                                    at: e.at,
                                    addr,
                                    event: *event,
                                });
                            }
                        }
                        Notice::Other => {}
                    }
                }
                Record::Store(e) => {
                    // A first success on a master is a use of it, even by a request that
                    // reached it without the store resolving it (a reconnection to a kept address).
                    let resolved = match e.event {
                        StoreChange::MasterResolved | StoreChange::FirstSuccess => true,
                        StoreChange::SwitchAnnounced => false,
                    };
                    view.store.entry(e.instance).or_default().push(StoreMark {
                        at: e.at,
                        resolved,
                        master: e.master.clone(),
                    });
                }
                Record::Node(s) => match (&s.state, s.kind) {
                    (NodeState::Sentinel { master }, _) => {
                        first_named
                            .entry(s.node.clone())
                            .or_insert_with(|| master.clone());
                    }
                    (_, NodeType::Sentinel) => {}
                    (state, NodeType::Data) => {
                        view.names.insert(s.addr.clone(), s.node.clone());
                        let track = tracks.entry(s.node.clone()).or_insert_with(|| Track {
                            node: s.node.clone(),
                            addr: s.addr.clone(),
                            ..Track::default()
                        });
                        let run = match state.run_id() {
                            Some(id) => match track.run_ids.iter().position(|r| r == id) {
                                Some(i) => i,
                                None => {
                                    track.run_ids.push(id.to_owned());
                                    track.run_ids.len() - 1
                                }
                            },
                            None => track.samples.last().map_or(0, |l| l.run),
                        };
                        let (role, follows) = match state {
                            NodeState::Master { .. } => (Role::Master, None),
                            NodeState::Replica {
                                link_up, master, ..
                            } => {
                                let index = match view.addrs.iter().position(|a| a == master) {
                                    Some(i) => i,
                                    None => {
                                        view.addrs.push(master.clone());
                                        view.addrs.len() - 1
                                    }
                                };
                                (Role::Replica { link_up: *link_up }, Some(index))
                            }
                            _ => (Role::Unreachable, None),
                        };
                        // A replica seen answering as master was promoted, whether or not a
                        // sentinel has said so yet.
                        if role != Role::Unreachable {
                            let was = last_answer.insert(s.node.clone(), role);
                            if role == Role::Master && was.is_some_and(Role::is_replica) {
                                view.promotions.push((s.at, s.addr.clone()));
                            }
                        }
                        track.samples.push(Sample {
                            at: s.at,
                            role,
                            offset: state.offset().and_then(|o| u64::try_from(o).ok()),
                            served: state.served().unwrap_or_default(),
                            keys: state.keys().unwrap_or(0),
                            run,
                            loaded_keys: state.loaded_keys(),
                            follows,
                        });
                    }
                },
                Record::Operation(_) | Record::Phase(_) => {}
            }
        }
        view.tracks = tracks.into_values().collect();
        for track in &mut view.tracks {
            track.samples.sort_by_key(|s| s.at);
            track.restarts = track.find_restarts();
            for restart in &mut track.restarts {
                let heal = view.faults.iter().find_map(|f| {
                    f.until.filter(|u| {
                        f.node == track.node && *u > restart.last_before && *u <= restart.at
                    })
                });
                restart.at = heal.unwrap_or(restart.at);
            }
        }
        view.switches.sort_by_key(|s| s.at);
        // A sentinel that missed a switch announces the next one from a master it still believes
        // in; the switches chain: each one's old master is the one the switch before named.
        for i in 1..view.switches.len() {
            view.switches[i].old = view.switches[i - 1].new.clone();
        }
        view.promotions.sort();
        view.demotions.sort();
        view.reconfigurations.sort_by_key(|r| r.at);
        // The master most sentinels named at their first sample; ties go to the first sentinel.
        let mut votes: Vec<(String, usize)> = Vec::new();
        for named in first_named.into_values().flatten() {
            match votes.iter_mut().find(|(m, _)| *m == named) {
                Some((_, n)) => *n += 1,
                None => votes.push((named, 1)),
            }
        }
        view.first_master = votes
            .into_iter()
            .rev()
            .max_by_key(|(_, n)| *n)
            .map(|(m, _)| m)
            .or_else(|| {
                view.tracks
                    .iter()
                    .find(|t| t.samples.first().is_some_and(|s| s.role == Role::Master))
                    .map(|t| t.addr.clone())
            });
        view
    }

    /// The sentinels' leader elections, as heard.
    pub fn elections(&self) -> &Elections {
        &self.elections
    }

    /// The node's name for an address, or the address when no record named it.
    pub fn name(&self, addr: &str) -> String {
        self.names
            .get(addr)
            .cloned()
            .unwrap_or_else(|| addr.to_owned())
    }

    /// Every data node's samples.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// A data node's samples, by name.
    pub fn track(&self, node: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.node == node)
    }

    /// A data node's samples, by address.
    pub fn track_at(&self, addr: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.addr == addr)
    }

    /// Every fault.
    pub fn faults(&self) -> &[FaultSpan] {
        &self.faults
    }

    /// Every switch the sentinels announced.
    pub fn switches(&self) -> &[Switch] {
        &self.switches
    }

    /// The master the sentinels named at `t`: the last switch before it, else the one they named
    /// at their first sample.
    pub fn named_master(&self, t: Micros) -> Option<&str> {
        let before = self.switches.partition_point(|s| s.at <= t);
        match before.checked_sub(1) {
            Some(i) => Some(&self.switches[i].new),
            None => self.first_master.as_deref(),
        }
    }

    /// The switch away from `addr` that came last at or before `t`.
    pub fn switch_away(&self, addr: &str, t: Micros) -> Option<&Switch> {
        self.switches
            .iter()
            .rev()
            .find(|s| s.at <= t && s.old == addr)
    }

    /// The first switch in `(after, until]`.
    pub fn switch_between(&self, after: Micros, until: Micros) -> Option<&Switch> {
        self.switches.iter().find(|s| s.at > after && s.at <= until)
    }

    /// When `addr` was last seen promoted at or before `t`: its first answer as master after
    /// answering as a replica, its `+promoted-slave`, or the `+switch-master` naming it.
    pub fn promoted(&self, addr: &str, t: Micros) -> Option<Micros> {
        self.promotions
            .iter()
            .rev()
            .find(|(at, a)| *at <= t && a == addr)
            .map(|(at, _)| *at)
    }

    /// The address a replica sample followed.
    pub fn followed(&self, sample: &Sample) -> Option<&str> {
        sample
            .follows
            .and_then(|i| self.addrs.get(i))
            .map(String::as_str)
    }

    /// `track`'s last sample as a replica at or before `until`, when its offset counts `master`'s
    /// replication stream: it followed `master`, and was seen linked to it (link up) as the same
    /// process since it last followed anything else. `None` otherwise, offset or not: a replica
    /// told to follow a new master keeps the offset of its old stream until its link comes up.
    pub fn offset_in_stream_of<'t>(
        &self,
        track: &'t Track,
        master: &str,
        until: Micros,
    ) -> Option<&'t Sample> {
        let upto = track.samples.partition_point(|s| s.at <= until);
        let answers = track.samples[..upto]
            .iter()
            .rev()
            .filter(|s| s.role != Role::Unreachable);
        let mut replicas = answers.skip_while(|s| !s.role.is_replica());
        let last = replicas.next()?;
        let of_master = |s: &Sample| {
            s.role.is_replica() && s.run == last.run && self.followed(s) == Some(master)
        };
        if last.offset.is_none() || !of_master(last) {
            return None;
        }
        std::iter::once(last)
            .chain(replicas.take_while(|s| of_master(s)))
            .any(|s| s.role == Role::Replica { link_up: true })
            .then_some(last)
    }

    /// When Sentinel first demoted `addr` at or after `t`: its `+convert-to-slave`, or its first
    /// sample as a replica.
    pub fn demoted(&self, addr: &str, t: Micros) -> Option<Micros> {
        let event = self
            .demotions
            .iter()
            .find(|(at, a)| *at >= t && a == addr)
            .map(|(at, _)| *at);
        let sampled = self
            .tracks
            .iter()
            .find(|tr| tr.addr == addr)
            .and_then(|tr| {
                tr.samples[tr.samples.partition_point(|s| s.at < t)..]
                    .iter()
                    .find(|s| s.role.is_replica())
            })
            .map(|s| s.at);
        match (event, sampled) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Every reconfiguration of a data node by a sentinel, in time order (each sentinel's
    /// announcement of the same one is kept).
    pub fn reconfigurations(&self) -> &[Reconfiguration] {
        &self.reconfigurations
    }

    /// Faults on `node` in force at `t`.
    pub fn faults_on(&self, node: &str, t: Micros) -> impl Iterator<Item = &FaultSpan> {
        let node = node.to_owned();
        self.faults
            .iter()
            .filter(move |f| f.node == node && f.active_at(t))
    }

    /// Whether any data node was sampled at all: without samples, node states explain nothing.
    pub fn sampled(&self) -> bool {
        self.tracks.iter().any(|t| !t.samples.is_empty())
    }

    /// The master app instance `instance` used at `t`: the last one its store resolved or first
    /// succeeded on.
    pub fn app_master(&self, instance: u32, t: Micros) -> Option<&str> {
        self.store
            .get(&instance)?
            .iter()
            .rev()
            .find(|m| m.resolved && m.at <= t)
            .map(|m| m.master.as_str())
    }

    /// When app instance `instance` first heard `+switch-master` name `addr` at or after `from`
    /// and at or before `t`.
    pub fn app_heard(&self, instance: u32, addr: &str, from: Micros, t: Micros) -> Option<Micros> {
        self.store
            .get(&instance)?
            .iter()
            .find(|m| !m.resolved && m.master == addr && m.at >= from && m.at <= t)
            .map(|m| m.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{FaultEvent, NodeSample, SentinelEvent};

    fn master(at: Micros, run: &str, keys: u64) -> Record {
        Record::Node(NodeSample {
            at,
            node: "redis-1".into(),
            kind: NodeType::Data,
            addr: "10.0.0.2:6379".into(),
            state: NodeState::Master {
                run_id: run.into(),
                offset: 100,
                keys,
                loaded_keys: Some(0),
                replicas: 2,
                served: Default::default(),
            },
        })
    }

    #[test]
    fn tells_the_named_master_restarts_and_faults_at_any_moment() {
        let records = vec![
            master(1_000, "a", 20),
            Record::Fault(FaultEvent {
                at: 2_000,
                fault: FaultKind::Kill,
                phase: FaultPhase::Start,
                node: "redis-1".into(),
                addr: "10.0.0.2:6379".into(),
                cut: None,
                applying_since: None,
                in_flight: None,
            }),
            Record::Node(NodeSample {
                at: 2_500,
                node: "redis-1".into(),
                kind: NodeType::Data,
                addr: "10.0.0.2:6379".into(),
                state: NodeState::Unreachable {
                    error: "refused".into(),
                },
            }),
            Record::Sentinel(SentinelEvent::heard(
                4_000,
                "sentinel-1",
                "+switch-master",
                "mymaster 10.0.0.2 6379 10.0.0.3 6379",
            )),
            Record::Sentinel(SentinelEvent::heard(
                4_100,
                "sentinel-2",
                "+switch-master",
                "mymaster 10.0.0.2 6379 10.0.0.3 6379",
            )),
            master(9_000, "b", 0),
        ];
        let view = ClusterView::new(&records);
        assert_eq!(view.switches().len(), 1, "one switch, announced twice");
        assert_eq!(view.named_master(3_999), Some("10.0.0.2:6379"));
        assert_eq!(view.named_master(4_000), Some("10.0.0.3:6379"));
        let track = view.track("redis-1").expect("sampled");
        let restarts = &track.restarts;
        assert_eq!(restarts.len(), 1);
        assert!(restarts[0].empty());
        assert_eq!(restarts[0].at, 9_000);
        assert_eq!(track.at(2_600).map(|s| s.role), Some(Role::Unreachable));
        assert_eq!(view.faults_on("redis-1", 3_000).count(), 1);
        assert_eq!(view.name("10.0.0.2:6379"), "redis-1");
        assert_eq!(view.demoted("10.0.0.2:6379", 0), None);
    }
}
