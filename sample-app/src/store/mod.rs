//! A session store on Redis behind Sentinel, written to the Redis Sentinel client guidelines.
//!
//! It owns finding the master, keeping one multiplexed connection to it, and retrying store
//! commands across a failover within a deadline. It does not know about HTTP: callers turn
//! [`StoreError::Unavailable`] into whatever their protocol says (the sample app answers 503).
//!
//! # Layout
//! - [`addr`]: `host:port` addresses.
//! - [`config`]: timeouts, retry deadline and backoff.
//! - `discovery`: ask sentinels, verify with `ROLE`.
//! - `switch_listener`: `+switch-master` subscriptions that move the store early.
//! - `session_store`: the `tower_sessions::SessionStore` implementation.
//! - [`events`]: what an observer can learn about master changes.
//! - [`mutant`]: deliberately broken behaviours, for testing a harness.
//! - `stale_read`: the `stale-read` mutant's replica connection, and [`read_only`] requests.
//! - `stale_reconnect`: the `stale-reconnect` mutant's per-request reconnections to the address
//!   a request's command was lost on.
//!
//! # Lifting it into an app
//! ```no_run
//! # async fn demo() {
//! use sample_app::store::{SentinelStore, StoreConfig, NodeAddr};
//! let config = StoreConfig::new(vec![NodeAddr::new("10.0.0.5", 26379)], "mymaster");
//! let store = SentinelStore::new(config, Default::default());
//! let layer = tower_sessions::SessionManagerLayer::new(store);
//! # }
//! ```

pub mod addr;
mod backoff;
pub mod config;
mod discovery;
pub mod events;
pub mod mutant;
mod session_store;
mod stale_read;
mod stale_reconnect;
mod switch_listener;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use redis::aio::MultiplexedConnection;
use tokio::sync::Notify;

pub use addr::{parse_addr_list, AddrParseError, NodeAddr, Password};
pub use config::{Durability, StoreConfig};
pub use discovery::DiscoveryError;
pub use events::{StoreEvent, StoreEventKind, StoreEventSink};
pub use mutant::Mutant;
pub use stale_read::read_only;

use crate::metrics::Metrics;
use backoff::Backoff;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The master stayed unreachable for the whole retry deadline.
    #[error(
        "session store unavailable after {attempts} attempts in {elapsed_ms} ms: {last_error}"
    )]
    Unavailable {
        /// Attempts made before giving up.
        attempts: u32,
        /// Time spent.
        elapsed_ms: u128,
        /// The last error seen.
        last_error: String,
    },
    /// Redis answered with something retrying cannot fix (a type error, a bad payload).
    #[error("session store command failed: {0}")]
    Command(String),
}

/// The current master and its connection, with the discovery generation that produced it so a
/// stale failure cannot throw away a newer link.
#[derive(Clone)]
pub(crate) struct MasterLink {
    addr: NodeAddr,
    conn: MultiplexedConnection,
    generation: u64,
    succeeded: Arc<AtomicBool>,
}

pub(crate) struct Inner {
    config: StoreConfig,
    metrics: Arc<Metrics>,
    link: Mutex<Option<MasterLink>>,
    /// The master the last `+switch-master` named; discovery tries it first.
    hint: Mutex<Option<NodeAddr>>,
    generation: AtomicU64,
    /// Discovery is serialised so a burst of failing requests asks the sentinels once, not once
    /// per request.
    discovering: tokio::sync::Mutex<()>,
    /// Wakes retries sleeping in backoff, and discoveries in flight, when a new master is
    /// announced.
    switched: Notify,
    /// `+switch-master` messages taken so far; a retry that sees it change since its attempt
    /// began retries at once, so an announcement between two waits is not lost.
    switches: AtomicU64,
    events: Option<StoreEventSink>,
    /// `stale-read`: the replica sessions are read from, once connected.
    replica: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    /// `lossy-ack`: saves taken so far.
    saves: AtomicU64,
    /// `instance-cache`: every session this store loaded or saved, by key.
    cached: Mutex<std::collections::HashMap<String, tower_sessions::session::Record>>,
    /// `ttl-dropped`: when a call last failed and was retried.
    retried_at: Mutex<Option<Instant>>,
}

/// A cheaply cloneable handle to the store; see the module documentation.
#[derive(Clone)]
pub struct SentinelStore {
    inner: Arc<Inner>,
    _listeners: Arc<switch_listener::SwitchListeners>,
}

impl std::fmt::Debug for SentinelStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelStore")
            .field("master_name", &self.inner.config.master_name)
            .field("sentinels", &self.inner.config.sentinels)
            .finish()
    }
}

/// Code of the error the store raises when `WAIT` counts too few replicas.
pub(crate) const NOT_REPLICATED: &str = "NOTREPLICATED";

/// How one attempt failed.
enum Failure {
    /// No master could be found.
    Discovery(String),
    /// The master answered with an error, or did not answer.
    Command(NodeAddr, redis::RedisError),
}

impl From<String> for Failure {
    fn from(err: String) -> Self {
        Self::Discovery(err)
    }
}

