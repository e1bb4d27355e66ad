//! The guard before a deployment the harness did not start is drilled: it says what will be done
//! to which addresses, and goes on only with the user's yes (`--yes`, or the deployment's name
//! typed back at a terminal). Drilling the wrong deployment pages people; the name is what tells
//! staging from production.
//!
//! It owns the plan's words and the confirmation; it must not act on the deployment.

use std::io::{BufRead, IsTerminal, Write};

use crate::cluster::node::NodeKind;
use crate::cluster::Cluster;
use crate::nemesis;
use crate::scenario::{ExternalTopology, Scenario, Target};
use crate::shown::printable;
use sample_app::store::NodeAddr;

/// Why an external run did not start.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// No confirmation could be asked for, and none was given.
    #[error("the external deployment '{name}' was not drilled: nothing confirmed it. Pass --yes (RunOptions::yes from Rust) once the plan above is what you mean, or run from a terminal to confirm by typing the deployment's name")]
    NotConfirmed {
        /// The deployment's name.
        name: String,
    },
    /// The name typed back was not the deployment's.
    #[error("the external deployment '{name}' was not drilled: '{typed}' was typed, not its name")]
    Declined {
        /// The deployment's name.
        name: String,
        /// What was typed.
        typed: String,
    },
}

/// What the run will do to the deployment, in lines: its nodes as found, then each fault.
pub fn plan(scenario: &Scenario, deployment: &ExternalTopology, cluster: &Cluster) -> Vec<String> {
    let mut lines = vec![format!(
        "about to drill the external deployment '{}' (master name '{}'):",
        deployment.name,
        cluster.master_name()
    )];
    if let Some(master) = cluster.nodes_of(NodeKind::Redis).next() {
        lines.push(format!(
            "  the master now: {} at {}; a fault on `master` hits whichever node is master when it starts",
            master.name, master.addr
        ));
    }
    for node in cluster.nodes() {
        let what = match node.kind {
            NodeKind::Redis => "data node",
            NodeKind::Sentinel => "sentinel",
        };
        lines.push(format!("  {what} {} at {}", node.name, node.addr));
    }
    lines.push(format!(
        "  the app under test gets {}, its sessions in this deployment",
        scenario.workload.describe()
    ));
    if scenario.faults.is_empty() {
        lines.push("  no fault".to_owned());
    }
    lines.extend(
        nemesis::plan(&scenario.faults, deployment, &|target| {
            node_now(cluster, target)
        })
        .into_iter()
        .map(|line| format!("  {line}")),
    );
    lines.push(
        "  nothing there is created or removed; commands and their output go to commands.log"
            .to_owned(),
    );
    // The user confirms what these lines say: nothing in them may move the cursor or forge one.
    lines.iter().map(|line| printable(line)).collect()
}

/// The node `target` names as the deployment stands now: the master is the first data node, a
/// replica the next; a sentinel target the first sentinel; the app none (it is not a node).
fn node_now(cluster: &Cluster, target: &Target) -> Option<(String, NodeAddr)> {
    let node = match target {
        Target::Master => cluster.nodes_of(NodeKind::Redis).next(),
        Target::Replica | Target::Replicas => cluster.nodes_of(NodeKind::Redis).nth(1),
        Target::Sentinel
        | Target::SentinelsMinority
        | Target::SentinelsMajority
        | Target::Sentinels => cluster.nodes_of(NodeKind::Sentinel).next(),
        Target::Node(name) => cluster.nodes().find(|node| node.name == *name),
        Target::App => None,
    }?;
    Some((node.name.clone(), node.addr.clone()))
}

/// Goes on when `yes`, or when the deployment's name is typed back at a terminal.
pub async fn confirm(deployment: &ExternalTopology, yes: bool) -> Result<(), GuardError> {
    if yes {
        return Ok(());
    }
    let name = deployment.name.clone();
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(GuardError::NotConfirmed { name });
    }
    let asked = name.clone();
    let typed = tokio::task::spawn_blocking(move || {
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "type the deployment's name ({asked}) to drill it: ");
        let _ = stderr.flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await;
    match typed {
        Ok(Ok(line)) if line.trim() == name => Ok(()),
        // Nothing typed before the input closed (Ctrl-D): no answer, not a wrong one.
        Ok(Ok(line)) if line.is_empty() => Err(GuardError::NotConfirmed { name }),
        Ok(Ok(line)) => Err(GuardError::Declined {
            name,
            typed: line.trim().to_owned(),
        }),
        _ => Err(GuardError::NotConfirmed { name }),
    }
}
