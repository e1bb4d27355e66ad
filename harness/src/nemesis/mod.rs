//! Faults on a schedule. Each fault waits for its time, resolves its target then (the master at
//! that moment, not at start-up), applies itself, records its start, and heals after its duration;
//! then it waits until the healed nodes are back in their place and records that too. A fault
//! with a `count` does this again at each repetition's time (moved by its jitter), never before
//! the repetition before it has settled. Faults run concurrently, so schedules may overlap.
//!
//! It owns applying and healing faults. It must not read the workload or judge anything: a fault
//! timed to requests in flight is given a count to read, not the workload.
//!
//! Heals that would outlive a cancelled run are guarded: partition and latency rules are removed
//! when their guard drops; killed, stopped and paused nodes go with their containers, which the cluster
//! removes on every exit path.

mod delay_proxy;
mod latency;
mod partition;
mod privileges;

use std::time::{Duration, Instant};

use rand::Rng;

use crate::cluster::node::{Node, NodeKind};
use crate::cluster::{Cluster, ClusterError};
use crate::history::{FaultEvent, FaultPhase, Micros, Record, Recorder};
use crate::scenario::{FaultKind, FaultSpec, Target, IN_FLIGHT_WAIT};

use latency::SlowLink;
use partition::{Partition, Treatment};
pub use privileges::check_privileges;

/// What can stop a fault.
#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    /// A cluster operation failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A target resolved to no node.
    #[error("fault {index} ({kind}): no node matches target '{target}'")]
    NoTarget {
        /// Position in the scenario's `faults`.
        index: usize,
        /// The fault's kind.
        kind: &'static str,
        /// The target as written.
        target: String,
    },
    /// The machine cannot apply a fault.
    #[error("fault {index} ({kind}) needs {needs}; {detail}")]
    Unavailable {
        /// Position in the scenario's `faults`.
        index: usize,
        /// The fault's kind.
        kind: &'static str,
        /// What it needs.
        needs: &'static str,
        /// What is missing and how to get it.
        detail: String,
    },
    /// Adding or removing added latency failed.
    #[error("added latency to {node}: {detail}")]
    Latency {
        /// The node.
        node: String,
        /// What failed.
        detail: String,
    },
    /// Adding or removing a partition rule failed.
    #[error("partition of {node}: {detail}")]
    Partition {
        /// The node.
        node: String,
        /// What iptables said.
        detail: String,
    },
}

/// Requests in flight now, for faults timed to the workload.
pub type InFlightCount<'a> = &'a (dyn Fn() -> u32 + Sync);

/// Runs every fault at its times after `start`, all concurrently; returns when every fault has
/// healed and settled. `in_flight` says how many requests are in flight now.
pub async fn run_schedule(
    faults: &[FaultSpec],
    cluster: &Cluster,
    recorder: &Recorder,
    start: Instant,
    in_flight: InFlightCount<'_>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), NemesisError> {
    let runs = faults.iter().enumerate().map(|(index, fault)| {
        let fault = Fault {
            index,
            spec: fault,
            cluster,
            recorder,
            in_flight,
            progress,
        };
        fault.run(start)
    });
    futures::future::try_join_all(runs).await.map(|_| ())
}

/// One fault of a running schedule.
struct Fault<'a> {
    index: usize,
    spec: &'a FaultSpec,
    cluster: &'a Cluster,
    recorder: &'a Recorder,
    in_flight: InFlightCount<'a>,
    progress: &'a (dyn Fn(&str) + Sync),
}

/// How a fault's start or heal came about: since when it was being applied, and for a start timed
/// to the workload, how many requests were in flight when it applied.
#[derive(Debug, Clone, Copy)]
struct Applying {
    since: Micros,
    in_flight: Option<u32>,
}

/// `due` moved by a random offset within `jitter` either way, never before 0.
fn jittered(due: Duration, jitter: Option<Duration>) -> Duration {
    let Some(jitter) = jitter.filter(|j| !j.is_zero()) else {
        return due;
    };
    let span = u64::try_from(jitter.as_micros()).unwrap_or(u64::MAX / 2);
    let offset = rand::thread_rng().gen_range(0..=span.saturating_mul(2));
    (due + Duration::from_micros(offset)).saturating_sub(jitter)
}

