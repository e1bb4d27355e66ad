//! One function per kind of cause. Each looks at the moments of a finding (when the user was told
//! something, when the contradicting answer came, and which app instance answered) and returns a
//! cause only when the recorded evidence shows it; `crate::cause::explain` tries them in order.

use super::view::{ClusterView, Role, Sample, Track};
use super::{at, span, Cause, CauseKind};
use crate::checker::{Class, Finding, Moment};
use crate::history::Micros;
use crate::marks::app_instance;

/// What the user was told, as a verb for causes: `acknowledged`, `logged in`.
fn told(class: Class) -> &'static str {
    match class {
        Class::LostSession => "logged in",
        Class::Rollback => "the newer session was read",
        Class::DuplicateWrite => "written",
        Class::UserVisibleError | Class::RetriedError => "failed",
        Class::LostWrite | Class::StaleRead | Class::ForeignSession => "acknowledged",
    }
}

fn cause(kind: CauseKind, summary: String, detail: String) -> Option<Cause> {
    Some(Cause {
        kind,
        summary,
        detail,
    })
}

/// When Sentinel demoted `addr` after `t`, in words.
fn demotion(view: &ClusterView, addr: &str, t: Micros) -> String {
    let name = view.name(addr);
    view.demoted(addr, t).map_or_else(
        || format!("{name} was not demoted before the run ended"),
        |d| format!("{name} was demoted at {}", at(d)),
    )
}

/// The data nodes the user could have been told by at `m`: the in-process app's master, or else
/// every node that said it was master then.
fn tellers<'v>(view: &'v ClusterView, m: &Moment) -> Vec<&'v Track> {
    let t = m.ended_at;
    match view.app_master(m.instance, t) {
        Some(addr) => view.track_at(addr).into_iter().collect(),
        None => view
            .tracks()
            .iter()
            .filter(|tr| tr.at(t).is_some_and(|s| s.role == Role::Master))
            .collect(),
    }
}

fn split_brain(view: &ClusterView, m: Moment, verb: &str) -> Option<Cause> {
    let t = m.ended_at;
    let app = view.app_master(m.instance, t);
    view.faults()
        .iter()
        .filter(|s| s.active_at(t) && s.cut.is_some_and(|c| c.isolates_from_cluster()))
        .find_map(|fault| {
            let track = view.track(&fault.node)?;
            if app.is_some_and(|a| a != track.addr) || track.at(t)?.role != Role::Master {
                return None;
            }
            // Another master was promoted in its place: that makes two.
            let replaced = view
                .switches()
                .iter()
                .find(|s| s.old == track.addr && s.at >= fault.from)?;
            let x = &track.node;
            cause(
                CauseKind::SplitBrain,
                format!("{verb} while {x} was cut off from the sentinels and before it was demoted (split brain)"),
                format!(
                    "{verb} at {}, {} into the partition of {x}; +switch-master to {} at {}; {}",
                    at(t),
                    span(fault.from, t),
                    view.name(&replaced.new),
                    at(replaced.at),
                    demotion(view, &track.addr, t)
                ),
            )
        })
}

/// What the user was told came from a master cut off from the sentinels, which promoted another.
pub fn split_brain_when_told(view: &ClusterView, f: &Finding) -> Option<Cause> {
    split_brain(view, f.relied?, told(f.class))
}

/// The answer came from a master cut off from the sentinels, which promoted another.
pub fn split_brain_when_answered(view: &ClusterView, f: &Finding) -> Option<Cause> {
    split_brain(view, f.answered, "answered")
}

