//! Choosing where the nodes run: Docker containers, or local processes when there is no engine.
//! The choice is made, and faults the chosen backend cannot apply are refused, before anything
//! starts.

use bollard::Docker;

use super::{engine, ClusterError};
use crate::scenario::{BackendChoice, FaultKind, FaultSpec};

/// Where the nodes of a run live.
pub enum Backend {
    /// Containers on a network of the run's own, through this engine.
    Docker(Docker),
    /// Local `redis-server` processes on loopback ports.
    Process,
}

impl Backend {
    /// The backend's name, as `--backend` takes it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Docker(_) => "docker",
            Self::Process => "process",
        }
    }
}

/// Why the process backend cannot apply a fault kind, if it cannot.
fn process_cannot(kind: FaultKind) -> Option<&'static str> {
    match kind {
        FaultKind::Partition | FaultKind::Reset => Some(
            "it needs each node in a network namespace of its own, and local processes share the host's",
        ),
        FaultKind::Latency => Some(
            "its redirect rule would catch the nodes' traffic to each other, which all goes over loopback",
        ),
        FaultKind::Kill | FaultKind::Stop | FaultKind::Pause | FaultKind::ManualFailover => None,
    }
}

/// The first fault the process backend cannot apply, and why.
fn refusal(faults: &[FaultSpec]) -> Option<String> {
    faults.iter().enumerate().find_map(|(index, f)| {
        process_cannot(f.kind).map(|why| {
            format!(
                "fault {index} ({}) cannot run on it: {why}; run it with a Docker engine \
                 (`--backend docker`; `bash ci/prepare.sh` installs and starts one)",
                f.kind.name()
            )
        })
    })
}

/// Fails with the first fault the process backend cannot apply.
pub fn check_process_faults(faults: &[FaultSpec]) -> Result<(), ClusterError> {
    refusal(faults).map_or(Ok(()), |detail| {
        Err(ClusterError::Unsupported {
            backend: "process",
            detail,
        })
    })
}

/// Picks the backend for `choice`, checking the schedule against it. `notice` is told when
/// `auto` falls back to processes.
pub async fn choose(
    choice: BackendChoice,
    faults: &[FaultSpec],
    notice: &(dyn Fn(&str) + Sync),
) -> Result<Backend, ClusterError> {
    match choice {
        BackendChoice::Docker => Ok(Backend::Docker(engine::connect().await?)),
        BackendChoice::Process => {
            check_process_faults(faults)?;
            Ok(Backend::Process)
        }
        BackendChoice::Auto => match engine::connect().await {
            Ok(docker) => Ok(Backend::Docker(docker)),
            Err(ClusterError::EngineUnreachable { detail }) => {
                if let Some(refused) = refusal(faults) {
                    return Err(ClusterError::Unsupported {
                        backend: "process",
                        detail: format!("no Docker engine answered ({detail}), and {refused}"),
                    });
                }
                notice(&format!(
                    "notice: no Docker engine answered ({detail}); running the nodes as local \
                     redis-server processes on loopback ports (the process backend). Pass \
                     `--backend docker` to require Docker"
                ));
                Ok(Backend::Process)
            }
            Err(other) => Err(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_backend_refuses_network_faults_by_position_and_kind() {
        let fault = |kind: &str| -> FaultSpec {
            toml::from_str(&format!(
                "kind = \"{kind}\"\nat = \"1s\"\nduration = \"1s\"\ncut = \"all\"\nlatency = \"10ms\""
            ))
            .expect("fault")
        };
        assert!(check_process_faults(&[fault("kill"), fault("pause"), fault("stop")]).is_ok());
        let err = check_process_faults(&[fault("kill"), fault("partition")])
            .expect_err("partition refused")
            .to_string();
        assert!(
            err.contains("process backend") && err.contains("fault 1 (partition)"),
            "{err}"
        );
        assert!(check_process_faults(&[fault("latency")]).is_err());
        assert!(check_process_faults(&[fault("reset")]).is_err());
    }
}
