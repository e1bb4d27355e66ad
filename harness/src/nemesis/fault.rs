//! The one protocol every fault kind implements: what it needs, how it applies itself, and how it
//! heals what it applied. Resolving targets, timing, recording and settling are the schedule's,
//! the same for every kind.
//!
//! It owns the protocol only; the kinds are one file each beside it.

use std::future::Future;

use super::needs::Needs;
use super::NemesisError;
use crate::app::AppFleet;
use crate::cluster::node::Node;
use crate::cluster::Cluster;

/// Requests in flight now, for faults timed to the workload.
pub type InFlightCount<'a> = &'a (dyn Fn() -> u32 + Sync);

/// What a fault may act on while it applies and heals.
pub struct Scene<'a> {
    /// The run's cluster.
    pub cluster: &'a Cluster,
    /// The app under test's instances.
    pub app: &'a AppFleet,
    /// The workload's requests in flight now.
    pub in_flight: InFlightCount<'a>,
    /// On a deployment the harness did not start: its commands, and where they are logged.
    pub operator: Option<super::Operator<'a>>,
}

/// A fault in force: what its heal needs (rules to remove, a proxy to stop), and for a fault timed
/// to the workload, how many requests were in flight when it applied.
pub(crate) struct Applied<T> {
    /// What the heal takes back; dropping it undoes what it can, for a run cut short.
    pub(crate) guard: T,
    /// Requests in flight when it applied, for a fault that waited for them.
    pub(crate) in_flight: Option<u32>,
}

impl<T> Applied<T> {
    /// Applied with no wait for requests in flight.
    pub(crate) fn at_once(guard: T) -> Self {
        Self {
            guard,
            in_flight: None,
        }
    }
}

/// Whom a fault's records name: a node, or an instance of the app.
pub(crate) struct Subject {
    /// `redis-1`, `sentinel-2`, `app-0`.
    pub(crate) name: String,
    /// Its `host:port` at that moment.
    pub(crate) addr: String,
}

/// One kind of fault.
pub(crate) trait Fault: Sync {
    /// What stays in force until the heal.
    type Guard: Send;

    /// What the machine and the backend must offer for this fault.
    fn needs(&self) -> Needs;

    /// Whom its records name: the target's nodes, unless the kind acts on something else.
    fn subjects(&self, _scene: &Scene<'_>, nodes: &[&Node]) -> Vec<Subject> {
        nodes
            .iter()
            .map(|node| Subject {
                name: node.name.clone(),
                addr: node.addr.to_string(),
            })
            .collect()
    }

    /// Puts the fault in force on `nodes`. A fault that does not last (see
    /// [`FaultKind::lasts`](crate::scenario::FaultKind::lasts)) starts what ends by itself.
    fn apply(
        &self,
        scene: &Scene<'_>,
        nodes: &[&Node],
    ) -> impl Future<Output = Result<Applied<Self::Guard>, NemesisError>> + Send;

    /// Takes the fault back; for a fault that does not last, waits until it has ended by itself.
    fn heal(
        &self,
        scene: &Scene<'_>,
        nodes: &[&Node],
        guard: Self::Guard,
    ) -> impl Future<Output = Result<(), NemesisError>> + Send;
}
