//! Node states over time: every node is sampled at a fixed period, and at once whenever a sentinel
//! publishes an event, into the history. A data node answers `ROLE`, `INFO server`,
//! `INFO persistence`, `INFO replication`, `INFO stats`, `INFO commandstats` and `DBSIZE` in one
//! pipelined round trip (role, the master it follows and whether its link is up, replication
//! offset, run id, key count, keys loaded at start, and the reads and writes it has served); a
//! sentinel answers `SENTINEL get-master-addr-by-name`. A node that does not answer in time is
//! recorded as unreachable from the harness.
//!
//! The offset comes from `INFO replication`, not `ROLE`: a replica's `ROLE` says -1 whenever its
//! link is down, which is exactly when a failover needs to know how far it had got.
//!
//! It owns one connection per node, with short timeouts, so a dead or frozen node costs the drill
//! nothing but its own sampling task's time. It must not act on what it sees: the checkers read
//! the records afterwards.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::cluster::node::{Node, NodeKind};
use crate::history::{NodeSample, NodeState, NodeType, Record, Recorder, Served};

/// Longest wait for an answer: a node slower than this is recorded unreachable.
pub const SAMPLE_TIMEOUT: Duration = Duration::from_millis(500);
/// Longest wait for a connection: short, because a dead node's address swallows connection
/// attempts and the sampler should see it come back soon after it does.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(250);

/// Makes every sampling task take a sample now; the sentinel monitor pulls it on every event.
#[derive(Debug, Clone)]
pub struct SampleTrigger(Arc<watch::Sender<u64>>);

impl SampleTrigger {
    /// Asks for a sample of every node. Pulls that come while a sample is being taken fold into
    /// one more sample after it.
    pub fn pull(&self) {
        self.0.send_modify(|pulls| *pulls = pulls.wrapping_add(1));
    }
}

/// The running sampling tasks; stopped on drop.
#[derive(Debug)]
pub struct NodeSampler {
    tasks: Vec<JoinHandle<()>>,
    /// Per task, the samples it has recorded so far.
    recorded: Vec<watch::Receiver<u64>>,
    trigger: SampleTrigger,
}

/// What one task samples.
struct Target {
    name: String,
    addr: String,
    kind: NodeKind,
    client: Result<redis::Client, String>,
    master_name: String,
}

impl NodeSampler {
    /// Starts one sampling task per node, each taking its first sample at once, then one every
    /// `period` and one whenever the returned trigger is pulled.
    pub fn start<'a>(
        nodes: impl IntoIterator<Item = &'a Node>,
        master_name: &str,
        period: Duration,
        recorder: &Recorder,
    ) -> (Self, SampleTrigger) {
        let (pulls, _) = watch::channel(0u64);
        let pulls = Arc::new(pulls);
        let (tasks, recorded) = nodes
            .into_iter()
            .map(|node| {
                let target = Target {
                    name: node.name.clone(),
                    addr: node.addr.to_string(),
                    kind: node.kind,
                    client: node.client(),
                    master_name: master_name.to_owned(),
                };
                let (count, recorded) = watch::channel(0u64);
                let task = tokio::spawn(sample_forever(
                    target,
                    period,
                    recorder.clone(),
                    pulls.subscribe(),
                    count,
                ));
                (task, recorded)
            })
            .unzip();
        let trigger = SampleTrigger(pulls);
        let sampler = Self {
            tasks,
            recorded,
            trigger: trigger.clone(),
        };
        (sampler, trigger)
    }

    /// Samples every node once more and returns when each of those samples is recorded, so the
    /// nodes' states after the last thing the run did (its final reads) are on record. A sample
    /// already under way when this is called may have begun before; the one after it is waited
    /// for. Each sample ends within its own timeouts, so this returns within about a second.
    pub async fn sample_once_more(&mut self) {
        let before: Vec<u64> = self.recorded.iter().map(|r| *r.borrow()).collect();
        self.trigger.pull();
        for (recorded, seen) in self.recorded.iter_mut().zip(before) {
            // A task that has stopped has nothing more to record.
            let _ = recorded.wait_for(|n| *n >= seen + 2).await;
        }
    }
}

