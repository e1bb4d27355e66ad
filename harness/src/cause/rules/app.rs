//! Causes in what the app did with what the store held: it kept a master the sentinels had
//! replaced, showed a store error as a logout while the session was still in Redis, its
//! instances disagreed about a session, or it lost what it was told with the store sound; and
//! appends the client retried.

use super::errors::reconfigured_near;
use super::masters::came_back_without;
use super::{at, cause, fits, teller, told, Ruling, BROKEN_BEFORE};
use crate::cause::view::{ClusterView, Role, Sample, Switch};
use crate::cause::{span, Cause, CauseKind};
use crate::checker::{Class, Finding, Moment};
use crate::history::{Cut, Micros};
use crate::marks::app_instance;

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

/// Why the store could fail a request at `a`: a fault on the master that keeps the app from it,
/// a sentinel's reconfiguration of a node the app used, or a switch of masters.
struct Trouble {
    /// For a summary: `while the master redis-1 was killed`.
    when: String,
    /// For a detail, with times.
    detail: String,
}

fn store_trouble(view: &ClusterView, a: Moment) -> Option<Trouble> {
    let masters = [
        view.named_master(a.started_at),
        view.named_master(a.ended_at),
    ];
    for addr in masters.into_iter().flatten() {
        let x = view.name(addr);
        let fault = view
            .faults_on(&x, a.started_at)
            .chain(view.faults_on(&x, a.ended_at))
            // A master cut off from the cluster alone still serves the app.
            .find(|s| s.cut != Some(Cut::Cluster));
        if let Some(fault) = fault {
            return Some(Trouble {
                when: format!("while the master {x} was {}", fault.verb()),
                detail: format!(
                    "{} into the {} of {x}",
                    span(fault.from, a.ended_at),
                    fault.kind
                ),
            });
        }
    }
    if let Some(r) = reconfigured_near(view, a) {
        let x = view.name(&r.addr);
        return Some(Trouble {
            when: format!(
                "as a sentinel reconfigured {x}, which the app used, closing its clients"
            ),
            detail: format!("{} of {x} at {}", r.channel(), at(r.at)),
        });
    }
    let switch = view
        .switches()
        .iter()
        .find(|s| s.at + BROKEN_BEFORE >= a.started_at && s.at <= a.ended_at)?;
    Some(Trouble {
        when: format!(
            "during the switch from {} to {}",
            view.name(&switch.old),
            view.name(&switch.new)
        ),
        detail: format!("+switch-master at {}", at(switch.at)),
    })
}

/// Whether what a user was told at `told` was still in Redis at `a`, by the offsets.
enum Kept {
    /// It was: where, in words.
    Yes(String),
    /// The offsets show it was not.
    No,
    /// A record needed to tell is missing: which.
    Unknown(String),
}

