//! The scenario's `[topology]` section, where the nodes run, and its validation.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::external::ExternalTopology;
use super::Problem;

/// Most replicas a topology may have.
pub const MAX_REPLICAS: u32 = 8;
/// Most sentinels a topology may have.
pub const MAX_SENTINELS: u32 = 9;

/// One master, `replicas` replicas and `sentinels` sentinels.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Topology {
    /// Replicas of the master (at least 1, or nothing can be promoted).
    pub replicas: u32,
    /// Sentinels watching the master.
    pub sentinels: u32,
    /// Sentinels that must agree the master is down (at most `sentinels`).
    pub quorum: u32,
    /// Master name the sentinels monitor.
    pub master_name: String,
    /// Sentinel `down-after-milliseconds`: silence before a sentinel calls a node down.
    #[serde(with = "humantime_serde")]
    pub down_after: Duration,
    /// Sentinel `failover-timeout`.
    #[serde(with = "humantime_serde")]
    pub failover_timeout: Duration,
    /// Sentinel `parallel-syncs`: replicas resynchronised with a new master at once.
    pub parallel_syncs: u32,
    /// Redis `min-replicas-to-write`: the master refuses writes unless this many replicas are
    /// connected with at most `min_replicas_max_lag` of lag. 0 turns it off. It bounds what an
    /// isolated master can acknowledge and then lose.
    pub min_replicas_to_write: u32,
    /// What a data node keeps on disk. Without persistence a restarted node comes back empty, and
    /// if it comes back as master (no failover happened), its replicas empty themselves too.
    pub persistence: Persistence,
    /// Redis `min-replicas-max-lag`.
    #[serde(with = "humantime_serde")]
    pub min_replicas_max_lag: Duration,
    /// A registry image to use instead of building one from the local `redis-server`; when it is
    /// neither present nor pullable the local build is used.
    pub image: Option<String>,
    /// Where the nodes run: `docker` (containers on a network of the run's own), `process`
    /// (local redis-server processes on loopback ports), `auto` (Docker when an engine answers,
    /// else processes, with a notice), or `external` (a deployment the harness did not start,
    /// described in `external`).
    pub backend: BackendChoice,
    /// The deployment an `external` backend drills; the node counts, quorum and Sentinel timings
    /// above are then the deployment's own, not set by the scenario.
    pub external: Option<ExternalTopology>,
    /// Sentinels and data nodes require a password (`requirepass`, `masterauth`, sentinel
    /// `auth-pass`). It is made up for the run, or taken from `FAILOVER_DRILL_REDIS_PASSWORD`, and
    /// reaches the app only through its environment.
    pub require_password: bool,
    /// Longest wait for replication links and sentinel discovery before the run gives up.
    #[serde(with = "humantime_serde")]
    pub ready_timeout: Duration,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            replicas: 2,
            sentinels: 3,
            quorum: 2,
            master_name: "mymaster".to_owned(),
            down_after: Duration::from_millis(1000),
            failover_timeout: Duration::from_secs(10),
            parallel_syncs: 1,
            min_replicas_to_write: 0,
            min_replicas_max_lag: Duration::from_secs(10),
            persistence: Persistence::None,
            image: None,
            backend: BackendChoice::Auto,
            external: None,
            require_password: false,
            ready_timeout: Duration::from_secs(30),
        }
    }
}

/// Where the nodes of a topology run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    /// Docker when an engine answers, else local processes (with a notice).
    #[default]
    Auto,
    /// Containers on a network of the run's own; every fault kind works.
    Docker,
    /// Local redis-server processes on loopback ports; no network faults (they need a network namespace per node).
    Process,
    /// A deployment the harness did not start (`topology.external`): nothing is created or
    /// removed, faults go through Redis commands or the operator's command templates.
    External,
}

impl std::str::FromStr for BackendChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "docker" => Ok(Self::Docker),
            "process" => Ok(Self::Process),
            "external" => Ok(Self::External),
            other => Err(format!(
                "unknown backend '{other}': use auto, docker, process or external"
            )),
        }
    }
}

/// What a data node writes to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Persistence {
    /// Nothing (`save ""`, `appendonly no`).
    None,
    /// An append-only file fsynced every second (`appendonly yes`, `appendfsync everysec`).
    Aof,
}

impl Topology {
    /// Checks the section; the field named is within it.
    pub(super) fn check(&self) -> Result<(), Problem> {
        let problem = |field: &str, message: String| Err((field.to_owned(), message));
        match (&self.external, self.backend) {
            (Some(external), BackendChoice::External) => {
                return external
                    .check()
                    .map_err(|(field, message)| (format!("external.{field}"), message));
            }
            (None, BackendChoice::External) => {
                return problem(
                    "external",
                    "backend = \"external\" needs a [topology.external] section with the \
                     deployment's name and sentinels"
                        .into(),
                )
            }
            (Some(_), _) => {
                return problem(
                    "backend",
                    "a [topology.external] section is drilled only with backend = \"external\""
                        .into(),
                )
            }
            (None, _) => {}
        }
        // The name goes into `sentinel monitor` lines of the config files the harness writes.
        if !super::is_plain_name(&self.master_name) {
            return problem(
                "master_name",
                format!(
                    "{:?} is not a master name: use letters, digits, '-', '_' and '.'",
                    self.master_name
                ),
            );
        }
        if self.replicas == 0 {
            return problem(
                "replicas",
                "must be at least 1: with no replica there is nothing to fail over to".into(),
            );
        }
        // Upper bounds keep a typo from starting dozens of containers.
        if self.replicas > MAX_REPLICAS {
            return problem(
                "replicas",
                format!("{} is more than {MAX_REPLICAS}", self.replicas),
            );
        }
        if self.sentinels == 0 || self.sentinels > MAX_SENTINELS {
            return problem(
                "sentinels",
                format!("{} is not between 1 and {MAX_SENTINELS}", self.sentinels),
            );
        }
        if self.quorum == 0 || self.quorum > self.sentinels {
            return problem(
                "quorum",
                format!(
                    "{} is not between 1 and the sentinel count {}",
                    self.quorum, self.sentinels
                ),
            );
        }
        if self.down_after < Duration::from_millis(100) {
            return problem("down_after", "must be at least 100ms".into());
        }
        // Redis counts min-replicas-max-lag in whole seconds: a fraction would be cut off, and
        // the drill would not run what the file says.
        let lag = self.min_replicas_max_lag;
        if lag.subsec_nanos() != 0 || lag.is_zero() {
            return problem(
                "min_replicas_max_lag",
                format!(
                    "{} is not a whole number of seconds of at least 1s: Redis's \
                     min-replicas-max-lag counts seconds",
                    humantime::format_duration(lag)
                ),
            );
        }
        if self.min_replicas_to_write > self.replicas {
            return problem(
                "min_replicas_to_write",
                format!(
                    "{} is more than the {} replicas: the master would refuse every write",
                    self.min_replicas_to_write, self.replicas
                ),
            );
        }
        Ok(())
    }
}
