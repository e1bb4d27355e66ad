//! The sample app as a process.
//!
//! Run with: `cargo run -p sample-app -- --sentinels 172.30.0.5:26379,172.30.0.6:26379`

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use sample_app::store::{Durability, Mutant, NodeAddr, Password, SentinelStore, StoreConfig};

/// The sentinels' and data nodes' password, when they require one.
const PASSWORD_ENV: &str = "REDIS_PASSWORD";

/// An axum app whose sessions live in Redis found through Sentinel. When the sentinels and data
/// nodes require a password, it is read from REDIS_PASSWORD.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free one and prints it.
    #[arg(long, env = "SAMPLE_APP_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Sentinel addresses, comma-separated `host:port`.
    #[arg(long, env = "SENTINEL_ADDRS", value_delimiter = ',')]
    sentinels: Vec<NodeAddr>,
    /// Master name the sentinels monitor.
    #[arg(long, env = "MASTER_NAME", default_value = "mymaster")]
    master_name: String,
    /// Milliseconds a store call may keep retrying before the app answers 503.
    #[arg(long, env = "STORE_RETRY_DEADLINE_MS", default_value_t = 8000)]
    retry_deadline_ms: u64,
    /// Replicas that must acknowledge each write (`WAIT`); 0 acknowledges on the master alone.
    #[arg(long, env = "WAIT_REPLICAS", default_value_t = 0)]
    wait_replicas: u32,
    /// Milliseconds `WAIT` may block before the write is retried.
    #[arg(long, env = "WAIT_TIMEOUT_MS", default_value_t = 250)]
    wait_timeout_ms: u64,
    /// Seconds of inactivity after which a session expires.
    #[arg(long, env = "SESSION_TTL_SECS", default_value_t = 3600)]
    session_ttl_secs: u64,
    /// TEST ONLY: give the store a known bug (pinned, no-retry, stale-read, lossy-ack,
    /// stale-reconnect, error-as-logout, instance-cache) to show that a failover drill catches it.
    /// Never set in a real deployment.
    #[arg(long, env = "STORE_MUTANT")]
    mutant: Option<Mutant>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    anyhow::ensure!(
        !args.sentinels.is_empty(),
        "no sentinels given: pass --sentinels host:port[,host:port...] or set SENTINEL_ADDRS"
    );
    let mut config = StoreConfig::new(args.sentinels, args.master_name);
    // Only from the environment: a command-line flag would show the password in `ps`.
    config.password = std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Password::new);
    config.retry_deadline = Duration::from_millis(args.retry_deadline_ms);
    if args.wait_replicas > 0 {
        config.durability = Durability::Wait {
            replicas: args.wait_replicas,
            timeout: Duration::from_millis(args.wait_timeout_ms),
        };
    }
    config.mutant = args.mutant;
    if let Some(mutant) = args.mutant {
        tracing::warn!(%mutant, "the store runs with a deliberate bug (test-only --mutant)");
    }
    let store = SentinelStore::new(config, Default::default());
    let router = sample_app::app(store, Duration::from_secs(args.session_ttl_secs));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is the port already in use?",
                args.listen
            )
        })?;
    println!("listening on http://{}", listener.local_addr()?);
    sample_app::serve(listener, router, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("server failed")
}