/// Whether what the user was told at `told` survived in the master the sentinels named until
/// `a`, and in every master promoted after it up to the first promotion after `a`: each promoted
/// replica's last offset before its promotion must be at or past the first offset its
/// predecessor showed after the telling.
fn kept(view: &ClusterView, told_at: Moment, a: Moment) -> Kept {
    let Some(x) = teller(view, &told_at) else {
        return Kept::Unknown("no master was named when the user was told".to_owned());
    };
    let xn = view.name(x);
    let mut later: Vec<&Switch> = view
        .switches()
        .iter()
        .filter(|s| s.at > told_at.ended_at && s.at <= a.ended_at)
        .collect();
    later.extend(view.switches().iter().find(|s| s.at > a.ended_at));
    let restarted = |addr: &str, from, until| {
        view.track_at(addr)
            .is_some_and(|tr| tr.restarts.iter().any(|r| r.at > from && r.at <= until))
    };
    let Some(first) = later.first() else {
        if restarted(x, told_at.ended_at, a.ended_at) {
            return Kept::No;
        }
        return Kept::Yes(format!(
            "{xn} was the master from then to the answer and did not restart"
        ));
    };
    let threshold = view.track_at(x).and_then(|tr| {
        tr.between(told_at.ended_at, first.at)
            .iter()
            .find(|s| s.role == Role::Master && s.offset.is_some())
            .and_then(|s| s.offset.map(|o| (o, s.at)))
    });
    let Some((past, past_at)) = threshold else {
        return Kept::Unknown(format!(
            "{xn} was not sampled as master between then and the switch, so whether {} held it \
             cannot be told",
            view.name(&first.new)
        ));
    };
    let mut holder = x;
    let mut evidence = String::new();
    for switch in &later {
        let zn = view.name(&switch.new);
        if switch.old != holder {
            return Kept::Unknown(format!(
                "it was written through {}, while the sentinels next switched away from {}, so \
                 where it lived after cannot be told",
                view.name(holder),
                view.name(&switch.old)
            ));
        }
        let z_before = view
            .track_at(&switch.new)
            .and_then(|tr| view.offset_in_stream_of(tr, holder, switch.at))
            .filter(|s| s.at >= told_at.ended_at)
            .and_then(|s| Some((s.offset?, s.at)));
        let Some((oz, oz_at)) = z_before else {
            return Kept::Unknown(format!(
                "{zn}'s offset as a replica of {} was not sampled between then and its promotion",
                view.name(holder)
            ));
        };
        if oz < past || restarted(&switch.new, switch.at, a.ended_at) {
            return Kept::No;
        }
        evidence = format!(
            "{zn}, named master at {}, had replicated to offset {oz} by {}, past {past}, where \
             {xn} was after it (at {})",
            at(switch.at),
            at(oz_at),
            at(past_at)
        );
        holder = &switch.new;
    }
    Kept::Yes(evidence)
}

/// The app answered as if the user were logged out while the store was failing (a fault held the
/// master from the app, a sentinel reconfigured a node the app used, or the masters switched),
/// no node had restarted empty, and the offsets show the session was still in the master the
/// sentinels named: the session layer turned a store error into "no session".
pub fn error_as_logout(view: &ClusterView, f: &Finding) -> Ruling {
    let (Class::LostSession, Some(login)) = (f.class, f.relied) else {
        return Ruling::NotThis;
    };
    let a = f.answered;
    let Some(trouble) = store_trouble(view, a) else {
        return Ruling::NotThis;
    };
    let emptied = view.tracks().iter().any(|tr| {
        tr.restarts.iter().any(|r| {
            r.at > login.ended_at
                && r.at <= a.ended_at
                && came_back_without(view, tr, r, f).is_some()
        })
    });
    if emptied {
        return Ruling::NotThis;
    }
    match kept(view, login, a) {
        Kept::Yes(evidence) => fits(
            CauseKind::ErrorAsLogout,
            format!(
                "answered as logged out {}, though the session was still in Redis: a store \
                 error shown as a logout",
                trouble.when
            ),
            format!(
                "logged in at {}; answered at {}, {}; {evidence}; no node restarted without it",
                at(login.ended_at),
                at(a.ended_at),
                trouble.detail
            ),
        ),
        Kept::No => Ruling::NotThis,
        Kept::Unknown(missing) => Ruling::Undecided(format!(
            "the session was answered as gone {}, but {missing}",
            trouble.when
        )),
    }
}

