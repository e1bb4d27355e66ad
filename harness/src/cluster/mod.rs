//! The topology of a run: one master, its replicas and the sentinels, as containers on a network of
//! the run's own (started through testcontainers) or as local processes on loopback ports, removed
//! when the run ends; with a password on every node when the topology asks for one.
//!
//! It owns the Docker engine, the image, the network or the nodes' directory, and the nodes. It
//! must not know about the app, the workload or the history.
//!
//! # Layout
//! - [`backend`]: choosing Docker or processes, and refusing faults processes cannot take.
//! - [`engine`]: connecting to Docker, with errors that say what to do.
//! - [`external`]: a deployment the harness did not start, looked at through its sentinels.
//! - `attach`: such a deployment as the run's topology, its nodes found through its sentinels.
//! - [`image`]: the Redis image, built from the local binary when no registry image is there.
//! - [`network`]: the run's network and its subnet.
//! - [`in_flight`]: node starts cut short, settled so that none lands after the run.
//! - [`process`]: one node as a local process, and the run's directory of them.
//! - [`node`]: one node either way: start, kill, stop, freeze, restart at the same address.
//! - [`readiness`]: conditions the cluster waits on.
//! - `startup`: Redis's and Sentinel's startup waits shortened until the topology is ready.
//!
//! Nodes are removed on [`Cluster::shutdown`] or, on every other path (error, panic, a dropped
//! future after Ctrl-C), when the [`Cluster`] is dropped. `TESTCONTAINERS_COMMAND=keep` keeps
//! containers for a post-mortem.

mod attach;
pub mod backend;
mod control;
pub mod engine;
pub mod external;
pub mod image;
pub mod in_flight;
pub mod network;
pub mod node;
pub mod process;
pub mod readiness;
mod startup;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bollard::Docker;
use sample_app::store::{NodeAddr, Password};

use crate::scenario::{Persistence, Topology};
pub use backend::Backend;
use image::ImageRef;
use network::RunNetwork;
use node::{Node, NodeKind, NodeSpec, REDIS_PORT, SENTINEL_PORT};
use process::WorkDir;

/// Environment variable holding the password of a topology with `require_password`; when the
/// harness's own environment sets it, that password is used instead of one made up for the run.
pub use crate::marks::env::REDIS_PASSWORD as PASSWORD_ENV;

/// What can go wrong with the topology.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No Docker engine answered.
    #[error("cannot reach the Docker engine ({detail}); start it with `dockerd &` or install it with `apt-get install -y docker.io` (`bash ci/prepare.sh` does both)")]
    EngineUnreachable {
        /// What the client said.
        detail: String,
    },
    /// `DOCKER_HOST` names an engine the harness cannot reach the same way from all its clients.
    #[error("DOCKER_HOST={docker_host}: failover-drill reaches the Docker engine through a Unix socket only; its engine client would ignore this address and use /var/run/docker.sock while testcontainers followed it, so two engines would share one run. Unset DOCKER_HOST, or set it to unix:///path/to/docker.sock (for a remote engine, run failover-drill on its host)")]
    EngineNotLocal {
        /// The variable's value.
        docker_host: String,
    },
    /// The engine refused the client's API version.
    #[error("the Docker engine refused the client's API version ({detail}); bollard must stay pinned at =0.21.1 in harness/Cargo.toml, which sends no version")]
    EngineApiMismatch {
        /// What the engine said.
        detail: String,
    },
    /// No image could be found, pulled or built.
    #[error("no Redis image: {detail}")]
    ImageUnavailable {
        /// Why each way failed.
        detail: String,
    },
    /// A container did not start.
    #[error("node {node} did not start: {detail}")]
    NodeStart {
        /// The node's name.
        node: String,
        /// What testcontainers said.
        detail: String,
    },
    /// A readiness condition did not hold in time.
    #[error("node {node} not ready after {waited_ms} ms: it reported {report}")]
    NotReady {
        /// The node's name.
        node: String,
        /// How long the harness waited.
        waited_ms: u128,
        /// What the node last reported.
        report: String,
    },
    /// Removing something a run left on the host (a rule, an app process) failed.
    #[error("cannot {action} on this host: {detail}")]
    Host {
        /// What the harness tried.
        action: String,
        /// What went wrong.
        detail: String,
    },
    /// A Docker call failed.
    #[error("docker: cannot {action}: {detail}")]
    Docker {
        /// What the harness tried.
        action: String,
        /// What the engine said.
        detail: String,
    },
    /// No sentinel named a master.
    #[error("no sentinel names a master: {detail}")]
    NoMaster {
        /// What each sentinel answered.
        detail: String,
    },
    /// The backend cannot run what the scenario asks for.
    #[error("the {backend} backend cannot run this scenario: {detail}")]
    Unsupported {
        /// The backend's name.
        backend: &'static str,
        /// What it cannot do, and what to do instead.
        detail: String,
    },
    /// A fault named a node that does not exist.
    #[error("no node named '{0}' in this topology")]
    UnknownNode(String),
    /// An external deployment could not be looked at.
    #[error(transparent)]
    External(#[from] external::ExternalError),
    /// An external deployment is not ready to be drilled.
    #[error("the deployment '{name}' is not ready to be drilled:\n  {}\nmend it, or watch it with `failover-drill inspect --sentinels {sentinels}`", .problems.join("\n  "))]
    Unhealthy {
        /// The deployment's name.
        name: String,
        /// The sentinels given, as the command line takes them.
        sentinels: String,
        /// What is wrong.
        problems: Vec<String>,
    },
}

