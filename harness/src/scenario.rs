//! Scenario files: parsing, validation, and finding them by name.
//!
//! A scenario is a TOML file that serialises [`Scenario`]; every field but `name` has a default,
//! unknown fields are errors, and durations are written like `"1s"` or `"250ms"`. It owns no I/O but
//! reading the file; it must not start anything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod contract;
mod expectations;
mod fault;
pub use contract::{HttpContract, Route};
pub use expectations::{Bound, Expectations, FailoverExpectation};
pub use fault::{
    kinds, Cut, FaultAction, FaultKind, FaultSpec, Target, IN_FLIGHT_WAIT, MAX_FAULT_COUNT,
};

/// What can be wrong with a scenario or its name.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// No file by that name or path.
    #[error("unknown scenario '{name}'; known scenarios in {dir}: {}", known_list(.known))]
    Unknown {
        /// What the user asked for.
        name: String,
        /// Where scenarios were looked for.
        dir: PathBuf,
        /// Names found there.
        known: Vec<String>,
    },
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid scenario; `message` names the line and field.
    #[error("scenario file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The values parse but cannot run together.
    #[error("scenario file {path}: field '{field}': {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The dotted field name.
        field: String,
        /// What is wrong and what would be right.
        message: String,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    }
}

/// Most replicas a topology may have.
pub const MAX_REPLICAS: u32 = 8;
/// Most sentinels a topology may have.
pub const MAX_SENTINELS: u32 = 9;
/// Most virtual users.
pub const MAX_USERS: u32 = 10_000;
/// Highest arrival rate, requests per second: well past what one machine's generator reaches.
pub const MAX_RATE: f64 = 1_000_000.0;

/// A named, runnable drill: topology + app + workload + schedule + expectations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name used on the command line and in reports.
    pub name: String,
    /// One line on what the scenario shows.
    #[serde(default)]
    pub description: String,
    /// The Redis nodes.
    #[serde(default)]
    pub topology: Topology,
    /// The app under test.
    #[serde(default)]
    pub app: AppSpec,
    /// The virtual users.
    #[serde(default)]
    pub workload: Workload,
    /// The faults, in any order.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Thresholds that decide the verdict.
    #[serde(default)]
    pub expectations: Expectations,
    /// How the nodes' states are sampled into the history.
    #[serde(default)]
    pub sampler: SamplerSpec,
}

/// How often the harness records every node's state (role, link, offset, keys, run id; the master
/// each sentinel names). It also samples at once on every sentinel event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SamplerSpec {
    /// Time between two samples of one node (10ms to 10s).
    #[serde(with = "humantime_serde")]
    pub period: Duration,
}

impl Default for SamplerSpec {
    fn default() -> Self {
        Self {
            period: Duration::from_millis(100),
        }
    }
}

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
    /// (local redis-server processes on loopback ports), or `auto` (Docker when an engine answers,
    /// else processes, with a notice).
    pub backend: BackendChoice,
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
}

