//! `stop`: stop the target gracefully (SIGTERM: Redis runs `SHUTDOWN`), start it again at the
//! same address after the fault's duration.

use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::scenario::kinds::Stop;

impl Fault for Stop {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(&self, scene: &Scene<'_>, nodes: &[&Node]) -> Result<Applied<()>, NemesisError> {
        for node in nodes {
            scene.cluster.stop(node).await?;
        }
        Ok(Applied::at_once(()))
    }

    async fn heal(&self, scene: &Scene<'_>, nodes: &[&Node], (): ()) -> Result<(), NemesisError> {
        for node in nodes {
            scene.cluster.restart(node).await?;
        }
        Ok(())
    }
}
