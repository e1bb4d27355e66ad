//! One node of the topology: a redis-server or sentinel container with a stable name and address.

use std::time::Duration;

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest,
};
use bollard::query_parameters::{
    InspectContainerOptions, KillContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use redis::aio::MultiplexedConnection;
use sample_app::store::NodeAddr;
use testcontainers::core::WaitFor;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::image::{ImageRef, SERVER_PATH};
use super::{ClusterError, NODE_LABEL, RUN_LABEL};

/// Port of every Redis data node.
pub const REDIS_PORT: u16 = 6379;
/// Port of every sentinel.
pub const SENTINEL_PORT: u16 = 26379;
/// Path of a sentinel's configuration file, which Sentinel rewrites as it learns.
const SENTINEL_CONF: &str = "/etc/sentinel.conf";

/// What a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A redis-server data node (master or replica).
    Redis,
    /// A sentinel.
    Sentinel,
}

/// How to start one node.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Stable name: `redis-1`, `sentinel-2`.
    pub name: String,
    /// Data node or sentinel.
    pub kind: NodeKind,
    /// redis-server arguments (after the config file, for sentinels).
    pub args: Vec<String>,
    /// Sentinel configuration file contents.
    pub sentinel_conf: Option<String>,
}

/// A started node.
pub struct Node {
    /// Stable name.
    pub name: String,
    /// Data node or sentinel.
    pub kind: NodeKind,
    /// Address on the run's network; kept across restarts.
    pub addr: NodeAddr,
    /// The network's gateway: the address the host (and so the app under test) talks from.
    pub gateway: String,
    container: ContainerAsync<GenericImage>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.addr)
    }
}

fn docker_error<E: std::fmt::Display>(action: String) -> impl FnOnce(E) -> ClusterError {
    move |e| ClusterError::Docker {
        action,
        detail: e.to_string(),
    }
}

impl Node {
    /// Starts a container for `spec` on `network` and waits until the server accepts connections.
    pub async fn start(
        docker: &Docker,
        spec: NodeSpec,
        image: &ImageRef,
        network: &str,
        run_id: &str,
    ) -> Result<Self, ClusterError> {
        let ready_line = match spec.kind {
            NodeKind::Redis => "Ready to accept connections",
            NodeKind::Sentinel => "+monitor master",
        };
        let mut args = Vec::new();
        if let Some(_conf) = &spec.sentinel_conf {
            args.push(SENTINEL_CONF.to_owned());
            args.push("--sentinel".to_owned());
        }
        args.extend(spec.args.iter().cloned());
        let mut request = GenericImage::new(&image.repo, &image.tag)
            .with_entrypoint(SERVER_PATH)
            .with_wait_for(WaitFor::message_on_stdout(ready_line))
            .with_cmd(args)
            .with_network(network)
            .with_container_name(format!("{network}-{}", spec.name))
            .with_label(RUN_LABEL, run_id)
            .with_label(NODE_LABEL, &spec.name)
            .with_startup_timeout(Duration::from_secs(30));
        if let Some(conf) = spec.sentinel_conf {
            request = request.with_copy_to(SENTINEL_CONF, conf.into_bytes());
        }
        let container = request.start().await.map_err(|e| ClusterError::NodeStart {
            node: spec.name.clone(),
            detail: e.to_string(),
        })?;
        let inspect = docker
            .inspect_container(container.id(), None::<InspectContainerOptions>)
            .await
            .map_err(docker_error(format!("inspect {}", spec.name)))?;
        let endpoint = inspect
            .network_settings
            .and_then(|s| s.networks)
            .and_then(|mut n| n.remove(network));
        let (ip, gateway) = endpoint
            .and_then(|e| Some((e.ip_address?, e.gateway?)))
            .filter(|(ip, gateway)| !ip.is_empty() && !gateway.is_empty())
            .ok_or_else(|| ClusterError::NodeStart {
                node: spec.name.clone(),
                detail: format!("the container has no address on network {network}"),
            })?;
        let port = match spec.kind {
            NodeKind::Redis => REDIS_PORT,
            NodeKind::Sentinel => SENTINEL_PORT,
        };
        Ok(Self {
            name: spec.name,
            kind: spec.kind,
            addr: NodeAddr::new(ip, port),
            gateway,
            container,
        })
    }

