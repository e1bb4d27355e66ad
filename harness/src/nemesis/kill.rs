//! `kill`: SIGKILL the target, start it again at the same address after the fault's duration.
//! With `in_flight`, the target is frozen first until the workload has that many requests in
//! flight, so the kill lands on them.

use std::time::{Duration, Instant};

use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::scenario::kinds::Kill;
use crate::scenario::IN_FLIGHT_WAIT;

/// Freezes `nodes` and waits, at most [`IN_FLIGHT_WAIT`], until `wanted` requests are in flight;
/// returns how many were.
async fn hold_requests(
    scene: &Scene<'_>,
    nodes: &[&Node],
    wanted: u32,
) -> Result<u32, NemesisError> {
    for node in nodes {
        node.pause().await?;
    }
    let frozen = Instant::now();
    // The count changes with every request; looking at it every millisecond is cheaper than
    // waking on each change, and fine-grained next to a request's life.
    while (scene.in_flight)() < wanted && frozen.elapsed() < IN_FLIGHT_WAIT {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok((scene.in_flight)())
}

impl Fault for Kill {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(&self, scene: &Scene<'_>, nodes: &[&Node]) -> Result<Applied<()>, NemesisError> {
        let in_flight = match self.in_flight {
            Some(wanted) => Some(hold_requests(scene, nodes, wanted).await?),
            None => None,
        };
        for node in nodes {
            scene.cluster.kill(node).await?;
        }
        Ok(Applied {
            guard: (),
            in_flight,
        })
    }

    async fn heal(&self, scene: &Scene<'_>, nodes: &[&Node], (): ()) -> Result<(), NemesisError> {
        for node in nodes {
            scene.cluster.restart(node).await?;
        }
        Ok(())
    }
}
