//! The Docker engine connection, checked once at start-up with a message that says what to do.

use std::time::Duration;

use bollard::Docker;

use super::ClusterError;

/// How long the engine may take to answer its version.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the local engine (`DOCKER_HOST` or `/var/run/docker.sock`) and asks its version.
pub async fn connect() -> Result<Docker, ClusterError> {
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