    /// Container id.
    pub fn id(&self) -> &str {
        self.container.id()
    }

    /// Sends SIGKILL: the process dies without closing anything cleanly.
    pub async fn kill(&self, docker: &Docker) -> Result<(), ClusterError> {
        let options = KillContainerOptionsBuilder::new().signal("SIGKILL").build();
        docker
            .kill_container(self.id(), Some(options))
            .await
            .map_err(docker_error(format!("kill {}", self.name)))
    }

    /// Starts a stopped node again at its old address, then waits until it answers `PING`.
    pub async fn restart(
        &self,
        docker: &Docker,
        network: &str,
        timeout: Duration,
    ) -> Result<(), ClusterError> {
        // The engine would hand out any free address; reconnecting with the old one pinned keeps
        // the node where the sentinels know it.
        let disconnect = NetworkDisconnectRequest {
            container: self.id().to_owned(),
            force: Some(true),
        };
        docker
            .disconnect_network(network, disconnect)
            .await
            .map_err(docker_error(format!("detach {} from {network}", self.name)))?;
        let attach = NetworkConnectRequest {
            container: self.id().to_owned(),
            endpoint_config: Some(EndpointSettings {
                ipam_config: Some(EndpointIpamConfig {
                    ipv4_address: Some(self.addr.host.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        docker
            .connect_network(network, attach)
            .await
            .map_err(docker_error(format!(
                "attach {} to {network} at {}",
                self.name, self.addr
            )))?;
        self.container
            .start()
            .await
            .map_err(|e| ClusterError::NodeStart {
                node: self.name.clone(),
                detail: e.to_string(),
            })?;
        super::readiness::until(timeout, &self.name, || async {
            let mut conn = connect(&self.addr).await?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// Stops the node gracefully: SIGTERM, on which Redis runs `SHUTDOWN`, SIGKILL after 10 s.
    pub async fn stop(&self, docker: &Docker) -> Result<(), ClusterError> {
        let options = StopContainerOptionsBuilder::new().t(10).build();
        docker
            .stop_container(self.id(), Some(options))
            .await
            .map_err(docker_error(format!("stop {}", self.name)))
    }

    /// Freezes every process of the node.
    pub async fn pause(&self) -> Result<(), ClusterError> {
        self.container
            .pause()
            .await
            .map_err(docker_error(format!("pause {}", self.name)))
    }

    /// Resumes a paused node.
    pub async fn unpause(&self) -> Result<(), ClusterError> {
        self.container
            .unpause()
            .await
            .map_err(docker_error(format!("resume {}", self.name)))
    }

    /// The host PID of the node's main process, whose network namespace is the node's.
    pub async fn pid(&self, docker: &Docker) -> Result<i64, ClusterError> {
        let inspect = docker
            .inspect_container(self.id(), None::<InspectContainerOptions>)
            .await
            .map_err(docker_error(format!("inspect {}", self.name)))?;
        inspect
            .state
            .and_then(|s| s.pid)
            .filter(|pid| *pid > 0)
            .ok_or_else(|| ClusterError::Docker {
                action: format!("find the process of {}", self.name),
                detail: "the container is not running".to_owned(),
            })
    }

    /// Removes the container.
    pub async fn remove(self) -> Result<(), ClusterError> {
        let name = self.name;
        self.container
            .rm()
            .await
            .map_err(docker_error(format!("remove {name}")))
    }
}

/// A short-timeout connection for probing a node.
pub async fn connect(addr: &NodeAddr) -> Result<MultiplexedConnection, String> {
    let client = redis::Client::open(redis::ConnectionAddr::Tcp(addr.host.clone(), addr.port))
        .map_err(|e| e.to_string())?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(1000)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| format!("{addr}: {e}"))
}
