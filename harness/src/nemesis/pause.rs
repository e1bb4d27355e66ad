//! `pause`: freeze the target's processes (cgroup freezer), resume them after the fault's
//! duration: a stalled node, not a dead one. A node left frozen by a run cut short goes with its
//! container, which the cluster removes on every exit path.

use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::scenario::kinds::Pause;

impl Fault for Pause {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(&self, _: &Scene<'_>, nodes: &[&Node]) -> Result<Applied<()>, NemesisError> {
        for node in nodes {
            node.pause().await?;
        }
        Ok(Applied::at_once(()))
    }

    async fn heal(&self, _: &Scene<'_>, nodes: &[&Node], (): ()) -> Result<(), NemesisError> {
        for node in nodes {
            node.unpause().await?;
        }
        Ok(())
    }
}