impl Drop for NodeSampler {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn sample_forever(
    target: Target,
    period: Duration,
    recorder: Recorder,
    mut pulls: watch::Receiver<u64>,
    recorded: watch::Sender<u64>,
) {
    let mut ticks = tokio::time::interval(period);
    // A sample slower than the period (a frozen node) is followed by one at once, not a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut conn: Option<MultiplexedConnection> = None;
    let mut listening = true;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            changed = pulls.changed(), if listening => listening = changed.is_ok(),
        }
        let state = match sample(&target, &mut conn).await {
            Ok(state) => state,
            Err(error) => {
                // A connection that failed or timed out may hold a late answer: start afresh.
                conn = None;
                NodeState::Unreachable { error }
            }
        };
        recorder.record(Record::Node(NodeSample {
            at: recorder.now(),
            node: target.name.clone(),
            kind: match target.kind {
                NodeKind::Redis => NodeType::Data,
                NodeKind::Sentinel => NodeType::Sentinel,
            },
            addr: target.addr.clone(),
            state,
        }));
        recorded.send_modify(|n| *n += 1);
    }
}

async fn sample(
    target: &Target,
    conn: &mut Option<MultiplexedConnection>,
) -> Result<NodeState, String> {
    let connection = match conn {
        Some(c) => c,
        None => {
            let client = target.client.as_ref().map_err(Clone::clone)?;
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(CONNECT_TIMEOUT))
                .set_response_timeout(Some(SAMPLE_TIMEOUT));
            let fresh = client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|e| e.to_string())?;
            conn.insert(fresh)
        }
    };
    let answer = async {
        match target.kind {
            NodeKind::Sentinel => {
                let master: Option<(String, u16)> = redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(&target.master_name)
                    .query_async(connection)
                    .await?;
                Ok::<_, redis::RedisError>(NodeState::Sentinel {
                    master: master.map(|(host, port)| format!("{host}:{port}")),
                })
            }
            NodeKind::Redis => {
                // One INFO call per section, not one with several, which servers before 7.0
                // refuse.
                let mut pipe = redis::pipe();
                pipe.cmd("ROLE");
                for section in INFO_SECTIONS {
                    pipe.cmd("INFO").arg(section);
                }
                let (role, server, persistence, replication, stats, commandstats, keys): (
                    Value,
                    String,
                    String,
                    String,
                    String,
                    String,
                    u64,
                ) = pipe.cmd("DBSIZE").query_async(connection).await?;
                let info = Info {
                    server: &server,
                    persistence: &persistence,
                    replication: &replication,
                    stats: &stats,
                    commandstats: &commandstats,
                };
                Ok(data_node_state(&role, &info, keys))
            }
        }
    };
    match tokio::time::timeout(SAMPLE_TIMEOUT, answer).await {
        Ok(Ok(state)) => Ok(state),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer in {} ms", SAMPLE_TIMEOUT.as_millis())),
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The value of `field` in an `INFO` text.
fn info_field<'t>(info: &'t str, field: &str) -> Option<&'t str> {
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(str::trim)
}

/// The `INFO` sections a data node is asked for, in the order [`Info`] holds them.
const INFO_SECTIONS: [&str; 5] = [
    "server",
    "persistence",
    "replication",
    "stats",
    "commandstats",
];

/// The commands that write keys, as `INFO commandstats` names them (`cmdstat_<name>`): the ones
/// session stores use, and their relatives. A script may read or write; it is counted as a write.
const WRITE_COMMANDS: [&str; 38] = [
    "set",
    "setex",
    "psetex",
    "setnx",
    "getset",
    "getex",
    "getdel",
    "mset",
    "msetnx",
    "del",
    "unlink",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "persist",
    "hset",
    "hmset",
    "hsetnx",
    "hdel",
    "hincrby",
    "incr",
    "incrby",
    "decr",
    "decrby",
    "append",
    "rpush",
    "lpush",
    "lpop",
    "rpop",
    "sadd",
    "srem",
    "zadd",
    "zrem",
    "rename",
    "eval",
    "evalsha",
    "fcall",
];

/// A data node's `INFO` texts, one per section.
struct Info<'t> {
    server: &'t str,
    persistence: &'t str,
    replication: &'t str,
    stats: &'t str,
    commandstats: &'t str,
}

impl Info<'_> {
    /// Reads and writes served since the node started; see [`Served`].
    fn served(&self) -> Served {
        let count = |field: &str| info_field(self.stats, field).and_then(|n| n.parse::<u64>().ok());
        let reads = match (count("keyspace_hits"), count("keyspace_misses")) {
            (Some(hits), Some(misses)) => Some(hits + misses),
            _ => None,
        };
        // `cmdstat_set:calls=12,usec=...`; a section with no command in it yet is empty.
        let writes = self.commandstats.contains("# Commandstats").then(|| {
            WRITE_COMMANDS
                .iter()
                .filter_map(|command| {
                    info_field(self.commandstats, &format!("cmdstat_{command}"))?
                        .split(',')
                        .find_map(|pair| pair.strip_prefix("calls="))?
                        .parse::<u64>()
                        .ok()
                })
                .sum()
        });
        Served { reads, writes }
    }
}

