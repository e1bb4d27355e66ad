//! A deployment the harness did not start, as a run's topology: its nodes found through its
//! sentinels and named, its health checked before anything happens.
//!
//! It owns building that [`Cluster`]; it must not change the deployment: it only reads, through
//! [`external::inspect`], and its nodes refuse every action but being talked to.

use std::time::Instant;

use sample_app::store::{NodeAddr, Password};

use super::external;
use super::node::{Node, NodeKind};
use super::{Cluster, ClusterError, Place, PASSWORD_ENV};
use crate::scenario::{ExternalTopology, Topology};

/// The password the deployment's nodes require, from the environment; an external run never
/// makes one up.
fn password_from_env() -> Option<Password> {
    std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Password::new)
}

/// Names for `addrs`: the one `external.names` gives, else `{prefix}-N`, numbered in order and
/// skipping names already taken.
fn names_for(external: &ExternalTopology, addrs: &[NodeAddr], prefix: &str) -> Vec<String> {
    let given = |addr: &NodeAddr| external.names.get(&addr.to_string()).cloned();
    let mut taken: Vec<String> = external.names.values().cloned().collect();
    let mut next = 1;
    addrs
        .iter()
        .map(|addr| {
            given(addr).unwrap_or_else(|| loop {
                let name = format!("{prefix}-{next}");
                next += 1;
                if !taken.contains(&name) {
                    taken.push(name.clone());
                    break name;
                }
            })
        })
        .collect()
}

impl Cluster {
    /// Looks at the deployment `topology.external` describes and, when it is healthy, makes it
    /// the run's topology: the master the sentinels name (`redis-1` unless named), its replicas
    /// in address order, then the sentinels. Nothing is started, and nothing will be removed.
    pub async fn attach(
        topology: &Topology,
        run_id: &str,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<Self, ClusterError> {
        let started = Instant::now();
        let Some(external) = topology.external.as_ref() else {
            return Err(ClusterError::Unsupported {
                backend: "external",
                detail: "the scenario has no [topology.external] section naming the deployment \
                         and its sentinels"
                    .to_owned(),
            });
        };
        let password = password_from_env();
        let given = external.sentinel_addrs();
        progress(&format!(
            "looking at the deployment '{}' through {}",
            external.name,
            external.sentinels.join(", ")
        ));
        let deployment =
            external::inspect(&given, &topology.master_name, password.as_ref()).await?;
        let problems = deployment.problems();
        let master = match (problems.is_empty(), deployment.master()) {
            (true, Some(master)) => master.clone(),
            _ => {
                return Err(ClusterError::Unhealthy {
                    name: external.name.clone(),
                    sentinels: external.sentinels.join(","),
                    problems,
                })
            }
        };
        let mut replicas: Vec<NodeAddr> = deployment
            .nodes
            .iter()
            .map(|(addr, _)| addr.clone())
            .filter(|addr| *addr != master)
            .collect();
        replicas.sort_by_key(ToString::to_string);
        let data_nodes: Vec<NodeAddr> = std::iter::once(master).chain(replicas).collect();
        let sentinels: Vec<NodeAddr> = deployment
            .sentinels
            .iter()
            .map(|(a, _)| a.clone())
            .collect();
        let data_names = names_for(external, &data_nodes, "redis");
        let sentinel_names = names_for(external, &sentinels, "sentinel");
        let nodes = data_nodes
            .into_iter()
            .zip(data_names)
            .map(|(addr, name)| (addr, name, NodeKind::Redis))
            .chain(
                sentinels
                    .into_iter()
                    .zip(sentinel_names)
                    .map(|(addr, name)| (addr, name, NodeKind::Sentinel)),
            )
            .map(|(addr, name, kind)| Node::external(name, kind, addr, password.clone()))
            .collect::<Vec<_>>();
        let replicas = nodes.iter().filter(|n| n.kind == NodeKind::Redis).count() - 1;
        let sentinel_count = nodes.len() - replicas - 1;
        let runs_on = format!(
            "the external deployment '{}': 1 master, {replicas} replicas, {sentinel_count} \
             sentinels, none started by the harness",
            external.name
        );
        progress(&format!("attached to {runs_on}"));
        let mut cluster = Self::empty(Place::External, topology, run_id, password, runs_on);
        cluster.nodes = nodes;
        cluster.startup = started.elapsed();
        Ok(cluster)
    }

    /// Whether the harness started none of the nodes.
    pub fn is_external(&self) -> bool {
        matches!(self.place, Place::External)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_nodes_are_numbered_around_the_names_given() {
        let external: ExternalTopology = toml::from_str(
            "name = \"s\"\nsentinels = [\"h:1\"]\n[names]\n\"10.0.0.2:6379\" = \"redis-1\"\n",
        )
        .expect("a section");
        let addrs = [
            NodeAddr::new("10.0.0.1", 6379),
            NodeAddr::new("10.0.0.2", 6379),
            NodeAddr::new("10.0.0.3", 6379),
        ];
        assert_eq!(
            names_for(&external, &addrs, "redis"),
            ["redis-2", "redis-1", "redis-3"]
        );
    }
}