impl std::str::FromStr for BackendChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "docker" => Ok(Self::Docker),
            "process" => Ok(Self::Process),
            other => Err(format!(
                "unknown backend '{other}': use auto, docker or process"
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

/// The app under test; for now the sample app, run inside the harness process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AppSpec {
    /// Local port for the app; 0 picks a free one.
    pub port: u16,
    /// How long the app's store retries one call before answering 503.
    #[serde(with = "humantime_serde")]
    pub store_retry_deadline: Duration,
    /// Longest wait for `GET /healthz` to answer.
    #[serde(with = "humantime_serde")]
    pub health_timeout: Duration,
    /// Replicas that must acknowledge each session write (`WAIT`) before the app answers 2xx;
    /// 0 answers once the master has it.
    pub wait_replicas: u32,
    /// How long `WAIT` may block before the write is retried.
    #[serde(with = "humantime_serde")]
    pub wait_timeout: Duration,
    /// App instances sharing the store, each with its own connections and `+switch-master`
    /// listeners; users' requests go round-robin over them.
    pub instances: u32,
    /// TEST ONLY: run the sample app's store with a known bug (`pinned`, `no-retry`, `stale-read`,
    /// `lossy-ack`, `stale-reconnect`) to see the drill fail it. Absent for a real drill.
    #[serde(with = "mutant_name", skip_serializing_if = "Option::is_none")]
    pub mutant: Option<sample_app::store::Mutant>,
    /// Run this command line (with `sh -c`) as the app instead of the in-process sample app; it
    /// is told where to listen and where the sentinels are in `FAILOVER_DRILL_*` variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Run this image (on the Docker engine already; port 8080 inside) as the app instead, on the
    /// run's network, with the same `FAILOVER_DRILL_*` variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Extra environment variables for `command` or `image`; for an image, `${FAILOVER_DRILL_...}`
    /// in a value is replaced by that variable.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub env: std::collections::BTreeMap<String, String>,
    /// The path that answers 2xx once the app is ready.
    pub health_path: String,
    /// Routes and JSON fields of the probe requests.
    pub contract: HttpContract,
}

/// A store mutant as its name in a scenario file.
mod mutant_name {
    use sample_app::store::Mutant;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(m: &Option<Mutant>, s: S) -> Result<S::Ok, S::Error> {
        match m {
            Some(m) => s.serialize_str(m.name()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Mutant>, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map(Some).map_err(serde::de::Error::custom)
    }
}

impl Default for AppSpec {
    fn default() -> Self {
        Self {
            port: 0,
            store_retry_deadline: Duration::from_secs(8),
            health_timeout: Duration::from_secs(10),
            wait_replicas: 0,
            wait_timeout: Duration::from_millis(250),
            instances: 1,
            mutant: None,
            command: None,
            image: None,
            env: std::collections::BTreeMap::new(),
            health_path: "/healthz".to_owned(),
            contract: HttpContract::default(),
        }
    }
}

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadModel {
    /// Requests are due at `rate` whatever the answers do; each goes to a user with nothing in
    /// flight, and waits (late, and counted so) when every user is busy.
    Open,
    /// Each user works through its own schedule at `rate / users`, one request at a time.
    Closed,
}

/// Virtual users and their pace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    /// Open or closed model.
    pub model: LoadModel,
    /// Virtual users, each with its own cookie jar and one request in flight.
    pub users: u32,
    /// Target requests per second, all users together.
    pub rate: f64,
    /// For the open model: the rate at the end, reached by a linear ramp from `rate`.
    pub ramp_to: Option<f64>,
    /// Every how many operations a user appends a value (the others read); 0 for reads only.
    pub write_every: u32,
    /// Appends after which a user logs in again, starting a fresh session; 0 for never. Bounds
    /// session size, so long runs keep each read small.
    pub relogin_after: u32,
    /// How long users keep working.
    #[serde(with = "humantime_serde")]
    pub duration: Duration,
    /// Longest wait for one HTTP request.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How a user retries a failed request, as a person reloading the page would.
    pub retry: ClientRetry,
    /// Users who stop working for a window and come back; none by default.
    pub idle: Option<Idle>,
}

/// A window in which the first `users` users do nothing. A user who comes back reads its session
/// first: a busy user carries its session across a switch in its own read-modify-write, and only a
/// user who returns afterwards sees what the switch rolled back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Idle {
    /// How many users go idle (users 1 to `users`).
    pub users: u32,
    /// Start of the window, from the start of the workload.
    #[serde(with = "humantime_serde")]
    pub from: Duration,
    /// End of the window.
    #[serde(with = "humantime_serde")]
    pub until: Duration,
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            model: LoadModel::Open,
            users: 20,
            rate: 200.0,
            ramp_to: None,
            write_every: 2,
            relogin_after: 0,
            duration: Duration::from_secs(20),
            request_timeout: Duration::from_secs(10),
            retry: ClientRetry::default(),
            idle: None,
        }
    }
}

/// A virtual user's retry budget.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClientRetry {
    /// Attempts per operation, the first included.
    pub attempts: u32,
    /// Pause between attempts.
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
}

impl Default for ClientRetry {
    fn default() -> Self {
        Self {
            attempts: 5,
            backoff: Duration::from_millis(500),
        }
    }
}

