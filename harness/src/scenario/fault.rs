//! Faults as a scenario states them: when, to whom, for how long, how often, and what (the
//! action, whose fields are its kind's own; the kinds are in `kinds`).
//!
//! It owns data and its validation only: it must not apply, schedule or judge anything.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod kinds;
pub use kinds::{Cut, FaultAction, FaultKind};

/// Which nodes a fault hits, decided when it fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Target {
    /// Whichever node the sentinels call master at that moment.
    Master,
    /// One data node that is not the master then.
    Replica,
    /// Every data node that is not the master then.
    Replicas,
    /// One sentinel.
    Sentinel,
    /// The largest minority of the sentinels: failover must still happen without them.
    SentinelsMinority,
    /// The smallest majority of the sentinels: no failover can happen without them.
    SentinelsMajority,
    /// Every sentinel.
    Sentinels,
    /// The app under test (the instance is the kind's field).
    App,
    /// A node by name (`redis-1`, `sentinel-2`).
    Node(String),
}

const TARGET_WORDS: [(&str, Target); 8] = [
    ("master", Target::Master),
    ("replica", Target::Replica),
    ("replicas", Target::Replicas),
    ("sentinel", Target::Sentinel),
    ("sentinels:minority", Target::SentinelsMinority),
    ("sentinels:majority", Target::SentinelsMajority),
    ("sentinels", Target::Sentinels),
    ("app", Target::App),
];

impl TryFrom<String> for Target {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        if let Some((_, target)) = TARGET_WORDS.iter().find(|(word, _)| *word == s) {
            return Ok(target.clone());
        }
        if s.starts_with("redis-") || s.starts_with("sentinel-") {
            return Ok(Self::Node(s));
        }
        let words: Vec<&str> = TARGET_WORDS.iter().map(|(w, _)| *w).collect();
        Err(format!(
            "unknown target '{s}': use one of {} or a node name like 'redis-2'",
            words.join(", ")
        ))
    }
}

impl From<Target> for String {
    fn from(t: Target) -> Self {
        match t {
            Target::Node(name) => name,
            other => TARGET_WORDS
                .iter()
                .find(|(_, target)| *target == other)
                .map_or_else(String::new, |(word, _)| (*word).to_owned()),
        }
    }
}

/// One fault of the schedule.
///
/// Unknown fields are errors: the action's kind refuses every field that is neither its own nor
/// one of these (serde cannot refuse them here, beside a flattened field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// Whom it hits, as written; when left out, its kind's own target (see [`FaultSpec::target`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// When it starts, from the start of the workload.
    #[serde(with = "humantime_serde")]
    pub at: Duration,
    /// How long it lasts before its heal (restart, resume, reconnect); only for kinds that last.
    #[serde(default, with = "humantime_serde")]
    pub duration: Duration,
    /// How many times the fault happens (1 to [`MAX_FAULT_COUNT`]); default once. Each time
    /// resolves its target again, so a repeated `master` kill hits whichever node is master then.
    #[serde(default = "default_count", skip_serializing_if = "is_once")]
    pub count: u32,
    /// With `count` above 1: time from one start to the next. It must exceed `duration`; a
    /// repetition also waits until the one before has healed and settled.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub every: Option<Duration>,
    /// Each start moves by a random offset between -`jitter` and +`jitter` (never before the
    /// workload starts), so repeated runs land the fault on different moments of the workload.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub jitter: Option<Duration>,
    /// What it does: `kind` and the kind's own fields.
    #[serde(flatten)]
    pub action: FaultAction,
}

/// What a fault is checked against: the rest of the scenario.
pub(crate) struct FaultBounds {
    /// Every node's name.
    pub(crate) node_names: Vec<String>,
    /// How many app instances run.
    pub(crate) app_instances: u32,
    /// How long the workload lasts: every start must come before its end.
    pub(crate) workload: Duration,
}

/// Most repetitions of one fault.
pub const MAX_FAULT_COUNT: u32 = 100;

/// Longest a fault with `in_flight` keeps its target frozen while it waits for requests to pile
/// up; past it the fault applies anyway, and the history records how many were in flight.
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(2);

fn default_count() -> u32 {
    1
}

fn is_once(count: &u32) -> bool {
    *count == 1
}

impl FaultSpec {
    /// The fault's kind.
    pub fn kind(&self) -> FaultKind {
        self.action.kind()
    }

    /// Whom it hits: the target written, else its kind's (`master` for most kinds).
    pub fn target(&self) -> Target {
        self.target
            .clone()
            .unwrap_or_else(|| self.kind().only_target().unwrap_or(Target::Master))
    }