/// Where the nodes of a running topology live, and what goes with them.
enum Place {
    Docker {
        docker: Docker,
        image: ImageRef,
        network: Option<RunNetwork>,
    },
    Process {
        binary: PathBuf,
        /// Loopback ports, one per node in start order, reserved until the cluster is dropped.
        ports: Vec<process::ReservedPort>,
        work_dir: Option<WorkDir>,
    },
    /// A deployment the harness did not start: nothing of it is the run's to remove.
    External,
}

/// A running topology.
pub struct Cluster {
    // Field order is drop order: nodes go before the network or directory they live in.
    nodes: Vec<Node>,
    place: Place,
    run_id: String,
    master_name: String,
    password: Option<Password>,
    ready_timeout: Duration,
    rejoin_timeout: Duration,
    /// What the nodes run on: the image, or the local binary of the process backend.
    pub runs_on: String,
    /// How long start-up took, until every readiness condition held.
    pub startup: Duration,
}

/// A node's port and data directory, and the address it binds.
struct Placement {
    port: u16,
    dir: String,
    /// Local processes listen on loopback only; containers on their own network's address.
    loopback_only: bool,
}

/// What a node is at start-up.
enum Role<'a> {
    Master,
    Replica(&'a NodeAddr),
    Sentinel(&'a NodeAddr),
}

fn redis_args(
    topology: &Topology,
    place: &Placement,
    replica_of: Option<&NodeAddr>,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--port",
        &place.port.to_string(),
        "--protected-mode",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &place.dir,
    ]
    .map(str::to_owned)
    .to_vec();
    if place.loopback_only {
        args.extend(["--bind".to_owned(), "127.0.0.1".to_owned()]);
    }
    if topology.persistence == Persistence::Aof {
        let aof = ["--appendonly", "yes", "--appendfsync", "everysec"];
        args.extend(aof.map(str::to_owned));
    }
    if topology.min_replicas_to_write > 0 {
        args.extend([
            "--min-replicas-to-write".to_owned(),
            topology.min_replicas_to_write.to_string(),
            "--min-replicas-max-lag".to_owned(),
            // whole seconds of at least 1: `Topology::check` refuses anything else
            topology.min_replicas_max_lag.as_secs().to_string(),
        ]);
    }
    if let Some(master) = replica_of {
        args.extend([
            "--replicaof".to_owned(),
            master.host.clone(),
            master.port.to_string(),
        ]);
    }
    args
}

/// A data node's config file: its password, in a file rather than the command line, which
/// `ps` and `docker inspect` show.
fn redis_conf(password: Option<&Password>) -> String {
    password.map_or_else(String::new, |p| {
        format!("requirepass {0}\nmasterauth {0}\n", p.expose())
    })
}

