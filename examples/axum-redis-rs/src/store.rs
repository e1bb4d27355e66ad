//! A `tower-sessions` store over redis-rs: each session record is a JSON document under
//! `session:<id>` that expires with the session. redis-rs ships no such store, so this is the one
//! an axum user writes; it must not decide what a store error does to the connection (that is
//! `master.rs`).

use std::sync::Arc;

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::master::MasterConnection;

/// Session records in Redis, through the connection to the master.
#[derive(Debug, Clone)]
pub(crate) struct RedisRsStore {
    master: Arc<MasterConnection>,
}

impl RedisRsStore {
    /// A store that reaches Redis through `master`.
    pub(crate) fn new(master: Arc<MasterConnection>) -> Self {
        Self { master }
    }

    /// Writes `record`; with `only_new`, only where no session has its id. Returns whether it
    /// was written.
    async fn set(&self, record: &Record, only_new: bool) -> session_store::Result<bool> {
        let json = serde_json::to_string(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(key(&record.id))
            .arg(json)
            .arg("EXAT")
            .arg(record.expiry_date.unix_timestamp());
        if only_new {
            cmd.arg("NX");
        }
        let reply: Option<String> = self.master.query(&cmd).await.map_err(backend)?;
        Ok(reply.is_some())
    }
}

fn key(id: &Id) -> String {
    format!("session:{id}")
}

fn backend(err: redis::RedisError) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

#[async_trait]
impl SessionStore for RedisRsStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.set(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.set(record, false).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let json: Option<String> = self
            .master
            .query(redis::cmd("GET").arg(key(id)))
            .await
            .map_err(backend)?;
        json.map(|json| {
            serde_json::from_str(&json).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _: i64 = self
            .master
            .query(redis::cmd("DEL").arg(key(id)))
            .await
            .map_err(backend)?;
        Ok(())
    }
}