impl Scenario {
    /// Parses and validates scenario text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        let scenario: Self = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_owned(),
            message: explain_unknown_fault_field(e.to_string().trim_end()),
        })?;
        scenario.validate(path)?;
        Ok(scenario)
    }

    /// Reads a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Loads `name_or_path`: an existing file, or `<dir>/<name>.toml`.
    pub fn find(name_or_path: &str, dir: &Path) -> Result<Self, ScenarioError> {
        Self::from_file(&locate(name_or_path, dir)?)
    }

    /// Checks every field and the fields that depend on each other; errors name `path` and the
    /// field. Parsing does this; call it again after changing a parsed scenario.
    pub fn validate(&self, path: &Path) -> Result<(), ScenarioError> {
        let invalid = |field: &str, message: String| {
            Err(ScenarioError::Invalid {
                path: path.to_owned(),
                field: field.to_owned(),
                message,
            })
        };
        let t = &self.topology;
        let w = &self.workload;
        if self.name.trim().is_empty() {
            return invalid("name", "must not be empty".into());
        }
        if t.replicas == 0 {
            return invalid(
                "topology.replicas",
                "must be at least 1: with no replica there is nothing to fail over to".into(),
            );
        }
        // Upper bounds keep a typo from starting dozens of containers or millions of users.
        if t.replicas > MAX_REPLICAS {
            return invalid(
                "topology.replicas",
                format!("{} is more than {MAX_REPLICAS}", t.replicas),
            );
        }
        if t.sentinels == 0 || t.sentinels > MAX_SENTINELS {
            return invalid(
                "topology.sentinels",
                format!("{} is not between 1 and {MAX_SENTINELS}", t.sentinels),
            );
        }
        if t.quorum == 0 || t.quorum > t.sentinels {
            return invalid(
                "topology.quorum",
                format!(
                    "{} is not between 1 and the sentinel count {}",
                    t.quorum, t.sentinels
                ),
            );
        }
        if t.down_after < Duration::from_millis(100) {
            return invalid("topology.down_after", "must be at least 100ms".into());
        }
        if w.users == 0 || w.users > MAX_USERS {
            return invalid(
                "workload.users",
                format!("{} is not between 1 and {MAX_USERS}", w.users),
            );
        }
        if !(w.rate.is_finite() && w.rate > 0.0 && w.rate <= MAX_RATE) {
            return invalid(
                "workload.rate",
                format!(
                    "{} is not a rate above 0 and at most {MAX_RATE} requests per second",
                    w.rate
                ),
            );
        }
        if let Some(ramp_to) = w.ramp_to {
            if w.model == LoadModel::Closed {
                return invalid("workload.ramp_to", "a ramp needs model = \"open\"".into());
            }
            if !(ramp_to.is_finite() && ramp_to > 0.0 && ramp_to <= MAX_RATE) {
                return invalid(
                    "workload.ramp_to",
                    format!("{ramp_to} is not a rate above 0 and at most {MAX_RATE}"),
                );
            }
        }
        if w.duration.is_zero() || w.duration > Duration::from_secs(3600) {
            return invalid(
                "workload.duration",
                "must be more than 0s and at most 1h".into(),
            );
        }
        if !(1..=8).contains(&self.app.instances) {
            return invalid("app.instances", "must be between 1 and 8".into());
        }
        if let Some(command) = &self.app.command {
            if command.trim().is_empty() {
                return invalid("app.command", "must not be empty".into());
            }
            if self.app.mutant.is_some() {
                return invalid(
                    "app.mutant",
                    "applies to the in-process sample app; give an external sample app --mutant in app.command".into(),
                );
            }
        }
        if !self.app.health_path.starts_with('/') {
            return invalid("app.health_path", "must start with /".into());
        }
        if let Some((field, message)) = self.app.contract.problem() {
            return invalid(&field, message);
        }
        if self.app.image.is_some() && self.app.command.is_some() {
            return invalid("app.image", "set app.command or app.image, not both".into());
        }
        if let Some(idle) = &w.idle {
            if idle.users == 0 || idle.users > w.users {
                return invalid(
                    "workload.idle.users",
                    format!("must be between 1 and workload.users ({})", w.users),
                );
            }
            if w.model == LoadModel::Open && idle.users >= w.users {
                return invalid(
                    "workload.idle.users",
                    format!(
                        "must be below workload.users ({}) in the open model: someone must take the requests",
                        w.users
                    ),
                );
            }
            if idle.from >= idle.until || idle.until > w.duration {
                return invalid(
                    "workload.idle.until",
                    "the window must end after it starts and by the end of the workload".into(),
                );
            }
        }
        let period = self.sampler.period;
        if period < Duration::from_millis(10) || period > Duration::from_secs(10) {
            return invalid(
                "sampler.period",
                format!(
                    "{} is not between 10ms and 10s",
                    humantime::format_duration(period)
                ),
            );
        }
        if w.retry.attempts == 0 {
            return invalid("workload.retry.attempts", "must be at least 1".into());
        }
        for (i, fault) in self.faults.iter().enumerate() {
            if fault.at >= w.duration {
                return invalid(
                    &format!("faults[{i}].at"),
                    format!(
                        "{} is not before the end of the workload ({})",
                        humantime::format_duration(fault.at),
                        humantime::format_duration(w.duration)
                    ),
                );
            }
            if let Err((field, message)) = fault.check(&self.node_names()) {
                return invalid(&format!("faults[{i}].{field}"), message);
            }
            if fault.last_start() >= w.duration {
                return invalid(
                    &format!("faults[{i}].count"),
                    format!(
                        "the last of {} repetitions may start at {}, not before the end of the \
                         workload ({}): lower count or every, or lengthen workload.duration",
                        fault.count,
                        humantime::format_duration(fault.last_start()),
                        humantime::format_duration(w.duration)
                    ),
                );
            }
        }
        if self.app.wait_replicas > t.replicas {
            return invalid(
                "app.wait_replicas",
                format!(
                    "{} is more than the {} replicas: no write could ever be acknowledged",
                    self.app.wait_replicas, t.replicas
                ),
            );
        }
        if t.min_replicas_to_write > t.replicas {
            return invalid(
                "topology.min_replicas_to_write",
                format!(
                    "{} is more than the {} replicas: the master would refuse every write",
                    t.min_replicas_to_write, t.replicas
                ),
            );
        }
        Ok(())
    }

    /// The names of every node of the topology: `redis-1` (the first master), its replicas, then
    /// `sentinel-1`...
    pub fn node_names(&self) -> Vec<String> {
        let redis = (1..=self.topology.replicas + 1).map(|i| format!("redis-{i}"));
        let sentinels = (1..=self.topology.sentinels).map(|i| format!("sentinel-{i}"));
        redis.chain(sentinels).collect()
    }
}