fn sentinel_conf(
    topology: &Topology,
    master: &NodeAddr,
    place: &Placement,
    password: Option<&Password>,
) -> String {
    let name = &topology.master_name;
    let mut conf = format!(
        "port {}\nprotected-mode no\ndir {}\n\
         sentinel monitor {name} {} {} {}\n\
         sentinel down-after-milliseconds {name} {}\n\
         sentinel failover-timeout {name} {}\n\
         sentinel parallel-syncs {name} {}\n",
        place.port,
        place.dir,
        master.host,
        master.port,
        topology.quorum,
        topology.down_after.as_millis(),
        topology.failover_timeout.as_millis(),
        topology.parallel_syncs,
    );
    if place.loopback_only {
        conf.push_str("bind 127.0.0.1\n");
    }
    if let Some(p) = password {
        // Sentinels use their own requirepass towards each other, and auth-pass towards the nodes.
        conf.push_str(&format!(
            "requirepass {0}\nsentinel auth-pass {name} {0}\n",
            p.expose()
        ));
    }
    conf
}

/// The refusal to start `node` on a deployment the harness did not start.
fn starts_nothing(node: &str) -> ClusterError {
    ClusterError::Unsupported {
        backend: "external",
        detail: format!("the harness starts no node there, {node} included"),
    }
}

/// A password from the environment, if a Redis config file holds it as written.
fn checked_password(p: String) -> Result<Password, ClusterError> {
    // Redis's config parser reads both quote characters as quotes: `pa'ss` fails to load and
    // `a'b'` would become `ab`.
    if p.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'')
    {
        return Err(ClusterError::Host {
            action: format!("use the password in {PASSWORD_ENV}"),
            detail: "it contains whitespace, a control character or a quote (' or \"), which \
                     a Redis config file does not hold as written; choose another"
                .to_owned(),
        });
    }
    Ok(Password::new(p))
}

/// The run's password: the one in the environment, or 128 random bits in hex.
fn run_password() -> Result<Password, ClusterError> {
    if let Some(p) = std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty()) {
        return checked_password(p);
    }
    let mut bytes = [0u8; 16];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| ClusterError::Host {
            action: "make up a password from /dev/urandom".to_owned(),
            detail: e.to_string(),
        })?;
    Ok(Password::new(
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ))
}

