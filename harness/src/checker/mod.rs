//! Checkers: pure functions from a [`History`] to findings. Each anomaly class has a checker of its
//! own; each takes operations one at a time, each user's in the order the user performed them, and
//! keeps per-user state only, so a run's history is checked as it is read back from disk
//! (`crate::assess`). `check` in each module feeds it a history in memory.
//!
//! A finding carries the operations that show it (its witness) and the two moments a cause is
//! looked for at: when the user was told something (a write acknowledged, a login, a read that
//! showed a value) and when the contradicting answer came. Placing it on the cluster's timeline is
//! `crate::cause`'s job, not the checkers'.
//!
//! They never touch the network, so they are tested with hand-built histories. Whether a finding
//! fails the run is for the scenario's expectations (`crate::verdict`) to decide, because some
//! faults lose writes by design.
//!
//! # Layout
//! - [`lost_sessions`]: a live session answered 401 or handed back empty.
//! - [`lost_writes`]: an acknowledged value absent from every later read.
//! - [`rollbacks`]: a read older than an earlier read of the same session.
//! - [`stale_reads`]: a read that missed a value a later read has again.
//! - [`duplicate_writes`]: a value twice in one session.
//! - [`foreign_sessions`]: a read that shows another user's session or values.
//! - [`resurrected_sessions`]: a logged-out cookie that still opens the session.
//! - [`user_errors`]: operations that failed after the client's retries, errors a retry got past,
//!   and outage windows.
//! - [`timeline`]: fault, sentinel, app and user milestones of each failover.
//! - [`witness`]: the operations a finding shows, and its moments.

pub mod duplicate_writes;
pub mod foreign_sessions;
pub mod immortal_sessions;
pub mod lost_sessions;
pub mod lost_writes;
pub mod resurrected_sessions;
pub mod rollbacks;
pub mod session_ids;
pub mod stale_reads;
pub mod timeline;
pub mod user_errors;
pub mod witness;

#[cfg(test)]
pub(crate) mod fixtures;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::history::{History, Micros, OkValue, Operation, Outcome};
pub use witness::{Moment, WitnessOp};

/// A checker's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing found.
    Valid,
    /// The history could not be judged (no data for it).
    Unknown,
    /// Something was found; outranks `Unknown`.
    Invalid,
}

/// The named kinds of wrong outcome, each found by a checker of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A user who had logged in was answered 401, or handed back an empty session.
    LostSession,
    /// A lost session whose login itself the cluster lost, as it loses an acknowledged write: told
    /// by a master whose writes from then on were discarded (split brain, two masters, a failover
    /// before it replicated, a stale node promoted). Its 401 is counted here, not as a
    /// user-visible error.
    LostLogin,
    /// A value acknowledged 2xx and absent from every later successful read.
    LostWrite,
    /// A read showed an older session than an earlier read did.
    Rollback,
    /// A read missed a value the user had been told of, and a later read has it again.
    StaleRead,
    /// A value appears twice in a session.
    DuplicateWrite,
    /// A read showed another user's session or values.
    ForeignSession,
    /// A logout the app acknowledged did not end the session: the cookie held before it still
    /// opened it.
    ResurrectedSession,
    /// A login made while the user held a session left its session cookies as they were: the
    /// session id was not cycled, so whoever knew it before the login holds the logged-in
    /// session (session fixation).
    SessionIdKept,
    /// A user back from an idle spell past the app's session TTL found its session alive: it
    /// outlived its expiry.
    ImmortalSession,
    /// An operation still failed after the client's retries.
    UserVisibleError,
    /// A failed attempt within an operation a client retry then completed: an error page the
    /// user reloaded past.
    RetriedError,
}

impl Class {
    /// Every class, in the order reports list them.
    pub const ALL: [Class; 12] = [
        Class::LostSession,
        Class::LostLogin,
        Class::LostWrite,
        Class::Rollback,
        Class::StaleRead,
        Class::DuplicateWrite,
        Class::ForeignSession,
        Class::ResurrectedSession,
        Class::SessionIdKept,
        Class::ImmortalSession,
        Class::UserVisibleError,
        Class::RetriedError,
    ];

