//! The app's connection to the master, found through redis-rs's `SentinelClient`, and what a
//! store error does to it. It must not know what the commands mean.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::sentinel::SentinelClient;
use redis::{Cmd, FromRedisValue, RedisResult, RetryMethod};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long a call may keep reconnecting before its error reaches the handler: past a Sentinel
/// failover (down-after plus an election) with room to spare.
const RECONNECT_DEADLINE: Duration = Duration::from_secs(8);
/// The first pause between attempts; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);
/// The longest pause between attempts.
const MAX_PAUSE: Duration = Duration::from_millis(500);

/// What a store error does to the kept connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnError {
    /// Nothing: the error goes to the handler and the connection stays.
    Keep,
    /// The call asks the sentinels for a new connection and runs again until the deadline.
    Reconnect,
}

/// The kept connection, numbered so that many calls failing on the same one replace it once.
struct Kept {
    generation: u64,
    connection: MultiplexedConnection,
}

/// The connection to the master and the client that found it.
pub(crate) struct MasterConnection {
    sentinel: Mutex<SentinelClient>,
    kept: Mutex<Kept>,
    on_error: OnError,
}

impl std::fmt::Debug for MasterConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterConnection")
            .field("on_error", &self.on_error)
            .finish_non_exhaustive()
    }
}

impl MasterConnection {
    /// Asks the sentinels for the master and connects to it.
    pub(crate) async fn open(
        mut sentinel: SentinelClient,
        on_error: OnError,
    ) -> RedisResult<Arc<Self>> {
        let connection = sentinel.get_async_connection().await?;
        Ok(Arc::new(Self {
            sentinel: Mutex::new(sentinel),
            kept: Mutex::new(Kept {
                generation: 0,
                connection,
            }),
            on_error,
        }))
    }

    /// Runs `cmd` on the kept connection; with [`OnError::Reconnect`], an error that a new
    /// connection may cure replaces the connection and runs `cmd` again until the deadline.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        let deadline = Instant::now() + RECONNECT_DEADLINE;
        let mut pause = FIRST_PAUSE;
        loop {
            let (generation, mut connection) = {
                let kept = self.kept.lock().await;
                (kept.generation, kept.connection.clone())
            };
            let err = match cmd.query_async(&mut connection).await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            if self.on_error == OnError::Keep
                || matches!(err.retry_method(), RetryMethod::NoRetry)
                || Instant::now() + pause > deadline
            {
                return Err(err);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_PAUSE);
            // A failure to reconnect is retried like the call's own error.
            let _ = self.replace(generation).await;
        }
    }

    /// Replaces the kept connection if it is still the one numbered `failed`.
    async fn replace(&self, failed: u64) -> RedisResult<()> {
        let mut sentinel = self.sentinel.lock().await;
        if self.kept.lock().await.generation != failed {
            return Ok(());
        }
        let connection = sentinel.get_async_connection().await?;
        let mut kept = self.kept.lock().await;
        kept.generation += 1;
        kept.connection = connection;
        Ok(())
    }
}
