//! Scenario files: parsing and validation; [`Catalogue`] finds them by name.
//!
//! A scenario is a TOML file that serialises [`Scenario`]; every field but `name` has a default,
//! unknown fields are errors, and durations are written like `"1s"` or `"250ms"`. It owns no I/O but
//! reading the file; it must not start anything.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod app;
mod builder;
mod catalogue;
mod contract;
mod expectations;
mod external;
mod fault;
mod sampler;
mod time_bounds;
mod topology;
mod workload;
pub use app::AppSpec;
pub use builder::ScenarioBuilder;
pub use catalogue::{Catalogue, Named, Origin};
pub use contract::{HttpContract, Route};
pub use expectations::{Bound, Expectations, FailoverExpectation, LatencyBound, LatencyBounds};
pub use external::{CommandTemplate, ExternalTopology, TemplateNode, PLACEHOLDERS};
use fault::FaultBounds;
pub use fault::{
    kinds, Cut, FaultAction, FaultKind, FaultSpec, Target, IN_FLIGHT_WAIT, MAX_FAULT_COUNT,
};
pub use sampler::SamplerSpec;
pub use time_bounds::PERCENTILES;
pub use topology::{BackendChoice, Persistence, Topology, MAX_REPLICAS, MAX_SENTINELS};
pub use workload::{ClientRetry, Idle, LoadModel, Workload, MAX_RATE, MAX_USERS};

/// What is wrong with a section's field: the field, within its section, and why.
type Problem = (String, String);

/// What can be wrong with a scenario or its name.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// No file by that name or path.
    #[error("unknown scenario '{name}': no such file, and no scenario of that name in {looked_in}: {}", known_list(.known))]
    Unknown {
        /// What the user asked for.
        name: String,
        /// Where scenarios were looked for, in words.
        looked_in: String,
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

/// Whether `name` is letters, digits, `-`, `_` and `.` only, and not empty: what a shell and a
/// Redis config file read as written (a node's or a master's name).
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Checks that `name` can name a directory under `--out` and nothing else: no `/` or `\\`, no
/// leading `.` (so no `..`), no control character. Returns what is wrong.
pub(crate) fn path_safe(name: &str) -> Result<(), String> {
    if name.starts_with('.')
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(format!(
            "{name:?} names a directory of the run: it may not start with '.' or hold '/', '\\' \
             or a control character"
        ));
    }
    Ok(())
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

    /// A built-in scenario by name (`kill-master`; `failover-drill list` shows them all).
    pub fn named(name: &str) -> Result<Self, ScenarioError> {
        Catalogue::built_in().load(name)
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
        if self.name.trim().is_empty() {
            return invalid("name", "must not be empty".into());
        }
        if let Err(message) = path_safe(&self.name) {
            return invalid("name", message);
        }
        let t = &self.topology;
        let w = &self.workload;
        let sections = [
            ("topology.", t.check()),
            ("app.", self.app.check(t.replicas)),
            ("workload.", w.check()),
            ("sampler.", self.sampler.check()),
        ];
        for (section, checked) in sections {
            if let Err((field, message)) = checked {
                return invalid(&format!("{section}{field}"), message);
            }
        }
        let bounds = FaultBounds {
            node_names: self.node_names(),
            app_instances: self.app.instances,
            workload: w.duration,
        };
        for (i, fault) in self.faults.iter().enumerate() {
            if let Err((field, message)) = fault.check(&bounds) {
                return invalid(&format!("faults[{i}].{field}"), message);
            }
        }
        Ok(())
    }

    /// Every setting as the run uses it, defaults filled in, with the values of `app.env` left
    /// out: they may hold secrets (the nodes' password never is in a scenario).
    pub fn settings(&self) -> toml::Table {
        let mut table = toml::Table::try_from(self).unwrap_or_default();
        if let Some(toml::Value::Table(app)) = table.get_mut("app") {
            if let Some(toml::Value::Table(env)) = app.get_mut("env") {
                for (_, value) in env.iter_mut() {
                    *value = toml::Value::String("(not recorded)".to_owned());
                }
            }
        }
        table
    }

    /// The names of every node of the topology: `redis-1` (the first master), its replicas, then
    /// `sentinel-1`...
    /// On an external deployment, the names `topology.external.names` gives.
    pub fn node_names(&self) -> Vec<String> {
        if let Some(external) = &self.topology.external {
            return external.names.values().cloned().collect();
        }
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

#[cfg(test)]
mod tests;