    /// The anomaly classes: what happened to users' data and sessions, as opposed to errors.
    pub const ANOMALIES: [Class; 10] = [
        Class::LostSession,
        Class::LostLogin,
        Class::LostWrite,
        Class::Rollback,
        Class::StaleRead,
        Class::DuplicateWrite,
        Class::ForeignSession,
        Class::ResurrectedSession,
        Class::SessionIdKept,
        Class::ImmortalSession,
    ];

    /// Its name for people, singular: `lost write`.
    pub fn name(self) -> &'static str {
        match self {
            Class::LostSession => "lost session",
            Class::LostLogin => "lost login",
            Class::LostWrite => "lost write",
            Class::Rollback => "rollback",
            Class::StaleRead => "stale read",
            Class::DuplicateWrite => "duplicate write",
            Class::ForeignSession => "foreign session",
            Class::ResurrectedSession => "resurrected session",
            Class::SessionIdKept => "session id kept at login",
            Class::ImmortalSession => "immortal session",
            Class::UserVisibleError => "user-visible error",
            Class::RetriedError => "error a client retry got past",
        }
    }

    /// Its name for people, plural: `lost writes`.
    pub fn plural(self) -> &'static str {
        match self {
            Class::LostSession => "lost sessions",
            Class::LostLogin => "lost logins",
            Class::LostWrite => "lost writes",
            Class::Rollback => "rollbacks",
            Class::StaleRead => "stale reads",
            Class::DuplicateWrite => "duplicate writes",
            Class::ForeignSession => "foreign sessions",
            Class::ResurrectedSession => "resurrected sessions",
            Class::SessionIdKept => "session ids kept at login",
            Class::ImmortalSession => "immortal sessions",
            Class::UserVisibleError => "user-visible errors",
            Class::RetriedError => "user-visible errors a client retry got past",
        }
    }
}

/// One thing a checker found: what, when, who, and the operations that show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Its class.
    pub class: Class,
    /// When, in run microseconds: the end of the answer that shows it.
    pub at: Micros,
    /// The virtual user, if one is concerned.
    pub user: Option<u32>,
    /// What, for people.
    pub message: String,
    /// The user's operations that show it, oldest first.
    pub witness: Vec<WitnessOp>,
    /// When the user was told what the finding contradicts: the acknowledgement of a lost write,
    /// the login of a lost session, the read a rollback went back from. `None` when nothing was.
    pub relied: Option<Moment>,
    /// The answer that shows it: the read that missed a value, the 401, the failed attempt.
    pub answered: Moment,
    /// How many of the user's values it concerns: 1 for a lost write, every value a rollback took
    /// away, every value a stale read missed; 0 for a lost session or an error.
    #[serde(default)]
    pub values: u64,
}

impl Finding {
    /// The finding with every text in it made one printable line: a message and a witness quote
    /// what the app answered (a user name, an error's words), and a line break or an escape
    /// sequence there must not forge a line of the summary, a CI annotation or a log.
    pub fn escaped(mut self) -> Self {
        self.message = crate::shown::printable(&self.message);
        for op in &mut self.witness {
            op.request = crate::shown::printable(&op.request);
            op.answer = crate::shown::printable(&op.answer);
            op.note = op.note.as_deref().map(crate::shown::printable);
        }
        self
    }

    /// The order findings are kept and shown in: by time, then user, then text, so the findings
    /// of a history do not depend on how its users' records interleave.
    pub fn sort_key(&self) -> (Micros, Option<u32>, &str) {
        (self.at, self.user, &self.message)
    }
}

/// A checker that takes one operation at a time.
pub trait Checker {
    /// Takes the next operation of its user; reports what it settles to `found`.
    fn observe(&mut self, op: &Operation, found: &mut dyn FnMut(Finding));

    /// Reports what only the end of the history settles (values still missing from a session).
    fn finish(&mut self, found: &mut dyn FnMut(Finding));

    /// Whether it reads the replays of logged-out cookies. Only the resurrected-session check
    /// does: a replay's answer is not the user's current session.
    fn reads_replays(&self) -> bool {
        false
    }
}

