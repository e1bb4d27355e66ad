//! Checkers: pure functions from a [`History`] to findings and a verdict. Each also comes as a
//! struct that takes operations one at a time and keeps per-user state only, so a run's history
//! is checked as it is read back from disk (`crate::assess`); `check` feeds it a history in
//! memory.
//!
//! They never touch the network, so they are tested with hand-built histories. A checker that finds
//! what it is looking for says `Invalid`; whether that fails the run is for the scenario's
//! expectations (`crate::verdict`) to decide, because some faults lose writes by design.
//!
//! # Layout
//! - [`survival`]: sessions kept until the end; no other user's data.
//! - [`lost_writes`]: acknowledged values present in every later read.
//! - [`user_errors`]: operations that failed after the client's retries, and outage windows.
//! - [`timeline`]: fault, sentinel, app and user milestones of each failover.

pub mod lost_writes;
pub mod survival;
pub mod timeline;
pub mod user_errors;

#[cfg(test)]
pub(crate) mod fixtures;

use serde::{Deserialize, Serialize};

use crate::history::{History, Micros, Operation};

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

/// One thing a checker found, with when and who.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// When, in run microseconds.
    pub at: Micros,
    /// The virtual user, if one is concerned.
    pub user: Option<u32>,
    /// What, for people.
    pub message: String,
}

/// The result of one checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The checker's name.
    pub checker: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// How many things it found (lost sessions, lost writes, ...).
    pub count: u64,
    /// The first findings (at most [`MAX_FINDINGS`]).
    pub findings: Vec<Finding>,
}

/// Findings kept per checker; the count stays exact.
pub const MAX_FINDINGS: usize = 50;

impl CheckResult {
    pub(crate) fn from_findings(checker: &str, findings: Vec<Finding>) -> Self {
        let count = findings.len() as u64;
        let verdict = if findings.is_empty() {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        let mut findings = findings;
        findings.sort_by_key(|f| (f.at, f.user));
        findings.truncate(MAX_FINDINGS);
        Self {
            checker: checker.to_owned(),
            verdict,
            count,
            findings,
        }
    }
}

/// Each user's operations, in the order the user performed them. Users are independent, so every
/// per-user check starts here and is blind to how users' records interleave.
pub(crate) fn by_user(history: &History) -> std::collections::BTreeMap<u32, Vec<&Operation>> {
    let mut users: std::collections::BTreeMap<u32, Vec<&Operation>> = Default::default();
    for op in history.operations() {
        users.entry(op.user).or_default().push(op);
    }
    for ops in users.values_mut() {
        ops.sort_by_key(|op| (op.intended_at, op.id));
    }
    users
}
