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
//! about to be demoted, which is `manual-failover`'s loss.
//!
//! A run cut short between the pause and the heal (Ctrl-C, an error) must not leave the master
//! paused up to the pause's bound: that is an outage on a deployment the harness did not start.
//! The guard owes its release: the old master is made a replica of whichever master the sentinels
//! name by then, and let go.

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use sample_app::store::NodeAddr;

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

/// Longest a run cut short waits for the sentinels to name another master before it lets the
/// paused one go all the same.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// A master whose writes are paused; dropped before the heal let it go, it owes the release.
pub(crate) struct PausedMaster {
    name: String,
    addr: NodeAddr,
    old: Option<redis::Client>,
    sentinels: Vec<redis::Client>,
    master_name: String,
}

impl PausedMaster {
    fn new(master: &Node, scene: &Scene<'_>) -> Result<Self, NemesisError> {
        Ok(Self {
            name: master.name.clone(),
            addr: master.addr.clone(),
            old: Some(master.client().map_err(|e| failed(master, e))?),
            sentinels: scene
                .cluster
                .nodes_of(NodeKind::Sentinel)
                .filter_map(|s| s.client().ok())
                .collect(),
            master_name: scene.cluster.master_name().to_owned(),
        })
    }

    /// The heal let the master go: nothing is owed.
    fn released(mut self) {
        self.old = None;
    }
}

impl Drop for PausedMaster {
    fn drop(&mut self) {
        let Some(old) = self.old.take() else {
            return;
        };
        let sentinels = std::mem::take(&mut self.sentinels);
        let (name, addr, master_name) = (
            self.name.clone(),
            self.addr.clone(),
            self.master_name.clone(),
        );
        crate::owed::owe("releasing a paused master", move || {
            if let Err(e) = release((&old, &addr), &sentinels, &master_name) {
                tracing::error!(
                    node = %name,
                    "a run cut short could not let its paused master go ({e}); it takes writes again                      when the pause's bound of {}s is over",
                    PAUSE_BOUND.as_secs()
                );
            }
        });
    }
}

/// The master the first answering sentinel names, as `(host, port)`.
fn named_master(sentinels: &[redis::Client], master_name: &str) -> Option<(String, u16)> {
    sentinels.iter().find_map(|sentinel| {
        let mut conn = sentinel
            .get_connection_with_timeout(Duration::from_millis(500))
            .ok()?;
        let addr: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(master_name)
            .query(&mut conn)
            .ok()?;
        addr
    })
}

/// Blocking: makes `old` a replica of the master the sentinels name once it is another, or
/// within [`RELEASE_WAIT`] leaves it as it is, then `CLIENT UNPAUSE` on it.
fn release(
    (old, old_addr): (&redis::Client, &NodeAddr),
    sentinels: &[redis::Client],
    master_name: &str,
) -> redis::RedisResult<()> {
    let is_old = |(host, port): &(String, u16)| *host == old_addr.host && *port == old_addr.port;
    let since = Instant::now();
    let moved = loop {
        if sentinels.is_empty() {
            break None;
        }
        match named_master(sentinels, master_name) {
            Some(addr) if !is_old(&addr) => break Some(addr),
            _ if since.elapsed() > RELEASE_WAIT => break None,
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let mut conn = old.get_connection_with_timeout(Duration::from_secs(2))?;
    if let Some((host, port)) = moved {
        redis::cmd("REPLICAOF")
            .arg(host)
            .arg(port)
            .query::<()>(&mut conn)?;
    }
    redis::cmd("CLIENT").arg("UNPAUSE").query::<()>(&mut conn)
}

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
    type Guard = Option<PausedMaster>;

    fn needs(&self) -> Needs {
        Needs::default()
    }

    async fn apply(
        &self,
        scene: &Scene<'_>,
        nodes: &[&Node],
    ) -> Result<Applied<Option<PausedMaster>>, NemesisError> {
        let Some(master) = nodes.first() else {
            return Ok(Applied::at_once(None));
        };
        let owed = PausedMaster::new(master, scene)?;
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
            owed.released();
            return Err(e);
        }
        Ok(Applied::at_once(Some(owed)))
    }

    async fn heal(
        &self,
        scene: &Scene<'_>,
        nodes: &[&Node],
        owed: Option<PausedMaster>,
    ) -> Result<(), NemesisError> {
        let (Some(old), Some(owed)) = (nodes.first(), owed) else {
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
        unpause(old).await?;
        owed.released();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{image, process};

    /// A paused master left behind by a run cut short takes writes again once the owed release
    /// has run, long before the pause's bound.
    #[test]
    fn a_paused_master_dropped_before_its_heal_is_let_go() {
        let binary = image::find_binary().expect("redis-server, from `bash ci/prepare.sh`");
        let reserved = process::free_ports(1).expect("a port").remove(0);
        let port = reserved.port;
        let mut server = std::process::Command::new(binary)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let addr = NodeAddr::new("127.0.0.1", port);
        let client = addr.client(None).expect("a client");
        let since = Instant::now();
        let mut conn = loop {
            match client.get_connection_with_timeout(Duration::from_millis(200)) {
                Ok(conn) => break conn,
                Err(e) if since.elapsed() > Duration::from_secs(10) => panic!("never up: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(PAUSE_BOUND.as_millis().to_string())
            .arg("WRITE")
            .query::<()>(&mut conn)
            .expect("paused");
        drop(PausedMaster {
            name: "redis-1".into(),
            addr: addr.clone(),
            old: Some(client.clone()),
            sentinels: Vec::new(),
            master_name: "mymaster".into(),
        });
        crate::owed::settle();
        conn.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a timeout");
        let written = redis::cmd("SET").arg("k").arg("v").query::<()>(&mut conn);
        let _ = server.kill();
        let _ = server.wait();
        written.expect("the master takes writes again");
    }
}
