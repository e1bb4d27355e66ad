//! Causes where the data went with a master: a split brain, a master that restarted without its
//! data, a promotion of a node that did not hold the data, two masters at once, and asynchronous
//! replication that a failover exposed.

use super::{at, cause, demotion, fits, promoted_had_it, teller, tellers, told, what_told, Ruling};
use crate::cause::view::{ClusterView, Restart, Role, Sample, Switch, Track};
use crate::cause::{span, Cause, CauseKind};
use crate::checker::{Class, Finding, Moment};
use crate::history::Micros;

/// `m` came from a master cut off from the sentinels, which promoted another in its place; with
/// `replaced_first`, only once that other one was promoted (until then the cut-off master was
/// the only one, holding everything).
fn split_brain(view: &ClusterView, m: Moment, verb: &str, replaced_first: bool) -> Option<Cause> {
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
                .find(|s| s.old == track.addr && s.at >= fault.from)
                .filter(|s| !replaced_first || s.at <= t)?;
            // Told before the promotion: the promoted replica's offset may show it had it
            // (WAIT, or a write just before the cut), and then the split did not lose it.
            if !replaced_first && promoted_had_it(view, &m, replaced) == Some(true) {
                return None;
            }
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

/// What the user was told came from a master cut off from the sentinels, which promoted another:
/// its replicas, cut off too, never had it, whether the promotion came before or after.
pub fn split_brain_when_told(view: &ClusterView, f: &Finding) -> Option<Cause> {
    split_brain(view, f.relied?, told(f.class), false)
}

/// The answer came from a master cut off from the sentinels after they had promoted another.
pub fn split_brain_when_answered(view: &ClusterView, f: &Finding) -> Option<Cause> {
    split_brain(view, f.answered, "answered", true)
}

/// What a restart came back without.
#[derive(Debug, Clone, Copy)]
pub(super) enum CameBackWithout {
    /// Its data: it loaded no keys, or its key count collapsed.
    Everything,
    /// What the user was told: it loaded a snapshot from its disk, and the snapshot's offset shows
    /// it was written before the telling (see [`came_back_without`]).
    TheTelling {
        /// Keys it loaded.
        loaded: u64,
        /// Its offset at its first answer, at most the snapshot's plus what it took since.
        offset: u64,
        /// When its last answer before the telling began came, as master.
        was_at: Micros,
        /// Its offset then.
        was: u64,
    },
}

/// What `track`'s node came back without at `restart`, for finding `f` told before it; `None`
/// when the records do not show it lost anything.
///
/// A node that restarts without persistence can still load an RDB file: a replica keeps the one
/// its last full sync wrote unless `rdb-del-sync-files` is set. That snapshot lacks every write
/// made after it, but when it was written is not recorded. Its offset bounds it: Redis restores the
/// offset the file records, and a master's offset only grows. So when the node was master, as one
/// process, from its last answer before the telling began until its last answer before the
/// restart, and came back at an offset (the file's, plus whatever it took before its first
/// answer) not past the one it had then, the snapshot was written before the telling: it lacks a
/// write the request made (an acknowledgement, a login, a logout), and a newer session a read
/// showed is newer than it. The node must have been the one that told the user.
pub(super) fn came_back_without(
    view: &ClusterView,
    track: &Track,
    restart: &Restart,
    f: &Finding,
) -> Option<CameBackWithout> {
    if restart.empty() {
        return Some(CameBackWithout::Everything);
    }
    let told = f.relied?;
    let loaded = restart.loaded_keys.filter(|&n| n > 0)?;
    // An RDB file without replication information leaves the offset at 0, and says nothing.
    let offset = restart.offset_after.filter(|&o| o > 0)?;
    if !tellers(view, &told).iter().any(|t| t.addr == track.addr) {
        return None;
    }
    let before = *track.answered_at(told.started_at)?;
    let was = before.offset?;
    let master_throughout = track
        .between(before.at, restart.last_before)
        .iter()
        .filter(|s| s.role != Role::Unreachable)
        .all(|s| s.role == Role::Master && s.run == before.run);
    (master_throughout && before.role == Role::Master && offset <= was).then_some(
        CameBackWithout::TheTelling {
            loaded,
            offset,
            was_at: before.at,
            was,
        },
    )
}

/// The answer came from a node that had restarted without its data (no persistence), or with only
/// an older snapshot from its disk, and that Sentinel had not demoted yet; what the user had been
/// told came before the restart.
pub fn restarted_empty(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let a = f.answered;
    let t = a.ended_at;
    let told_at = f.relied.map(|m| m.ended_at);
    let app = view.app_master(a.instance, t);
    view.tracks().iter().find_map(|track| {
        if app.is_some_and(|addr| addr != track.addr) {
            return None;
        }
        let (restart, without) = track.restarts.iter().rev().find_map(|r| {
            if r.at > t || told_at.is_some_and(|told| told >= r.at) {
                return None;
            }
            Some((r, came_back_without(view, track, r, f)?))
        })?;
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
        let (how, with, data) = match without {
            CameBackWithout::Everything => (
                "empty",
                format!("with {} keys instead of {}", restart.keys_after, restart.keys_before),
                "the empty data set",
            ),
            CameBackWithout::TheTelling {
                loaded,
                offset,
                was_at,
                was,
            } => (
                "from an older snapshot on its disk",
                format!(
                    "with {loaded} keys loaded from disk at offset {offset}, not past {was}, where it was at {} (before {} at {}) and master, as one process, until it went down: a snapshot older than {}",
                    at(was_at),
                    match f.class {
                        Class::LostSession | Class::LostLogin => "the login",
                        Class::ResurrectedSession => "the logout",
                        Class::Rollback => "the newer read",
                        _ => "the write",
                    },
                    at(f.relied.map_or(was_at, |m| m.ended_at)),
                    what_told(f.class),
                ),
                "the older snapshot",
            ),
        };
        if let CameBackAs::UnsyncedReplica { first } = came_back_as {
            let of = view
                .followed(&first)
                .map_or_else(|| "its master".to_owned(), |m| view.name(m));
            return cause(
                CauseKind::RestartedEmpty,
                format!(
                    "answered by {x} after it restarted {how}, as a replica that had not yet copied the master's data"
                ),
                format!(
                    "{x} came back {came_back}, as a replica of {} with its link down, {with}; Redis answers reads from a replica before its first sync (replica-serve-stale-data); answered at {}",
                    of,
                    at(t),
                ),
            );
        }
        let named = view.named_master(t);
        let (summary, sentinels) = match named {
            Some(m) if m == track.addr => (
                format!("answered after {x} restarted {how} while it was still the master: no replica had been promoted, so its replicas copied {data}"),
                match view.elections().unelected_before(restart.at) {
                    Some(election) => format!("no replica had been promoted: {election}"),
                    None => "no replica had been promoted".to_owned(),
                },
            ),
            Some(m) => (
                format!("answered after {x} restarted {how} and before Sentinel demoted it"),
                format!(
                    "the sentinels had named {} master since {}",
                    view.name(m),
                    view.switch_away(&track.addr, t)
                        .map_or_else(|| "before".to_owned(), |s| at(s.at))
                ),
            ),
            None => (
                format!("answered after {x} restarted {how} and before Sentinel demoted it"),
                "no sentinel named a master".to_owned(),
            ),
        };
        cause(
            CauseKind::RestartedEmpty,
            summary,
            format!(
                "{x} came back {came_back}, as master, {with}; {sentinels}; answered at {}; {}",
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
///
/// The answer after the switch is the evidence that the promoted replica lacked it. The offsets
/// can contradict that: a replica whose last offset before the switch was at or past the master's
/// first offset after the telling had what the user was told, so something else lost it. Without
/// the replica's offset before the switch it cannot be told either way.
pub fn unreplicated(view: &ClusterView, f: &Finding) -> Ruling {
    let Some(m) = f.relied else {
        return Ruling::NotThis;
    };
    let a = f.answered;
    let Some(switch) = view.switch_between(m.ended_at, a.ended_at) else {
        return Ruling::NotThis;
    };
    if teller(view, &m) != Some(switch.old.as_str()) {
        return Ruling::NotThis;
    }
    let (xn, zn) = (view.name(&switch.old), view.name(&switch.new));
    let z_before = view
        .track_at(&switch.new)
        .and_then(|tr| view.offset_in_stream_of(tr, &switch.old, switch.at))
        .copied();
    let Some(z_before) = z_before else {
        return Ruling::Undecided(unsampled_offset(view, f, switch));
    };
    let x_track = view.track_at(&switch.old);
    let x_after = x_track.and_then(|tr| {
        tr.between(m.ended_at, switch.at)
            .iter()
            .find(|s| s.role == Role::Master && s.offset.is_some())
            .copied()
    });
    let (oz, z_at) = (z_before.offset.unwrap_or(0), at(z_before.at));
    let offsets = match x_after {
        Some(x) if z_before.offset >= x.offset => {
            // The first promoted replica had it; a later promotion may not have.
            let threshold = (x.offset.unwrap_or(0), x.at);
            return later_promotion_short(view, f, switch, threshold);
        }
        Some(x) => format!(
            "; {zn}'s last offset before the switch was {oz} (at {z_at}), short of {}, where \
             {xn} was after it (at {})",
            x.offset.unwrap_or(0),
            at(x.at)
        ),
        None => {
            let before = x_track
                .and_then(|tr| tr.answered_at(m.started_at))
                .filter(|s| s.role == Role::Master && s.offset.is_some());
            match before {
                Some(x) => format!(
                    "; {zn}'s last offset before the switch was {oz} (at {z_at}); {xn} was at {} \
                     before the request was sent (at {}) and was not sampled again before the \
                     switch",
                    x.offset.unwrap_or(0),
                    at(x.at)
                ),
                None => format!(
                    "; {zn}'s last offset before the switch was {oz} (at {z_at}); {xn}'s was not \
                     sampled around the request"
                ),
            }
        }
    };
    let verb = told(f.class);
    let fault = view
        .faults()
        .iter()
        .find(|s| s.node == xn && s.from + 1 >= m.started_at && s.from <= switch.at);
    let summary = match fault {
        Some(s) => format!(
            "{verb} by {xn} before it was {}, and {zn} was promoted without it (replication is \
             asynchronous)",
            s.verb()
        ),
        None => format!(
            "{verb} by {xn}, and {zn} was promoted without it (replication is asynchronous)"
        ),
    };
    fits(
        CauseKind::Unreplicated,
        summary,
        format!(
            "{verb} at {}{}; +switch-master to {zn} at {}; answered without it at {}{offsets}",
            at(m.ended_at),
            fault.map_or_else(String::new, |s| format!(
                ", {} before the {}",
                span(m.ended_at, s.from),
                s.kind
            )),
            at(switch.at),
            at(a.ended_at),
        ),
    )
}

/// After `first`, whose promoted replica had what the user was told, the switches up to the
/// answer, each from the master the one before named: the first whose promoted replica's last
/// offset before its promotion was short of `threshold` (the teller's first offset after the
/// telling, and when it was sampled) lost it. A flapping cluster promotes back a node that had
/// stopped replicating. When every one had it, the offsets contradict the answer, and that is
/// what an unknown cause says.
fn later_promotion_short(
    view: &ClusterView,
    f: &Finding,
    first: &Switch,
    (past, past_at): (u64, Micros),
) -> Ruling {
    let a = f.answered;
    let mut holder = first.new.as_str();
    for switch in view
        .switches()
        .iter()
        .filter(|s| s.at > first.at && s.at <= a.ended_at)
    {
        if switch.old != holder {
            return Ruling::NotThis;
        }
        let zn = view.name(&switch.new);
        let z_before = view
            .track_at(&switch.new)
            .and_then(|tr| view.offset_in_stream_of(tr, &switch.old, switch.at))
            .and_then(|s| Some((s.offset?, s.at)));
        let Some((oz, oz_at)) = z_before else {
            return Ruling::Undecided(unsampled_offset(view, f, switch));
        };
        if oz < past {
            let (first_n, tn) = (view.name(&first.new), view.name(&first.old));
            return fits(
                CauseKind::StalePromotion,
                format!(
                    "{zn} was promoted without {} it had not replicated, though {first_n} had it \
                     when it took over from {tn}",
                    what_told(f.class)
                ),
                format!(
                    "{} at {}; {tn} was at offset {past} after it (at {}); {zn} was promoted at \
                     {} with its last offset {oz} (at {}), short of it; answered at {}",
                    told(f.class),
                    at(f.relied.map_or(0, |m| m.ended_at)),
                    at(past_at),
                    at(switch.at),
                    at(oz_at),
                    at(a.ended_at)
                ),
            );
        }
        holder = &switch.new;
    }
    Ruling::Undecided(format!(
        "by the offsets, every replica promoted after the user was told had replicated past {}, \
         yet the answer lacked it",
        what_told(f.class)
    ))
}

/// Why the offset of the replica `switch` promoted says nothing of what it held: it was never
/// sampled as a replica before, or last sampled following another master or not yet linked to
/// the old one, when its offset still counted another stream.
fn unsampled_offset(view: &ClusterView, f: &Finding, switch: &Switch) -> String {
    let (zn, xn) = (view.name(&switch.new), view.name(&switch.old));
    let what = what_told(f.class);
    let sampled = view
        .track_at(&switch.new)
        .and_then(|tr| tr.last_replica_offset(0, switch.at))
        .is_some();
    if sampled {
        format!(
            "{zn} was not seen linked to {xn} as a replica before it was promoted, so its offset \
             counted another stream and does not tell whether it held {what}"
        )
    } else {
        format!(
            "{zn}'s replication offset before it was promoted was not sampled, so whether it held \
             {what} cannot be told"
        )
    }
}
