//! Causes: each finding placed on the cluster's timeline (faults, sentinel events, node states, the
//! in-process app's view of the master) and given a reason in plain words. The rules are tried in
//! order, most specific first; when none fits, the cause says it is unknown and what the nodes
//! showed, instead of guessing.
//!
//! It reads only the history, through [`view::ClusterView`]; it must not touch the network.
//!
//! # Layout
//! - [`view`]: the cluster's state over time.
//! - [`rules`]: one function per kind of cause.
//! - [`groups`]: findings counted per class and cause, each group with one witness.

pub mod groups;
pub mod rules;
pub mod view;

use serde::{Deserialize, Serialize};

use crate::checker::{Class, Finding};
pub use groups::{Explained, FindingGroup, Findings};
pub use view::ClusterView;

/// The kinds of reason a finding can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// Told by a master cut off from the sentinels, which promoted another.
    SplitBrain,
    /// Answered by a master that restarted without its data and was not yet demoted.
    RestartedEmpty,
    /// A node that had stopped being master was promoted again with its old data.
    StalePromotion,
    /// Told by the old master after a replica had been promoted, before the old one was demoted.
    TwoMasters,
    /// Told by a master shortly before it failed; the replica promoted in its place lacked it.
    Unreplicated,
    /// The in-process app kept using a master the sentinels had replaced.
    OldMaster,
    /// Failed while a fault held the master, before (or without) a failover.
    FaultOnMaster,
    /// Sent to an app instance that had crashed and was not back yet.
    AppDown,
    /// Read while a replica was cut off from the master and behind it.
    ReplicaBehind,
    /// A retried append applied twice.
    RetriedAppend,
    /// Nothing recorded explains it.
    Unknown,
}

/// Why a finding happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// The kind of reason.
    pub kind: CauseKind,
    /// The reason in plain words, naming nodes but no times, so findings with the same reason
    /// share it: `acknowledged while redis-1 was cut off from the sentinels and before it was
    /// demoted (split brain)`.
    pub summary: String,
    /// This finding's own times and figures.
    pub detail: String,
}

/// A rule: a cause when it fits the finding.
type Rule = fn(&ClusterView, &Finding) -> Option<Cause>;

/// The finding's cause: the first rule for its class that fits, else unknown.
pub fn explain(view: &ClusterView, finding: &Finding) -> Cause {
    use rules::*;
    let tried: &[Rule] = match finding.class {
        Class::LostWrite | Class::LostSession | Class::Rollback => &[
            split_brain_when_told,
            restarted_empty,
            stale_promotion,
            two_masters,
            unreplicated,
            old_master,
        ],
        Class::StaleRead => &[
            split_brain_when_answered,
            split_brain_when_told,
            two_masters,
            replica_behind,
            old_master,
        ],
        Class::UserVisibleError | Class::RetriedError => &[app_down, old_master, fault_on_master],
        Class::DuplicateWrite => &[retried_append],
        Class::ForeignSession => &[],
    };
    tried
        .iter()
        .find_map(|rule| rule(view, finding))
        .unwrap_or_else(|| unknown(view, finding))
}

/// Run seconds, for causes: `14.1 s`.
fn at(t: crate::history::Micros) -> String {
    format!("{:.2} s", t as f64 / 1e6)
}

/// A span in seconds, for causes: `3.1 s`.
fn span(from: crate::history::Micros, to: crate::history::Micros) -> String {
    format!("{:.1} s", to.saturating_sub(from) as f64 / 1e6)
}

#[cfg(test)]
mod tests;
