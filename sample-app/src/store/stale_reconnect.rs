//! The `stale-reconnect` mutant: a request whose command was on the wire when its connection
//! broke keeps that address and reconnects to it, with the store's usual backoff, for up to
//! [`STALE_RECONNECT_FOR`]; only then does that request ask the sentinels again. Other requests
//! are not affected: they find the master as the correct store does. A reconnection is not checked
//! with `ROLE`, so a master that restarts empty at its old address while such a request is still
//! retrying serves it. This is what a client's connection-level retry does on a Sentinel-managed
//! connection (the command retries on the same connection, which reconnects to the same host),
//! and why the bug shows only when a request is in flight at the wrong moment.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use redis::RedisError;

use super::discovery::connect;
use super::mutant::STALE_RECONNECT_FOR;
use super::{Inner, MasterLink, Mutant, NodeAddr};

/// The address one request keeps under `stale-reconnect`, and since when.
#[derive(Debug, Clone)]
pub(crate) struct KeptAddress {
    addr: NodeAddr,
    since: Instant,
}

impl Inner {
    /// The address a request keeps after a failure of its command on `addr`: only under the
    /// mutant, and only for a lost connection (not after an answer such as `READONLY`, which any
    /// client takes as a reason to look the master up again).
    pub(crate) fn keep_address(&self, addr: &NodeAddr, err: &RedisError) -> Option<KeptAddress> {
        if self.config.mutant != Some(Mutant::StaleReconnect) {
            return None;
        }
        let connection_lost = err.is_io_error()
            || err.is_timeout()
            || err.is_connection_dropped()
            || err.is_connection_refusal();
        connection_lost.then(|| KeptAddress {
            addr: addr.clone(),
            since: Instant::now(),
        })
    }

    /// A new connection of this request's own to the address it keeps, while it is kept; `None`
    /// once it has been kept too long, so the request asks the sentinels. The link is not shared:
    /// other requests never use it.
    pub(crate) async fn reconnect_kept(
        &self,
        kept: &KeptAddress,
    ) -> Option<Result<MasterLink, String>> {
        if kept.since.elapsed() >= STALE_RECONNECT_FOR {
            return None;
        }
        Some(
            connect(&kept.addr, &self.config)
                .await
                .map(|conn| MasterLink {
                    addr: kept.addr.clone(),
                    conn,
                    // Generation 0 is never the shared link's, so its failure invalidates nothing.
                    generation: 0,
                    succeeded: Arc::new(AtomicBool::new(false)),
                })
                .map_err(|e| format!("reconnecting to the last master {e}")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SentinelStore, StoreConfig};
    use super::*;

    fn refused() -> RedisError {
        RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    }

    #[tokio::test]
    async fn keeps_the_failed_address_only_under_its_mutant_and_only_for_connection_errors() {
        // Port 1 on loopback refuses connections.
        let dead = NodeAddr::new("127.0.0.1", 1);
        let mut config = StoreConfig::new(vec![NodeAddr::new("127.0.0.1", 1)], "mymaster");
        let correct = SentinelStore::new(config.clone(), Default::default());
        assert!(correct.inner.keep_address(&dead, &refused()).is_none());

        config.mutant = Some(Mutant::StaleReconnect);
        let mutant = SentinelStore::new(config, Default::default());
        let readonly = redis::make_extension_error("READONLY".to_owned(), None);
        assert!(
            mutant.inner.keep_address(&dead, &readonly).is_none(),
            "an answer like READONLY sends it to the sentinels"
        );
        let kept = mutant
            .inner
            .keep_address(&dead, &refused())
            .expect("a lost connection keeps its address");
        match mutant.inner.reconnect_kept(&kept).await {
            Some(Err(e)) => assert!(e.contains("127.0.0.1:1"), "{e}"),
            other => panic!(
                "expected a reconnection to the dead address, got {:?}",
                other.map(|r| r.map(|link| link.addr))
            ),
        }
        let expired = KeptAddress {
            since: Instant::now() - STALE_RECONNECT_FOR,
            ..kept
        };
        assert!(
            mutant.inner.reconnect_kept(&expired).await.is_none(),
            "kept too long: the request asks the sentinels"
        );
    }
}
