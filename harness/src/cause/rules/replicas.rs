//! Causes in reads served by replicas: a replica cut off from its master, or with its link down,
//! or behind it, served a read the master would have answered in full.

use super::{at, cause, fits, told, what_told, Ruling};
use crate::cause::view::{ClusterView, Role, Track};
use crate::cause::{Cause, CauseKind};
use crate::checker::{Finding, Moment};

/// The reads `track`'s node served from its last sample before `m` was sent to its first after
/// `m` was answered; `None` when they were not counted.
pub(super) fn reads_during(track: &Track, m: Moment) -> Option<u64> {
    track
        .served_between(m.started_at, m.ended_at)
        .and_then(|s| s.reads)
}

/// A read missed what the master kept (no switch, no restart) while a replica that served reads
/// was behind the master: cut off from it, its link down, or (by its replication offset) not
/// caught up with the write even after the read. Only a replica can have served it: a stale
/// value, a login the answer did not know (a lost session) or a logout it did not know.
pub fn replica_behind(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let told = f.relied?;
    let told_at = told.ended_at;
    let t = f.answered.ended_at;
    if view.switch_between(told_at, t).is_some() {
        return None;
    }
    let master = view.named_master(t)?;
    // It kept it: it was master at its last sample before the answer, and did not restart since
    // the telling.
    let master_track = view.track_at(master)?;
    if master_track.at(t)?.role != Role::Master
        || master_track
            .restarts
            .iter()
            .any(|r| r.at > told_at && r.at <= t)
    {
        return None;
    }
    // The master's offset before the acknowledged write was sent: the write lies beyond it, so a
    // replica at or below it lacks the write. A login and a logout write the session as they are
    // answered, so they count. (A value the user only saw in a read was written before that read,
    // at an offset nothing here bounds.)
    let acknowledged = f.witness.first().is_some_and(|w| {
        w.request.starts_with("write ") || w.request == "login" || w.request == "logout"
    });
    let written_past = view
        .track_at(master)
        .and_then(|tr| tr.answered_at(told.started_at))
        .filter(|s| acknowledged && s.role == Role::Master)
        .and_then(|s| s.offset);
    let a = f.answered;
    let behind: Vec<(&Track, String)> = view
        .tracks()
        .iter()
        .filter(|tr| tr.addr != master)
        // A replica counted serving no read around the answer did not serve it.
        .filter(|tr| reads_during(tr, a) != Some(0))
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
                    .find_map(|s| {
                        let offset = s.offset.filter(|o| s.role.is_replica() && *o <= past)?;
                        Some(format!(
                            "its offset {offset} at {} not past the master's {past} before the write",
                            at(s.at)
                        ))
                    })
            };
            // Cut off from the master before the write was sent, and after the read still no
            // further than before the cut: the master was at least there when the cut began, and
            // the write came after.
            let never_caught_up = || {
                let cut = view.faults().iter().find(|s| {
                    s.node == tr.node
                        && s.cut.is_some_and(|c| c.isolates_from_cluster())
                        && s.from <= told.started_at
                })?;
                let before_cut = tr
                    .answered_at(cut.from)
                    .filter(|s| s.role.is_replica())
                    .and_then(|s| s.offset.map(|o| (o, s.at)))?;
                let after = tr.answered_from(t).filter(|s| s.role.is_replica())?;
                let offset = after.offset.filter(|o| *o <= before_cut.0)?;
                Some(format!(
                    "cut off from the master from {} until {}, its offset {offset} at {} no further \
                     than its {} before the cut (at {})",
                    at(cut.from),
                    cut.until.map_or_else(|| "the end".to_owned(), at),
                    at(after.at),
                    before_cut.0,
                    at(before_cut.1)
                ))
            };
            cut.or_else(link_down)
                .or_else(lagging)
                .or_else(never_caught_up)
                .map(|why| (tr, why))
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
            "served by a replica behind the master ({}), which kept {}",
            names.join(", "),
            what_told(f.class)
        ),
        format!(
            "{} at {}, read at {}; the master {} kept it (no switch, no restart); {}",
            super::told(f.class),
            at(told_at),
            at(t),
            view.name(master),
            reasons.join("; ")
        ),
    )
}

/// The answer came from a replica, which the app reads from, and that replica did not hold what
/// the user had been told. Reads around the answer were served by replicas and none by the
/// master, so the answer came from a replica; a replica whose first offset after the answer was
/// not past the master's before the telling request was sent lacked it.
pub fn replica_read(view: &ClusterView, f: &Finding) -> Ruling {
    let Some(told_moment) = f.relied else {
        return Ruling::NotThis;
    };
    let a = f.answered;
    let Some(master) = view.named_master(a.started_at) else {
        return Ruling::NotThis;
    };
    let Some(master_track) = view.track_at(master) else {
        return Ruling::NotThis;
    };
    let readers: Vec<(&Track, u64)> = view
        .tracks()
        .iter()
        .filter(|tr| tr.addr != master)
        .filter(|tr| {
            tr.answered_at(a.started_at)
                .is_some_and(|s| s.role.is_replica())
        })
        .filter_map(|tr| Some((tr, reads_during(tr, a).filter(|r| *r > 0)?)))
        .collect();
    if readers.is_empty() {
        return Ruling::NotThis;
    }
    let mn = view.name(master);
    let names: Vec<&str> = readers.iter().map(|(tr, _)| tr.node.as_str()).collect();
    // A master that answered the harness at no sample around the answer served nothing.
    let master_reads = reads_during(master_track, a).or_else(|| {
        master_track
            .served_nothing_within(a.started_at, a.ended_at, false)
            .filter(|idle| *idle)
            .map(|_| 0)
    });
    match master_reads {
        Some(0) => {}
        Some(_) => return Ruling::NotThis,
        None => {
            return Ruling::Undecided(format!(
                "replicas ({}) served reads around the answer, but {mn}'s reads were not \
                 counted, so whether the answer came from a replica cannot be told",
                names.join(", ")
            ))
        }
    }
    let verb = told(f.class);
    // The offsets show the replica short of it only when a sample falls between the write and
    // the read; replication lag is milliseconds, the sampling period 100. They are quoted when
    // they do, and otherwise the read counts alone say where the answer came from.
    let before_sent = master_track
        .answered_at(told_moment.started_at)
        .filter(|s| s.role == Role::Master)
        .and_then(|s| s.offset.map(|o| (o, s.at)));
    let lacking = before_sent.and_then(|(past, past_at)| {
        readers.iter().find_map(|(tr, _)| {
            let after = tr.answered_from(a.ended_at)?;
            let offset = after
                .offset
                .filter(|o| after.role.is_replica() && *o <= past)?;
            Some(format!(
                "; {}'s offset was {offset} at {}, after the answer, not past {past}, where {mn} \
                 was before the request was sent (at {})",
                tr.node,
                at(after.at),
                at(past_at)
            ))
        })
    });
    let reads: Vec<String> = readers
        .iter()
        .map(|(tr, reads)| format!("{} {reads}", tr.node))
        .collect();
    let evidence = format!(
        "reads served around the answer: {}, {mn} none{}",
        reads.join(", "),
        lacking.unwrap_or_default()
    );
    fits(
        CauseKind::ReplicaRead,
        format!(
            "answered from a replica, which the app reads from, without {} (replication is \
             asynchronous)",
            what_told(f.class)
        ),
        format!(
            "{verb} at {}, answered at {}; {evidence}",
            at(told_moment.ended_at),
            at(a.ended_at)
        ),
    )
}
