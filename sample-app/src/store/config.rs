//! The knobs of the Sentinel-aware store, with defaults sized for a Sentinel `down-after` of about a
//! second.

use std::time::Duration;

use super::{Mutant, NodeAddr, Password};

/// How the store finds the master and how long it keeps trying.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Sentinels to ask for the master, in order.
    pub sentinels: Vec<NodeAddr>,
    /// The master name the sentinels monitor (`sentinel monitor <name> ...`).
    pub master_name: String,
    /// Longest wait for a TCP connection; a dead master's address swallows SYNs, so this bounds how
    /// long one attempt can hang on it.
    pub connect_timeout: Duration,
    /// Longest wait for one command's reply; a frozen master answers nothing.
    pub response_timeout: Duration,
    /// Total time one store call may spend retrying before the app answers 503. It must cover
    /// Sentinel's detection plus election (down-after + about 1.5 s) or every failover reaches users.
    pub retry_deadline: Duration,
    /// First pause between retries; doubled up to `backoff_max`.
    pub backoff_min: Duration,
    /// Longest pause between retries. A `+switch-master` message cuts any pause short.
    pub backoff_max: Duration,
    /// Prefix of the Redis keys that hold sessions.
    pub key_prefix: String,
    /// When a write counts as done.
    pub durability: Durability,
    /// The password of the sentinels and the data nodes (`requirepass`), if they have one.
    pub password: Option<Password>,
    /// Test-only: a known bug the store exhibits, so a harness can be shown to catch it. `None`
    /// (the default) in any real use.
    pub mutant: Option<Mutant>,
}

/// When the store reports a write as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// When the master has it. Replication is asynchronous: a master that dies or is cut off
    /// right after may take the write with it.
    Async,
    /// When the master has it and `WAIT` says `replicas` replicas have it too, within `timeout`;
    /// otherwise the write is retried like any failover error. A failover promotes the replica with
    /// the most data, so an acknowledged write survives it unless every replica that had it is lost.
    Wait {
        /// Replicas that must acknowledge.
        replicas: u32,
        /// How long `WAIT` may block.
        timeout: Duration,
    },
}

impl StoreConfig {
    /// A configuration with the defaults for the given sentinels and master name.
    pub fn new(sentinels: Vec<NodeAddr>, master_name: impl Into<String>) -> Self {
        Self {
            sentinels,
            master_name: master_name.into(),
            connect_timeout: Duration::from_millis(250),
            response_timeout: Duration::from_millis(500),
            retry_deadline: Duration::from_secs(8),
            backoff_min: Duration::from_millis(20),
            backoff_max: Duration::from_millis(400),
            key_prefix: "session:".to_owned(),
            durability: Durability::Async,
            password: None,
            mutant: None,
        }
    }
}
