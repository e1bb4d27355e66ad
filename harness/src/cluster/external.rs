//! A Sentinel deployment the harness did not start, seen through its sentinels: the master they
//! name, its replicas and the sentinels, each as the sentinels flag it and as it answers itself,
//! and what keeps the deployment from being drilled.
//!
//! It only reads (`SENTINEL MASTER`, `SENTINEL REPLICAS`, `SENTINEL SENTINELS`, `INFO
//! replication`); it must not create, change or remove anything there.

use std::collections::BTreeMap;

use sample_app::store::{NodeAddr, Password};

use super::node::connect;
use super::readiness::info_field;

/// Why a deployment could not be looked at.
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    /// No sentinel address was given.
    #[error("no sentinel given: name at least one as host:port")]
    NoSentinel,
    /// No sentinel answered for the master name.
    #[error("no sentinel answered for master '{master_name}': {detail}; check the addresses, the master name and the password (FAILOVER_DRILL_REDIS_PASSWORD)")]
    NoAnswer {
        /// The name asked for.
        master_name: String,
        /// Each sentinel's error.
        detail: String,
    },
}

/// What one sentinel says of the master name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelAnswer {
    /// The master it names.
    pub master: NodeAddr,
    /// Its flags for the master (`master`, or with `s_down`, `o_down`...).
    pub master_flags: String,
    /// Its quorum for the master.
    pub quorum: u32,
    /// The replicas it knows, with its flags for each (`slave`, `slave,s_down`...).
    pub replicas: Vec<(NodeAddr, String)>,
    /// The other sentinels it knows.
    pub other_sentinels: Vec<NodeAddr>,
}

/// A node's own answer: its role, and for a replica its link to the master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAnswer {
    /// `role` from `INFO replication`: `master` or `slave`.
    pub role: String,
    /// `master_link_status` for a replica.
    pub link: Option<String>,
}

/// The deployment as its sentinels and nodes answered, at one moment.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The master name asked for.
    pub master_name: String,
    /// Each sentinel asked, and its answer or why there was none.
    pub sentinels: Vec<(NodeAddr, Result<SentinelAnswer, String>)>,
    /// Each data node the sentinels name, and its own answer or why there was none.
    pub nodes: Vec<(NodeAddr, Result<NodeAnswer, String>)>,
}

