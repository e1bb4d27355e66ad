//! Faults on a schedule. Each fault resolves its target when it fires (the master then, not the
//! master at start-up), records its start, and heals: a killed node is started again at its address
//! and, for a data node, awaited until it replicates again.
//!
//! It owns applying and healing faults. It must not read the workload or judge anything.

use std::time::Instant;

use crate::cluster::node::NodeKind;
use crate::cluster::{Cluster, ClusterError};
use crate::history::{FaultEvent, FaultPhase, Record, Recorder};
use crate::scenario::{FaultSpec, Target};

/// Runs every fault of `faults` at its time after `start`. Faults run one after another in start
/// order; a fault that is still healing delays the next one.
pub async fn run_schedule(
    faults: &[FaultSpec],
    cluster: &Cluster,
    recorder: &Recorder,
    start: Instant,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), ClusterError> {
    let mut ordered: Vec<&FaultSpec> = faults.iter().collect();
    ordered.sort_by_key(|f| f.at());
    for fault in ordered {
        tokio::time::sleep_until((start + fault.at()).into()).await;
        match fault {
            FaultSpec::Kill {
                target,
                restart_after,
                ..
            } => {
                let node = match target {
                    Target::Master => cluster.current_master().await?,
                    Target::Node(name) => cluster.node(name)?,
                };
                let event = |phase| {
                    Record::Fault(FaultEvent {
                        at: recorder.now(),
                        fault: "kill".to_owned(),
                        phase,
                        node: node.name.clone(),
                        addr: node.addr.to_string(),
                    })
                };
                cluster.kill(node).await?;
                recorder.record(event(FaultPhase::Start));
                progress(&format!("fault: killed {} ({})", node.name, node.addr));
                tokio::time::sleep(*restart_after).await;
                cluster.restart(node).await?;
                recorder.record(event(FaultPhase::Heal));
                progress(&format!("fault: restarted {} at {}", node.name, node.addr));
                if node.kind == NodeKind::Redis {
                    cluster.wait_rejoined(node).await?;
                    recorder.record(event(FaultPhase::Rejoined));
                    progress(&format!("fault: {} rejoined as a replica", node.name));
                }
            }
        }
    }
    Ok(())
}
