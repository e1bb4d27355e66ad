//! The topology of a run: one master, its replicas and the sentinels, as containers on a network of
//! the run's own, started through testcontainers and removed when the run ends.
//!
//! It owns the Docker engine, the image, the network and the nodes. It must not know about the app,
//! the workload or the history.
//!
//! # Layout
//! - [`engine`]: connecting to Docker, with errors that say what to do.
//! - [`image`]: the Redis image, built from the local binary when no registry image is there.
//! - [`network`]: the run's network and its subnet.
//! - [`node`]: one container: start, kill, restart at the same address.
//! - [`readiness`]: conditions the cluster waits on.
//!
//! Containers are removed on [`Cluster::shutdown`] or, on every other path (error, panic, a dropped
//! future after Ctrl-C), when the [`Cluster`] is dropped. `TESTCONTAINERS_COMMAND=keep` keeps them
//! for a post-mortem.

mod control;
pub mod engine;
pub mod image;
pub mod network;
pub mod node;
pub mod readiness;

use std::time::{Duration, Instant};

use bollard::Docker;
use sample_app::store::NodeAddr;

use crate::scenario::{Persistence, Topology};
use image::ImageRef;
use network::RunNetwork;
use node::{Node, NodeKind, NodeSpec};

/// Label carrying the run id on every container and network of a run.
pub const RUN_LABEL: &str = "failover-drill.run";
/// Label carrying a node's name.
pub const NODE_LABEL: &str = "failover-drill.node";

/// What can go wrong with the topology.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No Docker engine answered.
    #[error("cannot reach the Docker engine ({detail}); start it with `dockerd &` or install it with `apt-get install -y docker.io` (`bash ci/prepare.sh` does both)")]
    EngineUnreachable {
        /// What the client said.
        detail: String,
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
    /// A fault named a node that does not exist.
    #[error("no node named '{0}' in this topology")]
    UnknownNode(String),
}

/// A running topology.
pub struct Cluster {
    // Field order is drop order: containers go before the network they are attached to.
    nodes: Vec<Node>,
    network: Option<RunNetwork>,
    docker: Docker,
    master_name: String,
    ready_timeout: Duration,
    rejoin_timeout: Duration,
    /// The image the nodes run.
    pub image: ImageRef,
    /// How long start-up took, until every readiness condition held.
    pub startup: Duration,
}

fn redis_args(topology: &Topology, replica_of: Option<&NodeAddr>) -> Vec<String> {
    let mut args: Vec<String> = [
        "--port",
        "6379",
        "--protected-mode",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        "/data",
    ]
    .map(str::to_owned)
    .to_vec();
    if topology.persistence == Persistence::Aof {
        let aof = ["--appendonly", "yes", "--appendfsync", "everysec"];
        args.extend(aof.map(str::to_owned));
    }
    if topology.min_replicas_to_write > 0 {
        args.extend([
            "--min-replicas-to-write".to_owned(),
            topology.min_replicas_to_write.to_string(),
            "--min-replicas-max-lag".to_owned(),
            topology.min_replicas_max_lag.as_secs().max(1).to_string(),
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

fn sentinel_conf(topology: &Topology, master: &NodeAddr) -> String {
    let name = &topology.master_name;
    format!(
        "port 26379\nprotected-mode no\ndir /tmp\n\
         sentinel monitor {name} {} {} {}\n\
         sentinel down-after-milliseconds {name} {}\n\
         sentinel failover-timeout {name} {}\n\
         sentinel parallel-syncs {name} {}\n",
        master.host,
        master.port,
        topology.quorum,
        topology.down_after.as_millis(),
        topology.failover_timeout.as_millis(),
        topology.parallel_syncs,
    )
}

impl Cluster {
    /// Starts the topology and waits until replication and sentinel discovery are complete.
    pub async fn start(
        docker: Docker,
        topology: &Topology,
        run_id: &str,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<Self, ClusterError> {
        let started = Instant::now();
        let image = image::ensure(&docker, topology.image.as_deref(), progress).await?;
        let net_name = format!("fd-{run_id}");
        let mut cluster = Self {
            nodes: Vec::new(),
            network: Some(RunNetwork::create(&docker, &net_name, run_id).await?),
            docker,
            master_name: topology.master_name.clone(),
            ready_timeout: topology.ready_timeout,
            // Sentinel waits about 8 s of a returning node reporting itself master before it sends
            // REPLICAOF; the resync follows.
            rejoin_timeout: topology.ready_timeout.max(Duration::from_secs(30)),
            image,
            startup: Duration::ZERO,
        };
        progress(&format!(
            "starting 1 master, {} replicas, {} sentinels ({})",
            topology.replicas, topology.sentinels, cluster.image
        ));
        let master = cluster.add(NodeSpec {
            name: "redis-1".into(),
            kind: NodeKind::Redis,
            args: redis_args(topology, None),
            sentinel_conf: None,
        });
        let master_addr = master.await?;
        let replicas = futures::future::try_join_all((2..=topology.replicas + 1).map(|i| {
            cluster.start_node(NodeSpec {
                name: format!("redis-{i}"),
                kind: NodeKind::Redis,
                args: redis_args(topology, Some(&master_addr)),
                sentinel_conf: None,
            })
        }))
        .await;
        cluster.nodes.extend(replicas?);
        let sentinels = futures::future::try_join_all((1..=topology.sentinels).map(|i| {
            cluster.start_node(NodeSpec {
                name: format!("sentinel-{i}"),
                kind: NodeKind::Sentinel,
                args: Vec::new(),
                sentinel_conf: Some(sentinel_conf(topology, &master_addr)),
            })
        }))
        .await;
        cluster.nodes.extend(sentinels?);
        cluster.wait_ready(topology).await?;
        cluster.startup = started.elapsed();
        Ok(cluster)
    }

    async fn start_node(&self, spec: NodeSpec) -> Result<Node, ClusterError> {
        Node::start(
            &self.docker,
            spec,
            &self.image,
            self.network_name(),
            self.run_id(),
        )
        .await
    }

    async fn add(&mut self, spec: NodeSpec) -> Result<NodeAddr, ClusterError> {
        let node = self.start_node(spec).await?;
        let addr = node.addr.clone();
        self.nodes.push(node);
        Ok(addr)
    }

    fn network_name(&self) -> &str {
        self.network.as_ref().map_or("", |n| n.name.as_str())
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

    /// The run this topology belongs to, as its containers' labels carry it.
    pub fn run_id(&self) -> &str {
        self.network_name().trim_start_matches("fd-")
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

    /// Removes every container, then the network; reports the first failure after trying all.
    pub async fn shutdown(mut self) -> Result<(), ClusterError> {
        let mut first_error = None;
        for node in std::mem::take(&mut self.nodes) {
            if let Err(e) = node.remove().await {
                first_error.get_or_insert(e);
            }
        }
        if let Some(network) = self.network.take() {
            if let Err(e) = network.remove(&self.docker).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_config_carries_the_topology() {
        let conf = sentinel_conf(&Topology::default(), &NodeAddr::new("172.29.3.2", 6379));
        assert!(conf.contains("sentinel monitor mymaster 172.29.3.2 6379 2\n"));
        assert!(conf.contains("down-after-milliseconds mymaster 1000\n"));
        assert!(
            redis_args(&Topology::default(), Some(&NodeAddr::new("h", 6379))).ends_with(&[
                "--replicaof".to_owned(),
                "h".to_owned(),
                "6379".to_owned()
            ])
        );
    }
}
