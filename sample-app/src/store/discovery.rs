//! Finding the master the way the Redis Sentinel client guidelines ask: query sentinels in turn,
//! connect to the address one names, and believe it only if `ROLE` says `master`.

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

use super::{NodeAddr, StoreConfig};

/// Why no master could be found; lists what each candidate answered.
#[derive(Debug, thiserror::Error)]
#[error("no master found for '{master_name}': {}", .tried.join("; "))]
pub struct DiscoveryError {
    master_name: String,
    tried: Vec<String>,
}

/// A verified master and a connection to it.
pub(crate) struct Discovered {
    pub(crate) addr: NodeAddr,
    pub(crate) conn: MultiplexedConnection,
}

pub(crate) async fn connect(
    addr: &NodeAddr,
    config: &StoreConfig,
) -> Result<MultiplexedConnection, String> {
    let client = addr
        .client(config.password.as_ref())
        .map_err(|e| format!("{addr}: {e}"))?;
    let settings = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(config.response_timeout));
    client
        .get_multiplexed_async_connection_with_config(&settings)
        .await
        .map_err(|e| format!("{addr}: {e}"))
}

async fn ask_sentinel(sentinel: &NodeAddr, config: &StoreConfig) -> Result<NodeAddr, String> {
    let mut conn = connect(sentinel, config).await?;
    let reply: Option<(String, u16)> = redis::cmd("SENTINEL")
        .arg("get-master-addr-by-name")
        .arg(&config.master_name)
        .query_async(&mut conn)
        .await
        .map_err(|e| format!("sentinel {sentinel}: {e}"))?;
    let (host, port) = reply.ok_or_else(|| {
        format!(
            "sentinel {sentinel} does not monitor '{}'",
            config.master_name
        )
    })?;
    Ok(NodeAddr::new(host, port))
}

/// Connects to `addr` and checks that it is a master right now.
pub(crate) async fn verify_master(
    addr: &NodeAddr,
    config: &StoreConfig,
) -> Result<Discovered, String> {
    let mut conn = connect(addr, config).await?;
    let role: Vec<redis::Value> = redis::cmd("ROLE")
        .query_async(&mut conn)
        .await
        .map_err(|e| format!("{addr}: ROLE failed: {e}"))?;
    let is_master = matches!(
        role.first(),
        Some(redis::Value::BulkString(bytes)) if bytes.as_slice() == b"master"
    );
    if !is_master {
        return Err(format!("{addr} is not a master (ROLE {role:?})"));
    }
    Ok(Discovered {
        addr: addr.clone(),
        conn,
    })
}

/// Tries `hint` first (the master a `+switch-master` message named), then every sentinel in order.
pub(crate) async fn discover(
    config: &StoreConfig,
    hint: Option<NodeAddr>,
) -> Result<Discovered, DiscoveryError> {
    let mut tried = Vec::new();
    if let Some(hint) = hint {
        match verify_master(&hint, config).await {
            Ok(found) => return Ok(found),
            Err(e) => tried.push(format!("announced master {e}")),
        }
    }
    for sentinel in &config.sentinels {
        let candidate = match ask_sentinel(sentinel, config).await {
            Ok(addr) => addr,
            Err(e) => {
                tried.push(e);
                continue;
            }
        };
        match verify_master(&candidate, config).await {
            Ok(found) => return Ok(found),
            Err(e) => tried.push(format!("sentinel {sentinel} named {e}")),
        }
    }
    if config.sentinels.is_empty() {
        tried.push("no sentinel addresses configured".to_owned());
    }
    Err(DiscoveryError {
        master_name: config.master_name.clone(),
        tried,
    })
}