impl Cluster {
    /// Starts the topology on `backend` and waits until replication and sentinel discovery are
    /// complete.
    pub async fn start(
        backend: Backend,
        topology: &Topology,
        run_id: &str,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<Self, ClusterError> {
        let started = Instant::now();
        let password = topology.require_password.then(run_password).transpose()?;
        let (place, runs_on) = match backend {
            Backend::Docker(docker) => {
                let image = image::ensure(&docker, topology.image.as_deref(), progress).await?;
                let network = RunNetwork::create(
                    &docker,
                    &format!("fd-{run_id}"),
                    run_id,
                    &image.to_string(),
                )
                .await?;
                let runs_on = format!("image {image}");
                let network = Some(network);
                (
                    Place::Docker {
                        docker,
                        image,
                        network,
                    },
                    runs_on,
                )
            }
            Backend::Process => {
                let binary = image::find_binary().map_err(|detail| ClusterError::NodeStart {
                    node: "redis-1".to_owned(),
                    detail,
                })?;
                let version = image::binary_version(&binary).unwrap_or_else(|e| e);
                let nodes = 1 + topology.replicas + topology.sentinels;
                let place = Place::Process {
                    ports: process::free_ports(nodes as usize)?,
                    work_dir: Some(WorkDir::create(run_id)?),
                    binary: binary.clone(),
                };
                (
                    place,
                    format!("local processes of {} {version}", binary.display()),
                )
            }
        };
        let mut cluster = Self::empty(place, topology, run_id, password, runs_on);
        progress(&format!(
            "starting 1 master, {} replicas, {} sentinels ({}{})",
            topology.replicas,
            topology.sentinels,
            cluster.runs_on,
            if cluster.password.is_some() {
                ", password required"
            } else {
                ""
            }
        ));
        let master = cluster
            .start_node(topology, "redis-1".into(), 0, Role::Master)
            .await?;
        let master_addr = master.addr.clone();
        let mut changed = vec![startup::sync_at_once(&master, topology.ready_timeout).await];
        cluster.nodes.push(master);
        // Replicas and sentinels start together: a sentinel asks the master for its replicas every
        // 100 ms while the topology starts, so it finds them whichever comes first.
        let replicas = futures::future::try_join_all((1..=topology.replicas).map(|i| {
            let name = format!("redis-{}", i + 1);
            cluster.start_node(topology, name, i as usize, Role::Replica(&master_addr))
        }));
        let first_sentinel = 1 + topology.replicas as usize;
        let sentinels = futures::future::try_join_all((1..=topology.sentinels).map(|i| {
            let slot = first_sentinel + i as usize - 1;
            let name = format!("sentinel-{i}");
            let cluster = &cluster;
            let master_addr = &master_addr;
            async move {
                let sentinel = cluster
                    .start_node(topology, name, slot, Role::Sentinel(master_addr))
                    .await?;
                let hastened = startup::discover_at_once(&sentinel, topology.ready_timeout).await;
                Ok::<_, ClusterError>((sentinel, hastened))
            }
        }));
        let (replicas, sentinels) = futures::future::join(replicas, sentinels).await;
        cluster.nodes.extend(replicas?);
        for (sentinel, hastened) in sentinels? {
            cluster.nodes.push(sentinel);
            changed.push(hastened);
        }
        let changed = changed.into_iter().collect::<Result<Vec<_>, _>>()?;
        cluster.wait_ready(topology).await?;
        for changed in &changed {
            if let Some(node) = cluster.nodes.iter().find(|n| n.name == changed.node()) {
                startup::restore(node, changed, topology.ready_timeout).await?;
            }
        }
        cluster.startup = started.elapsed();
        Ok(cluster)
    }

    /// A topology with no node yet, its timeouts from `topology`.
    fn empty(
        place: Place,
        topology: &Topology,
        run_id: &str,
        password: Option<Password>,
        runs_on: String,
    ) -> Self {
        Self {
            nodes: Vec::new(),
            place,
            run_id: run_id.to_owned(),
            master_name: topology.master_name.clone(),
            password,
            ready_timeout: topology.ready_timeout,
            // Sentinel waits about 8 s of a returning node reporting itself master before it sends
            // REPLICAOF; the resync follows.
            rejoin_timeout: topology.ready_timeout.max(Duration::from_secs(30)),
            runs_on,
            startup: Duration::ZERO,
        }
    }

    /// Starts the node in start-order position `slot`.
    async fn start_node(
        &self,
        topology: &Topology,
        name: String,
        slot: usize,
        role: Role<'_>,
    ) -> Result<Node, ClusterError> {
        let kind = match role {
            Role::Sentinel(_) => NodeKind::Sentinel,
            Role::Master | Role::Replica(_) => NodeKind::Redis,
        };
        let place = match &self.place {
            Place::External => return Err(starts_nothing(&name)),
            Place::Docker { .. } => Placement {
                port: if kind == NodeKind::Redis {
                    REDIS_PORT
                } else {
                    SENTINEL_PORT
                },
                dir: if kind == NodeKind::Redis {
                    "/data"
                } else {
                    "/tmp"
                }
                .to_owned(),
                loopback_only: false,
            },
            Place::Process {
                ports, work_dir, ..
            } => Placement {
                port: ports.get(slot).map_or(0, |reserved| reserved.port),
                dir: work_dir
                    .as_ref()
                    .map(|w| w.path.join(&name).to_string_lossy().into_owned())
                    .unwrap_or_default(),
                loopback_only: true,
            },
        };
        let password = self.password.as_ref();
        let (args, conf) = match role {
            Role::Master => (redis_args(topology, &place, None), redis_conf(password)),
            Role::Replica(master) => (
                redis_args(topology, &place, Some(master)),
                redis_conf(password),
            ),
            Role::Sentinel(master) => (
                Vec::new(),
                sentinel_conf(topology, master, &place, password),
            ),
        };
        let spec = NodeSpec {
            name,
            kind,
            args,
            conf,
        };
        match &self.place {
            Place::Docker {
                docker,
                image,
                network,
            } => {
                let Some(network) = network.as_ref() else {
                    return Err(ClusterError::NodeStart {
                        node: spec.name,
                        detail: "the run's network is already removed".to_owned(),
                    });
                };
                let start = network
                    .starts()
                    .begin(&node::container_name(&network.name, &spec.name));
                let node = Node::start_container(
                    docker,
                    spec,
                    image,
                    (&network.name, &self.run_id),
                    self.password.clone(),
                )
                .await;
                start.ended();
                node
            }
            Place::External => Err(starts_nothing(&spec.name)),
            Place::Process { binary, .. } => {
                Node::start_process(
                    spec,
                    binary,
                    (std::path::Path::new(&place.dir), &self.run_id),
                    place.port,
                    self.password.clone(),
                    self.ready_timeout,
                )
                .await
            }
        }
    }

    async fn wait_ready(&self, topology: &Topology) -> Result<(), ClusterError> {
        let timeout = topology.ready_timeout;
        let replicas = topology.replicas as usize;
        let others = topology.sentinels.saturating_sub(1) as usize;
        for replica in self.nodes_of(NodeKind::Redis).skip(1) {
            readiness::until(timeout, &replica.name, || {
                readiness::replica_linked(replica)
            })
            .await?;
        }
        for sentinel in self.nodes_of(NodeKind::Sentinel) {
            readiness::until(timeout, &sentinel.name, || {
                readiness::sentinel_sees_all(sentinel, &self.master_name, replicas, others)
            })
            .await?;
        }
        Ok(())
    }

    /// Every node, data nodes first.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter()
    }

