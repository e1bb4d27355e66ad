//! A cause where the master that answered was promoted without ever having been linked to the
//! data: from the telling to the answer, the samples never showed it replicating from the node
//! that told the user, nor from any node that had replicated from that one. A flapping cluster
//! does this: each failover promotes a replica whose link to the master it replaces never came up.
//!
//! It reads only roles and links (see [`crate::cause::holders`]), never offsets, which count
//! different streams on nodes that did not replicate from each other.

use super::replicas::reads_during;
use super::{at, cause, teller, tellers, told, what_told};
use crate::cause::holders::Holders;
use crate::cause::view::{ClusterView, Role, Sample};
use crate::cause::{Cause, CauseKind};
use crate::checker::Finding;
use crate::history::Micros;

/// The answer came from a master promoted after the telling that the samples never showed linked
/// to the teller, nor to a node that was, and no node that may have held it served a read then
/// (a master counted serving none did not answer).
pub fn promoted_unlinked(view: &ClusterView, f: &Finding) -> Option<Cause> {
    let m = f.relied?;
    let a = f.answered;
    let told_by: Vec<&str> = tellers(view, &m)
        .into_iter()
        .map(|tr| tr.addr.as_str())
        .collect();
    if told_by.is_empty() {
        return None;
    }
    let z = teller(view, &a)?;
    let track = view.track_at(z)?;
    let promoted = view.promoted(z, a.ended_at)?;
    // It answered as master, and was not counted serving no read around the answer.
    if promoted <= m.ended_at
        || track.answered_at(a.ended_at)?.role != Role::Master
        || reads_during(track, a) == Some(0)
    {
        return None;
    }
    let window = track.between(m.ended_at, a.ended_at);
    if !window.iter().any(|s| s.role != Role::Unreachable) {
        return None;
    }
    let holders = Holders::of(view, &told_by, m.ended_at, a.ended_at);
    if holders.may_hold(z) {
        return None;
    }
    // A replica that may hold it and served reads around the answer (or did not count them) may
    // have answered instead of the master.
    let read_elsewhere = view
        .tracks()
        .iter()
        .any(|tr| tr.addr != z && holders.may_hold(&tr.addr) && reads_during(tr, a) != Some(0));
    if read_elsewhere {
        return None;
    }
    let names: Vec<String> = told_by.iter().map(|addr| view.name(addr)).collect();
    let xn = names.join(" or ");
    let zn = &track.node;
    let verb = told(f.class);
    let others = holders.others(&told_by);
    let replicated = if others.is_empty() {
        format!("no node was seen replicating from {xn} after it")
    } else {
        let seen: Vec<String> = others
            .iter()
            .map(|(addr, from)| format!("{} from {}", view.name(addr), at(*from)))
            .collect();
        format!(
            "the nodes seen replicating from {xn}, or from one that was, after it: {}",
            seen.join(", ")
        )
    };
    cause(
        CauseKind::StalePromotion,
        format!(
            "{zn} was promoted without {}: after {verb} by {xn}, {zn} was never seen replicating \
             from {xn}, nor from a node that was",
            what_told(f.class)
        ),
        format!(
            "{verb} by {xn} at {}; {replicated}; {zn} was {}; promoted at {}; answered at {}",
            at(m.ended_at),
            states(view, window, promoted),
            at(promoted),
            at(a.ended_at)
        ),
    )
}

/// What `window`'s samples showed of one node up to `until`, as spans of the same role and link:
/// `master from 5.46 s to 10.16 s, a replica of redis-2 with its link down from 10.17 s to
/// 14.16 s`.
fn states(view: &ClusterView, window: &[Sample], until: Micros) -> String {
    let describe = |s: &Sample| match s.role {
        Role::Unreachable => "unreachable".to_owned(),
        Role::Master => "master".to_owned(),
        Role::Replica { link_up } => format!(
            "a replica of {} with its link {}",
            view.followed(s)
                .map_or_else(|| "an unknown master".to_owned(), |addr| view.name(addr)),
            if link_up { "up" } else { "down" }
        ),
    };
    let mut spans: Vec<(String, Micros, Micros)> = Vec::new();
    for sample in window.iter().filter(|s| s.at <= until) {
        let what = describe(sample);
        match spans.last_mut() {
            Some((last, _, to)) if *last == what => *to = sample.at,
            _ => spans.push((what, sample.at, sample.at)),
        }
    }
    let spans: Vec<String> = spans
        .into_iter()
        .map(|(what, from, to)| {
            if from == to {
                format!("{what} at {}", at(from))
            } else {
                format!("{what} from {} to {}", at(from), at(to))
            }
        })
        .collect();
    if spans.is_empty() {
        "not sampled".to_owned()
    } else {
        spans.join(", then ")
    }
}
