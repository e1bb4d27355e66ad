//! An axum app whose sessions live in `tower-sessions-redis-store` (the `fred` client) behind
//! Sentinel, set up as the crates' own documentation shows: the pool as in
//! tower-sessions-redis-store's README, the server as in fred's `examples/sentinel.rs`.
//!
//! `FRED_CONFIG` chooses how much of fred's connection handling is configured:
//! - `readme` (the default): `Pool::new(config, None, None, None, 6)`, as tower-sessions-redis-store's
//!   README and example do: no reconnect policy;
//! - `reconnect`: `ReconnectPolicy::new_exponential(0, 100, 30_000, 2)`, as fred's own axum example
//!   adds, and nothing else;
//! - `failover`: that policy, and the settings that let fred notice a dead, frozen or demoted
//!   master (see [`failover_connection`]).
//!
//! The routes are the contract's (`axum-session-routes`); the harness passes the sentinels, master
//! name, password and listen address in `FAILOVER_DRILL_*` variables.

use std::error::Error;
use std::time::Duration;

use axum_session_routes::DrillEnv;
use fred::prelude::{ClientLike, Config, Pool, ReconnectPolicy, ServerConfig};
use fred::types::config::{ConnectionConfig, ReconnectError, Server, UnresponsiveConfig};
use tower_sessions_redis_store::RedisStore;

/// How many connections the pool keeps, as in tower-sessions-redis-store's README.
const POOL_SIZE: usize = 6;

/// How much of fred's connection handling `FRED_CONFIG` configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FredConfig {
    Readme,
    Reconnect,
    Failover,
}

impl FredConfig {
    fn from_env() -> Result<Self, String> {
        match std::env::var("FRED_CONFIG").as_deref() {
            Err(_) | Ok("readme") => Ok(Self::Readme),
            Ok("reconnect") => Ok(Self::Reconnect),
            Ok("failover") => Ok(Self::Failover),
            Ok(other) => Err(format!(
                "FRED_CONFIG must be \"readme\", \"reconnect\" or \"failover\", not {other:?}"
            )),
        }
    }

    fn policy(self) -> Option<ReconnectPolicy> {
        match self {
            Self::Readme => None,
            Self::Reconnect | Self::Failover => {
                Some(ReconnectPolicy::new_exponential(0, 100, 30_000, 2))
            }
        }
    }

    fn connection(self) -> Option<ConnectionConfig> {
        (self == Self::Failover).then(failover_connection)
    }
}

/// What fred needs, beyond a reconnect policy, to follow a Sentinel failover:
/// - a killed master's address answers nothing, and fred waits 10 s by default to connect to it
///   or to send it `AUTH`: one second each;
/// - a command on a dead or frozen master's connection waits for ever by default: after a second
///   without an answer the connection counts as unresponsive, is closed, and its commands are
///   sent again on the next one (fred asks the sentinels again when it reconnects);
/// - a master that Sentinel demoted keeps the connection open and answers `READONLY`, which fred
///   hands to the caller unless it is listed as a reason to reconnect.
fn failover_connection() -> ConnectionConfig {
    ConnectionConfig {
        connection_timeout: Duration::from_secs(1),
        internal_command_timeout: Duration::from_secs(1),
        unresponsive: UnresponsiveConfig {
            max_timeout: Some(Duration::from_secs(1)),
            interval: Duration::from_millis(200),
        },
        reconnect_errors: vec![ReconnectError::ReadOnly],
        ..Default::default()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let env = DrillEnv::from_env()?;
    let setup = FredConfig::from_env()?;
    let config = Config {
        server: ServerConfig::Sentinel {
            service_name: env.master_name.clone(),
            hosts: env
                .sentinels
                .iter()
                .map(|(host, port)| Server::new(host.as_str(), *port))
                .collect(),
        },
        password: env.password.clone(),
        ..Default::default()
    };
    let pool = Pool::new(config, None, setup.connection(), setup.policy(), POOL_SIZE)?;
    let _connection = pool.connect();
    pool.wait_for_connect().await?;

    let app = axum_session_routes::router(RedisStore::new(pool));
    axum_session_routes::serve(app, env.listen).await?;
    Ok(())
}
