//! Faults on a schedule. Each fault kind is a value of the scenario that implements one protocol
//! ([`fault::Fault`]: what it needs, apply, heal), one file per kind; one loop (`schedule`) times,
//! targets, records and settles every kind the same way. Faults run concurrently, so schedules
//! may overlap.
//!
//! It owns applying and healing faults, and checking before a run that they can be applied. It
//! must not read the workload or judge anything: a fault timed to requests in flight is given a
//! count to read, not the workload.
//!
//! Heals that would outlive a cancelled run are guarded: network rules and proxies are removed
//! when their guard drops; killed, stopped and paused nodes go with their containers, which the
//! cluster removes on every exit path.
//!
//! A new kind is a variant and its fields in `scenario/fault/kinds.rs`, a file here that
//! implements [`fault::Fault`] for them, and its arm in [`on_kind`].
//!
//! On a deployment the harness did not start, `external` chooses each fault's way: the
//! operator's commands (`command_template`, run by `command`), a Redis command
//! (`redis_commands`), or the kind's own when it needs nothing the harness does not own.

mod command;
mod command_template;
mod delay_proxy;
mod external;
mod fault;
mod needs;
mod node_rules;
mod schedule;
mod targets;

mod graceful_failover;
mod kill;
mod kill_app;
mod latency;
mod manual_failover;
mod packet_loss;
mod partition;
mod pause;
mod redis_commands;
mod reset;
mod restart_sentinels;
mod stop;

use std::time::Instant;

use crate::app::AppError;
use crate::cluster::ClusterError;
use crate::history::Recorder;
use crate::scenario::{FaultAction, FaultSpec};

pub use command::Operator;
use command_template::Templated;
use external::Way;
pub use external::{check_external, plan};
use fault::Fault;
pub use fault::{InFlightCount, Scene};
use needs::Needs;
pub use needs::{check_app_reach, check_privileges, needs_in_words, refusal};
use redis_commands::{ClientKill, ClientPause};
use schedule::ScheduledFault;

/// Runs `$body` with `$fault` bound to the action's own value, whatever its kind: the one place
/// that lists the kinds.
macro_rules! on_kind {
    ($action:expr, $fault:ident => $body:expr) => {
        match $action {
            FaultAction::Kill($fault) => $body,
            FaultAction::Stop($fault) => $body,
            FaultAction::Pause($fault) => $body,
            FaultAction::Partition($fault) => $body,
            FaultAction::Reset($fault) => $body,
            FaultAction::ManualFailover($fault) => $body,
            FaultAction::Latency($fault) => $body,
            FaultAction::GracefulFailover($fault) => $body,
            FaultAction::PacketLoss($fault) => $body,
            FaultAction::RestartSentinels($fault) => $body,
            FaultAction::KillApp($fault) => $body,
        }
    };
}

/// What `action`'s kind needs.
fn needs_of(action: &FaultAction) -> Needs {
    on_kind!(action, fault => fault.needs())
}

/// What can stop a fault.
#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    /// A cluster operation failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Killing or starting again an instance of the app failed.
    #[error(transparent)]
    App(#[from] AppError),
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
        needs: String,
        /// What is missing and how to get it.
        detail: String,
    },
    /// A fault cannot act on an app running in a container of its own.
    #[error("faults[{index}] ({kind}) cannot run with an app started from app.image: it {why}; run the app with app.command instead")]
    NotWithAppImage {
        /// Position in the scenario's `faults`.
        index: usize,
        /// The fault's kind.
        kind: &'static str,
        /// Why not.
        why: &'static str,
    },
    /// A step of a graceful failover failed.
    #[error("graceful failover at {node}: {detail}")]
    Handover {
        /// The node the step was on.
        node: String,
        /// What failed.
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
    /// An operator's command for a fault failed, or outlived its timeout.
    #[error("{purpose}: `{command}` failed: {detail}")]
    Command {
        /// Which fault, phase and node it was for.
        purpose: String,
        /// The command as run.
        command: String,
        /// How it ended, and the end of its output.
        detail: String,
    },
    /// A fault cannot act on a deployment the harness did not start.
    #[error("faults[{index}] ({kind}) cannot run on an external deployment: {detail}")]
    NotOnExternal {
        /// Position in the scenario's `faults`.
        index: usize,
        /// The fault's kind.
        kind: &'static str,
        /// Why, and what to configure.
        detail: String,
    },
    /// Adding or removing a network-fault rule in a node's namespace failed.
    #[error("network-fault rules on {node}: {detail}")]
    NodeRules {
        /// The node.
        node: String,
        /// What iptables said.
        detail: String,
    },
}

/// Runs every fault at its times after `start`, all concurrently; returns when every fault has
/// healed and settled. `in_flight` says how many requests are in flight now.
pub async fn run_schedule(
    faults: &[FaultSpec],
    scene: Scene<'_>,
    recorder: &Recorder,
    start: Instant,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(), NemesisError> {
    let scene = &scene;
    let runs = faults.iter().enumerate().map(|(index, spec)| {
        let scheduled = ScheduledFault {
            index,
            spec,
            scene,
            recorder,
            progress,
        };
        async move {
            let deployment = scene.operator.map(|o| o.deployment);
            let way =
                external::way(spec, deployment).map_err(|detail| NemesisError::NotOnExternal {
                    index,
                    kind: spec.kind().name(),
                    detail,
                })?;
            match (way, scene.operator) {
                (Way::Command(template), Some(operator)) => {
                    let templated = Templated {
                        index,
                        kind: spec.kind(),
                        template,
                        operator,
                    };
                    scheduled.run(&templated, start).await
                }
                (Way::ClientPause, _) => {
                    let pause = ClientPause {
                        duration: spec.duration,
                    };
                    scheduled.run(&pause, start).await
                }
                (Way::ClientKill, _) => scheduled.run(&ClientKill, start).await,
                (Way::Own | Way::Command(_), _) => {
                    on_kind!(&spec.action, fault => scheduled.run(fault, start).await)
                }
            }
        }
    });
    futures::future::try_join_all(runs).await.map(|_| ())
}
