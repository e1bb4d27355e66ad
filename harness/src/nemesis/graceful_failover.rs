//! `graceful-failover`: the planned switch done right, as charts' pre-stop hooks do it.
//! 1. `CLIENT PAUSE <bound> WRITE` on the master: writes wait there, reads go on.
//! 2. Wait until every replica has processed all the master wrote (`INFO replication` offsets).
//! 3. `SENTINEL FAILOVER`, and wait until the sentinels name the new master.
//! 4. `REPLICAOF` the new master on the old one, then `CLIENT UNPAUSE`: the writes it held meet a
//!    replica, answer `READONLY`, and a correct store retries them on the new master.
//!
//! Nothing acknowledged can be lost: nothing is written on the old master after the replicas
//! caught up. Sentinel would demote the old master by itself, but only at its next look at it,
//! up to ten seconds later; letting the held writes go before that would land them on a master
//! about to be demoted, which is `manual-failover`'s loss. The pause carries its own bound, so a
//! run cut short leaves no master paused for long.

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::{Node, NodeKind};
use crate::cluster::readiness::info_field;
use crate::scenario::kinds::GracefulFailover;

/// Longest the master's writes stay paused if the heal never comes.
const PAUSE_BOUND: Duration = Duration::from_secs(60);

/// Longest the replicas may take to catch up before the switch is given up.
const CATCH_UP_WAIT: Duration = Duration::from_secs(10);

fn failed(node: &Node, detail: impl std::fmt::Display) -> NemesisError {
    NemesisError::Handover {
        node: node.name.clone(),
        detail: detail.to_string(),
    }
}

async fn connect(node: &Node) -> Result<MultiplexedConnection, NemesisError> {
    node.connect().await.map_err(|e| failed(node, e))
}

/// The replication offset `field` of `node`'s `INFO replication`.
async fn offset(node: &Node, field: &str) -> Result<u64, NemesisError> {
    let mut conn = connect(node).await?;
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut conn)
        .await
        .map_err(|e| failed(node, e))?;
    info_field(&info, field)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| failed(node, format!("INFO replication has no {field}")))
}

/// Waits until every replica has processed the master's whole stream; names the ones behind if
/// they do not within [`CATCH_UP_WAIT`].
async fn replicas_caught_up(master: &Node, replicas: &[&Node]) -> Result<(), NemesisError> {
    let since = Instant::now();
    loop {
        // Re-read each time: the master's pings to its replicas move its offset even while
        // writes are paused.
        let wrote = offset(master, "master_repl_offset").await?;
        let mut behind = Vec::new();
        for replica in replicas {
            let done = offset(replica, "slave_repl_offset").await?;
            if done < wrote {
                behind.push(format!("{} at {done}", replica.name));
            }
        }
        if behind.is_empty() {
            return Ok(());
        }
        if since.elapsed() > CATCH_UP_WAIT {
            return Err(failed(
                master,
                format!(
                    "replicas still behind the master's offset {wrote} after {}s: {}",
                    CATCH_UP_WAIT.as_secs(),
                    behind.join(", ")
                ),
            ));
        }
        // Replicas apply a paused master's stream within milliseconds.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn unpause(node: &Node) -> Result<(), NemesisError> {
    let mut conn = connect(node).await?;
    redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query_async::<()>(&mut conn)
        .await
        .map_err(|e| failed(node, e))
}

impl Fault for GracefulFailover {
    type Guard = ();

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(&self, scene: &Scene<'_>, nodes: &[&Node]) -> Result<Applied<()>, NemesisError> {
        let Some(master) = nodes.first() else {
            return Ok(Applied::at_once(()));
        };
        let mut conn = connect(master).await?;
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(PAUSE_BOUND.as_millis().to_string())
            .arg("WRITE")
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| failed(master, e))?;
        let replicas: Vec<&Node> = scene
            .cluster
            .nodes_of(NodeKind::Redis)
            .filter(|n| n.name != master.name)
            .collect();
        let switched = match replicas_caught_up(master, &replicas).await {
            Ok(()) => scene.cluster.request_failover().await.map_err(Into::into),
            Err(e) => Err(e),
        };
        if let Err(e) = switched {
            // Whatever went wrong, the master must not stay paused.
            unpause(master).await?;
            return Err(e);
        }
        Ok(Applied::at_once(()))
    }

    async fn heal(&self, scene: &Scene<'_>, nodes: &[&Node], (): ()) -> Result<(), NemesisError> {
        let Some(old) = nodes.first() else {
            return Ok(());
        };
        scene.cluster.wait_master_moved(old).await?;
        let new = scene.cluster.current_master().await?;
        let mut conn = connect(old).await?;
        redis::cmd("REPLICAOF")
            .arg(&new.addr.host)
            .arg(new.addr.port)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| failed(old, e))?;
        unpause(old).await
    }
}
