//! `kill-app`: crash one instance of the app under test and start it again at its address after
//! the fault's duration. A command's process group gets SIGKILL; the in-process sample app drops
//! its server, its store and every connection mid-request. Sessions live in Redis, so a user whose
//! requests go to another instance, or to this one once it is back, must find theirs.

use super::fault::{Applied, Fault, Scene, Subject};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::marks::app_instance;
use crate::scenario::kinds::KillApp;

impl Fault for KillApp {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs {
            not_with_app_image: Some(
                "kills the app's process and starts it again at its address, and a container \
                 would come back at another",
            ),
            ..Needs::default()
        }
    }

    fn subjects(&self, scene: &Scene<'_>, _: &[&Node]) -> Vec<Subject> {
        let addr = scene
            .app
            .base_urls()
            .get(usize::try_from(self.instance).unwrap_or(usize::MAX))
            .map(|url| url.trim_start_matches("http://").to_owned())
            .unwrap_or_default();
        vec![Subject {
            name: app_instance(self.instance),
            addr,
        }]
    }

    async fn apply(&self, scene: &Scene<'_>, _: &[&Node]) -> Result<Applied<()>, NemesisError> {
        scene.app.kill(self.instance).await?;
        Ok(Applied::at_once(()))
    }

    async fn heal(&self, scene: &Scene<'_>, _: &[&Node], (): ()) -> Result<(), NemesisError> {
        scene.app.restart(self.instance).await?;
        Ok(())
    }
}
