//! One node of the topology: a redis-server or sentinel with a stable name and address, run as a
//! container on the run's network or as a local process on a loopback port.

use std::path::Path;
use std::time::Duration;

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest,
};
use bollard::query_parameters::{
    InspectContainerOptions, KillContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use redis::aio::MultiplexedConnection;
use sample_app::store::{NodeAddr, Password};
use testcontainers::core::WaitFor;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::image::{ImageRef, SERVER_PATH};
use super::process::{self, NodeProcess};
use super::ClusterError;
use crate::marks::{NODE_LABEL, RUN_LABEL};

/// Port of every Redis data node in a container.
pub const REDIS_PORT: u16 = 6379;
/// Port of every sentinel in a container.
pub const SENTINEL_PORT: u16 = 26379;
/// Path of a node's configuration file in its container. Sentinel rewrites its own as it learns.
const CONTAINER_CONF: &str = "/etc/node.conf";
/// Name of a node's configuration file in its directory, on the process backend.
const PROCESS_CONF: &str = "node.conf";

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
    /// redis-server arguments after the configuration file.
    pub args: Vec<String>,
    /// Configuration file contents (the sentinel's whole configuration; a data node's password).
    pub conf: String,
}

impl NodeSpec {
    fn command(&self, conf_path: &str) -> Vec<String> {
        let mut args = vec![conf_path.to_owned()];
        if self.kind == NodeKind::Sentinel {
            args.push("--sentinel".to_owned());
        }
        args.extend(self.args.iter().cloned());
        args
    }
}

/// Where a node runs.
enum Backing {
    Container(Box<ContainerNode>),
    Process(Box<NodeProcess>),
    /// A node of a deployment the harness did not start: it is only ever talked to.
    External,
}

/// A container and what acting on it needs.
struct ContainerNode {
    container: ContainerAsync<GenericImage>,
    docker: Docker,
    network: String,
}

/// A started node.
pub struct Node {
    /// Stable name.
    pub name: String,
    /// Data node or sentinel.
    pub kind: NodeKind,
    /// Address the node is reached at; kept across restarts.
    pub addr: NodeAddr,
    /// The address the host (and so the app under test) talks to the node from.
    pub gateway: String,
    password: Option<Password>,
    backing: Backing,
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

/// The name of node `node`'s container on `network`.
pub(crate) fn container_name(network: &str, node: &str) -> String {
    format!("{network}-{node}")
}

impl Node {
    /// Starts a container for `spec` on `network` and waits until the server accepts connections.
    pub async fn start_container(
        docker: &Docker,
        spec: NodeSpec,
        image: &ImageRef,
        (network, run_id): (&str, &str),
        password: Option<Password>,
    ) -> Result<Self, ClusterError> {
        let ready_line = match spec.kind {
            NodeKind::Redis => "Ready to accept connections",
            NodeKind::Sentinel => "+monitor master",
        };
        let container = GenericImage::new(&image.repo, &image.tag)
            .with_entrypoint(SERVER_PATH)
            .with_wait_for(WaitFor::message_on_stdout(ready_line))
            .with_cmd(spec.command(CONTAINER_CONF))
            .with_network(network)
            .with_container_name(container_name(network, &spec.name))
            .with_label(RUN_LABEL, run_id)
            .with_label(NODE_LABEL, &spec.name)
            .with_startup_timeout(Duration::from_secs(30))
            .with_copy_to(CONTAINER_CONF, spec.conf.into_bytes())
            .start()
            .await
            .map_err(|e| ClusterError::NodeStart {
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
            password,
            backing: Backing::Container(Box::new(ContainerNode {
                container,
                docker: docker.clone(),
                network: network.to_owned(),
            })),
        })
    }

    /// Starts `binary` as a local process listening on `port` of the loopback interface, in
    /// `dir`, and waits until it answers `PING`.
    pub async fn start_process(
        spec: NodeSpec,
        binary: &Path,
        (dir, run_id): (&Path, &str),
        port: u16,
        password: Option<Password>,
        timeout: Duration,
    ) -> Result<Self, ClusterError> {
        std::fs::create_dir_all(dir).map_err(|e| ClusterError::Host {
            action: format!("create {}", dir.display()),
            detail: e.to_string(),
        })?;
        let conf_path = dir.join(PROCESS_CONF);
        process::write_private(&conf_path, &spec.conf)?;
        let args = spec.command(&conf_path.to_string_lossy());
        let child = NodeProcess::spawn(&spec.name, binary, args, dir, run_id)?;
        let node = Self {
            name: spec.name,
            kind: spec.kind,
            addr: NodeAddr::new("127.0.0.1", port),
            gateway: "127.0.0.1".to_owned(),
            password,
            backing: Backing::Process(Box::new(child)),
        };
        node.answers_ping(timeout).await?;
        Ok(node)
    }

    /// A node of a deployment the harness did not start, at `addr`. Killing, stopping, freezing,
    /// restarting and removing it are refused: those go through the operator's commands.
    pub fn external(
        name: String,
        kind: NodeKind,
        addr: NodeAddr,
        password: Option<Password>,
    ) -> Self {
        Self {
            name,
            kind,
            gateway: String::new(),
            addr,
            password,
            backing: Backing::External,
        }
    }

    /// The refusal for acting on a node the harness did not start.
    fn not_ours(&self, action: &str) -> ClusterError {
        ClusterError::Unsupported {
            backend: "external",
            detail: format!(
                "the harness did not start {} ({}) and will not {action} it itself; give the \
                 fault kind a command in topology.external.faults",
                self.name, self.addr
            ),
        }
    }

