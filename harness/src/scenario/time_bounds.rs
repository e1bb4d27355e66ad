//! Bounds on time in a scenario's expectations: how long a user could not work, how long each
//! fault took to recover from or to fail over, and operation latency per phase, kind and
//! percentile (`[expectations.latency]` `during.p99 = "3s"`, `during.write.p50 = "200ms"`).
//!
//! It owns the latency bounds' data and validation (the other bounds are plain durations in
//! `expectations`); the verdict holds them against a run's figures.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The phases of a run latency can be bounded in.
const PHASES: [&str; 3] = ["before", "during", "after"];
/// The kinds of operation latency can be bounded for; `all` is every operation.
const KINDS: [&str; 4] = ["all", "login", "write", "read"];
/// The percentiles latency can be bounded at, as written: the names of
/// `report::Latency::columns`, in its order.
pub const PERCENTILES: [&str; 6] = ["p50", "p90", "p99", "p99.9", "p99.99", "max"];

/// One bound on operation latency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyBound {
    /// `before`, `during` or `after`.
    pub phase: String,
    /// `all`, `login`, `write` or `read`.
    pub kind: String,
    /// `p50` ... `max`.
    pub percentile: String,
    /// The bound.
    pub at_most: Duration,
}

impl LatencyBound {
    /// What is bounded, in words: `during write operation latency p99`.
    pub fn measure(&self) -> String {
        let kind = if self.kind == "all" {
            String::new()
        } else {
            format!(" {}", self.kind)
        };
        format!("{}{kind} operation latency {}", self.phase, self.percentile)
    }

    /// The bound in words: `during write operation latency p99 <= 3s`.
    pub fn describe(&self) -> String {
        format!(
            "{} <= {}",
            self.measure(),
            humantime::format_duration(self.at_most)
        )
    }
}

/// A phase's entry as written: a percentile's bound, or a kind's table of them.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
pub enum Entry {
    /// `p99 = "3s"`.
    Bound(String),
    /// `write = { p99 = "3s" }`.
    Kind(BTreeMap<String, String>),
}

/// Every latency bound, as `[expectations.latency]` writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, BTreeMap<String, Entry>>")]
#[serde(into = "BTreeMap<String, BTreeMap<String, Entry>>")]
pub struct LatencyBounds(pub Vec<LatencyBound>);

fn duration(text: &str, place: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| {
        format!("latency.{place}: '{text}' is not a duration like \"3s\" or \"250ms\": {e}")
    })
}

fn bound(phase: &str, kind: &str, percentile: &str, text: &str) -> Result<LatencyBound, String> {
    let place = if kind == "all" {
        format!("{phase}.{percentile}")
    } else {
        format!("{phase}.{kind}.{percentile}")
    };
    if !PERCENTILES.contains(&percentile) {
        return Err(format!(
            "latency.{place}: '{percentile}' is no percentile: use one of {}",
            PERCENTILES.join(", ")
        ));
    }
    Ok(LatencyBound {
        phase: phase.to_owned(),
        kind: kind.to_owned(),
        percentile: percentile.to_owned(),
        at_most: duration(text, &place)?,
    })
}

impl TryFrom<BTreeMap<String, BTreeMap<String, Entry>>> for LatencyBounds {
    type Error = String;

    fn try_from(phases: BTreeMap<String, BTreeMap<String, Entry>>) -> Result<Self, String> {
        let mut bounds = Vec::new();
        for (phase, entries) in phases {
            if !PHASES.contains(&phase.as_str()) {
                return Err(format!(
                    "latency.{phase}: no such phase: use {}",
                    PHASES.join(", ")
                ));
            }
            for (key, entry) in entries {
                match entry {
                    Entry::Bound(text) => bounds.push(bound(&phase, "all", &key, &text)?),
                    Entry::Kind(percentiles) => {
                        if !KINDS.contains(&key.as_str()) {
                            return Err(format!(
                                "latency.{phase}.{key}: no such kind of operation: use {}",
                                KINDS.join(", ")
                            ));
                        }
                        for (percentile, text) in percentiles {
                            bounds.push(bound(&phase, &key, &percentile, &text)?);
                        }
                    }
                }
            }
        }
        Ok(Self(bounds))
    }
}

impl From<LatencyBounds> for BTreeMap<String, BTreeMap<String, Entry>> {
    fn from(bounds: LatencyBounds) -> Self {
        let mut phases: Self = BTreeMap::new();
        for b in bounds.0 {
            let text = humantime::format_duration(b.at_most).to_string();
            let entries = phases.entry(b.phase).or_default();
            if b.kind == "all" {
                entries.insert(b.percentile, Entry::Bound(text));
            } else if let Entry::Kind(table) = entries
                .entry(b.kind)
                .or_insert_with(|| Entry::Kind(BTreeMap::new()))
            {
                table.insert(b.percentile, text);
            }
        }
        phases
    }
}

/// Whether no latency is bounded.
pub(super) fn is_empty(bounds: &LatencyBounds) -> bool {
    bounds.0.is_empty()
}
