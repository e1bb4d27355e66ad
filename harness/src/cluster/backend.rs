//! Choosing where the nodes run: Docker containers, or local processes when there is no engine.
//! Each backend declares what it offers ([`Capabilities`]); the choice is made, and a schedule the
//! chosen backend cannot serve is refused, before anything starts. It knows nothing of fault
//! kinds: the caller says what it refuses on given capabilities.

use bollard::Docker;

use super::{engine, ClusterError};
use crate::scenario::BackendChoice;

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

/// What a backend offers the faults of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Each node has a network namespace, and so an address, of its own.
    pub network_namespace_per_node: bool,
}

/// The process backend: every node shares the host's network namespace.
const PROCESS: Capabilities = Capabilities {
    network_namespace_per_node: false,
};

impl Backend {
    /// What this backend offers.
    pub fn capabilities(&self) -> Capabilities {
        match self {
            Self::Docker(_) => Capabilities {
                network_namespace_per_node: true,
            },
            Self::Process => PROCESS,
        }
    }
}

/// What the caller cannot run on a backend with given capabilities, in words (`None`: nothing).
pub type Refusal<'a> = &'a (dyn Fn(Capabilities) -> Option<String> + Sync);

fn process_refused(refuse: Refusal<'_>) -> Option<String> {
    refuse(PROCESS).map(|refused| {
        format!(
            "{refused}; run it with a Docker engine (`--backend docker`; `bash ci/prepare.sh` \
             installs and starts one)"
        )
    })
}

/// Fails with what `refuse` refuses on the process backend.
pub fn check_process(refuse: Refusal<'_>) -> Result<(), ClusterError> {
    process_refused(refuse).map_or(Ok(()), |detail| {
        Err(ClusterError::Unsupported {
            backend: "process",
            detail,
        })
    })
}

/// Picks the backend for `choice`, checking with `refuse` that the run can be made on it.
/// `notice` is told when `auto` falls back to processes.
pub async fn choose(
    choice: BackendChoice,
    refuse: Refusal<'_>,
    notice: &(dyn Fn(&str) + Sync),
) -> Result<Backend, ClusterError> {
    match choice {
        BackendChoice::External => Err(ClusterError::Unsupported {
            backend: "external",
            detail: "a deployment the harness did not start is attached to, not chosen as a \
                     place to start nodes"
                .to_owned(),
        }),
        BackendChoice::Docker => Ok(Backend::Docker(engine::connect().await?)),
        BackendChoice::Process => {
            check_process(refuse)?;
            Ok(Backend::Process)
        }
        BackendChoice::Auto => match engine::connect().await {
            Ok(docker) => Ok(Backend::Docker(docker)),
            Err(ClusterError::EngineUnreachable { detail }) => {
                if let Some(refused) = process_refused(refuse) {
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
    fn the_process_backend_passes_on_what_the_caller_refuses_with_advice() {
        let refuse_shared = |c: Capabilities| {
            (!c.network_namespace_per_node)
                .then(|| "fault 1 (partition) cannot run on it".to_owned())
        };
        let err = check_process(&refuse_shared)
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("process backend")
                && err.contains("fault 1 (partition)")
                && err.contains("--backend docker"),
            "{err}"
        );
        assert!(check_process(&|_| None).is_ok());
    }
}