/// The user was told through one app instance and contradicted through another, while the
/// store held what the user was told, so the answer did not come from the store: the instances
/// disagree about the session (a cache of their own, say); the failover is not to blame.
///
/// The store held it when one master, the one the sentinels named, answered as master at every
/// sample from just before the telling to just after the answer (no switch, restart or
/// demotion) and no fault kept the app from it (a partition that cuts it off from the cluster
/// alone does not); or, across a switch, when the offsets show every promoted master had it.
/// Either way no other node took writes as a master meanwhile, and the in-process app's
/// instances, where they say, used the master that held it.
pub fn instances_disagree(view: &ClusterView, f: &Finding) -> Ruling {
    let Some(told_at) = f.relied else {
        return Ruling::NotThis;
    };
    let a = f.answered;
    if told_at.instance == a.instance {
        return Ruling::NotThis;
    }
    let (from, until) = (
        told_at.started_at.min(a.started_at),
        told_at.ended_at.max(a.ended_at),
    );
    // The node the answer came from: the one the in-process app's answering instance used,
    // else the one the sentinels named.
    let reported = view.app_master(a.instance, a.ended_at);
    let Some(holder) = reported.or_else(|| view.named_master(until)) else {
        return Ruling::NotThis;
    };
    let one_master = view.named_master(from) == Some(holder)
        || view.app_master(told_at.instance, told_at.ended_at) == Some(holder);
    let (held, watched_from) = if one_master {
        (one_master_held(view, holder, from, until), from)
    } else if view.named_master(until) == Some(holder) {
        (kept(view, told_at, a), a.started_at)
    } else {
        return Ruling::NotThis;
    };
    let evidence = match held {
        Kept::Yes(evidence) => evidence,
        Kept::No => return Ruling::NotThis,
        Kept::Unknown(missing) => return Ruling::Undecided(missing),
    };
    // Without the app's word on where the answer came from, another master taking writes
    // meanwhile could have been where it went.
    let other_master_wrote = reported.is_none()
        && view.tracks().iter().any(|tr| {
            tr.addr != holder
                && tr.served_nothing_within(watched_from, until, true) == Some(false)
                && tr
                    .between(watched_from, until)
                    .iter()
                    .any(|s| s.role == Role::Master)
        });
    let told_elsewhere = view
        .app_master(told_at.instance, told_at.ended_at)
        .is_some_and(|used| used != holder);
    if other_master_wrote || (one_master && told_elsewhere) {
        return Ruling::NotThis;
    }
    let verb = told(f.class);
    fits(
        CauseKind::InstancesDisagree,
        format!(
            "{verb} through one app instance and contradicted through another while the store \
             held it: the app's instances disagree"
        ),
        format!(
            "{verb} through {} at {}, answered through {} at {}; {evidence}",
            app_instance(told_at.instance),
            at(told_at.ended_at),
            app_instance(a.instance),
            at(a.ended_at),
        ),
    )
}

/// The user was told and contradicted through the same app instance while the store was sound
/// throughout: one master, the one the sentinels named, answered as master at every sample from
/// just before the telling to just after the answer, no fault kept the app from it, no other
/// node took writes as a master, and no replica served a read (so the reads came from that
/// master). What the user was told never reached the store, or the app overwrote it: the app
/// lost it, not the cluster.
pub fn lost_by_app(view: &ClusterView, f: &Finding) -> Ruling {
    let Some(told_at) = f.relied else {
        return Ruling::NotThis;
    };
    let a = f.answered;
    let (from, until) = (
        told_at.started_at.min(a.started_at),
        told_at.ended_at.max(a.ended_at),
    );
    let Some(master) = view.named_master(from) else {
        return Ruling::NotThis;
    };
    if view.named_master(until) != Some(master) {
        return Ruling::NotThis;
    }
    let evidence = match one_master_held(view, master, from, until) {
        Kept::Yes(evidence) => evidence,
        Kept::No => return Ruling::NotThis,
        Kept::Unknown(missing) => return Ruling::Undecided(missing),
    };
    let mut idle_others = Vec::new();
    for track in view.tracks().iter().filter(|tr| tr.addr != master) {
        // Replicas' writes are what they replicated; a node that served reads or took writes
        // as a master served the app.
        match track.served_nothing_within(from, until, true) {
            Some(true) => idle_others.push(track.node.as_str()),
            Some(false) => return Ruling::NotThis,
            None => {
                return Ruling::Undecided(format!(
                    "whether {} served the app's reads then was not counted",
                    track.node
                ))
            }
        }
    }
    let app_elsewhere = [told_at, a].iter().any(|m| {
        view.app_master(m.instance, m.ended_at)
            .is_some_and(|used| used != master)
    });
    if app_elsewhere {
        return Ruling::NotThis;
    }
    let verb = told(f.class);
    let others = if idle_others.is_empty() {
        String::new()
    } else {
        format!(
            "; {} served no read and took no write",
            idle_others.join(" and ")
        )
    };
    fits(
        CauseKind::LostByApp,
        format!(
            "{verb} and contradicted with the store sound throughout (one master, no fault \
             keeping the app from it, no read from a replica): the app lost it, not the cluster"
        ),
        format!(
            "{verb} through {} at {}, answered through {} at {}; {evidence}{others}",
            app_instance(told_at.instance),
            at(told_at.ended_at),
            app_instance(a.instance),
            at(a.ended_at),
        ),
    )
}

