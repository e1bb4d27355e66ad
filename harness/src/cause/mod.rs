//! Causes: each finding placed on the cluster's timeline (faults, sentinel events, node states and
//! what each node served, the in-process app's view of the master) and given a reason in plain
//! words. The rules are tried in order, most specific first. A rule claims only what the records
//! show: it applies when every figure it quotes was sampled, and when a record it needs is
//! missing it says so instead. When no rule applies, the cause is unknown and names what was
//! missing to decide, with what the nodes showed, instead of guessing.
//!
//! It reads only the history, through [`view::ClusterView`]; it must not touch the network.
//!
//! # Layout
//! - [`view`]: the cluster's state over time.
//! - [`elections`]: the sentinels' leader elections, and telling one that chose no leader.
//! - [`holders`]: which nodes may hold what one node held at a moment, by replication links.
//! - [`rules`]: one function per kind of cause.
//! - [`groups`]: findings counted per class and cause, each group with one witness.
//! - [`lost_logins`]: the lost sessions whose cause shows the login itself was lost.

pub mod elections;
pub mod groups;
pub mod holders;
pub mod lost_logins;
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
    /// Answered by a master that restarted without its data (empty, or from a snapshot on its disk
    /// older than what the user was told) and was not yet demoted.
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
    /// The app refused the request itself (a 4xx), which no failover causes.
    AppRefused,
    /// Answered 401: the session was gone; the lost session's own cause says why.
    SessionGone,
    /// Read while a replica was cut off from the master and behind it.
    ReplicaBehind,
    /// Answered from a replica, which the app reads from, that did not hold it yet.
    ReplicaRead,
    /// A store error shown to the user as a logout, while the session was still in Redis.
    ErrorAsLogout,
    /// Failed while a sentinel reconfigured a node the app used, closing its clients.
    NodeReconfigured,
    /// Failed after the app lost the node it used, with no node serving it anything since: it
    /// did not reach Redis again.
    AppCutFromStore,
    /// Told by one app instance and contradicted by another, with nothing wrong in the cluster.
    InstancesDisagree,
    /// Told and contradicted while the store was sound throughout: the app lost it itself.
    LostByApp,
    /// A retried append applied twice.
    RetriedAppend,
    /// The app's login kept the session id the user held before it.
    LoginKeptId,
    /// A session answered after its TTL had run out since its last use.
    OutlivedTtl,
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

/// What a rule concluded about one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ruling {
    /// The records show this cause.
    Fits(Cause),
    /// The rule's situation was there, but a record it needs to decide was not: what was
    /// missing, in words, naming nodes but no times, as an unknown cause's summary says it.
    Undecided(String),
    /// Not this rule's situation.
    NotThis,
}

impl From<Option<Cause>> for Ruling {
    fn from(cause: Option<Cause>) -> Self {
        cause.map_or(Self::NotThis, Self::Fits)
    }
}

/// A rule: one that either fits or does not, or one that can also be undecided for want of a
/// record.
#[derive(Clone, Copy)]
enum Rule {
    /// Fits (`Some`) or not.
    Plain(fn(&ClusterView, &Finding) -> Option<Cause>),
    /// Fits, does not, or cannot tell.
    Weighed(fn(&ClusterView, &Finding) -> Ruling),
}

impl Rule {
    fn rule(self, view: &ClusterView, finding: &Finding) -> Ruling {
        match self {
            Self::Plain(rule) => rule(view, finding).into(),
            Self::Weighed(rule) => rule(view, finding),
        }
    }
}

/// The rules tried for a class of finding, in order.
fn rules_for(class: Class) -> &'static [Rule] {
    use rules::*;
    use Rule::{Plain, Weighed};
    match class {
        // A logout is a write (the session's deletion) the replay shows undone.
        Class::LostWrite | Class::Rollback | Class::ResurrectedSession => &[
            Plain(split_brain_when_told),
            Plain(restarted_empty),
            Plain(stale_promotion),
            Plain(two_masters),
            Plain(promoted_unlinked),
            Weighed(unreplicated),
            Plain(old_master),
            Plain(replica_behind),
            Weighed(replica_read),
            Weighed(instances_disagree),
            Weighed(lost_by_app),
        ],
        // A lost login is a lost session whose cause showed its login lost (see `lost_logins`).
        Class::LostSession | Class::LostLogin => &[
            Plain(split_brain_when_told),
            Plain(restarted_empty),
            Plain(stale_promotion),
            Plain(two_masters),
            Plain(promoted_unlinked),
            Weighed(unreplicated),
            Plain(old_master),
            Weighed(error_as_logout),
            Plain(replica_behind),
            Weighed(replica_read),
            Weighed(instances_disagree),
            Weighed(lost_by_app),
        ],
        Class::StaleRead => &[
            Plain(split_brain_when_answered),
            Plain(split_brain_when_told),
            Plain(two_masters),
            Plain(replica_behind),
            Weighed(replica_read),
            Plain(old_master),
            Weighed(instances_disagree),
            Weighed(lost_by_app),
        ],
        Class::UserVisibleError | Class::RetriedError => &[
            Plain(session_gone),
            Plain(app_refused),
            Plain(app_down),
            Plain(old_master),
            Plain(fault_on_master),
            Plain(node_reconfigured),
            Weighed(app_cut_from_store),
        ],
        Class::DuplicateWrite => &[Plain(retried_append)],
        Class::SessionIdKept => &[Plain(login_kept_id)],
        Class::ImmortalSession => &[Plain(outlived_ttl)],
        Class::ForeignSession => &[],
    }
}

/// The finding's cause: the first rule for its class that fits, else unknown, naming what the
/// rules that could not decide were missing.
pub fn explain(view: &ClusterView, finding: &Finding) -> Cause {
    let mut missing = Vec::new();
    for rule in rules_for(finding.class) {
        match rule.rule(view, finding) {
            Ruling::Fits(cause) => return cause,
            Ruling::Undecided(what) => missing.push(what),
            Ruling::NotThis => {}
        }
    }
    rules::unknown(view, finding, &missing)
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