/// Errors worth another attempt: the ones a failover causes.
fn is_retryable(err: &redis::RedisError) -> bool {
    // redis-rs reports codes it does not know (NOREPLICAS) as extension errors, so go by the code.
    err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || matches!(
            err.code(),
            Some(
                "READONLY" | "LOADING" | "MASTERDOWN" | "TRYAGAIN" | "NOREPLICAS" | NOT_REPLICATED
            )
        )
}

impl SentinelStore {
    /// Starts the `+switch-master` listeners; must be called inside a tokio runtime. Masters are
    /// resolved lazily, on the first command.
    pub fn new(config: StoreConfig, metrics: Arc<Metrics>) -> Self {
        Self::with_events(config, metrics, None)
    }

    /// Like [`SentinelStore::new`], also reporting master changes to `events`.
    pub fn with_events(
        config: StoreConfig,
        metrics: Arc<Metrics>,
        events: Option<StoreEventSink>,
    ) -> Self {
        let sentinels = config.sentinels.clone();
        let inner = Arc::new(Inner {
            config,
            metrics,
            link: Mutex::new(None),
            hint: Mutex::new(None),
            generation: AtomicU64::new(0),
            discovering: tokio::sync::Mutex::new(()),
            switched: Notify::new(),
            switches: AtomicU64::new(0),
            events,
            replica: tokio::sync::Mutex::new(None),
            saves: AtomicU64::new(0),
            cached: Mutex::default(),
            retried_at: Mutex::default(),
        });
        let listeners = switch_listener::spawn(Arc::downgrade(&inner), &sentinels);
        Self {
            inner,
            _listeners: Arc::new(listeners),
        }
    }

    /// The store's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The known bug this store was made to have, if any (test-only).
    pub fn mutant(&self) -> Option<Mutant> {
        self.inner.config.mutant
    }

    /// Whether, for the `ttl-dropped` mutant, a call was retried less than
    /// [`mutant::TTL_DROPPED_FOR`] ago.
    pub(crate) fn retried_lately(&self) -> bool {
        lock(&self.inner.retried_at).is_some_and(|at| at.elapsed() < mutant::TTL_DROPPED_FOR)
    }

