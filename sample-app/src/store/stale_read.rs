//! The `stale-read` mutant: read-only requests load their session from a replica the sentinels
//! list, connected once and kept while it answers, whatever the sentinels later say about it, as an
//! app that sends reads to replicas for scale does. A replica that lags (cut off from its master,
//! or just behind) serves an older session than the one last written. Requests that change the
//! session still load it from the master, so nothing is lost: the reads are only stale.
//!
//! A request declares itself read-only by running inside [`read_only`]; the store cannot tell a
//! load for a read from a load before a save otherwise.

use std::collections::HashMap;

use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;

use super::discovery::connect;
use super::{Inner, NodeAddr};

tokio::task_local! {
    static READ_ONLY: ();
}

/// Runs `request` as a read-only request: under the `stale-read` mutant, its session loads go to
/// a replica. Without that mutant it changes nothing.
pub async fn read_only<F: std::future::Future>(request: F) -> F::Output {
    READ_ONLY.scope((), request).await
}

/// Whether the current task runs inside [`read_only`].
pub(crate) fn in_read_only() -> bool {
    READ_ONLY.try_with(|_| ()).is_ok()
}

impl Inner {
    /// Reads `key` from the replica; `None` when no replica could be reached or it failed, so the
    /// caller reads from the master instead.
    pub(crate) async fn read_from_replica(&self, key: &str) -> Option<Option<String>> {
        let mut replica = self.replica.lock().await;
        if replica.is_none() {
            *replica = self.connect_replica().await;
        }
        let conn = replica.as_mut()?;
        match conn.get::<_, Option<String>>(key).await {
            Ok(value) => Some(value),
            Err(err) => {
                tracing::debug!(%err, "replica read failed; reading from the master");
                *replica = None;
                None
            }
        }
    }

    /// The first replica any sentinel lists that accepts a connection.
    async fn connect_replica(&self) -> Option<MultiplexedConnection> {
        for sentinel in &self.config.sentinels {
            let Ok(mut conn) = connect(sentinel, &self.config).await else {
                continue;
            };
            let Ok(replicas) = redis::cmd("SENTINEL")
                .arg("replicas")
                .arg(&self.config.master_name)
                .query_async::<Vec<HashMap<String, String>>>(&mut conn)
                .await
            else {
                continue;
            };
            for replica in replicas {
                let (Some(ip), Some(port)) = (
                    replica.get("ip"),
                    replica.get("port").and_then(|p| p.parse().ok()),
                ) else {
                    continue;
                };
                if let Ok(conn) = connect(&NodeAddr::new(ip.clone(), port), &self.config).await {
                    return Some(conn);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_requests_run_as_read_only_are() {
        assert!(!in_read_only());
        assert!(read_only(async { in_read_only() }).await);
        assert!(!in_read_only());
    }
}
