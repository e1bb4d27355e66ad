//! The Docker engine connection, checked once at start-up with a message that says what to do,
//! and the removal of a container whatever its state, which every cleanup path shares.

use std::time::Duration;

use bollard::query_parameters::RemoveContainerOptionsBuilder;
use bollard::Docker;

use super::ClusterError;

/// How long the engine may take to answer its version.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses a `DOCKER_HOST` that is not a Unix socket. The engine client (bollard) would ignore
/// it and connect to `/var/run/docker.sock`, while testcontainers, which starts the nodes, would
/// follow it: one run on two engines.
fn check_docker_host(docker_host: Option<&str>) -> Result<(), ClusterError> {
    match docker_host {
        Some(host) if !host.is_empty() && !host.starts_with("unix://") => {
            Err(ClusterError::EngineNotLocal {
                docker_host: host.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

/// Connects to the local engine (`DOCKER_HOST` as `unix://...`, or `/var/run/docker.sock`) and
/// asks its version.
pub async fn connect() -> Result<Docker, ClusterError> {
    check_docker_host(std::env::var("DOCKER_HOST").ok().as_deref())?;
    let unreachable = |detail: String| ClusterError::EngineUnreachable { detail };
    let docker = Docker::connect_with_local_defaults().map_err(|e| unreachable(e.to_string()))?;
    let version = tokio::time::timeout(ENGINE_TIMEOUT, docker.version())
        .await
        .map_err(|_| unreachable(format!("no answer in {}s", ENGINE_TIMEOUT.as_secs())))?;
    match version {
        Ok(v) => {
            tracing::debug!(engine = ?v.version, api = ?v.api_version, "docker engine");
            Ok(docker)
        }
        Err(e) if e.to_string().contains("client version") => {
            Err(ClusterError::EngineApiMismatch {
                detail: e.to_string(),
            })
        }
        Err(e) => Err(unreachable(e.to_string())),
    }
}

/// Removes container `id` (an id or a name) with its anonymous volumes, resuming it first when
/// `paused`: the engine will not remove a frozen process. The removal is tried even when the
/// resume failed; the first failure is returned with its step, `"unpause"` or `"remove"`.
pub async fn remove_container(
    docker: &Docker,
    id: &str,
    paused: bool,
) -> Result<(), (&'static str, bollard::errors::Error)> {
    let resumed = if paused {
        docker
            .unpause_container(id)
            .await
            .map_err(|e| ("unpause", e))
    } else {
        Ok(())
    };
    let options = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    let removed = docker
        .remove_container(id, Some(options))
        .await
        .map_err(|e| ("remove", e));
    resumed.and(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_unix_socket_docker_host_is_taken() {
        assert!(check_docker_host(None).is_ok());
        assert!(check_docker_host(Some("")).is_ok());
        assert!(check_docker_host(Some("unix:///var/run/docker.sock")).is_ok());
        let err = check_docker_host(Some("tcp://10.0.0.5:2375"))
            .expect_err("tcp is refused")
            .to_string();
        assert!(
            err.contains("DOCKER_HOST=tcp://10.0.0.5:2375") && err.contains("unix://"),
            "{err}"
        );
    }
}
