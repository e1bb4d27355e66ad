//! `manual-failover`: `SENTINEL FAILOVER`, a planned switch with no node down. It does not last:
//! its heal waits until the sentinels have named another master.

use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::scenario::kinds::ManualFailover;

impl Fault for ManualFailover {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(&self, scene: &Scene<'_>, _: &[&Node]) -> Result<Applied<()>, NemesisError> {
        scene.cluster.request_failover().await?;
        Ok(Applied::at_once(()))
    }

    async fn heal(&self, scene: &Scene<'_>, nodes: &[&Node], (): ()) -> Result<(), NemesisError> {
        // The target is the master when the fault fired: the one the sentinels move away from.
        if let Some(old_master) = nodes.first() {
            scene.cluster.wait_master_moved(old_master).await?;
        }
        Ok(())
    }
}
