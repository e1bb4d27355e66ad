//! `tower_sessions::SessionStore` on top of [`SentinelStore::run`]: one JSON value per session,
//! expiring with the session.

use async_trait::async_trait;
use redis::AsyncCommands;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::mutant::LOSSY_ACK_DROP_EVERY;
use super::{Durability, Mutant, SentinelStore, StoreError, NOT_REPLICATED};
use crate::metrics::Metrics;

fn backend(err: StoreError) -> session_store::Error {
    if matches!(err, StoreError::Unavailable { .. }) {
        crate::note_store_gave_up();
    }
    session_store::Error::Backend(err.to_string())
}

fn expiry_ms(record: &Record) -> u64 {
    let ms = record.expiry_date.unix_timestamp_nanos() / 1_000_000;
    u64::try_from(ms).unwrap_or(0)
}

/// Sends `write` on `conn` and answers once it is as durable as `durability` asks: at once, or
/// after `WAIT` counted enough replicas, else with the store's "not replicated" error, which is
/// retried like any failover error. A logout's `DEL` is a write like a save's `SET`: a split brain
/// drops it just the same unless `WAIT` counts it.
async fn durably<T: redis::FromRedisValue>(
    mut conn: redis::aio::MultiplexedConnection,
    write: redis::Cmd,
    durability: Durability,
    metrics: std::sync::Arc<Metrics>,
) -> redis::RedisResult<T> {
    let Durability::Wait { replicas, timeout } = durability else {
        return write.query_async(&mut conn).await;
    };
    // One pipeline, so WAIT counts this connection's write and nothing queued later.
    let (written, acked): (T, u32) = redis::pipe()
        .add_command(write)
        .cmd("WAIT")
        .arg(replicas)
        .arg(timeout.as_millis() as u64)
        .query_async(&mut conn)
        .await?;
    if acked < replicas {
        Metrics::bump(&metrics.wait_shortfalls);
        return Err(redis::make_extension_error(
            NOT_REPLICATED.to_owned(),
            Some(format!("WAIT: {acked} of {replicas} replicas acknowledged")),
        ));
    }
    Ok(written)
}

impl SentinelStore {
    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.inner.config.key_prefix)
    }

    /// `instance-cache`: keeps `record` as this instance's copy of its session.
    fn cache(&self, record: &Record) {
        if self.inner.config.mutant == Some(Mutant::InstanceCache) {
            super::lock(&self.inner.cached).insert(self.key(&record.id), record.clone());
        }
    }

    /// `instance-cache`: this instance's copy of the session at `key`, if it holds one.
    fn cached(&self, key: &str) -> Option<Record> {
        if self.inner.config.mutant != Some(Mutant::InstanceCache) {
            return None;
        }
        super::lock(&self.inner.cached).get(key).cloned()
    }

    /// `SET key value PXAT expiry [NX]`; returns whether the value was written. The `ttl-dropped`
    /// mutant leaves `PXAT` out while a retry is recent.
    async fn set_record(&self, record: &Record, only_new: bool) -> session_store::Result<bool> {
        let key = self.key(&record.id);
        let value = serde_json::to_string(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let at = expiry_ms(record);
        let durability = self.inner.config.durability;
        let metrics = self.inner.metrics.clone();
        let ttl_dropped = self.inner.config.mutant == Some(Mutant::TtlDropped);
        let written: Option<String> = self
            .run(|conn| {
                let mut set = redis::cmd("SET");
                set.arg(&key).arg(&value);
                // `ttl-dropped`: the retry path's SET, kept for a while, lacks the expiry.
                if !(ttl_dropped && self.retried_lately()) {
                    set.arg("PXAT").arg(at);
                }
                if only_new {
                    set.arg("NX");
                }
                durably(conn, set, durability, metrics.clone())
            })
            .await
            .map_err(backend)?;
        Ok(written.is_some())
    }
}

#[async_trait]
impl SessionStore for SentinelStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id collides only by accident; NX makes the accident harmless.
        while !self.set_record(record, true).await? {
            record.id = Id::default();
        }
        self.cache(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if self.inner.config.mutant == Some(Mutant::LossyAck) {
            let saves = self
                .inner
                .saves
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            if !saves.is_multiple_of(LOSSY_ACK_DROP_EVERY) {
                let (store, record) = (self.clone(), record.clone());
                tokio::spawn(async move { store.set_record(&record, false).await });
            }
            return Ok(());
        }
        self.set_record(record, false).await?;
        self.cache(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = self.key(id);
        if let Some(record) = self.cached(&key) {
            return Ok(Some(record));
        }
        let from_replica = match self.inner.config.mutant {
            Some(Mutant::StaleRead) if super::stale_read::in_read_only() => {
                self.inner.read_from_replica(&key).await
            }
            _ => None,
        };
        let error_as_logout = self.inner.config.mutant == Some(Mutant::ErrorAsLogout);
        let value: Option<String> = match from_replica {
            Some(value) => value,
            None => {
                let loaded = self
                    .run_with(
                        |mut conn| {
                            let key = key.clone();
                            async move { conn.get(key).await }
                        },
                        !error_as_logout && self.inner.config.mutant != Some(Mutant::NoRetry),
                    )
                    .await;
                match loaded {
                    Ok(value) => value,
                    Err(_) if error_as_logout => None,
                    Err(e) => return Err(backend(e)),
                }
            }
        };
        let record: Option<Record> = value
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        if let Some(record) = &record {
            self.cache(record);
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let key = self.key(id);
        if self.inner.config.mutant == Some(Mutant::InstanceCache) {
            super::lock(&self.inner.cached).remove(&key);
        }
        // A `logout-unacked` deletion is sent once: nobody waits to retry it.
        let retries = !matches!(
            self.inner.config.mutant,
            Some(Mutant::NoRetry | Mutant::LogoutUnacked)
        );
        let (durability, metrics) = (self.inner.config.durability, &self.inner.metrics);
        self.run_with(
            |conn| {
                let mut del = redis::cmd("DEL");
                del.arg(&key);
                durably::<u64>(conn, del, durability, metrics.clone())
            },
            retries,
        )
        .await
        .map(|_| ())
        .map_err(backend)
    }
}
