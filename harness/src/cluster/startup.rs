//! A new topology made ready fast, without changing how it fails over.
//!
//! Two of Redis's own waits make up most of a fresh topology's startup, and neither is what a drill
//! measures: a master holds a replica's first full sync for `repl-diskless-sync-delay` (5 s by
//! default, in case more replicas come to share the transfer), and a sentinel learns of replicas
//! from INFO every 10 s and of the other sentinels from hello messages every 2 s. While the
//! topology starts, the master syncs at once and the sentinels send INFO and hellos every 100 ms
//! (`CONFIG SET`, `SENTINEL DEBUG`). Once it is ready, before the workload and any fault, every
//! value is put back to what the node had, so each failover runs on Redis's and Sentinel's own
//! timers.
//!
//! It owns those settings and putting them back; it must not wait on readiness (`readiness` does).

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use super::node::Node;
use super::readiness;
use super::ClusterError;

/// The master setting that delays a replica's first full sync.
const SYNC_DELAY: &str = "repl-diskless-sync-delay";
/// The sentinel periods shortened while the topology starts.
const SENTINEL_PERIODS: [&str; 2] = ["info-period", "publish-period"];
/// Their value meanwhile, in milliseconds.
const STARTUP_PERIOD_MS: &str = "100";

/// What a node had before startup changed it, to be put back.
#[derive(Debug)]
pub(super) struct Changed {
    node: String,
    /// `(setting, original value)`.
    originals: Vec<(String, String)>,
    sentinel: bool,
}

impl Changed {
    /// The node's name.
    pub(super) fn node(&self) -> &str {
        &self.node
    }
}

fn failed(node: &Node, what: &str) -> impl FnOnce(String) -> ClusterError {
    let node = node.name.clone();
    let what = what.to_owned();
    move |detail| ClusterError::NodeStart {
        node,
        detail: format!("{what}: {detail}"),
    }
}

/// A connection to `node`, tried again until `timeout` passes. The node has said it is ready, but a
/// just-started container on a loaded machine can miss one connect's 500 ms: a single try failed a
/// cluster's start (`sentinel-1 did not start: connect: ...: timed out`) while other drills started
/// theirs. Only connecting is tried again, never a command, so no setting is read twice.
async fn connected(node: &Node, timeout: Duration) -> Result<MultiplexedConnection, ClusterError> {
    let deadline = Instant::now() + timeout;
    loop {
        match node.connect().await {
            Ok(conn) => return Ok(conn),
            Err(e) if Instant::now() >= deadline => {
                return Err(failed(node, "connect")(format!(
                    "{e} (tried for {} ms)",
                    timeout.as_millis()
                )))
            }
            Err(_) => tokio::time::sleep(readiness::POLL).await,
        }
    }
}

/// Makes `master` start a replica's full sync at once; `timeout` bounds connecting to it.
pub(super) async fn sync_at_once(
    master: &Node,
    timeout: Duration,
) -> Result<Changed, ClusterError> {
    let fail = |what| failed(master, what);
    let mut conn = connected(master, timeout).await?;
    let pair: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(SYNC_DELAY)
        .query_async(&mut conn)
        .await
        .map_err(|e| fail("CONFIG GET")(e.to_string()))?;
    let original = pair
        .get(1)
        .cloned()
        .ok_or_else(|| fail("CONFIG GET")(format!("no {SYNC_DELAY} in {pair:?}")))?;
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(SYNC_DELAY)
        .arg("0")
        .query_async(&mut conn)
        .await
        .map_err(|e| fail("CONFIG SET")(e.to_string()))?;
    Ok(Changed {
        node: master.name.clone(),
        originals: vec![(SYNC_DELAY.to_owned(), original)],
        sentinel: false,
    })
}

/// Makes `sentinel` send INFO and hello messages every 100 ms; `timeout` bounds connecting to it.
pub(super) async fn discover_at_once(
    sentinel: &Node,
    timeout: Duration,
) -> Result<Changed, ClusterError> {
    let fail = |what| failed(sentinel, what);
    let mut conn = connected(sentinel, timeout).await?;
    let listed: Vec<String> = redis::cmd("SENTINEL")
        .arg("DEBUG")
        .query_async(&mut conn)
        .await
        .map_err(|e| fail("SENTINEL DEBUG")(e.to_string()))?;
    let mut originals = Vec::new();
    for setting in SENTINEL_PERIODS {
        let value = listed
            .chunks(2)
            .find(|pair| pair[0].eq_ignore_ascii_case(setting))
            .and_then(|pair| pair.get(1))
            .ok_or_else(|| fail("SENTINEL DEBUG")(format!("no {setting} in {listed:?}")))?;
        originals.push((setting.to_owned(), value.clone()));
    }
    let mut set = redis::cmd("SENTINEL");
    set.arg("DEBUG");
    for setting in SENTINEL_PERIODS {
        set.arg(setting).arg(STARTUP_PERIOD_MS);
    }
    let () = set
        .query_async(&mut conn)
        .await
        .map_err(|e| fail("SENTINEL DEBUG")(e.to_string()))?;
    Ok(Changed {
        node: sentinel.name.clone(),
        originals,
        sentinel: true,
    })
}

/// Puts back what `changed` says `node` had; `timeout` bounds connecting to it.
pub(super) async fn restore(
    node: &Node,
    changed: &Changed,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let fail = |what| failed(node, what);
    let mut conn = connected(node, timeout).await?;
    let mut cmd = if changed.sentinel {
        let mut cmd = redis::cmd("SENTINEL");
        cmd.arg("DEBUG");
        cmd
    } else {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("SET");
        cmd
    };
    for (setting, value) in &changed.originals {
        cmd.arg(setting).arg(value);
    }
    let () = cmd
        .query_async(&mut conn)
        .await
        .map_err(|e| fail("put back the startup settings")(e.to_string()))?;
    Ok(())
}