/// A data node's state from its `ROLE` reply, its `INFO` texts and its key count. `ROLE` is
/// `master <offset> [[ip, port, offset]...]` or `slave <ip> <port> <link state> <offset>`.
fn data_node_state(role: &Value, info: &Info<'_>, keys: u64) -> NodeState {
    let run_id = info_field(info.server, "run_id")
        .unwrap_or_default()
        .to_owned();
    // With an append-only file the loaded-keys figure misses what the file's tail replays.
    let loaded_keys = match info_field(info.persistence, "aof_enabled") {
        Some("0") => {
            info_field(info.persistence, "rdb_last_load_keys_loaded").and_then(|n| n.parse().ok())
        }
        _ => None,
    };
    // Kept while a replica's link is down, unlike ROLE's; -1 when the node did not say.
    let offset = info_field(info.replication, "master_repl_offset")
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1);
    let served = info.served();
    let parts: &[Value] = match role {
        Value::Array(parts) => parts,
        _ => &[],
    };
    match text(parts.first()).as_deref() {
        Some("master") => NodeState::Master {
            run_id,
            offset,
            keys,
            loaded_keys,
            replicas: match parts.get(2) {
                Some(Value::Array(replicas)) => u32::try_from(replicas.len()).unwrap_or(u32::MAX),
                _ => 0,
            },
            served,
        },
        Some("slave") => NodeState::Replica {
            run_id,
            offset,
            keys,
            loaded_keys,
            master: format!(
                "{}:{}",
                text(parts.get(1)).unwrap_or_default(),
                text(parts.get(2)).unwrap_or_default()
            ),
            link_up: text(parts.get(3)).as_deref() == Some("connected"),
            served,
        },
        other => NodeState::Unreachable {
            error: format!("ROLE answered {other:?}, not master or slave"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_a_master_and_a_replica_from_their_role_replies_and_info() {
        let server = "# Server\r\nredis_version:7.0.15\r\nrun_id:abc123\r\ntcp_port:6379\r\n";
        let persistence =
            "# Persistence\r\nloading:0\r\nrdb_last_load_keys_loaded:0\r\naof_enabled:0\r\n";
        let info = |replication, stats, commandstats| Info {
            server,
            persistence,
            replication,
            stats,
            commandstats,
        };
        let master = Value::Array(vec![
            bulk("master"),
            Value::Int(4242),
            Value::Array(vec![Value::Array(vec![
                bulk("10.0.0.3"),
                bulk("6379"),
                bulk("4242"),
            ])]),
        ]);
        let commandstats = "# Commandstats\r\ncmdstat_get:calls=30,usec=90,usec_per_call=3.00\r\n\
            cmdstat_set:calls=12,usec=60,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\n\
            cmdstat_expire:calls=2,usec=4,usec_per_call=2.00\r\ncmdstat_info:calls=99,usec=1\r\n";
        assert_eq!(
            data_node_state(
                &master,
                &info(
                    "# Replication\r\nrole:master\r\nmaster_repl_offset:4242\r\n",
                    "# Stats\r\nkeyspace_hits:25\r\nkeyspace_misses:5\r\n",
                    commandstats
                ),
                20
            ),
            NodeState::Master {
                run_id: "abc123".into(),
                offset: 4242,
                keys: 20,
                loaded_keys: Some(0),
                replicas: 1,
                served: Served {
                    reads: Some(30),
                    writes: Some(14)
                },
            }
        );
        // ROLE says -1 with the link down; INFO keeps the offset the replica had reached.
        let replica = Value::Array(vec![
            bulk("slave"),
            bulk("10.0.0.2"),
            Value::Int(6379),
            bulk("connect"),
            Value::Int(-1),
        ]);
        let replica_info = Info {
            persistence: "aof_enabled:1\r\n",
            ..info(
                "# Replication\r\nrole:slave\r\nmaster_link_status:down\r\nslave_repl_offset:4100\r\nmaster_repl_offset:4100\r\n",
                "",
                "# Commandstats\r\n",
            )
        };
        assert_eq!(
            data_node_state(&replica, &replica_info, 0),
            NodeState::Replica {
                run_id: "abc123".into(),
                offset: 4100,
                keys: 0,
                loaded_keys: None,
                master: "10.0.0.2:6379".into(),
                link_up: false,
                served: Served {
                    reads: None,
                    writes: Some(0)
                },
            }
        );
    }
}
