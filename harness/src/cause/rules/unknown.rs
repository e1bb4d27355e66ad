//! The cause of a finding no rule fits: unknown, and what was missing to decide.

use super::at;
use crate::cause::view::{ClusterView, Role};
use crate::cause::{Cause, CauseKind};
use crate::checker::{Class, Finding};

/// No rule fits the finding: says what was missing to decide (what the rules that could not
/// decide lacked, else what the records do not hold), with what the nodes showed at the answer.
pub fn unknown(view: &ClusterView, f: &Finding, missing: &[String]) -> Cause {
    let t = f.answered.ended_at;
    let detail = if !view.sampled() {
        "no node states were recorded".to_owned()
    } else {
        let master = view.named_master(t).map(|m| {
            let role = view.track_at(m).and_then(|tr| tr.at(t)).map(|s| s.role);
            format!(
                "the sentinels named {} master{}",
                view.name(m),
                match role {
                    Some(Role::Master) => ", which answered the harness as master",
                    Some(Role::Replica { .. }) => ", which answered the harness as a replica",
                    Some(Role::Unreachable) => ", which did not answer the harness",
                    None => " (not sampled)",
                }
            )
        });
        let faults: Vec<String> = view
            .faults()
            .iter()
            .filter(|s| s.active_at(t))
            .map(|s| format!("{} of {}", s.kind, s.node))
            .collect();
        format!(
            "at {}: {}; faults in force: {}",
            at(t),
            master.unwrap_or_else(|| "no master named".to_owned()),
            if faults.is_empty() {
                "none".to_owned()
            } else {
                faults.join(", ")
            }
        )
    };
    let summary = match missing.first() {
        Some(what) => format!("unknown: {what}"),
        None if !view.sampled() => "unknown: no node states were recorded".to_owned(),
        None if matches!(f.class, Class::UserVisibleError | Class::RetriedError) => {
            "unknown: no fault, switch or reconfiguration held a node the app used; whether the \
             app or its client still used a node the sentinels had replaced is not recorded"
                .to_owned()
        }
        None => "unknown: no node state explains it; the records hold nothing of the app's own \
                 state"
            .to_owned(),
    };
    let also: Vec<&str> = missing.iter().skip(1).map(String::as_str).collect();
    let detail = if also.is_empty() {
        detail
    } else {
        format!("{detail}; also undecided: {}", also.join("; "))
    };
    Cause {
        kind: CauseKind::Unknown,
        summary,
        detail,
    }
}
