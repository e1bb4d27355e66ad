//! An app under test shipped as a container image (already on the engine: nothing is pulled from
//! a registry that is not there). It runs on the run's own network, beside the nodes, with the
//! same `FAILOVER_DRILL_*` variables a command gets, listening on [`CONTAINER_PORT`]. Its output
//! goes to the run directory when it stops; the container is removed at the end, or when dropped.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bollard::query_parameters::{
    InspectContainerOptions, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use testcontainers::core::WaitFor;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::{AppError, StoreAccess};
use crate::marks::env;
use crate::marks::{NODE_LABEL, RUN_LABEL};

/// The port the app listens on inside its container.
pub const CONTAINER_PORT: u16 = 8080;

/// Seconds a stopped app container has after SIGTERM before it is killed.
const STOP_GRACE_SECS: i32 = 5;

/// Where to start one instance of the app image, and with what.
pub(crate) struct ImageLaunch<'a> {
    pub(crate) image: &'a str,
    pub(crate) extra_env: &'a BTreeMap<String, String>,
    /// `app.contract.session_ttl`, told to the app when set.
    pub(crate) session_ttl: Option<std::time::Duration>,
    pub(crate) store: &'a StoreAccess,
    pub(crate) docker: &'a Docker,
    pub(crate) network: &'a str,
    pub(crate) instance: u32,
    pub(crate) run_id: &'a str,
    pub(crate) log: PathBuf,
}

/// A running app container.
pub(crate) struct ContainerApp {
    container: ContainerAsync<GenericImage>,
    docker: Docker,
    log: PathBuf,
}

/// `${NAME}` in `value` replaced by the harness's variables: a container has no shell to do it.
fn expand(value: &str, vars: &[(&str, String)]) -> String {
    vars.iter().fold(value.to_owned(), |v, (name, with)| {
        v.replace(&format!("${{{name}}}"), with)
    })
}

impl ContainerApp {
    /// Starts the container; returns it and its base URL. It is not yet known to be healthy.
    pub(crate) async fn start(launch: ImageLaunch<'_>) -> Result<(Self, String), AppError> {
        let store = launch.store;
        let sentinels: Vec<String> = store.sentinels.iter().map(ToString::to_string).collect();
        let mut vars = vec![
            (env::LISTEN, format!("0.0.0.0:{CONTAINER_PORT}")),
            (env::PORT, CONTAINER_PORT.to_string()),
            (env::SENTINELS, sentinels.join(",")),
            (env::MASTER_NAME, store.master_name.clone()),
            (env::INSTANCE, launch.instance.to_string()),
            (env::RUN, launch.run_id.to_owned()),
        ];
        if let Some(password) = &store.password {
            vars.push((env::REDIS_PASSWORD, password.expose().to_owned()));
        }
        if let Some(ttl) = launch.session_ttl {
            vars.push((env::SESSION_TTL, ttl.as_secs().to_string()));
        }
        let (repo, tag) = launch
            .image
            .rsplit_once(':')
            .filter(|(_, tag)| !tag.contains('/'))
            .unwrap_or((launch.image, "latest"));
        let mut request = GenericImage::new(repo, tag)
            .with_wait_for(WaitFor::Nothing)
            .with_network(launch.network)
            .with_container_name(format!("{}-app-{}", launch.network, launch.instance))
            .with_label(RUN_LABEL, launch.run_id)
            .with_label(NODE_LABEL, format!("app-{}", launch.instance));
        for (name, value) in &vars {
            request = request.with_env_var(*name, value.clone());
        }
        for (name, value) in launch.extra_env {
            request = request.with_env_var(name.clone(), expand(value, &vars));
        }
        let container = request.start().await.map_err(|e| {
            AppError::Exited(format!(
                "cannot start the app image {}: {e}; the image must already be on this Docker \
                 engine (`docker images`), built or loaded there, since no registry is used",
                launch.image
            ))
        })?;
        let docker = launch.docker.clone();
        let inspect = docker
            .inspect_container(container.id(), None::<InspectContainerOptions>)
            .await
            .map_err(|e| AppError::Exited(format!("cannot inspect the app container: {e}")))?;
        let ip = inspect
            .network_settings
            .and_then(|s| s.networks)
            .and_then(|mut n| n.remove(launch.network))
            .and_then(|e| e.ip_address)
            .filter(|ip| !ip.is_empty())
            .ok_or_else(|| {
                AppError::Exited(format!(
                    "the app container has no address on network {}",
                    launch.network
                ))
            })?;
        let app = Self {
            container,
            docker,
            log: launch.log,
        };
        Ok((app, format!("http://{ip}:{CONTAINER_PORT}")))
    }

    /// `Some(why)` if the container has exited, with the end of its output.
    pub(crate) async fn exited(&self) -> Option<String> {
        let inspect = self
            .docker
            .inspect_container(self.container.id(), None::<InspectContainerOptions>)
            .await
            .ok()?;
        let state = inspect.state?;
        if state.running == Some(true) {
            return None;
        }
        let output = self.output().await;
        Some(format!(
            "the app container exited (code {}) before it became healthy; the end of its output:\n{}",
            state.exit_code.unwrap_or_default(),
            crate::child::tail_lines(&output, 10)
        ))
    }

    async fn output(&self) -> String {
        let stdout = self.container.stdout_to_vec().await.unwrap_or_default();
        let stderr = self.container.stderr_to_vec().await.unwrap_or_default();
        format!(
            "{}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        )
    }

    /// Stops the container (SIGTERM, SIGKILL after a grace period), writes its output to the log,
    /// and removes it.
    pub(crate) async fn stop(&self) {
        let options = StopContainerOptionsBuilder::new()
            .t(STOP_GRACE_SECS)
            .build();
        let _ = self
            .docker
            .stop_container(self.container.id(), Some(options))
            .await;
        let _ = std::fs::write(&self.log, self.output().await);
        let remove = RemoveContainerOptionsBuilder::new().force(true).build();
        let _ = self
            .docker
            .remove_container(self.container.id(), Some(remove))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_variables_expand_in_extra_values() {
        let vars = [(env::SENTINELS, "10.0.0.2:26379".to_owned())];
        assert_eq!(
            expand("--sentinels=${FAILOVER_DRILL_SENTINELS}", &vars),
            "--sentinels=10.0.0.2:26379"
        );
        assert_eq!(expand("$HOME ${OTHER}", &vars), "$HOME ${OTHER}");
    }
}
