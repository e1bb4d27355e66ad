//! Faults as a scenario states them: what, to whom, when, for how long, how often.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::history::Cut;

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL, then start again at the same address after `duration`.
    Kill,
    /// Graceful stop (SIGTERM: Redis runs `SHUTDOWN`), then start again after `duration`.
    Stop,
    /// Freeze the processes (cgroup freezer), resume after `duration`: a stalled, not dead, node.
    Pause,
    /// Drop every packet between the target and the peers `cut` names, for `duration`.
    Partition,
    /// Answer every TCP packet the peers `cut` names send the target with a reset, for
    /// `duration`: open connections break at once and new ones are refused.
    Reset,
    /// `SENTINEL FAILOVER`: a planned switch with no node down.
    ManualFailover,
    /// Delay every byte between the app (the host) and the target by `latency`, each way, for
    /// `duration`; the target's links to the other nodes stay fast.
    Latency,
}

impl FaultKind {
    /// Whether the fault lasts and heals (and so needs a `duration`).
    pub fn heals(self) -> bool {
        !matches!(self, Self::ManualFailover)
    }

    /// The name used in scenario files and histories.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Stop => "stop",
            Self::Pause => "pause",
            Self::Partition => "partition",
            Self::Reset => "reset",
            Self::ManualFailover => "manual-failover",
            Self::Latency => "latency",
        }
    }
}

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
    /// A node by name (`redis-1`, `sentinel-2`).
    Node(String),
}

const TARGET_WORDS: [(&str, Target); 6] = [
    ("master", Target::Master),
    ("replica", Target::Replica),
    ("replicas", Target::Replicas),
    ("sentinel", Target::Sentinel),
    ("sentinels:minority", Target::SentinelsMinority),
    ("sentinels:majority", Target::SentinelsMajority),
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// What it does.
    pub kind: FaultKind,
    /// Whom it hits; default `master`.
    #[serde(default = "default_target")]
    pub target: Target,
    /// When it starts, from the start of the workload.
    #[serde(with = "humantime_serde")]
    pub at: Duration,
    /// How long it lasts before its heal (restart, resume, reconnect); not for `manual-failover`.
    #[serde(default, with = "humantime_serde")]
    pub duration: Duration,
    /// For `partition` and `reset`: whom the target is cut off from.
    #[serde(default)]
    pub cut: Option<Cut>,
    /// For `latency`: the delay added each way, 1 ms to 10 s.
    #[serde(default, with = "humantime_serde")]
    pub latency: Option<Duration>,
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
    /// For `kill`: land the fault on requests in flight. The target is frozen first, the fault
    /// waits until the workload has at least this many requests in flight (at most
    /// [`IN_FLIGHT_WAIT`]), and then kills the frozen node: every command on its connections is
    /// lost mid-flight, as when a loaded master crashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<u32>,
}

/// Most repetitions of one fault.
pub const MAX_FAULT_COUNT: u32 = 100;

/// Longest a fault with `in_flight` keeps its target frozen while it waits for requests to pile
/// up; past it the fault applies anyway, and the history records how many were in flight.
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(2);

fn default_target() -> Target {
    Target::Master
}

fn default_count() -> u32 {
    1
}

fn is_once(count: &u32) -> bool {
    *count == 1
}

impl FaultSpec {
    /// Checks the fields that depend on each other; returns the field and what is wrong.
    pub(crate) fn check(&self, node_names: &[String]) -> Result<(), (&'static str, String)> {
        let kind = self.kind.name();
        if self.kind.heals() && self.duration.is_zero() {
            return Err((
                "duration",
                format!("a {kind} fault needs a duration above 0s"),
            ));
        }
        if !self.kind.heals() && !self.duration.is_zero() {
            return Err(("duration", format!("a {kind} fault has no duration")));
        }
        if self.duration > Duration::from_secs(600) {
            return Err(("duration", "must be at most 10m".to_owned()));
        }
        let cuts = matches!(self.kind, FaultKind::Partition | FaultKind::Reset);
        match (cuts, self.cut) {
            (true, None) => {
                return Err((
                    "cut",
                    format!("a {kind} fault needs cut = \"cluster\", \"app\" or \"all\""),
                ))
            }
            (true, Some(_)) | (false, None) => {}
            (false, Some(_)) => return Err(("cut", format!("a {kind} fault has no cut"))),
        }
        match (self.kind == FaultKind::Latency, self.latency) {
            (true, None) => {
                return Err((
                    "latency",
                    "a latency fault needs latency, like \"200ms\"".into(),
                ))
            }
            (true, Some(latency))
                if latency < Duration::from_millis(1) || latency > Duration::from_secs(10) =>
            {
                return Err(("latency", "must be between 1ms and 10s".into()))
            }
            (true, Some(_)) | (false, None) => {}
            (false, Some(_)) => return Err(("latency", format!("a {kind} fault has no latency"))),
        }
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
        if let Some(in_flight) = self.in_flight {
            if self.kind != FaultKind::Kill {
                return Err((
                    "in_flight",
                    format!("applies to kill faults, not to {kind}"),
                ));
            }
            if in_flight == 0 {
                return Err((
                    "in_flight",
                    "must be at least 1 (leave it out to apply the fault at once)".to_owned(),
                ));
            }
        }
        if self.kind == FaultKind::ManualFailover && self.target != Target::Master {
            return Err(("target", "a manual failover always moves the master".into()));
        }
        if let Target::Node(name) = &self.target {
            if !node_names.contains(name) {
                return Err(("target", format!("no node '{name}' in this topology")));
            }
        }
        Ok(())
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