/// Asks every sentinel in `sentinels`, and every sentinel they know, about `master_name`, then
/// every data node they name about itself.
pub async fn inspect(
    sentinels: &[NodeAddr],
    master_name: &str,
    password: Option<&Password>,
) -> Result<Deployment, ExternalError> {
    if sentinels.is_empty() {
        return Err(ExternalError::NoSentinel);
    }
    let mut asked: Vec<(NodeAddr, Result<SentinelAnswer, String>)> = Vec::new();
    let mut queue: Vec<NodeAddr> = sentinels.to_vec();
    while let Some(addr) = queue.pop() {
        if asked.iter().any(|(a, _)| *a == addr) {
            continue;
        }
        let answer = ask_sentinel(&addr, master_name, password).await;
        if let Ok(answer) = &answer {
            queue.extend(answer.other_sentinels.iter().cloned());
        }
        asked.push((addr, answer));
    }
    asked.sort_by_key(|(a, _)| a.to_string());
    if asked.iter().all(|(_, answer)| answer.is_err()) {
        let detail = asked
            .iter()
            .filter_map(|(addr, answer)| {
                // A connection error names the address already.
                answer.as_ref().err().map(|e| {
                    if e.starts_with(&addr.to_string()) {
                        e.clone()
                    } else {
                        format!("{addr}: {e}")
                    }
                })
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ExternalError::NoAnswer {
            master_name: master_name.to_owned(),
            detail,
        });
    }
    let mut data_nodes: Vec<NodeAddr> = Vec::new();
    for (_, answer) in &asked {
        let Ok(answer) = answer else { continue };
        let named = std::iter::once(&answer.master).chain(answer.replicas.iter().map(|(a, _)| a));
        for addr in named {
            if !data_nodes.contains(addr) {
                data_nodes.push(addr.clone());
            }
        }
    }
    let mut nodes = Vec::new();
    for addr in data_nodes {
        let answer = ask_node(&addr, password).await;
        nodes.push((addr, answer));
    }
    Ok(Deployment {
        master_name: master_name.to_owned(),
        sentinels: asked,
        nodes,
    })
}

/// `SENTINEL <what> <master_name>` as a list of field maps.
async fn sentinel_list(
    conn: &mut redis::aio::MultiplexedConnection,
    what: &str,
    master_name: &str,
) -> Result<Vec<BTreeMap<String, String>>, String> {
    let entries: Vec<Vec<String>> = redis::cmd("SENTINEL")
        .arg(what)
        .arg(master_name)
        .query_async(conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(entries.iter().map(|fields| pairs(fields)).collect())
}

fn pairs(fields: &[String]) -> BTreeMap<String, String> {
    fields
        .chunks(2)
        .filter_map(|pair| Some((pair.first()?.clone(), pair.get(1)?.clone())))
        .collect()
}

fn addr_of(fields: &BTreeMap<String, String>) -> Option<NodeAddr> {
    let host = fields.get("ip")?;
    let port = fields.get("port")?.parse().ok()?;
    Some(NodeAddr::new(host.clone(), port))
}

async fn ask_sentinel(
    addr: &NodeAddr,
    master_name: &str,
    password: Option<&Password>,
) -> Result<SentinelAnswer, String> {
    let mut conn = connect(addr, password).await?;
    let master: Vec<String> = redis::cmd("SENTINEL")
        .arg("MASTER")
        .arg(master_name)
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let master = pairs(&master);
    let master_addr =
        addr_of(&master).ok_or_else(|| format!("no address for '{master_name}': {master:?}"))?;
    let replicas = sentinel_list(&mut conn, "REPLICAS", master_name)
        .await?
        .iter()
        .filter_map(|fields| Some((addr_of(fields)?, fields.get("flags")?.clone())))
        .collect();
    let other_sentinels = sentinel_list(&mut conn, "SENTINELS", master_name)
        .await?
        .iter()
        .filter_map(addr_of)
        .collect();
    Ok(SentinelAnswer {
        master: master_addr,
        master_flags: master.get("flags").cloned().unwrap_or_default(),
        quorum: master
            .get("quorum")
            .and_then(|q| q.parse().ok())
            .unwrap_or(0),
        replicas,
        other_sentinels,
    })
}

async fn ask_node(addr: &NodeAddr, password: Option<&Password>) -> Result<NodeAnswer, String> {
    let mut conn = connect(addr, password).await?;
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(NodeAnswer {
        role: info_field(&info, "role").unwrap_or("?").to_owned(),
        link: info_field(&info, "master_link_status").map(str::to_owned),
    })
}

impl Deployment {
    /// The master every answering sentinel names, if they agree.
    pub fn master(&self) -> Option<&NodeAddr> {
        let mut named = self
            .sentinels
            .iter()
            .filter_map(|(_, a)| a.as_ref().ok())
            .map(|a| &a.master);
        let first = named.next()?;
        named.all(|m| m == first).then_some(first)
    }

    /// What keeps the deployment from being drilled, in words; empty when it is healthy.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let answers: Vec<&SentinelAnswer> = self
            .sentinels
            .iter()
            .filter_map(|(_, a)| a.as_ref().ok())
            .collect();
        for (addr, answer) in &self.sentinels {
            if let Err(e) = answer {
                problems.push(format!("sentinel {addr} did not answer: {e}"));
            }
        }
        let Some(master) = self.master() else {
            let named: Vec<String> = self
                .sentinels
                .iter()
                .filter_map(|(s, a)| Some(format!("{} by {s}", a.as_ref().ok()?.master)))
                .collect();
            problems.push(format!(
                "the sentinels name different masters: {}",
                named.join(", ")
            ));
            return problems;
        };
        let quorum = answers.iter().map(|a| a.quorum).max().unwrap_or(0);
        let up = answers.len();
        let known = self.sentinels.len();
        if up < usize::try_from(quorum).unwrap_or(usize::MAX) {
            problems.push(format!(
                "{up} of {known} sentinels answer, fewer than the quorum of {quorum}: no failover can start"
            ));
        } else if up <= known / 2 {
            problems.push(format!(
                "{up} of {known} sentinels answer, not a majority: a failover cannot be authorised"
            ));
        }
        for (sentinel, answer) in self.sentinels.iter() {
            let Ok(answer) = answer else { continue };
            if answer.master_flags != "master" {
                problems.push(format!(
                    "sentinel {sentinel} flags the master {master} '{}'",
                    answer.master_flags
                ));
            }
            for (replica, flags) in &answer.replicas {
                if flags.contains("s_down") || flags.contains("disconnected") {
                    problems.push(format!(
                        "sentinel {sentinel} flags the replica {replica} '{flags}'"
                    ));
                }
            }
        }
        let replicas: Vec<&NodeAddr> = self
            .nodes
            .iter()
            .map(|(addr, _)| addr)
            .filter(|addr| *addr != master)
            .collect();
        // A sentinel that does not know a replica cannot promote it when it leads a failover.
        for (sentinel, answer) in &self.sentinels {
            let Ok(answer) = answer else { continue };
            let unknown: Vec<String> = replicas
                .iter()
                .filter(|r| !answer.replicas.iter().any(|(known, _)| known == **r))
                .map(|r| r.to_string())
                .collect();
            if !unknown.is_empty() {
                problems.push(format!(
                    "sentinel {sentinel} does not know the replica {} yet (sentinels find replicas through the master's INFO, every 10 s by default)",
                    unknown.join(", ")
                ));
            }
        }
        if replicas.is_empty() {
            problems.push(format!(
                "the master {master} has no replica: a failover has nowhere to go"
            ));
        }
        for (addr, answer) in &self.nodes {
            let expected = if addr == master { "master" } else { "slave" };
            match answer {
                Err(e) => problems.push(format!("node {addr} did not answer: {e}")),
                Ok(node) if node.role != expected => problems.push(format!(
                    "node {addr} answers as role:{} where the sentinels make it a {}",
                    node.role,
                    if expected == "slave" {
                        "replica"
                    } else {
                        "master"
                    }
                )),
                Ok(NodeAnswer {
                    link: Some(link), ..
                }) if expected == "slave" && link != "up" => {
                    problems.push(format!("replica {addr} has its link to the master {link}"))
                }
                Ok(_) => {}
            }
        }
        problems.sort();
        problems.dedup();
        problems
    }

    /// The deployment in lines: the master, each replica, each sentinel, as they answered.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "master name '{}': master {}",
            self.master_name,
            self.master()
                .map_or_else(|| "(the sentinels disagree)".to_owned(), |m| m.to_string())
        )];
        for (addr, answer) in &self.nodes {
            lines.push(match answer {
                Ok(node) => format!(
                    "  data node {addr}: role:{}{}",
                    node.role,
                    node.link
                        .as_ref()
                        .map_or_else(String::new, |l| format!(", link {l}"))
                ),
                Err(e) => format!("  data node {addr}: no answer ({e})"),
            });
        }
        for (addr, answer) in &self.sentinels {
            lines.push(match answer {
                Ok(a) => format!(
                    "  sentinel {addr}: names {} ({}), quorum {}; replicas known: {}, other sentinels known: {}",
                    a.master,
                    a.master_flags,
                    a.quorum,
                    a.replicas.len(),
                    a.other_sentinels.len()
                ),
                Err(e) => format!("  sentinel {addr}: no answer ({e})"),
            });
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(master: &str, flags: &str, replicas: &[(&str, &str)]) -> SentinelAnswer {
        SentinelAnswer {
            master: master.parse().expect("addr"),
            master_flags: flags.to_owned(),
            quorum: 2,
            replicas: replicas
                .iter()
                .map(|(a, f)| (a.parse().expect("addr"), (*f).to_owned()))
                .collect(),
            other_sentinels: Vec::new(),
        }
    }

    fn node(role: &str, link: Option<&str>) -> Result<NodeAnswer, String> {
        Ok(NodeAnswer {
            role: role.to_owned(),
            link: link.map(str::to_owned),
        })
    }

    fn healthy() -> Deployment {
        let replicas = [("10.0.0.2:6379", "slave")];
        Deployment {
            master_name: "mymaster".to_owned(),
            sentinels: (1..=3)
                .map(|i| {
                    (
                        NodeAddr::new(format!("10.0.1.{i}"), 26379),
                        Ok(answer("10.0.0.1:6379", "master", &replicas)),
                    )
                })
                .collect(),
            nodes: vec![
                (NodeAddr::new("10.0.0.1", 6379), node("master", None)),
                (NodeAddr::new("10.0.0.2", 6379), node("slave", Some("up"))),
            ],
        }
    }

    #[test]
    fn a_healthy_deployment_has_no_problem() {
        assert_eq!(healthy().problems(), Vec::<String>::new());
        assert_eq!(healthy().master(), Some(&NodeAddr::new("10.0.0.1", 6379)));
    }

    #[test]
    fn each_fault_of_a_deployment_is_named() {
        let mut d = healthy();
        d.sentinels[1].1 = Err("connection refused".to_owned());
        d.sentinels[2].1 = Err("connection refused".to_owned());
        let problems = d.problems().join("\n");
        assert!(
            problems.contains("fewer than the quorum of 2"),
            "{problems}"
        );

        let mut d = healthy();
        d.nodes[1].1 = node("slave", Some("down"));
        assert_eq!(
            d.problems(),
            ["replica 10.0.0.2:6379 has its link to the master down"]
        );

        let mut d = healthy();
        d.sentinels[0].1 = Ok(answer("10.0.0.2:6379", "master", &[]));
        assert!(d.problems()[0].starts_with("the sentinels name different masters"));

        let mut d = healthy();
        d.nodes.truncate(1);
        for (_, answer) in &mut d.sentinels {
            if let Ok(answer) = answer {
                answer.replicas.clear();
            }
        }
        assert!(d.problems().iter().any(|p| p.contains("no replica")));

        let mut d = healthy();
        d.sentinels[2].1 = Ok(answer("10.0.0.1:6379", "master", &[]));
        assert_eq!(
            d.problems(),
            ["sentinel 10.0.1.3:26379 does not know the replica 10.0.0.2:6379 yet (sentinels find replicas through the master's INFO, every 10 s by default)"]
        );

        let mut d = healthy();
        d.nodes[0].1 = node("slave", Some("up"));
        assert!(d
            .problems()
            .iter()
            .any(|p| p.contains("answers as role:slave")));
    }
}