/// The answer came from a master that had restarted without its data (no persistence) and that
/// Sentinel had not demoted yet; what the user had been told came before the restart.
pub fn restarted_empty(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let a = f.answered;
    let t = a.ended_at;
    let told_at = f.relied.map(|m| m.ended_at);
    let app = view.app_master(a.instance, t);
    view.tracks().iter().find_map(|track| {
        if app.is_some_and(|addr| addr != track.addr) {
            return None;
        }
        let restart = track
            .restarts
            .iter()
            .rfind(|r| r.at <= t && r.empty() && told_at.is_none_or(|told| told < r.at))?;
        let came_back_as = came_back_as(track, restart.at, t)?;
        let x = &track.node;
        let fault = view
            .faults()
            .iter()
            .rfind(|s| s.node == *x && s.from <= restart.at);
        let came_back = fault.map_or_else(
            || format!("at {}", at(restart.at)),
            |s| format!("at {}, {} after the {}", at(restart.at), span(s.from, restart.at), s.kind),
        );
        if let CameBackAs::UnsyncedReplica { first } = came_back_as {
            let of = view
                .followed(&first)
                .map_or_else(|| "its master".to_owned(), |m| view.name(m));
            return cause(
                CauseKind::RestartedEmpty,
                format!(
                    "answered by {x} after it restarted empty, as a replica that had not yet copied the master's data"
                ),
                format!(
                    "{x} came back {came_back} with {} keys instead of {}, as a replica of {} with its link down: Redis answers reads from a replica before its first sync (replica-serve-stale-data); answered at {}",
                    restart.keys_after,
                    restart.keys_before,
                    of,
                    at(t),
                ),
            );
        }
        let named = view.named_master(t);
        let (summary, sentinels) = match named {
            Some(m) if m == track.addr => (
                format!("answered after {x} restarted empty while it was still the master: no replica had been promoted, so its replicas copied the empty data set"),
                "no replica had been promoted".to_owned(),
            ),
            Some(m) => (
                format!("answered after {x} restarted empty and before Sentinel demoted it"),
                format!(
                    "the sentinels had named {} master since {}",
                    view.name(m),
                    view.switch_away(&track.addr, t)
                        .map_or_else(|| "before".to_owned(), |s| at(s.at))
                ),
            ),
            None => (
                format!("answered after {x} restarted empty and before Sentinel demoted it"),
                "no sentinel named a master".to_owned(),
            ),
        };
        cause(
            CauseKind::RestartedEmpty,
            summary,
            format!(
                "{x} came back {came_back} with {} keys instead of {}, as master; {sentinels}; answered at {}; {}",
                restart.keys_after,
                restart.keys_before,
                at(t),
                demotion(view, &track.addr, restart.at)
            ),
        )
    })
}

/// How a restarted node served between its restart and an answer.
enum CameBackAs {
    /// As a master.
    Master,
    /// As a replica that had not synced yet (link down), answering from its empty data; the
    /// sample that said so first.
    UnsyncedReplica { first: Sample },
}

/// How `track`'s node, restarted at `restart`, served until `t`: every answer in between as a
/// master, or every one as a replica with its link down; `None` otherwise.
fn came_back_as(track: &Track, restart: Micros, t: Micros) -> Option<CameBackAs> {
    let mut answers: Vec<&Sample> = track
        .between(restart, t)
        .iter()
        .filter(|s| s.role != Role::Unreachable)
        .collect();
    if answers.is_empty() {
        // The app reached the new process before the sampler did: the process's first answer
        // says how it started, and a node is neither promoted nor synced before it has answered.
        answers.extend(track.answered_from(restart));
    }
    let first = answers.first()?;
    if answers.iter().all(|s| s.role == Role::Master) {
        return Some(CameBackAs::Master);
    }
    let unsynced = |s: &&Sample| s.role == Role::Replica { link_up: false };
    if answers.iter().all(unsynced) {
        return Some(CameBackAs::UnsyncedReplica { first: **first });
    }
    None
}

/// The answer came from a node promoted (between the telling and the answer) while it did not hold
/// what the master it replaced had: it had been master before and was never demoted and
/// resynced, or it had not been replicating from that master since before the user was told.
pub fn stale_promotion(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let told_at = f.relied?.ended_at;
    let a = f.answered;
    let z = view
        .app_master(a.instance, a.ended_at)
        .or_else(|| view.named_master(a.started_at))?;
    let promoted = view.promoted(z, a.ended_at)?;
    if promoted <= told_at {
        return None;
    }
    let track = view.track_at(z)?;
    let zn = &track.node;
    let verb = told(f.class);
    let times = format!("{verb} at {}, answered at {}", at(told_at), at(a.ended_at));
    if let Some(away) = view.switch_away(z, promoted) {
        let between = track.between(away.at, promoted);
        let kept_old_data = !between.is_empty()
            && !between.iter().any(|s| s.role.is_replica())
            && !track
                .restarts
                .iter()
                .any(|r| r.at > away.at && r.at <= promoted);
        if kept_old_data {
            return cause(
                CauseKind::StalePromotion,
                format!("{zn} was promoted again while it still held the data it had when it stopped being the master (it was never demoted and resynced)"),
                format!(
                    "{zn} stopped being the master at {} (+switch-master to {}) and was promoted again at {}, {} later; {times}",
                    at(away.at),
                    view.name(&away.new),
                    at(promoted),
                    span(away.at, promoted)
                ),
            );
        }
    }
    // The master it replaced: the one the switch to it names, else the one named when told.
    let x = view
        .switches()
        .iter()
        .rev()
        .find(|s| s.new == z && s.at <= a.ended_at)
        .map(|s| s.old.as_str())
        .or_else(|| view.named_master(told_at))?;
    if x == z {
        return None;
    }
    let linked =
        |s: &Sample| s.role == Role::Replica { link_up: true } && view.followed(s) == Some(x);
    // Its last answer before the user was told must show it unlinked from the old master, and
    // no answer since, up to its promotion, linked again; else the loss is a replication lag at
    // most, which `unreplicated` names.
    let seen = track.answered_at(told_at)?;
    if linked(seen) || seen.role == Role::Master {
        return None;
    }
    if track.between(told_at, promoted).iter().any(&linked) {
        return None;
    }
    let linked_to_x = track
        .between(0, told_at)
        .iter()
        .rev()
        .find(|s| linked(s))
        .map(|s| s.at);
    let xn = view.name(x);
    let since = linked_to_x.map_or_else(
        || format!("{zn} was never linked to {xn} during the run"),
        |linked| format!("{zn} had not been linked to {xn} since {}", at(linked)),
    );
    cause(
        CauseKind::StalePromotion,
        format!("{zn} was promoted while it was not replicating from {xn}, so it lacked what {xn} had acknowledged"),
        format!(
            "{since} and was promoted at {}; {times}",
            at(promoted)
        ),
    )
}

