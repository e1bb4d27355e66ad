//! The `stale-reconnect` mutant: after a connection error the store keeps the address it was
//! using and reconnects to it, with the store's usual backoff between attempts, for up to
//! [`STALE_RECONNECT_FOR`]; only then does it ask the sentinels again. A reconnection is not
//! checked with `ROLE`, so a master that restarts empty at its old address in that time, before
//! Sentinel demotes it, serves the store's requests. This is what a client's connection-level
//! retry does on a Sentinel-managed connection when it reconnects to the same address.

use std::time::Instant;

use redis::RedisError;

use super::discovery::{connect, Discovered};
use super::mutant::STALE_RECONNECT_FOR;
use super::{lock, DiscoveryError, Inner, Mutant, NodeAddr};

impl Inner {
    /// Remembers `addr` after a connection-level failure on it (not after an answer such as
    /// `READONLY`, which any client takes as a reason to look the master up again).
    pub(crate) fn keep_address(&self, addr: &NodeAddr, err: &RedisError) {
        if self.config.mutant != Some(Mutant::StaleReconnect) {
            return;
        }
        let connection_lost = err.is_io_error()
            || err.is_timeout()
            || err.is_connection_dropped()
            || err.is_connection_refusal();
        if connection_lost {
            lock(&self.kept).get_or_insert_with(|| (addr.clone(), Instant::now()));
        }
    }

    /// A new connection to the kept address, while it is kept; `None` when there is none (or
    /// it has been kept too long), so the caller asks the sentinels.
    pub(crate) async fn reconnect_kept(&self) -> Option<Result<Discovered, DiscoveryError>> {
        let (addr, since) = lock(&self.kept).clone()?;
        if since.elapsed() >= STALE_RECONNECT_FOR {
            *lock(&self.kept) = None;
            return None;
        }
        Some(match connect(&addr, &self.config).await {
            Ok(conn) => {
                *lock(&self.kept) = None;
                Ok(Discovered { addr, conn })
            }
            Err(e) => Err(DiscoveryError::new(
                &self.config.master_name,
                vec![format!("reconnecting to the last master {e}")],
            )),
        })
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
        correct.inner.keep_address(&dead, &refused());
        assert!(correct.inner.reconnect_kept().await.is_none());

        config.mutant = Some(Mutant::StaleReconnect);
        let mutant = SentinelStore::new(config, Default::default());
        let readonly = redis::make_extension_error("READONLY".to_owned(), None);
        mutant.inner.keep_address(&dead, &readonly);
        assert!(
            mutant.inner.reconnect_kept().await.is_none(),
            "an answer like READONLY sends it to the sentinels"
        );
        mutant.inner.keep_address(&dead, &refused());
        match mutant.inner.reconnect_kept().await {
            Some(Err(e)) => assert!(e.to_string().contains("127.0.0.1:1"), "{e}"),
            other => panic!(
                "expected a reconnection to the dead address, got {:?}",
                other.map(|r| r.map(|d| d.addr))
            ),
        }
    }
}
