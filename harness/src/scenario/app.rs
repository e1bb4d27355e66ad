//! The scenario's `[app]` section, the app under test, and its validation.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{HttpContract, Problem};

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
    /// `lossy-ack`, `stale-reconnect`, `error-as-logout`, `instance-cache`, `fixed-id`,
    /// `logout-unacked`, `ttl-dropped`) to see the drill fail it. Absent for a real drill.
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

/// Longest command line a grid's row shows in full.
const LABEL_COMMAND_CHARS: usize = 60;

impl AppSpec {
    /// What runs as the app, in a few words for a grid's row: the command (cut at
    /// [`LABEL_COMMAND_CHARS`] characters), the image, or the in-process sample app and its
    /// mutant; with the instances when there are several.
    pub fn label(&self) -> String {
        let what = match (&self.command, &self.image) {
            (Some(command), _) if command.chars().count() > LABEL_COMMAND_CHARS => {
                let cut: String = command.chars().take(LABEL_COMMAND_CHARS - 1).collect();
                format!("{}…", cut.trim_end())
            }
            (Some(command), _) => command.clone(),
            (None, Some(image)) => format!("image {image}"),
            (None, None) => match self.mutant {
                Some(mutant) => format!("sample app, mutant {mutant}"),
                None => "sample app".to_owned(),
            },
        };
        if self.instances > 1 {
            format!("{what}, {} instances", self.instances)
        } else {
            what
        }
    }

    /// Checks the section against a topology of `replicas` replicas; the field named is within
    /// it.
    pub(super) fn check(&self, replicas: u32) -> Result<(), Problem> {
        let problem = |field: &str, message: String| Err((field.to_owned(), message));
        if !(1..=8).contains(&self.instances) {
            return problem("instances", "must be between 1 and 8".into());
        }
        if let Some(command) = &self.command {
            if command.trim().is_empty() {
                return problem("command", "must not be empty".into());
            }
            if self.mutant.is_some() {
                return problem(
                    "mutant",
                    "applies to the in-process sample app; give an external sample app --mutant in app.command".into(),
                );
            }
        }
        if !self.health_path.starts_with('/') {
            return problem("health_path", "must start with /".into());
        }
        if let Some((field, message)) = self.contract.problem() {
            let field = field.strip_prefix("app.").unwrap_or(&field).to_owned();
            return Err((field, message));
        }
        if self.image.is_some() && self.command.is_some() {
            return problem("image", "set app.command or app.image, not both".into());
        }
        if self.wait_replicas > replicas {
            return problem(
                "wait_replicas",
                format!(
                    "{} is more than the {replicas} replicas: no write could ever be acknowledged",
                    self.wait_replicas
                ),
            );
        }
        Ok(())
    }
}
