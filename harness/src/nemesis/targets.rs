//! Which nodes a fault's target names at the moment it fires: the master then, not at start-up.
//!
//! It owns resolving targets; it must not change the cluster.

use super::NemesisError;
use crate::cluster::node::{Node, NodeKind};
use crate::cluster::Cluster;
use crate::scenario::{FaultSpec, Target};

/// The largest minority and the smallest majority of `n` sentinels.
fn minority(n: usize) -> usize {
    n.saturating_sub(1) / 2
}

fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// The nodes the `index`th fault, `spec`, hits now; none only for a fault on the app.
pub(super) async fn resolve<'a>(
    cluster: &'a Cluster,
    index: usize,
    spec: &FaultSpec,
) -> Result<Vec<&'a Node>, NemesisError> {
    let sentinels: Vec<&Node> = cluster.nodes_of(NodeKind::Sentinel).collect();
    let target = spec.target();
    let nodes: Vec<&Node> = match &target {
        Target::Master => vec![cluster.current_master().await?],
        Target::Replica | Target::Replicas => {
            let master = cluster.current_master().await?;
            let replicas = cluster
                .nodes_of(NodeKind::Redis)
                .filter(|n| n.name != master.name);
            if target == Target::Replica {
                replicas.take(1).collect()
            } else {
                replicas.collect()
            }
        }
        Target::Sentinel => sentinels.into_iter().take(1).collect(),
        Target::Sentinels => sentinels,
        Target::SentinelsMinority => {
            let n = minority(sentinels.len());
            sentinels.into_iter().take(n).collect()
        }
        Target::SentinelsMajority => {
            let n = majority(sentinels.len());
            sentinels.into_iter().take(n).collect()
        }
        Target::Node(name) => vec![cluster.node(name)?],
        // The app is no node of the cluster: the kind says which instance its records name.
        Target::App => return Ok(Vec::new()),
    };
    if nodes.is_empty() {
        return Err(NemesisError::NoTarget {
            index,
            kind: spec.kind().name(),
            target: String::from(target),
        });
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minorities_and_majorities_of_sentinels() {
        assert_eq!((minority(3), majority(3)), (1, 2));
        assert_eq!((minority(5), majority(5)), (2, 3));
        assert_eq!((minority(1), majority(1)), (0, 1));
        assert_eq!((minority(4), majority(4)), (1, 3));
    }
}
