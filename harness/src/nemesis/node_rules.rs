//! Network faults as iptables rules inside a node's own network namespace (entered with
//! `nsenter`), so the host and other nodes are untouched. It owns putting in and taking out the
//! rules a fault kind gives for each peer its `cut` names; which rules, it leaves to the kind.
//! Rules are removed on heal or, if the run is cut short, when the guard drops.

use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::cluster::Cluster;
use crate::scenario::Cut;

/// A kind of network fault: iptables rules in the target's namespace, for each peer its `cut`
/// names. Such a kind says which peers and which rules; applying and healing are the same for all.
pub(super) trait NetworkRules: Sync {
    /// Whom the target's rules are about.
    fn cut(&self) -> Cut;

    /// The rules for one peer address: each rule's arguments after the chain-changing option
    /// (`-I`/`-D`).
    fn rules(&self, peer: &str) -> Vec<Vec<String>>;
}

/// Why a fault on the host's link to a node misses an app in a container.
pub(super) const HOST_LINK: &str = "acts on the host's link to a node, and an app in a container \
     reaches the nodes over the run's network";

/// A rule from its words.
pub(super) fn rule(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

impl<T: NetworkRules> Fault for T {
    type Guard = Vec<NodeRules>;

    fn needs(&self) -> Needs {
        Needs {
            root: Some("iptables rules go into the node's network namespace"),
            programs: &["nsenter", "iptables"],
            own_network_namespace: Some(
                "it needs each node in a network namespace of its own, and local processes share \
                 the host's",
            ),
            // Cutting the app off acts on the node's link to the host; an app in a container of
            // its own reaches the node from elsewhere.
            not_with_app_image: (self.cut() != Cut::Cluster).then_some(HOST_LINK),
        }
    }

    async fn apply(
        &self,
        scene: &Scene<'_>,
        nodes: &[&Node],
    ) -> Result<Applied<Self::Guard>, NemesisError> {
        let mut applied = Vec::new();
        for node in nodes {
            applied.push(NodeRules::apply(scene.cluster, node, self).await?);
        }
        Ok(Applied::at_once(applied))
    }

    async fn heal(
        &self,
        _: &Scene<'_>,
        _: &[&Node],
        guard: Self::Guard,
    ) -> Result<(), NemesisError> {
        for rules in guard {
            rules.heal().await?;
        }
        Ok(())
    }
}

/// Network-fault rules in force on one node.
#[derive(Debug)]
pub(crate) struct NodeRules {
    node: String,
    pid: String,
    /// Each rule's arguments after the chain-changing option (`-I`/`-D`).
    rules: Vec<Vec<String>>,
}

fn iptables_args(pid: &str, action: &str, rule: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["-t", pid, "-n", "--", "iptables", "-w", action]
        .map(str::to_owned)
        .to_vec();
    args.extend(rule.iter().cloned());
    args
}

impl NodeRules {
    /// Puts in `kind`'s rules for each peer its `cut` names, in `node`'s namespace.
    pub(super) async fn apply(
        cluster: &Cluster,
        node: &Node,
        kind: &impl NetworkRules,
    ) -> Result<Self, NemesisError> {
        let cut = kind.cut();
        let pid = cluster.pid(node).await?.to_string();
        let mut peers: Vec<String> = Vec::new();
        if matches!(cut, Cut::Cluster | Cut::All) {
            peers.extend(
                cluster
                    .nodes()
                    .filter(|n| n.name != node.name)
                    .map(|n| n.addr.host.clone()),
            );
        }
        if matches!(cut, Cut::App | Cut::All) {
            peers.push(node.gateway.clone());
        }
        let mut rules = Self {
            node: node.name.clone(),
            pid,
            rules: Vec::new(),
        };
        for peer in peers {
            for rule in kind.rules(&peer) {
                // On failure the guard drops and removes the rules already in.
                rules.run("-I", &rule).await?;
                rules.rules.push(rule);
            }
        }
        Ok(rules)
    }

    async fn run(&self, action: &str, rule: &[String]) -> Result<(), NemesisError> {
        let out = tokio::process::Command::new("nsenter")
            .args(iptables_args(&self.pid, action, rule))
            .output()
            .await
            .map_err(|e| self.error(format!("cannot run nsenter: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(self.error(format!(
                "iptables {action} {} failed: {}",
                rule.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    fn error(&self, detail: String) -> NemesisError {
        NemesisError::NodeRules {
            node: self.node.clone(),
            detail,
        }
    }

    /// Removes every rule.
    pub(super) async fn heal(mut self) -> Result<(), NemesisError> {
        while let Some(rule) = self.rules.pop() {
            if let Err(e) = self.run("-D", &rule).await {
                self.rules.push(rule);
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Drop for NodeRules {
    fn drop(&mut self) {
        let rules = std::mem::take(&mut self.rules);
        if rules.is_empty() {
            return;
        }
        let (node, pid) = (self.node.clone(), self.pid.clone());
        crate::owed::owe("removing network-fault rules", move || {
            for rule in rules {
                let removed = std::process::Command::new("nsenter")
                    .args(iptables_args(&pid, "-D", &rule))
                    .output();
                // A node already gone took its namespace, and the rules in it, along.
                let namespace_gone = !std::path::Path::new(&format!("/proc/{pid}")).exists();
                if !removed.is_ok_and(|o| o.status.success()) && !namespace_gone {
                    tracing::error!(node = %node, rule = %rule.join(" "), "could not remove a network-fault rule");
                }
            }
        });
    }
}