/// Whether `master` held everything written to it from `from` to `until` as the one master: it
/// answered as master, as one process, at every sample from its last answer before `from` to its
/// first after `until`, and no fault kept the app from it.
fn one_master_held(view: &ClusterView, master: &str, from: Micros, until: Micros) -> Kept {
    let mn = view.name(master);
    let Some(track) = view.track_at(master) else {
        return Kept::Unknown(format!("{mn} was never sampled"));
    };
    let (Some(before), Some(after)) = (track.answered_at(from), track.answered_from(until)) else {
        return Kept::Unknown(format!(
            "{mn} was not sampled around the two answers, so whether it stayed the master \
             cannot be told"
        ));
    };
    let answers: Vec<&Sample> = track
        .between(before.at, after.at)
        .iter()
        .filter(|s| s.role != Role::Unreachable)
        .collect();
    let sound = answers
        .iter()
        .all(|s| s.role == Role::Master && s.run == before.run);
    if !sound {
        return Kept::No;
    }
    let kept_from_app = view
        .faults()
        .iter()
        .filter(|s| s.node == mn && s.cut != Some(Cut::Cluster))
        .find(|s| s.from <= until && s.until.is_none_or(|u| u >= from));
    if let Some(fault) = kept_from_app {
        return Kept::Unknown(format!(
            "the {} of {mn} was in force between the telling and the answer, so whether the \
             store held it cannot be told from the nodes",
            fault.kind
        ));
    }
    Kept::Yes(format!(
        "{mn}, the master the sentinels named, answered as master at each of its {} samples \
         from {} to {}",
        answers.len(),
        at(before.at),
        at(after.at)
    ))
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

/// A login answered without a new session id: the app's own login, whatever the cluster did.
pub fn login_kept_id(_view: &ClusterView, f: &Finding) -> Option<Cause> {
    (f.class == Class::SessionIdKept).then(|| Cause {
        kind: CauseKind::LoginKeptId,
        summary: "the app's login kept the session id the user held before it: whoever knew that \
                  id (a planted or stolen cookie) now holds the logged-in session"
            .to_owned(),
        detail: format!(
            "logged in at {} holding the session cookie, answered with it unchanged",
            at(f.answered.ended_at)
        ),
    })
}

/// A session answered after its TTL had run out since its last use. Redis drops a key at its
/// expiry, so the store held it without one, or the app answered from a copy of its own; the
/// records (which hold no key's TTL) cannot tell which, and the cause says so.
pub fn outlived_ttl(_view: &ClusterView, f: &Finding) -> Option<Cause> {
    let last_used = f.relied.filter(|_| f.class == Class::ImmortalSession)?;
    Some(Cause {
        kind: CauseKind::OutlivedTtl,
        summary: "the session outlived the app's session TTL: the store kept it without its \
                  expiry, or the app answered from a copy of its own (no key's TTL was sampled \
                  to tell which)"
            .to_owned(),
        detail: format!(
            "last used at {}, answered with the session at {}",
            at(last_used.ended_at),
            at(f.answered.ended_at)
        ),
    })
}