/// A checker for every anomaly class (the error classes come from [`user_errors`], which also
/// measures outages).
pub fn anomaly_checkers() -> Vec<Box<dyn Checker + Send>> {
    vec![
        Box::new(lost_sessions::LostSessions::default()),
        Box::new(lost_writes::LostWrites::default()),
        Box::new(rollbacks::Rollbacks::default()),
        Box::new(stale_reads::StaleReads::default()),
        Box::new(duplicate_writes::DuplicateWrites::default()),
        Box::new(foreign_sessions::ForeignSessions),
        Box::new(resurrected_sessions::ResurrectedSessions::default()),
        Box::new(session_ids::SessionIds),
        Box::new(immortal_sessions::ImmortalSessions),
    ]
}

/// The result of one checker over a history in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The class it looks for.
    pub class: Class,
    /// Its verdict.
    pub verdict: Verdict,
    /// How many it found.
    pub count: u64,
    /// The earliest findings (at most [`MAX_FINDINGS`]).
    pub findings: Vec<Finding>,
}

/// Findings kept per class; the count stays exact.
pub const MAX_FINDINGS: usize = 50;

impl CheckResult {
    /// `findings` of `class`, the earliest [`MAX_FINDINGS`] kept.
    pub fn from_findings(class: Class, findings: Vec<Finding>) -> Self {
        let mut findings: Vec<Finding> = findings.into_iter().map(Finding::escaped).collect();
        let count = findings.len() as u64;
        let verdict = if findings.is_empty() {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        findings.truncate(MAX_FINDINGS);
        Self {
            class,
            verdict,
            count,
            findings,
        }
    }
}

/// Runs `checker` over `history`, each user's operations in the order the user performed them,
/// and keeps the findings of `class`.
pub fn check_with(class: Class, mut checker: impl Checker, history: &History) -> CheckResult {
    let mut findings = Vec::new();
    let mut keep = |f: Finding| {
        if f.class == class {
            findings.push(f);
        }
    };
    let replays = checker.reads_replays();
    for op in by_user(history).values().flatten() {
        if replays || !op.kind.is_replay() {
            checker.observe(op, &mut keep);
        }
    }
    checker.finish(&mut keep);
    CheckResult::from_findings(class, findings)
}

/// Each user's operations, in the order the user performed them. Users are independent, so every
/// per-user check starts here and is blind to how users' records interleave.
pub(crate) fn by_user(history: &History) -> BTreeMap<u32, Vec<&Operation>> {
    let mut users: BTreeMap<u32, Vec<&Operation>> = Default::default();
    for op in history.operations() {
        users.entry(op.user).or_default().push(op);
    }
    for ops in users.values_mut() {
        ops.sort_by_key(|op| (op.intended_at, op.id));
    }
    users
}

/// The items of a successful read, and when its answering request was sent: only values
/// acknowledged before then can be required of it.
pub(crate) fn successful_read(op: &Operation) -> Option<(&[String], Micros)> {
    match &op.outcome {
        Outcome::Ok(OkValue::Read { items, .. }) => {
            let sent_at = op.attempts.last().map_or(op.intended_at, |a| a.started_at);
            Some((items, sent_at))
        }
        _ => None,
    }
}

/// Whether the operation started a new session (a successful login): what was required of the
/// old one no longer is.
pub(crate) fn starts_session(op: &Operation) -> bool {
    matches!(
        (&op.kind, &op.outcome),
        (crate::history::OpKind::Login, Outcome::Ok(_))
    )
}

/// The user a value was appended by: values are written `<user name>-<n>`.
pub(crate) fn owner(value: &str) -> Option<&str> {
    value.rsplit_once('-').map(|(owner, _)| owner)
}

/// Whether `value` is one `user` appended: another user's value in a read is a foreign session,
/// never part of this user's session going back or forth.
pub(crate) fn owned_by(value: &str, user: u32) -> bool {
    owner(value) == Some(crate::history::user_name(user).as_str())
}

/// Every user's state out of `sessions`, in user order: what is settled at the end of a history
/// is reported in an order that does not depend on the map's.
pub(crate) fn drain_by_user<S>(sessions: &mut HashMap<u32, S>) -> Vec<(u32, S)> {
    let mut all: Vec<(u32, S)> = sessions.drain().collect();
    all.sort_by_key(|(user, _)| *user);
    all
}

/// Seconds, for messages.
pub(crate) fn secs(at: Micros) -> String {
    format!("{:.3} s", at as f64 / 1e6)
}
