//! Causes of errors a user saw: the request refused by the app or answered 401, sent to an app
//! instance that was down, failed while a fault held the master, as a sentinel reconfigured a
//! node the app used, or after the app lost the node it used and reached no other.

use super::{app_used, at, cause, fits, Ruling, BROKEN_BEFORE, USED_WITHIN};
use crate::cause::view::{ClusterView, Reconfiguration};
use crate::cause::{span, Cause, CauseKind};
use crate::checker::{Finding, Moment};
use crate::history::Micros;
use crate::marks::app_instance;

/// The request was answered 401: the session was gone. The user's lost session is a finding of
/// its own, whose cause says why; this error is that loss as the user saw it.
pub fn session_gone(_view: &ClusterView, f: &Finding) -> Option<Cause> {
    let a = f.answered;
    (a.status == Some(401)).then(|| Cause {
        kind: CauseKind::SessionGone,
        summary: "answered 401: the session was gone (its lost session's cause says why)"
            .to_owned(),
        detail: format!(
            "answered 401 at {} by {}",
            at(a.ended_at),
            app_instance(a.instance)
        ),
    })
}

/// The app answered the request with a 4xx: it refused it itself, as it would with no fault at
/// all (a path or a field the app does not know), so no fault is its cause. A 408 (timed out)
/// and a 429 (too many requests) can come from a stalled store, and are left to the other rules.
pub fn app_refused(_view: &ClusterView, f: &Finding) -> Option<Cause> {
    let status = f
        .answered
        .status
        .filter(|s| (400..500).contains(s) && ![401, 408, 429].contains(s))?;
    let a = f.answered;
    cause(
        CauseKind::AppRefused,
        format!(
            "the app refused the request (HTTP {status}), which no failover causes: check the \
             scenario's app.contract against the app's routes"
        ),
        format!(
            "answered {status} at {} by {}",
            at(a.ended_at),
            app_instance(a.instance)
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
                || match view.elections().unelected_before(a.ended_at) {
                    Some(election) => format!("no +switch-master during the run; {election}"),
                    None => "no +switch-master during the run".to_owned(),
                },
                |s| format!("+switch-master at {}", at(s.at))
            )
        ),
    )
}

/// A sentinel's reconfiguration of a node the app used, at most [`BROKEN_BEFORE`] before `a` was
/// sent or while it was in flight.
pub(super) fn reconfigured_near(view: &ClusterView, a: Moment) -> Option<&Reconfiguration> {
    view.reconfigurations().iter().find(|r| {
        r.at + BROKEN_BEFORE >= a.started_at
            && r.at <= a.ended_at
            && app_used(view, &r.addr, r.at) == Some(true)
    })
}

/// The request failed at most a second after a sentinel reconfigured a node the app used (it
/// served the app's reads, or its writes as master, in the seconds before): Sentinel closes the
/// node's client connections as it reconfigures it.
pub fn node_reconfigured(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let a = f.answered;
    let r = reconfigured_near(view, a)?;
    let x = view.name(&r.addr);
    cause(
        CauseKind::NodeReconfigured,
        format!(
            "failed as a sentinel reconfigured {x}, which the app used, closing its client \
             connections ({})",
            r.channel()
        ),
        format!(
            "{} at {}; {x} had served the app in the {} s before; sent at {}, failed at {}",
            r.channel(),
            at(r.at),
            USED_WITHIN / 1_000_000,
            at(a.started_at),
            at(a.ended_at)
        ),
    )
}

/// The request failed after the app lost the node it used, and no node served the app anything
/// since: a fault on that node, or a sentinel's reconfiguration of it (which closes its clients),
/// came before the request, and from then until the request no node's read count moved, nor a
/// master's write count. The app did not reach Redis again; the records do not say why (a
/// client that does not reconnect, or reconnects to the old address, say).
pub fn app_cut_from_store(view: &ClusterView, f: &Finding) -> Ruling {
    let a = f.answered;
    let faults = view.faults().iter().filter_map(|s| {
        let track = view.track(&s.node)?;
        (s.from <= a.started_at)
            .then(|| (s.from, track.addr.as_str(), format!("the {} of", s.kind)))
    });
    let reconfigurations = view
        .reconfigurations()
        .iter()
        .filter(|r| r.at <= a.started_at)
        .map(|r| (r.at, r.addr.as_str(), format!("{} of", r.channel())));
    let mut losses: Vec<(Micros, &str, String)> = faults.chain(reconfigurations).collect();
    losses.sort_by_key(|(at, _, _)| std::cmp::Reverse(*at));
    let Some((since, addr, what)) = losses
        .into_iter()
        .find(|(at, addr, _)| app_used(view, addr, *at) == Some(true))
    else {
        return Ruling::NotThis;
    };
    let x = view.name(addr);
    // From a moment after the loss, so what the app did just before it is not counted.
    let from = since + BROKEN_BEFORE;
    if from >= a.started_at {
        return Ruling::NotThis;
    }
    let mut idle = Vec::new();
    for track in view.tracks() {
        match track.served_nothing_within(from, a.started_at, true) {
            Some(true) => idle.push(track.node.as_str()),
            Some(false) => return Ruling::NotThis,
            None => {
                return Ruling::Undecided(format!(
                    "the app lost {x}, which it used, before the request, but what {} served \
                     after was not counted",
                    track.node
                ))
            }
        }
    }
    fits(
        CauseKind::AppCutFromStore,
        format!(
            "failed after the app lost {x}, which it used ({what} {x}), with no node serving it \
             anything since: the app did not reach Redis again"
        ),
        format!(
            "{what} {x} at {}; from {} to {}, when the request was sent, no node's reads moved, \
             nor a master's writes ({}); failed at {}",
            at(since),
            at(from),
            at(a.started_at),
            idle.join(", "),
            at(a.ended_at)
        ),
    )
}