    /// Runs `command` on the master, re-resolving and retrying on failover errors until the retry
    /// deadline.
    pub async fn run<T, F, Fut>(&self, command: F) -> Result<T, StoreError>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let retries = self.inner.config.mutant != Some(Mutant::NoRetry);
        self.run_with(command, retries).await
    }

    /// [`SentinelStore::run`], giving up after the first failed attempt unless `retries`.
    pub(crate) async fn run_with<T, F, Fut>(
        &self,
        command: F,
        retries: bool,
    ) -> Result<T, StoreError>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let inner = &self.inner;
        let started = Instant::now();
        let deadline = started + inner.config.retry_deadline;
        let mut backoff = Backoff::new(inner.config.backoff_min, inner.config.backoff_max);
        let mut attempts = 0;
        // `stale-reconnect`: the address this request's command was lost on.
        let mut kept: Option<stale_reconnect::KeptAddress> = None;
        // What the last finished attempt failed on: the deadline may cut the next one short.
        let mut previous_error: Option<String> = None;
        loop {
            attempts += 1;
            let switches_seen = inner.switches.load(Ordering::SeqCst);
            let unavailable = |last_error: String| StoreError::Unavailable {
                attempts,
                elapsed_ms: started.elapsed().as_millis(),
                last_error,
            };
            // The deadline bounds waiting too: a discovery stuck on a dead address or a command
            // to a frozen master is cut off, not waited out.
            let attempt = tokio::time::timeout_at(deadline.into(), async {
                let reconnected = match &kept {
                    Some(address) => inner.reconnect_kept(address).await,
                    None => None,
                };
                let link = match reconnected {
                    Some(link) => link?,
                    None => inner.current_link().await.map_err(|e| e.to_string())?,
                };
                command(link.conn.clone())
                    .await
                    .map(|value| (value, link.clone()))
                    .map_err(|err| {
                        if is_retryable(&err) {
                            if kept.is_none() {
                                kept = inner.keep_address(&link.addr, &err);
                            }
                            inner.invalidate(link.generation);
                        }
                        Failure::Command(link.addr, err)
                    })
            });
            let error = match attempt.await {
                Err(_elapsed) => {
                    Metrics::bump(&inner.metrics.store_errors);
                    let cut = "no answer before the retry deadline";
                    return Err(unavailable(match previous_error {
                        Some(before) => format!("{cut}; the attempt before failed on {before}"),
                        None => cut.to_owned(),
                    }));
                }
                Ok(Ok((value, link))) => {
                    inner.mark_success(&link);
                    return Ok(value);
                }
                Ok(Err(Failure::Command(addr, err))) => {
                    Metrics::bump(&inner.metrics.store_errors);
                    if !is_retryable(&err) {
                        return Err(StoreError::Command(err.to_string()));
                    }
                    format!("{addr}: {err}")
                }
                Ok(Err(Failure::Discovery(err))) => {
                    Metrics::bump(&inner.metrics.store_errors);
                    err
                }
            };
            if !retries {
                return Err(unavailable(error));
            }
            let delay = backoff.next_delay();
            if Instant::now() + delay >= deadline {
                return Err(unavailable(error));
            }
            tracing::debug!(attempts, %error, "store command failed; retrying");
            previous_error = Some(error);
            Metrics::bump(&inner.metrics.store_retries);
            if inner.config.mutant == Some(Mutant::TtlDropped) {
                *lock(&inner.retried_at) = Some(Instant::now());
            }
            let switched = inner.switched.notified();
            tokio::pin!(switched);
            // Registered before the check, so an announcement in between still wakes it.
            switched.as_mut().enable();
            if inner.switches.load(Ordering::SeqCst) == switches_seen {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = switched => {}
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values are replaced whole, so a panic elsewhere cannot leave them half-written.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inner {
    fn emit(&self, at: Instant, kind: StoreEventKind) {
        if let Some(events) = &self.events {
            // An observer that went away is no reason to fail a store call.
            let _ = events.send(StoreEvent { at, kind });
        }
    }

    async fn current_link(&self) -> Result<MasterLink, DiscoveryError> {
        if let Some(link) = lock(&self.link).clone() {
            return Ok(link);
        }
        let _only_one = self.discovering.lock().await;
        if let Some(link) = lock(&self.link).clone() {
            return Ok(link);
        }
        let found = loop {
            Metrics::bump(&self.metrics.rediscoveries);
            let switches_seen = self.switches.load(Ordering::SeqCst);
            let hint = lock(&self.hint).take();
            let switched = self.switched.notified();
            tokio::pin!(switched);
            switched.as_mut().enable();
            if self.switches.load(Ordering::SeqCst) != switches_seen {
                continue;
            }
            // A discovery stuck on the old master's address (a connect timeout, a sentinel that
            // has not switched yet) is abandoned when a switch is announced, and the announced
            // master is tried at once.
            tokio::select! {
                found = discovery::discover(&self.config, hint) => break found?,
                _ = switched => {}
            }
        };
        tracing::info!(master = %found.addr, "resolved master");
        self.emit(
            Instant::now(),
            StoreEventKind::MasterResolved {
                master: found.addr.clone(),
            },
        );
        Ok(self.adopt(found))
    }

    /// Makes `found` the current link, with a new generation.
    fn adopt(&self, found: discovery::Discovered) -> MasterLink {
        let link = MasterLink {
            addr: found.addr,
            conn: found.conn,
            generation: self.generation.fetch_add(1, Ordering::SeqCst) + 1,
            succeeded: Arc::new(AtomicBool::new(false)),
        };
        *lock(&self.link) = Some(link.clone());
        link
    }

    fn mark_success(&self, link: &MasterLink) {
        if !link.succeeded.swap(true, Ordering::Relaxed) {
            self.emit(
                Instant::now(),
                StoreEventKind::FirstSuccess {
                    master: link.addr.clone(),
                },
            );
        }
    }

    /// Drops the link if it is still the one from `generation`.
    fn invalidate(&self, generation: u64) {
        if self.config.mutant == Some(Mutant::Pinned) {
            return;
        }
        let mut link = lock(&self.link);
        if link.as_ref().is_some_and(|l| l.generation == generation) {
            *link = None;
        }
    }

    pub(crate) fn on_switch(&self, master: NodeAddr, at: Instant) {
        Metrics::bump(&self.metrics.switch_messages);
        self.emit(
            at,
            StoreEventKind::SwitchAnnounced {
                master: master.clone(),
            },
        );
        if self.config.mutant == Some(Mutant::Pinned) {
            return;
        }
        {
            let mut link = lock(&self.link);
            if link.as_ref().is_some_and(|l| l.addr != master) {
                *link = None;
            }
        }
        *lock(&self.hint) = Some(master);
        self.switches.fetch_add(1, Ordering::SeqCst);
        self.switched.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn gives_up_after_the_deadline_naming_what_failed() {
        // Port 1 on loopback refuses connections: every discovery fails at once.
        let mut config = StoreConfig::new(vec![NodeAddr::new("127.0.0.1", 1)], "mymaster");
        // Long enough for two attempts on a loaded machine; a deadline that cuts the last attempt
        // short still names what the one before failed on.
        config.retry_deadline = Duration::from_secs(2);
        let store = SentinelStore::new(config, Default::default());
        let result: Result<(), _> = store
            .run(|mut conn| async move { redis::cmd("PING").query_async(&mut conn).await })
            .await;
        match result {
            Err(StoreError::Unavailable {
                attempts,
                last_error,
                ..
            }) => {
                assert!(attempts >= 2, "retried before giving up: {attempts}");
                assert!(last_error.contains("127.0.0.1:1"), "{last_error}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        let m = store.metrics();
        assert!(m.store_retries.load(Ordering::Relaxed) >= 1);
        assert_eq!(
            m.store_errors.load(Ordering::Relaxed),
            m.store_retries.load(Ordering::Relaxed) + 1,
            "every failed attempt but the last was retried"
        );
    }
}
