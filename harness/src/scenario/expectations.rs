//! What a run must show to pass: a bound (or "report") on each anomaly class and error count,
//! whether a failover must, must not or may happen, and bounds on how long things took.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use super::time_bounds::{LatencyBound, LatencyBounds};

/// Thresholds on a run's findings; each class of finding has its own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Expectations {
    /// Sessions that may be lost (a user answered 401, or handed back an empty session).
    pub lost_sessions: Bound,
    /// Lost sessions whose login the cluster discarded as it discards acknowledged writes (split
    /// brain, two masters, a failover before it replicated, a stale node promoted); bounded as
    /// `lost_writes` unless set, since the login is a write lost the same way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_logins: Option<Bound>,
    /// Operations that may still fail after the client's retries.
    pub user_visible_errors: Bound,
    /// Error answers the client saw within operations its retries then completed: error pages a
    /// user reloaded past, as in a store that does not retry itself. Reported by default.
    pub retried_errors: Bound,
    /// Acknowledged values absent from every later read. Reported by default: Redis replication
    /// is asynchronous, so a killed master may take acknowledged writes with it.
    pub lost_writes: Bound,
    /// Reads that showed an older session than an earlier read did. Reported by default, for the
    /// same reason.
    pub rollbacks: Bound,
    /// Reads that missed a value a later read has again. Reported by default.
    pub stale_reads: Bound,
    /// Values a session holds twice. Reported by default.
    pub duplicate_writes: Bound,
    /// Reads that showed another user's session or values.
    pub foreign_sessions: Bound,
    /// Replays of a logged-out cookie the app answered with the session: logouts a failover
    /// undid.
    pub resurrected_sessions: Bound,
    /// Users back from an idle spell past the app's session TTL (`app.contract.session_ttl`) who
    /// found their session alive. Judged only when some user came back that late.
    pub immortal_sessions: Bound,
    /// Whether every login made while the user held a session cookie must change it (cycle the
    /// session id): a login that keeps it is a session id kept at login. Off by default; the
    /// check needs logins made holding a session, which `workload.relogin_after` makes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub session_id_cycled: bool,
    /// Whether the run must, must not, or may fail over.
    pub failover: FailoverExpectation,
    /// Longest one user could not complete anything, and then did; unbounded by default.
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub longest_unavailable: Option<Duration>,
    /// Longest from a fault's start until the last of its users succeeded again; a fault some
    /// user never recovered from breaks it. Unbounded by default.
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Duration>,
    /// Longest from a fault on the master (the node the sentinels named master when it began) to
    /// their `+switch-master`; such a fault with no switch breaks it. Unbounded by default.
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub failover_within: Option<Duration>,
    /// Operation latency per phase, kind and percentile; none by default.
    #[serde(skip_serializing_if = "super::time_bounds::is_empty")]
    pub latency: LatencyBounds,
}

impl Default for Expectations {
    fn default() -> Self {
        Self {
            lost_sessions: Bound::AtMost(0),
            lost_logins: None,
            user_visible_errors: Bound::AtMost(0),
            retried_errors: Bound::Report,
            lost_writes: Bound::Report,
            rollbacks: Bound::Report,
            stale_reads: Bound::Report,
            duplicate_writes: Bound::Report,
            foreign_sessions: Bound::AtMost(0),
            resurrected_sessions: Bound::AtMost(0),
            session_id_cycled: false,
            immortal_sessions: Bound::AtMost(0),
            failover: FailoverExpectation::Any,
            longest_unavailable: None,
            recovery: None,
            failover_within: None,
            latency: LatencyBounds::default(),
        }
    }
}

impl Expectations {
    /// The bound on lost logins: its own, else the one on lost writes.
    pub fn lost_logins(&self) -> Bound {
        self.lost_logins.unwrap_or(self.lost_writes)
    }
}

/// Whether a run must see a `+switch-master`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailoverExpectation {
    /// Either way.
    Any,
    /// At least one sentinel announces `+switch-master`.
    Required,
    /// No sentinel does: the cluster keeps (or waits for) its master.
    None,
}

/// A bound on a count of findings: `"report"` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BoundRaw", into = "BoundRaw")]
pub enum Bound {
    /// Count and report them; never fail the run on them.
    Report,
    /// Fail the run when there are more.
    AtMost(u64),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum BoundRaw {
    Word(String),
    Count(u64),
}

impl TryFrom<BoundRaw> for Bound {
    type Error = String;

    fn try_from(raw: BoundRaw) -> Result<Self, Self::Error> {
        match raw {
            BoundRaw::Count(n) => Ok(Self::AtMost(n)),
            BoundRaw::Word(w) if w == "report" => Ok(Self::Report),
            BoundRaw::Word(w) => Err(format!("'{w}' is not a bound: use \"report\" or a number")),
        }
    }
}

impl From<Bound> for BoundRaw {
    fn from(bound: Bound) -> Self {
        match bound {
            Bound::Report => Self::Word("report".to_owned()),
            Bound::AtMost(n) => Self::Count(n),
        }
    }
}