    /// Nodes of one kind, in name order.
    pub fn nodes_of(&self, kind: NodeKind) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.kind == kind)
    }

    /// The sentinels' addresses, for the app under test.
    pub fn sentinel_addrs(&self) -> Vec<NodeAddr> {
        self.nodes_of(NodeKind::Sentinel)
            .map(|n| n.addr.clone())
            .collect()
    }

    /// The run this topology belongs to, as its containers' labels and processes carry it.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The engine and the run's network, on the Docker backend: where an app image runs.
    pub fn docker_network(&self) -> Option<(&Docker, &str)> {
        match &self.place {
            Place::Docker {
                docker,
                network: Some(network),
                ..
            } => Some((docker, network.name.as_str())),
            _ => None,
        }
    }

    /// The password the nodes require, if they require one: for the app under test only.
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// What keeps the password out of everything the run writes.
    pub fn redactor(&self) -> crate::secret::Redactor {
        crate::secret::Redactor::of(self.password.as_ref())
    }

    /// The master name the sentinels monitor.
    pub fn master_name(&self) -> &str {
        &self.master_name
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Result<&Node, ClusterError> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| ClusterError::UnknownNode(name.to_owned()))
    }

    /// Removes every container or process, then the network or the nodes' directory; reports the
    /// first failure after trying all.
    pub async fn shutdown(mut self) -> Result<(), ClusterError> {
        let mut first_error = None;
        for node in std::mem::take(&mut self.nodes) {
            if let Err(e) = node.remove().await {
                first_error.get_or_insert(e);
            }
        }
        let removed = match &mut self.place {
            Place::Docker {
                docker, network, ..
            } => match network.take() {
                Some(network) => network.remove(docker).await,
                None => Ok(()),
            },
            Place::Process { work_dir, .. } => work_dir.take().map_or(Ok(()), WorkDir::remove),
            Place::External => Ok(()),
        };
        if let Err(e) = removed {
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_a_redis_config_file_would_misread_is_refused() {
        for bad in ["pa'ss", "a'b'", "with space", "q\"uote", "tab\there"] {
            let err = checked_password(bad.to_owned()).expect_err("refused");
            assert!(err.to_string().contains(PASSWORD_ENV), "{err}");
            assert!(
                !err.to_string().contains(bad),
                "the password is not shown: {err}"
            );
        }
        assert!(checked_password("s3cret-Value_1".to_owned()).is_ok());
    }

    #[test]
    fn sentinel_config_carries_the_topology() {
        let place = Placement {
            port: 26379,
            dir: "/tmp".into(),
            loopback_only: false,
        };
        let master = NodeAddr::new("172.29.3.2", 6379);
        let conf = sentinel_conf(&Topology::default(), &master, &place, None);
        assert!(conf.contains("sentinel monitor mymaster 172.29.3.2 6379 2\n"));
        assert!(conf.contains("down-after-milliseconds mymaster 1000\n"));
        assert!(!conf.contains("requirepass") && !conf.contains("bind"));
        let password = Password::new("pw123");
        let conf = sentinel_conf(&Topology::default(), &master, &place, Some(&password));
        assert!(conf.contains("requirepass pw123\nsentinel auth-pass mymaster pw123\n"));
        assert_eq!(
            redis_conf(Some(&password)),
            "requirepass pw123\nmasterauth pw123\n"
        );
        let args = redis_args(&Topology::default(), &place, None);
        assert!(!args.iter().any(|a| a.contains("pw123")));
        assert!(redis_args(
            &Topology::default(),
            &place,
            Some(&NodeAddr::new("h", 6379))
        )
        .ends_with(&["--replicaof".to_owned(), "h".to_owned(), "6379".to_owned()]));
    }
}