/// The user was told by the old master after a replica had been promoted in its place (or while
/// it was being promoted) and before the old one was demoted.
pub fn two_masters(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let m = f.relied?;
    let t = m.ended_at;
    let verb = told(f.class);
    tellers(view, &m).into_iter().find_map(|x| {
        if x.at(t)?.role != Role::Master {
            return None;
        }
        let x_promoted = view.promoted(&x.addr, t);
        view.tracks().iter().find_map(|y| {
            if y.addr == x.addr {
                return None;
            }
            let (promoted, when) = promotion_around(view, y, t)?;
            if x_promoted.is_some_and(|p| p >= promoted) {
                return None;
            }
            cause(
                CauseKind::TwoMasters,
                format!(
                    "{verb} by {} {} {} was {} and before {} was demoted (two masters)",
                    x.node,
                    if when.is_empty() { "after" } else { "while" },
                    y.node,
                    if when.is_empty() {
                        "promoted"
                    } else {
                        "being promoted"
                    },
                    x.node
                ),
                format!(
                    "{verb} at {}{}; {}",
                    at(t),
                    if when.is_empty() {
                        format!(", {} after {} was promoted", span(promoted, t), y.node)
                    } else {
                        when
                    },
                    demotion(view, &x.addr, t)
                ),
            )
        })
    })
}

/// When `y` became master, if it was master at `t` (promoted before and not a replica since), or
/// was being promoted at `t` (a replica at its last sample before, master at its first after); in
/// the second case, also the window in words.
fn promotion_around(view: &ClusterView, y: &Track, t: Micros) -> Option<(Micros, String)> {
    if let Some(promoted) = view.promoted(&y.addr, t) {
        if !y.between(promoted, t).iter().any(|s| s.role.is_replica()) {
            return Some((promoted, String::new()));
        }
    }
    let before = y.answered_at(t).filter(|s| s.role.is_replica())?;
    let after = y.answered_from(t).filter(|s| s.role == Role::Master)?;
    Some((
        before.at,
        format!(
            ", while {} was being promoted (a replica at {}, master at {})",
            y.node,
            at(before.at),
            at(after.at)
        ),
    ))
}

