//! Faults a Redis command does, for a deployment the harness did not start and so cannot freeze
//! or cut off itself:
//! - `pause` as `CLIENT PAUSE <duration> ALL`: the node answers no client, the sentinels'
//!   pings included, for the fault's duration, and then by itself again. On Redis 7.0 even
//!   `CLIENT UNPAUSE` waits out the pause, so the pause's own bound is its heal; a run cut
//!   short leaves no node paused past it. (`DEBUG SLEEP` would freeze the whole server, but
//!   Redis 7 refuses `DEBUG` unless `enable-debug-command` allows it.)
//! - `reset` as `CLIENT KILL TYPE normal SKIPME yes`: every client's connection is broken at once;
//!   new ones are not refused, so nothing lasts past the command.
//!
//! It owns those two commands; when each is chosen is `external`'s.

use std::time::Duration;

use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::cluster::ClusterError;

/// Longest a paused node may take to answer again once its pause is over.
const ANSWER_AGAIN_WAIT: Duration = Duration::from_secs(10);

/// `pause` on a node the harness did not start.
pub(super) struct ClientPause {
    /// How long the node is paused.
    pub(super) duration: Duration,
}

/// `reset` on a node the harness did not start.
pub(super) struct ClientKill;

/// Sends the command `words` to `node`.
async fn send(node: &Node, words: &[&str]) -> Result<(), NemesisError> {
    let failed = |detail: String| {
        NemesisError::Cluster(ClusterError::Host {
            action: format!(
                "send `{}` to {} ({})",
                words.join(" "),
                node.name,
                node.addr
            ),
            detail,
        })
    };
    let mut command = redis::Cmd::new();
    for word in words {
        command.arg(*word);
    }
    let mut conn = node.connect().await.map_err(failed)?;
    command
        .query_async::<redis::Value>(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| failed(e.to_string()))
}

impl Fault for ClientPause {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(&self, _: &Scene<'_>, nodes: &[&Node]) -> Result<Applied<()>, NemesisError> {
        let millis = u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX);
        for node in nodes {
            send(node, &["CLIENT", "PAUSE", &millis.to_string(), "ALL"]).await?;
        }
        Ok(Applied::at_once(()))
    }

    async fn heal(&self, _: &Scene<'_>, nodes: &[&Node], (): ()) -> Result<(), NemesisError> {
        for node in nodes {
            node.answers_ping(ANSWER_AGAIN_WAIT).await?;
        }
        Ok(())
    }
}

impl Fault for ClientKill {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(&self, _: &Scene<'_>, nodes: &[&Node]) -> Result<Applied<()>, NemesisError> {
        for node in nodes {
            send(node, &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]).await?;
        }
        Ok(Applied::at_once(()))
    }

    async fn heal(&self, _: &Scene<'_>, _: &[&Node], (): ()) -> Result<(), NemesisError> {
        Ok(())
    }
}
