//! An axum app with `tower-sessions` over redis-rs's own `sentinel` module, as a first attempt
//! uses it: a `SentinelClient` resolves the master, and the app keeps the connection it got.
//!
//! `REDIS_RS_ON_ERROR` chooses what a store error does to that connection:
//! - `keep` (the default, the first attempt): nothing; the connection stays, whatever it answers;
//! - `reconnect`: the failed call asks the sentinels for a new connection through the same
//!   `SentinelClient` and runs again, with backoff, for up to 8 s.
//!
//! redis-rs ships no `tower-sessions` store, so `store.rs` is the small one a user writes. The
//! routes are the contract's (`axum-session-routes`); the harness passes the sentinels, master
//! name, password and listen address in `FAILOVER_DRILL_*` variables.

mod master;
mod store;

use std::error::Error;

use axum_session_routes::DrillEnv;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::ConnectionAddr;

use crate::master::{MasterConnection, OnError};
use crate::store::RedisRsStore;

/// What `REDIS_RS_ON_ERROR` names.
fn on_error() -> Result<OnError, String> {
    match std::env::var("REDIS_RS_ON_ERROR").as_deref() {
        Err(_) | Ok("keep") => Ok(OnError::Keep),
        Ok("reconnect") => Ok(OnError::Reconnect),
        Ok(other) => Err(format!(
            "REDIS_RS_ON_ERROR must be \"keep\" or \"reconnect\", not {other:?}"
        )),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let env = DrillEnv::from_env()?;
    let on_error = on_error()?;
    let sentinels = env
        .sentinels
        .iter()
        .map(|(host, port)| ConnectionAddr::Tcp(host.clone(), *port));
    let mut builder =
        SentinelClientBuilder::new(sentinels, &env.master_name, SentinelServerType::Master)?;
    if let Some(password) = &env.password {
        builder = builder
            .set_client_to_sentinel_password(password)
            .set_client_to_redis_password(password);
    }
    let master = MasterConnection::open(builder.build()?, on_error).await?;

    let app = axum_session_routes::router(RedisRsStore::new(master));
    axum_session_routes::serve(app, env.listen).await?;
    Ok(())
}