    /// Waits until the node answers `PING`; a process that exits meanwhile fails at once.
    pub(crate) async fn answers_ping(&self, timeout: Duration) -> Result<(), ClusterError> {
        super::readiness::until(timeout, &self.name, || async {
            if let Backing::Process(process) = &self.backing {
                if let Some(why) = process.exited().await {
                    return Err(why);
                }
            }
            let mut conn = self.connect().await?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// A short-timeout connection to the node, authenticated when the topology has a password.
    pub async fn connect(&self) -> Result<MultiplexedConnection, String> {
        connect(&self.addr, self.password.as_ref()).await
    }

    /// A client for the node, authenticated when the topology has a password.
    pub fn client(&self) -> Result<redis::Client, String> {
        self.addr
            .client(self.password.as_ref())
            .map_err(|e| format!("{}: {e}", self.addr))
    }

    /// Sends SIGKILL: the process dies without closing anything cleanly.
    pub async fn kill(&self) -> Result<(), ClusterError> {
        match &self.backing {
            Backing::Container(c) => {
                let ContainerNode {
                    container, docker, ..
                } = c.as_ref();
                let options = KillContainerOptionsBuilder::new().signal("SIGKILL").build();
                docker
                    .kill_container(container.id(), Some(options))
                    .await
                    .map_err(docker_error(format!("kill {}", self.name)))
            }
            Backing::Process(process) => {
                process.kill().await;
                Ok(())
            }
            Backing::External => Err(self.not_ours("kill")),
        }
    }

    /// Starts a stopped node again at its old address, then waits until it answers `PING`.
    pub async fn restart(&self, timeout: Duration) -> Result<(), ClusterError> {
        match &self.backing {
            Backing::Container(c) => {
                let ContainerNode {
                    container,
                    docker,
                    network,
                } = c.as_ref();
                // The engine would hand out any free address; reconnecting with the old one pinned
                // keeps the node where the sentinels know it.
                let disconnect = NetworkDisconnectRequest {
                    container: container.id().to_owned(),
                    force: Some(true),
                };
                docker
                    .disconnect_network(network, disconnect)
                    .await
                    .map_err(docker_error(format!("detach {} from {network}", self.name)))?;
                let attach = NetworkConnectRequest {
                    container: container.id().to_owned(),
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
                container
                    .start()
                    .await
                    .map_err(|e| ClusterError::NodeStart {
                        node: self.name.clone(),
                        detail: e.to_string(),
                    })?;
            }
            Backing::Process(process) => process.start_again().await?,
            Backing::External => return Err(self.not_ours("start")),
        }
        self.answers_ping(timeout).await
    }

    /// Stops the node gracefully: SIGTERM, on which Redis runs `SHUTDOWN`, SIGKILL after 10 s.
    pub async fn stop(&self) -> Result<(), ClusterError> {
        match &self.backing {
            Backing::Container(c) => {
                let ContainerNode {
                    container, docker, ..
                } = c.as_ref();
                let options = StopContainerOptionsBuilder::new().t(10).build();
                docker
                    .stop_container(container.id(), Some(options))
                    .await
                    .map_err(docker_error(format!("stop {}", self.name)))
            }
            Backing::Process(process) => {
                process.stop().await;
                Ok(())
            }
            Backing::External => Err(self.not_ours("stop")),
        }
    }

    /// Freezes every process of the node (cgroup freezer for a container, SIGSTOP for a process).
    pub async fn pause(&self) -> Result<(), ClusterError> {
        match &self.backing {
            Backing::Container(c) => c
                .container
                .pause()
                .await
                .map_err(docker_error(format!("pause {}", self.name))),
            Backing::Process(process) => process.freeze(true).await,
            Backing::External => Err(self.not_ours("freeze")),
        }
    }

    /// Resumes a paused node.
    pub async fn unpause(&self) -> Result<(), ClusterError> {
        match &self.backing {
            Backing::Container(c) => c
                .container
                .unpause()
                .await
                .map_err(docker_error(format!("resume {}", self.name))),
            Backing::Process(process) => process.freeze(false).await,
            Backing::External => Err(self.not_ours("resume")),
        }
    }

    /// The host PID of the node's main process; a container's is in the node's network namespace.
    pub async fn pid(&self) -> Result<i64, ClusterError> {
        let not_running = || ClusterError::Host {
            action: format!("find the process of {}", self.name),
            detail: "the node is not running".to_owned(),
        };
        match &self.backing {
            Backing::Container(c) => {
                let ContainerNode {
                    container, docker, ..
                } = c.as_ref();
                let inspect = docker
                    .inspect_container(container.id(), None::<InspectContainerOptions>)
                    .await
                    .map_err(docker_error(format!("inspect {}", self.name)))?;
                inspect
                    .state
                    .and_then(|s| s.pid)
                    .filter(|pid| *pid > 0)
                    .ok_or_else(not_running)
            }
            Backing::Process(process) => process.pid().await.map(i64::from).ok_or_else(not_running),
            Backing::External => Err(self.not_ours("enter the namespace of")),
        }
    }

    /// Removes the container, or kills the process; leaves a node the harness did not start.
    pub async fn remove(self) -> Result<(), ClusterError> {
        let name = self.name;
        match self.backing {
            Backing::External => Ok(()),
            Backing::Container(c) => c
                .container
                .rm()
                .await
                .map_err(docker_error(format!("remove {name}"))),
            Backing::Process(process) => {
                process.kill().await;
                Ok(())
            }
        }
    }
}

/// A short-timeout connection for probing a node.
/// A connection to `addr`, authenticated with `password`; it gives up after 500 ms to connect and
/// 1 s for an answer.
pub(crate) async fn connect(
    addr: &NodeAddr,
    password: Option<&Password>,
) -> Result<MultiplexedConnection, String> {
    let client = addr.client(password).map_err(|e| e.to_string())?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(1000)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| format!("{addr}: {e}"))
}