/// The user was told by a master that was failed over before the answer, and the replica promoted
/// in its place did not have it: replication is asynchronous.
pub fn unreplicated(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let m = f.relied?;
    let a = f.answered;
    let switch = view.switch_between(m.ended_at, a.ended_at)?;
    let x = view
        .app_master(m.instance, m.ended_at)
        .or_else(|| view.named_master(m.ended_at))?;
    if switch.old != x {
        return None;
    }
    let (x, z) = (view.name(x), view.name(&switch.new));
    let verb = told(f.class);
    let fault = view
        .faults()
        .iter()
        .find(|s| s.node == x && s.from + 1 >= m.started_at && s.from <= switch.at);
    let summary = match fault {
        Some(s) => format!("{verb} by {x} shortly before it was {}, and {z} was promoted without it (replication is asynchronous)", s.verb()),
        None => format!("{verb} by {x}, and {z} was promoted without it (replication is asynchronous)"),
    };
    let offsets = match (
        view.track(&z).and_then(|tr| {
            tr.between(0, switch.at)
                .iter()
                .rev()
                .find(|s| matches!(s.role, Role::Replica { .. }))
                .map(|s| s.offset)
        }),
        view.track(&x).and_then(|tr| {
            tr.between(0, switch.at)
                .iter()
                .rev()
                .find(|s| s.role == Role::Master)
                .map(|s| s.offset)
        }),
    ) {
        (Some(oz), Some(ox)) => format!(
            "; {z} had replicated up to offset {oz} as a replica, {x} was last seen at {ox}"
        ),
        _ => String::new(),
    };
    cause(
        CauseKind::Unreplicated,
        summary,
        format!(
            "{verb} at {}{}; +switch-master to {z} at {}{offsets}",
            at(m.ended_at),
            fault.map_or_else(String::new, |s| format!(
                ", {} before the {}",
                span(m.ended_at, s.from),
                s.kind
            )),
            at(switch.at)
        ),
    )
}

/// The in-process app answered from a master the sentinels had already replaced.
pub fn old_master(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let a = f.answered;
    let x = view.app_master(a.instance, a.ended_at)?;
    let y = view.named_master(a.started_at)?;
    if x == y {
        return None;
    }
    let switch = view.switch_away(x, a.started_at)?;
    let heard = view.app_heard(
        a.instance,
        y,
        switch.at.saturating_sub(1_000_000),
        a.ended_at,
    );
    let (xn, yn) = (view.name(x), view.name(y));
    cause(
        CauseKind::OldMaster,
        format!("the app was still using the old master {xn} after +switch-master named {yn}"),
        format!(
            "{} at {}, {} after +switch-master (at {}); the app {}",
            if matches!(f.class, Class::UserVisibleError | Class::RetriedError) {
                "failed"
            } else {
                "answered"
            },
            at(a.ended_at),
            span(switch.at, a.started_at),
            at(switch.at),
            heard.map_or_else(
                || "had not heard it".to_owned(),
                |h| format!("had heard it at {}", at(h))
            )
        ),
    )
}

/// The request went to an app instance a fault had taken down.
pub fn app_down(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let a = f.answered;
    let instance = app_instance(a.instance);
    let fault = view
        .faults_on(&instance, a.started_at)
        .chain(view.faults_on(&instance, a.ended_at))
        .next()?;
    cause(
        CauseKind::AppDown,
        format!(
            "sent to the app instance {instance} while it was {}",
            fault.verb()
        ),
        format!(
            "sent at {}, {} after the {} began; failed at {}",
            at(a.started_at),
            span(fault.from, a.started_at),
            fault.kind,
            at(a.ended_at),
        ),
    )
}

/// The request failed while a fault held the master and no replica had replaced it yet.
pub fn fault_on_master(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let a = f.answered;
    let x_addr = view.named_master(a.started_at)?;
    let x = view.name(x_addr);
    let fault = view
        .faults_on(&x, a.started_at)
        .chain(view.faults_on(&x, a.ended_at))
        .next()?;
    let switch = view
        .switches()
        .iter()
        .find(|s| s.old == x_addr && s.at >= fault.from);
    let summary = match switch {
        // Sent to the held master and left waiting past the switch: it failed when the app or
        // the client gave up on it, not while the master was down.
        Some(s) if s.at < a.ended_at => format!(
            "sent while the master {x} was {} and before a replica was promoted; it failed only \
             after the switch",
            fault.verb()
        ),
        Some(_) => format!(
            "failed while the master {x} was {} and before a replica was promoted",
            fault.verb()
        ),
        None => format!(
            "failed while the master {x} was {}, with no replica promoted in its place",
            fault.verb()
        ),
    };
    cause(
        CauseKind::FaultOnMaster,
        summary,
        format!(
            "sent at {}, {} after the {} began; failed at {}; {}",
            at(a.started_at),
            span(fault.from, a.started_at),
            fault.kind,
            at(a.ended_at),
            switch.map_or_else(
                || "no +switch-master during the run".to_owned(),
                |s| format!("+switch-master at {}", at(s.at))
            )
        ),
    )
}

