//! One function per kind of cause. Each looks at the moments of a finding (when the user was told
//! something, when the contradicting answer came, and which app instance answered) and returns a
//! cause only when the recorded evidence shows it; `crate::cause::explain` tries them in order.
//!
//! A rule quotes only figures that were sampled, and refuses a claim the samples contradict
//! (a replica whose offset shows it had a write did not lose it). When the situation is its own
//! but a record it needs is missing, it says what was missing ([`Ruling::Undecided`]), and that
//! goes into the unknown cause if no rule fits.
//!
//! # Layout
//! - `masters`: the data went with a master: split brain, a restart without data, a stale
//!   promotion, two masters, asynchronous replication.
//! - `unlinked`: a master promoted without ever having been linked to the data, by the links the
//!   samples show.
//! - `replicas`: reads served by replicas.
//! - `app`: what the app did with what the store held: kept an old master, showed a store error
//!   as a logout, disagreed with itself across instances, lost what it was told; retried appends.
//! - `errors`: errors a user saw, while a fault, a switch or a reconfiguration held a node the
//!   app used, or after it reached Redis no more.
//! - `unknown`: the cause when none fits.

mod app;
mod errors;
mod masters;
mod replicas;
mod unknown;
mod unlinked;

pub use app::{
    error_as_logout, instances_disagree, login_kept_id, lost_by_app, old_master, outlived_ttl,
    retried_append,
};
pub use errors::{
    app_cut_from_store, app_down, app_refused, fault_on_master, node_reconfigured, session_gone,
};
pub use masters::{
    restarted_empty, split_brain_when_answered, split_brain_when_told, stale_promotion,
    two_masters, unreplicated,
};
pub use replicas::{replica_behind, replica_read};
pub use unknown::unknown;
pub use unlinked::promoted_unlinked;

use super::view::{ClusterView, Role, Switch, Track};
use super::{at, Cause, CauseKind, Ruling};
use crate::checker::{Class, Moment};
use crate::history::Micros;

/// What the user was told, as a verb for causes: `acknowledged`, `logged in`.
fn told(class: Class) -> &'static str {
    match class {
        Class::LostSession | Class::LostLogin => "logged in",
        Class::ResurrectedSession => "logged out",
        Class::SessionIdKept => "logged in again",
        Class::ImmortalSession => "last used",
        Class::Rollback => "the newer session was read",
        Class::DuplicateWrite => "written",
        Class::UserVisibleError | Class::RetriedError => "failed",
        Class::LostWrite | Class::StaleRead | Class::ForeignSession => "acknowledged",
    }
}

/// What the user was told, as a noun for causes: `the session`, `the write`.
fn what_told(class: Class) -> &'static str {
    match class {
        Class::LostSession | Class::LostLogin => "the session",
        Class::ResurrectedSession => "the logout",
        Class::SessionIdKept => "the new session",
        Class::ImmortalSession => "the session",
        Class::Rollback => "the newer session",
        Class::LostWrite | Class::DuplicateWrite => "the write",
        Class::StaleRead | Class::ForeignSession => "the value",
        Class::UserVisibleError | Class::RetriedError => "what was asked",
    }
}

fn cause(kind: CauseKind, summary: String, detail: String) -> Option<Cause> {
    Some(Cause {
        kind,
        summary,
        detail,
    })
}

fn fits(kind: CauseKind, summary: String, detail: String) -> Ruling {
    Ruling::Fits(Cause {
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
/// every node that said it was master then and, where it counted them, took writes around the
/// telling (two nodes can say master at once; only one may have been the app's).
fn tellers<'v>(view: &'v ClusterView, m: &Moment) -> Vec<&'v Track> {
    let t = m.ended_at;
    match view.app_master(m.instance, t) {
        Some(addr) => view.track_at(addr).into_iter().collect(),
        None => view
            .tracks()
            .iter()
            .filter(|tr| tr.at(t).is_some_and(|s| s.role == Role::Master))
            .filter(|tr| {
                tr.served_between(m.started_at, m.ended_at)
                    .and_then(|span| span.writes)
                    .is_none_or(|writes| writes > 0)
            })
            .collect(),
    }
}

/// Whether the replica promoted at `switch` had what its predecessor acknowledged at `told`, by
/// the offsets: `Some(true)` when its last offset before the switch, in the predecessor's stream,
/// was at or past the predecessor's first offset after the telling, `Some(false)` when it was
/// short of it, `None` when either was not sampled (or the replica's counted another stream).
fn promoted_had_it(view: &ClusterView, told: &Moment, switch: &Switch) -> Option<bool> {
    let z_before = view
        .offset_in_stream_of(view.track_at(&switch.new)?, &switch.old, switch.at)?
        .offset?;
    let x_after = view
        .track_at(&switch.old)?
        .between(told.ended_at, switch.at)
        .iter()
        .filter(|s| s.role == Role::Master)
        .find_map(|s| s.offset)?;
    Some(z_before >= x_after)
}

/// The master that told the user at `m`: the in-process app's own, else the one the sentinels
/// named.
fn teller<'v>(view: &'v ClusterView, m: &Moment) -> Option<&'v str> {
    view.app_master(m.instance, m.ended_at)
        .or_else(|| view.named_master(m.ended_at))
}

/// How long before a failed request an event that breaks the app's connections can be its
/// cause: Sentinel closes a node's client connections at once, and a client under load sends its
/// next command on them within milliseconds; a second covers a client that waits out a short
/// backoff first.
const BROKEN_BEFORE: Micros = 1_000_000;

/// How far back a node's reads and writes are looked at to say the app used it.
const USED_WITHIN: Micros = 5_000_000;

/// Whether the app used the node at `addr` in the `USED_WITHIN` before `t`: it served reads, or,
/// as a master, writes (a replica's writes are what it replicated). `None` when what it served
/// was not counted.
fn app_used(view: &ClusterView, addr: &str, t: Micros) -> Option<bool> {
    let track = view.track_at(addr)?;
    // Only its answers before `t`: a node killed at `t` answers next as a new process.
    let span = track.served_within(t.saturating_sub(USED_WITHIN), t)?;
    let was_master = track.answered_at(t).is_some_and(|s| s.role == Role::Master);
    match (span.reads, span.writes) {
        (Some(r), _) if r > 0 => Some(true),
        (_, Some(w)) if was_master && w > 0 => Some(true),
        (None, None) => None,
        _ => Some(false),
    }
}