/// The largest minority and the smallest majority of `n` sentinels.
fn minority(n: usize) -> usize {
    n.saturating_sub(1) / 2
}

fn majority(n: usize) -> usize {
    n / 2 + 1
}

impl<'a> Fault<'a> {
    async fn targets(&self) -> Result<Vec<&'a Node>, NemesisError> {
        let cluster = self.cluster;
        let sentinels: Vec<&Node> = cluster.nodes_of(NodeKind::Sentinel).collect();
        let nodes: Vec<&Node> = match &self.spec.target {
            Target::Master => vec![cluster.current_master().await?],
            Target::Replica | Target::Replicas => {
                let master = cluster.current_master().await?;
                let replicas = cluster
                    .nodes_of(NodeKind::Redis)
                    .filter(|n| n.name != master.name);
                if self.spec.target == Target::Replica {
                    replicas.take(1).collect()
                } else {
                    replicas.collect()
                }
            }
            Target::Sentinel => sentinels.into_iter().take(1).collect(),
            Target::SentinelsMinority => {
                let n = minority(sentinels.len());
                sentinels.into_iter().take(n).collect()
            }
            Target::SentinelsMajority => {
                let n = majority(sentinels.len());
                sentinels.into_iter().take(n).collect()
            }
            Target::Node(name) => vec![cluster.node(name)?],
        };
        if nodes.is_empty() {
            return Err(NemesisError::NoTarget {
                index: self.index,
                kind: self.spec.kind.name(),
                target: String::from(self.spec.target.clone()),
            });
        }
        Ok(nodes)
    }

    /// Records `phase` on every node now; a start or a heal also says how it was applied.
    fn record(&self, nodes: &[&Node], phase: FaultPhase, applying: Option<Applying>) {
        let at = self.recorder.now();
        for node in nodes {
            self.recorder.record(Record::Fault(FaultEvent {
                at,
                applying_since: applying.map(|a| a.since),
                in_flight: applying.and_then(|a| a.in_flight),
                fault: self.spec.kind.name().to_owned(),
                phase,
                node: node.name.clone(),
                addr: node.addr.to_string(),
                cut: self.spec.cut,
            }));
        }
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let what = match phase {
            FaultPhase::Start => "started on",
            FaultPhase::Heal => "healed on",
            FaultPhase::Rejoined => "settled:",
        };
        let in_flight = match applying.and_then(|a| a.in_flight) {
            Some(n) => format!(" with {n} requests in flight"),
            None => String::new(),
        };
        (self.progress)(&format!(
            "fault {} {what} {}{in_flight}",
            self.spec.kind.name(),
            names.join(", ")
        ));
    }

    /// Freezes `nodes` and waits, at most [`IN_FLIGHT_WAIT`], until `wanted` requests are in
    /// flight; returns how many were.
    async fn hold_requests(&self, nodes: &[&Node], wanted: u32) -> Result<u32, NemesisError> {
        for node in nodes {
            node.pause().await?;
        }
        let frozen = Instant::now();
        // The count changes with every request; looking at it every millisecond is cheaper than
        // waking on each change, and fine-grained next to a request's life.
        while (self.in_flight)() < wanted && frozen.elapsed() < IN_FLIGHT_WAIT {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok((self.in_flight)())
    }

    async fn settle(&self, nodes: &[&Node]) -> Result<(), NemesisError> {
        for node in nodes {
            self.cluster.wait_settled(node).await?;
        }
        self.record(nodes, FaultPhase::Rejoined, None);
        Ok(())
    }

    async fn run(self, start: Instant) -> Result<(), NemesisError> {
        for due in self.spec.starts() {
            // A repetition whose time has passed while the one before settled starts at once.
            tokio::time::sleep_until((start + jittered(due, self.spec.jitter)).into()).await;
            self.once().await?;
        }
        Ok(())
    }

    async fn once(&self) -> Result<(), NemesisError> {
        let cluster = self.cluster;
        let nodes = self.targets().await?;
        // A kill takes effect during the engine's call, not after it answers: requests failing in
        // between are the fault's. So are requests held by a freeze before it.
        let mut applying = Applying {
            since: self.recorder.now(),
            in_flight: None,
        };
        // Likewise a restarted node can answer before the engine's call returns.
        let mut healing = applying.since;
        match self.spec.kind {
            FaultKind::Kill | FaultKind::Stop => {
                if let Some(wanted) = self.spec.in_flight {
                    applying.in_flight = Some(self.hold_requests(&nodes, wanted).await?);
                }
                for node in &nodes {
                    if self.spec.kind == FaultKind::Kill {
                        cluster.kill(node).await?;
                    } else {
                        cluster.stop(node).await?;
                    }
                }
                self.record(&nodes, FaultPhase::Start, Some(applying));
                tokio::time::sleep(self.spec.duration).await;
                healing = self.recorder.now();
                for node in &nodes {
                    cluster.restart(node).await?;
                }
            }
            FaultKind::Pause => {
                for node in &nodes {
                    node.pause().await?;
                }
                self.record(&nodes, FaultPhase::Start, Some(applying));
                tokio::time::sleep(self.spec.duration).await;
                healing = self.recorder.now();
                for node in &nodes {
                    node.unpause().await?;
                }
            }
            FaultKind::Partition | FaultKind::Reset => {
                let cut = self.spec.cut.unwrap_or(crate::scenario::Cut::All);
                let treatment = if self.spec.kind == FaultKind::Reset {
                    Treatment::Reset
                } else {
                    Treatment::Drop
                };
                let mut applied = Vec::new();
                for node in &nodes {
                    applied.push(Partition::apply(cluster, node, cut, treatment).await?);
                }
                self.record(&nodes, FaultPhase::Start, Some(applying));
                tokio::time::sleep(self.spec.duration).await;
                healing = self.recorder.now();
                for partition in applied {
                    partition.heal().await?;
                }
            }
            FaultKind::Latency => {
                let latency = self.spec.latency.unwrap_or_default();
                let mut links = Vec::new();
                for node in &nodes {
                    links.push(SlowLink::apply(cluster, node, latency).await?);
                }
                self.record(&nodes, FaultPhase::Start, Some(applying));
                tokio::time::sleep(self.spec.duration).await;
                healing = self.recorder.now();
                for link in links {
                    link.heal().await?;
                }
            }
            FaultKind::ManualFailover => {
                cluster.request_failover().await?;
                self.record(&nodes, FaultPhase::Start, Some(applying));
                cluster.wait_master_moved(nodes[0]).await?;
            }
        }
        let healing = Applying {
            since: healing,
            in_flight: None,
        };
        self.record(&nodes, FaultPhase::Heal, Some(healing));
        self.settle(&nodes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_moves_a_start_within_its_bounds_and_never_before_zero() {
        let due = Duration::from_secs(10);
        assert_eq!(jittered(due, None), due);
        let jitter = Some(Duration::from_secs(2));
        let starts: Vec<Duration> = (0..200).map(|_| jittered(due, jitter)).collect();
        assert!(starts
            .iter()
            .all(|s| (Duration::from_secs(8)..=Duration::from_secs(12)).contains(s)));
        assert!(
            starts.iter().any(|s| *s < due) && starts.iter().any(|s| *s > due),
            "both ways"
        );
        assert!((0..50).all(|_| jittered(Duration::from_secs(1), jitter) <= Duration::from_secs(3)));
    }

    #[test]
    fn minorities_and_majorities_of_sentinels() {
        assert_eq!((minority(3), majority(3)), (1, 2));
        assert_eq!((minority(5), majority(5)), (2, 3));
        assert_eq!((minority(1), majority(1)), (0, 1));
        assert_eq!((minority(4), majority(4)), (1, 3));
    }
}
