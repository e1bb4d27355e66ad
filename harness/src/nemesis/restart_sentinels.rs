//! `restart-sentinels`: restart every sentinel, one after another, as an upgrade of the sentinels
//! does: SIGTERM, start again at the same address with the configuration it rewrote, and wait
//! until it knows the master before the next one goes. At most one sentinel is down at a time, so
//! a majority is always there. It does not last: it has ended when the last one is back.
//!
//! What it tests is the watchers: a subscription to a sentinel ends with its process, and the
//! app's and the harness's listeners must subscribe again, or a later switch goes unheard.

use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::scenario::kinds::RestartSentinels;

impl Fault for RestartSentinels {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(
        &self,
        scene: &Scene<'_>,
        sentinels: &[&Node],
    ) -> Result<Applied<()>, NemesisError> {
        for sentinel in sentinels {
            scene.cluster.stop(sentinel).await?;
            scene.cluster.restart(sentinel).await?;
            scene.cluster.wait_settled(sentinel).await?;
        }
        Ok(Applied::at_once(()))
    }

    async fn heal(&self, _: &Scene<'_>, _: &[&Node], (): ()) -> Result<(), NemesisError> {
        Ok(())
    }
}
