//! The run's own Docker network, with a subnet the harness chooses so a restarted node can be given
//! back its address: Sentinel tracks nodes by address.

use std::collections::HashMap;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::Docker;

use super::{ClusterError, RUN_LABEL};

/// Subnets tried, `172.29.N.0/24`; a run starts at a place derived from its id so that parallel
/// runs on one engine rarely collide.
const SUBNET_TRIES: u16 = 64;

/// A network removed on [`RunNetwork::remove`] or, failing that, on drop.
#[derive(Debug)]
pub struct RunNetwork {
    /// The network's name.
    pub name: String,
    removed: bool,
}

impl RunNetwork {
    /// Creates `name` on a free `/24`.
    pub async fn create(docker: &Docker, name: &str, run_id: &str) -> Result<Self, ClusterError> {
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

    /// Removes the network; its containers must be gone.
    pub async fn remove(mut self, docker: &Docker) -> Result<(), ClusterError> {
        self.removed = true;
        docker
            .remove_network(&self.name)
            .await
            .map_err(|e| ClusterError::Docker {
                action: format!("remove network {}", self.name),
                detail: e.to_string(),
            })
    }
}

impl Drop for RunNetwork {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let name = self.name.clone();
        // Drop may run inside a current-thread runtime (a test's), where blocking on a future is
        // not allowed; a thread with its own runtime and engine connection works in every case.
        let removal = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let docker = Docker::connect_with_local_defaults().map_err(std::io::Error::other)?;
            runtime
                .block_on(docker.remove_network(&name))
                .map_err(std::io::Error::other)
        });
        if let Ok(Err(e)) = removal.join() {
            tracing::error!("failed to remove network {}: {e}", self.name);
        }
    }
}
