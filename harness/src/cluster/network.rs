//! The run's own Docker network, with a subnet the harness chooses so a restarted node can be given
//! back its address: Sentinel tracks nodes by address. Before it goes, it settles the node starts
//! cut short on it (`in_flight`) and removes the containers nothing owned.

use std::collections::HashMap;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::ListContainersOptions;
use bollard::Docker;

use super::in_flight::{self, StartsInFlight};
use super::ClusterError;
use crate::marks::RUN_LABEL;

/// Subnets tried, `172.29.N.0/24`; a run starts at a place derived from its id so that parallel
/// runs on one engine rarely collide.
const SUBNET_TRIES: u16 = 64;

/// A network removed on [`RunNetwork::remove`] or, failing that, on drop.
#[derive(Debug)]
pub struct RunNetwork {
    /// The network's name.
    pub name: String,
    run_id: String,
    /// The image its nodes run, which a claim of a node's name uses too.
    image: String,
    starts: StartsInFlight,
    removed: bool,
}

impl RunNetwork {
    /// Creates `name` on a free `/24`, for nodes of `image`.
    pub async fn create(
        docker: &Docker,
        name: &str,
        run_id: &str,
        image: &str,
    ) -> Result<Self, ClusterError> {
        let start = run_id
            .bytes()
            .fold(0u16, |acc, b| acc.wrapping_mul(31).wrapping_add(b.into()));
        let mut last_error = String::new();
        for i in 0..SUBNET_TRIES {
            let third = (start + i) % 250 + 1;
            let request = NetworkCreateRequest {
                name: name.to_owned(),
                driver: Some("bridge".to_owned()),
                ipam: Some(Ipam {
                    config: Some(vec![IpamConfig {
                        subnet: Some(format!("172.29.{third}.0/24")),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                labels: Some(HashMap::from([(RUN_LABEL.to_owned(), run_id.to_owned())])),
                ..Default::default()
            };
            match docker.create_network(request).await {
                Ok(_) => {
                    return Ok(Self {
                        name: name.to_owned(),
                        run_id: run_id.to_owned(),
                        image: image.to_owned(),
                        starts: StartsInFlight::default(),
                        removed: false,
                    })
                }
                // Another network holds that subnet: try the next one.
                Err(e) if e.to_string().contains("overlap") => last_error = e.to_string(),
                Err(e) => {
                    return Err(ClusterError::Docker {
                        action: format!("create network {name}"),
                        detail: e.to_string(),
                    })
                }
            }
        }
        Err(ClusterError::Docker {
            action: format!("create network {name}"),
            detail: format!(
                "no free subnet among {SUBNET_TRIES} tried in 172.29.0.0/16: {last_error}"
            ),
        })
    }

    /// The starts of nodes on this network that have not ended.
    pub fn starts(&self) -> &StartsInFlight {
        &self.starts
    }

    /// Removes the network; its nodes must be gone.
    pub async fn remove(mut self, docker: &Docker) -> Result<(), ClusterError> {
        self.removed = true;
        let unsettled =
            in_flight::settle(docker, &self.image, &self.run_id, &self.starts.names()).await;
        let removed = docker
            .remove_network(&self.name)
            .await
            .map_err(|e| ClusterError::Docker {
                action: format!("remove network {}", self.name),
                detail: e.to_string(),
            });
        if !unsettled.is_empty() {
            return Err(ClusterError::Docker {
                action: format!(
                    "remove the nodes whose start was cut short on {}",
                    self.name
                ),
                detail: unsettled.join("; "),
            });
        }
        removed
    }
}

impl Drop for RunNetwork {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let name = self.name.clone();
        let run_id = self.run_id.clone();
        let image = self.image.clone();
        let starts = self.starts.clone();
        // Drop may run inside a current-thread runtime (a test's), where blocking on a future is
        // not allowed; a thread with its own runtime and engine connection works in every case.
        let removal = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let docker = Docker::connect_with_local_defaults().map_err(std::io::Error::other)?;
            runtime
                .block_on(async {
                    for line in in_flight::settle(&docker, &image, &run_id, &starts.names()).await {
                        tracing::error!("run {run_id}: {line}");
                    }
                    remove_unowned_containers(&docker, &run_id).await;
                    docker.remove_network(&name).await
                })
                .map_err(std::io::Error::other)
        });
        if let Ok(Err(e)) = removal.join() {
            tracing::error!("failed to remove network {}: {e}", self.name);
        }
    }
}

/// Removes every container labelled as run `run_id`'s, resuming paused ones first (the engine
/// will not remove a frozen process). A run interrupted while its cluster starts may drop a node's
/// start after the engine created the container and before anything owned it; nothing else would
/// remove that one, and the network cannot go while it is attached. Containers that their owners
/// are removing at the same moment make harmless errors.
async fn remove_unowned_containers(docker: &Docker, run_id: &str) {
    let filters = HashMap::from([("label".to_owned(), vec![format!("{RUN_LABEL}={run_id}")])]);
    let listed = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await;
    let containers = match listed {
        Ok(containers) => containers,
        Err(e) => {
            tracing::error!("failed to list the containers of run {run_id}: {e}");
            return;
        }
    };
    for container in containers {
        let Some(id) = container.id else { continue };
        let paused = container.state.is_some_and(|s| s.to_string() == "paused");
        let _ = super::engine::remove_container(docker, &id, paused).await;
    }
}