    /// Checks the fields that depend on each other and on the rest of the scenario; returns the
    /// field and what is wrong.
    pub(crate) fn check(&self, bounds: &FaultBounds) -> Result<(), (&'static str, String)> {
        let kind = self.kind();
        if self.at >= bounds.workload {
            return Err((
                "at",
                format!(
                    "{} is not before the end of the workload ({})",
                    humantime::format_duration(self.at),
                    humantime::format_duration(bounds.workload)
                ),
            ));
        }
        if kind.lasts() && self.duration.is_zero() {
            return Err((
                "duration",
                format!("a {kind} fault needs a duration above 0s"),
            ));
        }
        if !kind.lasts() && !self.duration.is_zero() {
            return Err(("duration", format!("a {kind} fault has no duration")));
        }
        if self.duration > Duration::from_secs(600) {
            return Err(("duration", "must be at most 10m".to_owned()));
        }
        self.action.check(bounds.app_instances)?;
        if self.count == 0 || self.count > MAX_FAULT_COUNT {
            return Err((
                "count",
                format!("{} is not between 1 and {MAX_FAULT_COUNT}", self.count),
            ));
        }
        match (self.count > 1, self.every) {
            (true, None) => {
                return Err((
                    "every",
                    format!(
                        "a fault that happens {} times needs every, like \"15s\"",
                        self.count
                    ),
                ))
            }
            (true, Some(every)) if every <= self.duration => {
                return Err((
                    "every",
                    format!(
                        "{} must be longer than the fault's duration ({}): a fault cannot \
                         start again before it has healed",
                        humantime::format_duration(every),
                        humantime::format_duration(self.duration)
                    ),
                ))
            }
            (false, Some(_)) => {
                return Err(("every", "needs count above 1".to_owned()));
            }
            _ => {}
        }
        if let (Some(jitter), Some(every)) = (self.jitter, self.every) {
            if jitter.saturating_mul(2) >= every {
                return Err((
                    "jitter",
                    format!(
                        "{} must be less than half of every ({}), so repetitions keep their order",
                        humantime::format_duration(jitter),
                        humantime::format_duration(every)
                    ),
                ));
            }
        }
        if let Some(only) = kind.only_target() {
            if self.target() != only {
                return Err((
                    "target",
                    format!(
                        "a {kind} fault always hits '{}'; leave target out",
                        String::from(only)
                    ),
                ));
            }
        }
        if let Target::Node(name) = &self.target() {
            if !bounds.node_names.contains(name) {
                return Err((
                    "target",
                    format!(
                        "no node '{name}' in this topology; its nodes are: {} (an external \
                         deployment's are those topology.external.names gives)",
                        bounds.node_names.join(", ")
                    ),
                ));
            }
        }
        if self.last_start() >= bounds.workload {
            return Err((
                "count",
                format!(
                    "the last of {} repetitions may start at {}, not before the end of the \
                     workload ({}): lower count or every, or lengthen workload.duration",
                    self.count,
                    humantime::format_duration(self.last_start()),
                    humantime::format_duration(bounds.workload)
                ),
            ));
        }
        Ok(())
    }

    /// The fault in words, its kind's own fields included: `kill on master at 6s for 8s`,
    /// `partition on master at 6s for 8s (cut = "cluster"), 3 times every 20s, jitter 1s`.
    pub fn describe(&self) -> String {
        let kind = self.kind();
        let mut text = format!("{kind} on {}", String::from(self.target()));
        text.push_str(&format!(" at {}", humantime::format_duration(self.at)));
        if kind.lasts() {
            text.push_str(&format!(
                " for {}",
                humantime::format_duration(self.duration)
            ));
        }
        // The kind's own fields, as the file writes them: the action serialises to them and its
        // `kind`.
        let own: Vec<String> = match toml::Table::try_from(&self.action) {
            Ok(table) => table
                .into_iter()
                .filter(|(field, _)| field != "kind")
                .map(|(field, value)| format!("{field} = {value}"))
                .collect(),
            Err(_) => Vec::new(),
        };
        if !own.is_empty() {
            text.push_str(&format!(" ({})", own.join(", ")));
        }
        if let (true, Some(every)) = (self.count > 1, self.every) {
            text.push_str(&format!(
                ", {} times every {}",
                self.count,
                humantime::format_duration(every)
            ));
        }
        if let Some(jitter) = self.jitter {
            text.push_str(&format!(", jitter {}", humantime::format_duration(jitter)));
        }
        text
    }

    /// When each repetition is due, from the start of the workload, before jitter.
    pub fn starts(&self) -> impl Iterator<Item = Duration> + '_ {
        let every = self.every.unwrap_or_default();
        (0..self.count).map(move |i| self.at + every * i)
    }

    /// When the last repetition may start, jitter included.
    pub fn last_start(&self) -> Duration {
        self.starts().last().unwrap_or(self.at) + self.jitter.unwrap_or_default()
    }
}
