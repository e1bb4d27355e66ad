//! Acting on running nodes: asking who is master, killing, stopping, pausing, restarting, and
//! waiting until a healed node is back in its place.

use super::node::{Node, NodeKind};
use super::{readiness, Cluster, ClusterError};

impl Cluster {
    /// `SENTINEL <subcommand> <master name>` on one sentinel.
    async fn ask_sentinel<T: redis::FromRedisValue>(
        &self,
        sentinel: &Node,
        subcommand: &str,
    ) -> Result<T, String> {
        let mut conn = sentinel.connect().await?;
        redis::cmd("SENTINEL")
            .arg(subcommand)
            .arg(&self.master_name)
            .query_async::<T>(&mut conn)
            .await
            .map_err(|e| e.to_string())
    }

    /// The data node most answering sentinels call master right now. A majority, not the first
    /// answer: a sentinel that was down during a failover comes back naming the old master until
    /// the others' hello messages correct it.
    pub async fn current_master(&self) -> Result<&Node, ClusterError> {
        let mut votes: Vec<(&Node, usize)> = Vec::new();
        let mut answers = Vec::new();
        for sentinel in self.nodes_of(NodeKind::Sentinel) {
            let reply = self
                .ask_sentinel::<Option<(String, u16)>>(sentinel, "get-master-addr-by-name")
                .await;
            match reply {
                Ok(Some((host, port))) => {
                    let named = self
                        .nodes_of(NodeKind::Redis)
                        .find(|n| n.addr.host == host && n.addr.port == port);
                    match named {
                        Some(node) => match votes.iter_mut().find(|(n, _)| n.name == node.name) {
                            Some((_, count)) => *count += 1,
                            None => votes.push((node, 1)),
                        },
                        None => answers
                            .push(format!("{}: unknown address {host}:{port}", sentinel.name)),
                    }
                }
                Ok(None) => answers.push(format!("{}: no master", sentinel.name)),
                Err(e) => answers.push(format!("{}: {e}", sentinel.name)),
            }
        }
        // max_by_key keeps the last of equals; reversing keeps the first sentinel's pick on a tie.
        votes
            .into_iter()
            .rev()
            .max_by_key(|(_, count)| *count)
            .map(|(node, _)| node)
            .ok_or_else(|| ClusterError::NoMaster {
                detail: answers.join("; "),
            })
    }

    /// SIGKILLs a node.
    pub async fn kill(&self, node: &Node) -> Result<(), ClusterError> {
        node.kill().await
    }

    /// Stops a node gracefully.
    pub async fn stop(&self, node: &Node) -> Result<(), ClusterError> {
        node.stop().await
    }

    /// Starts a killed or stopped node again at its old address.
    pub async fn restart(&self, node: &Node) -> Result<(), ClusterError> {
        node.restart(self.ready_timeout).await
    }

    /// The host PID of a running node, for entering its network namespace.
    pub async fn pid(&self, node: &Node) -> Result<i64, ClusterError> {
        node.pid().await
    }

    /// Waits until a healed node is back in its place: a data node is the master the sentinels
    /// name, or a replica with its link up (Sentinel demotes a returning old master only after it
    /// has reported itself master for a while); a sentinel answers again and sees the master.
    pub async fn wait_settled(&self, node: &Node) -> Result<(), ClusterError> {
        match node.kind {
            NodeKind::Redis => {
                readiness::until(self.rejoin_timeout, &node.name, || async {
                    let master = self.current_master().await.map_err(|e| e.to_string())?;
                    if master.name == node.name {
                        Ok(())
                    } else {
                        readiness::replica_linked(node).await
                    }
                })
                .await
            }
            NodeKind::Sentinel => {
                readiness::until(self.rejoin_timeout, &node.name, || async {
                    self.ask_sentinel::<Option<(String, u16)>>(node, "get-master-addr-by-name")
                        .await?
                        .map(|_| ())
                        .ok_or_else(|| "no master known".to_owned())
                })
                .await
            }
        }
    }

    /// Asks the first answering sentinel for a failover (`SENTINEL FAILOVER`).
    pub async fn request_failover(&self) -> Result<(), ClusterError> {
        let mut answers = Vec::new();
        for sentinel in self.nodes_of(NodeKind::Sentinel) {
            match self.ask_sentinel::<String>(sentinel, "FAILOVER").await {
                Ok(_) => return Ok(()),
                Err(e) => answers.push(format!("{}: {e}", sentinel.name)),
            }
        }
        Err(ClusterError::NoMaster {
            detail: format!(
                "no sentinel accepted SENTINEL FAILOVER: {}",
                answers.join("; ")
            ),
        })
    }

    /// Waits until the sentinels name a master other than `old`.
    pub async fn wait_master_moved(&self, old: &Node) -> Result<(), ClusterError> {
        readiness::until(self.rejoin_timeout, &old.name, || async {
            match self.current_master().await {
                Ok(master) if master.name != old.name => Ok(()),
                Ok(_) => Err("is still the master".to_owned()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }
}