/// A read missed a value the master kept (no switch, no restart) while a replica was behind the
/// master: cut off from it, its link down, or (by its replication offset) not caught up with the
/// write even after the read. Only a replica can have served it.
pub fn replica_behind(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let told = f.relied?;
    let told_at = told.ended_at;
    let t = f.answered.ended_at;
    if view.switch_between(told_at, t).is_some() {
        return None;
    }
    let master = view.named_master(t)?;
    // The master's offset before the acknowledged write was sent: the write lies beyond it, so a
    // replica at or below it lacks the write. (A value the user only saw in a read was written
    // before that read, at an offset nothing here bounds.)
    let acknowledged = f
        .witness
        .first()
        .is_some_and(|w| w.request.starts_with("write "));
    let written_past = view
        .track_at(master)
        .and_then(|tr| tr.answered_at(told.started_at))
        .filter(|s| acknowledged && s.role == Role::Master)
        .map(|s| s.offset);
    let behind: Vec<(&Track, String)> = view
        .tracks()
        .iter()
        .filter(|tr| tr.addr != master)
        .filter_map(|tr| {
            let cut = view
                .faults_on(&tr.node, t)
                .find(|s| s.cut.is_some_and(|c| c.isolates_from_cluster()) && s.from <= told_at)
                .map(|s| format!("cut off from the master since {}", at(s.from)));
            let link_down = || {
                tr.at(t)
                    .filter(|s| s.role == Role::Replica { link_up: false })
                    .map(|_| "its replication link down".to_owned())
            };
            // Its answers just before and just after the read: either short of the write.
            let lagging = || {
                let past = written_past?;
                [tr.answered_at(t), tr.answered_from(t)]
                    .into_iter()
                    .flatten()
                    .find(|s| s.role.is_replica() && s.offset <= past)
                    .map(|s| {
                        format!(
                            "its offset {} at {} not past the master's {past} before the write",
                            s.offset,
                            at(s.at)
                        )
                    })
            };
            cut.or_else(link_down).or_else(lagging).map(|why| (tr, why))
        })
        .collect();
    if behind.is_empty() {
        return None;
    }
    let names: Vec<&str> = behind.iter().map(|(tr, _)| tr.node.as_str()).collect();
    let reasons: Vec<String> = behind
        .iter()
        .map(|(tr, why)| format!("{}: {why}", tr.node))
        .collect();
    cause(
        CauseKind::ReplicaBehind,
        format!(
            "served by a replica behind the master ({}), which kept the value",
            names.join(", ")
        ),
        format!(
            "acknowledged at {}, read at {}; the master {} kept it (no switch, no restart); {}",
            at(told_at),
            at(t),
            view.name(master),
            reasons.join("; ")
        ),
    )
}

/// A value held twice whose append the client retried.
pub fn retried_append(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let write = f
        .witness
        .first()
        .filter(|w| w.request.starts_with("write ") && w.attempts > 1)?;
    let during = f.relied.and_then(|m| {
        let master = view.named_master(m.started_at)?;
        let fault = view.faults_on(&view.name(master), m.started_at).next()?;
        Some(format!(
            ", its first attempt during the {} of {}",
            fault.kind, fault.node
        ))
    });
    cause(
        CauseKind::RetriedAppend,
        "the client retried an append the app had already applied".to_owned(),
        format!(
            "{} took {} attempts{}",
            write.request,
            write.attempts,
            during.unwrap_or_default()
        ),
    )
}

/// Nothing recorded explains the finding: says so, with what the nodes showed at the answer.
pub fn unknown(view: &ClusterView, f: &Finding) -> Cause {
    let t = f.answered.ended_at;
    let detail = if !view.sampled() {
        "no node states were recorded".to_owned()
    } else {
        let master = view.named_master(t).map(|m| {
            let role = view.track_at(m).and_then(|tr| tr.at(t)).map(|s| s.role);
            format!(
                "the sentinels named {} master{}",
                view.name(m),
                match role {
                    Some(Role::Master) => ", which answered the harness as master",
                    Some(Role::Replica { .. }) => ", which answered the harness as a replica",
                    Some(Role::Unreachable) => ", which did not answer the harness",
                    None => " (not sampled)",
                }
            )
        });
        let faults: Vec<String> = view
            .faults()
            .iter()
            .filter(|s| s.active_at(t))
            .map(|s| format!("{} of {}", s.kind, s.node))
            .collect();
        format!(
            "at {}: {}; faults in force: {}",
            at(t),
            master.unwrap_or_else(|| "no master named".to_owned()),
            if faults.is_empty() {
                "none".to_owned()
            } else {
                faults.join(", ")
            }
        )
    };
    Cause {
        kind: CauseKind::Unknown,
        summary: "unknown: no node state explains it".to_owned(),
        detail,
    }
}
