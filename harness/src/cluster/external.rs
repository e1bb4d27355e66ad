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
use crate::shown::printable;

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

/// Whether `host`, as a sentinel announced it, is a host: an IP address, or a DNS name (labels of
/// letters, digits, `-` and `_`, at most 63 characters each and 253 in all, a final dot allowed).
/// Announcements arrive in plaintext from any sentinel another one names; a value that is
/// anything else could carry shell syntax into an operator's command template or control
/// characters to the terminal, so the deployment is refused.
pub fn is_host(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// Fails naming the first address in `answer` that is not a host, and what the sentinel called
/// it, with the value escaped.
fn check_announced(answer: &SentinelAnswer) -> Result<(), String> {
    let announced = std::iter::once(("master", &answer.master))
        .chain(answer.replicas.iter().map(|(addr, _)| ("replica", addr)))
        .chain(answer.other_sentinels.iter().map(|addr| ("sentinel", addr)));
    for (what, addr) in announced {
        if !is_host(&addr.host) {
            return Err(format!(
                "it announces a {what} at '{}', which is not an IP address or a DNS name; a \
                 deployment announcing it is not drilled",
                printable(&addr.host)
            ));
        }
    }
    Ok(())
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
    let master_addr = addr_of(&master)
        .ok_or_else(|| printable(&format!("no address for '{master_name}': {master:?}")))?;
    let replicas = sentinel_list(&mut conn, "REPLICAS", master_name)
        .await?
        .iter()
        .filter_map(|fields| Some((addr_of(fields)?, printable(fields.get("flags")?))))
        .collect();
    let other_sentinels = sentinel_list(&mut conn, "SENTINELS", master_name)
        .await?
        .iter()
        .filter_map(addr_of)
        .collect();
    let answer = SentinelAnswer {
        master: master_addr,
        master_flags: printable(&master.get("flags").cloned().unwrap_or_default()),
        quorum: master
            .get("quorum")
            .and_then(|q| q.parse().ok())
            .unwrap_or(0),
        replicas,
        other_sentinels,
    };
    // Checked before anything it names is followed or shown.
    check_announced(&answer)?;
    Ok(answer)
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
    fn an_announced_host_must_be_an_ip_address_or_a_dns_name() {
        for good in [
            "10.0.0.7",
            "::1",
            "sessions-redis-node-2.sessions-redis-headless.prod.svc.cluster.local",
            "redis_1.local.",
        ] {
            assert!(is_host(good), "{good}");
        }
        for bad in [
            "evil\u{1b}[2J\nX$(touch /tmp/x)",
            "a;rm -rf /",
            "host name",
            "'quoted'",
            "-leading",
            "",
            "a..b",
            "{port}",
        ] {
            assert!(!is_host(bad), "{bad:?}");
        }
        let mut hostile = answer("10.0.0.1:6379", "master", &[("10.0.0.2:6379", "slave")]);
        hostile.replicas.push((
            NodeAddr::new("evil\u{1b}[2J\nX$(touch y)", 6379),
            "slave".into(),
        ));
        let refused = check_announced(&hostile).expect_err("refused");
        assert!(
            refused.contains("a replica at 'evil\\u{1b}[2J\\nX$(touch y)'"),
            "{refused}"
        );
        assert!(
            !refused.contains('\u{1b}') && !refused.contains('\n'),
            "{refused}"
        );
        assert!(check_announced(&answer("10.0.0.1:6379", "master", &[])).is_ok());
    }

    /// A sentinel of our own on loopback that names a replica at `replica_host`: the fake
    /// sentinel of a hostile network, in a few lines of RESP.
    async fn fake_sentinel(replica_host: &'static str) -> NodeAddr {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        fn bulk(s: &str) -> String {
            format!("${}\r\n{s}\r\n", s.len())
        }
        fn fields(pairs: &[(&str, &str)]) -> String {
            let items: String = pairs.iter().map(|(k, v)| bulk(k) + &bulk(v)).collect();
            format!("*{}\r\n{items}", pairs.len() * 2)
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut read = BufReader::new(read);
                    loop {
                        // A command: *N, then N bulk strings.
                        let mut line = String::new();
                        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let count: usize = line.trim_start_matches('*').trim().parse().unwrap_or(0);
                        let mut words = Vec::new();
                        for _ in 0..count {
                            let mut len = String::new();
                            let _ = read.read_line(&mut len).await;
                            let len: usize =
                                len.trim_start_matches('$').trim().parse().unwrap_or(0);
                            let mut word = vec![0; len + 2];
                            let _ = read.read_exact(&mut word).await;
                            words.push(String::from_utf8_lossy(&word[..len]).to_uppercase());
                        }
                        let answer = match words.get(1).map(String::as_str) {
                            Some("MASTER") => fields(&[
                                ("ip", "127.0.0.1"),
                                ("port", "6399"),
                                ("flags", "master"),
                                ("quorum", "1"),
                            ]),
                            Some("REPLICAS") => format!(
                                "*1\r\n{}",
                                fields(&[
                                    ("ip", replica_host),
                                    ("port", "6379"),
                                    ("flags", "slave")
                                ])
                            ),
                            Some("SENTINELS") => "*0\r\n".to_owned(),
                            _ => "+OK\r\n".to_owned(),
                        };
                        if write.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        NodeAddr::new("127.0.0.1", port)
    }

    #[tokio::test]
    async fn a_sentinel_announcing_a_hostile_host_is_refused_with_the_value_escaped() {
        let sentinel = fake_sentinel("evil\u{1b}[2J\nX$(touch /tmp/x)").await;
        let err = inspect(&[sentinel], "mymaster", None)
            .await
            .expect_err("the only sentinel's answer is refused")
            .to_string();
        assert!(
            err.contains("announces a replica at 'evil\\u{1b}[2J\\nX$(touch /tmp/x)'"),
            "{err}"
        );
        assert!(!err.contains('\u{1b}') && !err.contains('\n'), "{err}");
        // The same sentinel naming a DNS name is asked as any other.
        let sentinel = fake_sentinel("localhost").await;
        let deployment = inspect(&[sentinel], "mymaster", None)
            .await
            .expect("a sentinel answered");
        assert_eq!(deployment.nodes.len(), 2, "{:?}", deployment.describe());
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
