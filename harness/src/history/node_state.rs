//! Node-state records: what the harness saw of one node at one moment. A data node's role, the
//! master it follows and whether its link is up, its replication offset, key count and run id; a
//! sentinel's answer to "who is master". The checkers place findings on these; the sampler
//! (`crate::sampler`) writes them.

use serde::{Deserialize, Serialize};

use super::Micros;

/// One node's state at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSample {
    /// When the answer (or the failure) came.
    pub at: Micros,
    /// The node's name (`redis-1`, `sentinel-2`).
    pub node: String,
    /// Data node or sentinel.
    pub kind: NodeType,
    /// Its `host:port`, stable across restarts.
    pub addr: String,
    /// What it said.
    pub state: NodeState,
}

/// What a sampled node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeType {
    /// A redis-server holding data: master or replica.
    Data,
    /// A sentinel.
    Sentinel,
}

/// What a node said about itself, or that it said nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum NodeState {
    /// No answer within the sampler's timeout, or no connection: dead, frozen or cut off from the
    /// harness.
    Unreachable {
        /// What the connection or the command said.
        error: String,
    },
    /// A data node whose `ROLE` is master.
    Master {
        /// `INFO server` `run_id`: a new one means the process restarted.
        run_id: String,
        /// Its replication offset (`INFO replication` `master_repl_offset`).
        offset: i64,
        /// Keys in its data set (`DBSIZE`).
        keys: u64,
        /// Keys it loaded from disk when it started (`rdb_last_load_keys_loaded`), when it keeps
        /// no append-only file; `None` with one, or from a server that does not say.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        loaded_keys: Option<u64>,
        /// Replicas it lists as connected.
        replicas: u32,
        /// What it has served, counted since it started.
        #[serde(default, skip_serializing_if = "Served::is_unknown")]
        served: Served,
    },
    /// A data node whose `ROLE` is replica.
    Replica {
        /// `INFO server` `run_id`.
        run_id: String,
        /// The replication offset it has processed (`INFO replication` `master_repl_offset`):
        /// kept while its link is down, 0 before it ever synced. Histories written before it was
        /// read there took `ROLE`'s figure, -1 whenever the link was down.
        offset: i64,
        /// Keys in its data set.
        keys: u64,
        /// As for a master; after a full resync, the keys that resync loaded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        loaded_keys: Option<u64>,
        /// The master it follows, `host:port`.
        master: String,
        /// Whether its link to that master is up (`connected`).
        link_up: bool,
        /// What it has served, counted since it started.
        #[serde(default, skip_serializing_if = "Served::is_unknown")]
        served: Served,
    },
    /// A sentinel, and the master it names for the monitored name (`None`: it names none).
    Sentinel {
        /// `host:port` of the master it names.
        master: Option<String>,
    },
}

/// What a data node has served its clients since it started: the evidence of which nodes an app
/// reads from and writes to. Counters restart with the process; `None` when the node did not say
/// (an older history, a server without the section).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Served {
    /// Key lookups for reading (`INFO stats` `keyspace_hits` + `keyspace_misses`). Only clients
    /// read: a replica applies its master's stream without counting lookups, and neither the
    /// harness's sampler nor the sentinels look keys up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<u64>,
    /// Calls of the commands that write keys (`INFO commandstats`: `set`, `del`, `expire`,
    /// `hset`, `eval`, ...). A replica counts what it applied from its master too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes: Option<u64>,
}

impl Served {
    /// Whether the node said nothing of what it served.
    pub fn is_unknown(&self) -> bool {
        self.reads.is_none() && self.writes.is_none()
    }
}

impl NodeState {
    /// What a data node that answered had served.
    pub fn served(&self) -> Option<Served> {
        match self {
            Self::Master { served, .. } | Self::Replica { served, .. } => Some(*served),
            _ => None,
        }
    }

    /// The run id of a data node that answered.
    pub fn run_id(&self) -> Option<&str> {
        match self {
            Self::Master { run_id, .. } | Self::Replica { run_id, .. } => Some(run_id),
            _ => None,
        }
    }

    /// The key count of a data node that answered.
    pub fn keys(&self) -> Option<u64> {
        match self {
            Self::Master { keys, .. } | Self::Replica { keys, .. } => Some(*keys),
            _ => None,
        }
    }

    /// The keys a data node loaded from disk when it started, when it keeps no append-only file.
    pub fn loaded_keys(&self) -> Option<u64> {
        match self {
            Self::Master { loaded_keys, .. } | Self::Replica { loaded_keys, .. } => *loaded_keys,
            _ => None,
        }
    }

    /// The replication offset of a data node that answered.
    pub fn offset(&self) -> Option<i64> {
        match self {
            Self::Master { offset, .. } | Self::Replica { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}
