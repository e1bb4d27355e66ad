//! Network faults as iptables rules inside a node's own network namespace (entered with
//! `nsenter`), so the host and other nodes are untouched: a partition drops every packet to and
//! from the peers; a reset answers every TCP packet from them with a reset. Rules are removed on
//! heal or, if the run is cut short, when the guard drops.

use super::NemesisError;
use crate::cluster::node::Node;
use crate::cluster::Cluster;
use crate::scenario::Cut;

/// What the rules do to the peers' packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Treatment {
    /// Drop both ways: the peers see silence, then timeouts.
    Drop,
    /// Answer their TCP packets with a reset: the peers see connections refused and reset.
    Reset,
}

/// Network-fault rules in force on one node.
#[derive(Debug)]
pub(super) struct Partition {
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

fn rules_for(peer: &str, treatment: Treatment) -> Vec<Vec<String>> {
    let rule = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    match treatment {
        Treatment::Drop => vec![
            rule(&["INPUT", "-s", peer, "-j", "DROP"]),
            rule(&["OUTPUT", "-d", peer, "-j", "DROP"]),
        ],
        Treatment::Reset => vec![rule(&[
            "INPUT",
            "-p",
            "tcp",
            "-s",
            peer,
            "-j",
            "REJECT",
            "--reject-with",
            "tcp-reset",
        ])],
    }
}

impl Partition {
    /// Applies `treatment` to the traffic between `node` and the peers `cut` names.
    pub(super) async fn apply(
        cluster: &Cluster,
        node: &Node,
        cut: Cut,
        treatment: Treatment,
    ) -> Result<Self, NemesisError> {
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
        let mut partition = Self {
            node: node.name.clone(),
            pid,
            rules: Vec::new(),
        };
        for peer in peers {
            for rule in rules_for(&peer, treatment) {
                // On failure the guard drops and removes the rules already in.
                partition.run("-I", &rule).await?;
                partition.rules.push(rule);
            }
        }
        Ok(partition)
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
        NemesisError::Partition {
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

impl Drop for Partition {
    fn drop(&mut self) {
        for rule in self.rules.drain(..) {
            let removed = std::process::Command::new("nsenter")
                .args(iptables_args(&self.pid, "-D", &rule))
                .output();
            if !removed.is_ok_and(|o| o.status.success()) {
                tracing::error!(node = %self.node, rule = %rule.join(" "), "could not remove a partition rule");
            }
        }
    }
}