/// A fault's fields are checked by its kind, which knows only its own: serde's message for a field
/// it does not know lists those alone, so it is completed with the fields every fault takes. The
/// parser points such an error at the fault's `[[faults]]` header.
fn explain_unknown_fault_field(message: &str) -> String {
    const EVERY_FAULT: &str = "at, target, duration, count, every and jitter";
    if !(message.contains("[[faults]]") && message.contains("unknown field")) {
        return message.to_owned();
    }
    if message.contains("there are no fields") {
        return message.replace(
            "there are no fields",
            &format!("this kind of fault takes only {EVERY_FAULT}"),
        );
    }
    format!("{message}, or one of {EVERY_FAULT} that every fault takes")
}

/// The file of `name_or_path`: an existing file, or `<dir>/<name>.toml`.
pub fn locate(name_or_path: &str, dir: &Path) -> Result<PathBuf, ScenarioError> {
    let as_path = Path::new(name_or_path);
    if as_path.is_file() {
        return Ok(as_path.to_owned());
    }
    let in_dir = dir.join(format!("{name_or_path}.toml"));
    if in_dir.is_file() {
        return Ok(in_dir);
    }
    Err(ScenarioError::Unknown {
        name: name_or_path.to_owned(),
        dir: dir.to_owned(),
        known: list(dir)
            .map(|all| all.into_iter().map(|(name, _)| name).collect())
            .unwrap_or_default(),
    })
}

/// Every `.toml` file in `dir`, sorted by path.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ScenarioError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    found.sort();
    Ok(found)
}

/// Every scenario in `dir` as `(name, description)`, sorted by name. Files that do not parse are
/// listed with their error as the description, so a broken file is visible, not hidden.
pub fn list(dir: &Path) -> Result<Vec<(String, String)>, ScenarioError> {
    let mut found: Vec<(String, String)> = files(dir)?
        .into_iter()
        .map(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            match Scenario::from_file(&p) {
                Ok(s) => (s.name, s.description),
                Err(e) => (stem, format!("(invalid) {e}")),
            }
        })
        .collect();
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests;
