//! `latency`: added latency on the host's link to one node, by a TCP proxy in the harness. An iptables
//! `nat OUTPUT` rule on the host redirects new connections to the node into a [`DelayProxy`]; the
//! host's open connections are closed on the node (`CLIENT KILL`) so the app reconnects through
//! the proxy. The heal removes the rule and stops the proxy, which closes the slow connections,
//! and the app reconnects directly. The rule is also removed when the guard drops.
//!
//! netem would add the delay in the kernel, but it is missing on kernels this runs on; the proxy
//! needs only iptables, so a scenario means the same on every machine. It slows the host's side
//! only, the app and the harness, not the node's traffic with the other nodes: Sentinel still sees
//! a healthy node. Subscriptions already open (the app's and the harness's sentinel listeners)
//! stay on the direct path.

use std::net::SocketAddr;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::delay_proxy::{DelayProxy, UPSTREAM_MARK};
use super::fault::{Applied, Fault, Scene};
use super::needs::Needs;
use super::NemesisError;
use crate::cluster::node::Node;
use crate::cluster::Cluster;
use crate::marks::RULE_TAG;
use crate::scenario::kinds::Latency;

/// Latency in force on the host's link to one node.
#[derive(Debug)]
pub(crate) struct SlowLink {
    node: String,
    /// The rule's arguments after the chain-changing option, once it is in.
    rule: Option<Vec<String>>,
    proxy: Option<DelayProxy>,
}

fn iptables(action: &str, rule: &[String]) -> Vec<String> {
    let mut args: Vec<String> = ["-w", "-t", "nat", action].map(str::to_owned).to_vec();
    args.extend(rule.iter().cloned());
    args
}

fn redirect_rule(node: &Node, run_id: &str, proxy_port: u16) -> Vec<String> {
    [
        "OUTPUT",
        "-p",
        "tcp",
        "-d",
        &node.addr.host,
        "--dport",
        &node.addr.port.to_string(),
        "-m",
        "mark",
        "!",
        "--mark",
        &UPSTREAM_MARK.to_string(),
        "-m",
        "comment",
        "--comment",
        &format!("{RULE_TAG}{run_id}"),
        "-j",
        "REDIRECT",
        "--to-ports",
        &proxy_port.to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Client ids of the connections in a `CLIENT LIST` reply that come from `host` and are not
/// subscriptions, leaving out `own`.
fn host_clients(client_list: &str, host: &str, own: i64) -> Vec<i64> {
    client_list
        .lines()
        .filter_map(|line| {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            };
            let id: i64 = field("id")?.parse().ok()?;
            let (addr_host, _) = field("addr")?.rsplit_once(':')?;
            let subscribed = field("flags").is_some_and(|f| f.contains('P'));
            (addr_host == host && id != own && !subscribed).then_some(id)
        })
        .collect()
}

impl SlowLink {
    /// Delays every byte between the host and `node` by `latency`, each way.
    pub(super) async fn apply(
        cluster: &Cluster,
        node: &Node,
        latency: Duration,
    ) -> Result<Self, NemesisError> {
        let mut link = Self {
            node: node.name.clone(),
            rule: None,
            proxy: None,
        };
        let upstream: SocketAddr = format!("{}:{}", node.addr.host, node.addr.port)
            .parse()
            .map_err(|e| link.error(format!("node address {}: {e}", node.addr)))?;
        let proxy = DelayProxy::start(upstream, latency, Some(UPSTREAM_MARK))
            .await
            .map_err(|e| link.error(format!("cannot start the delay proxy: {e}")))?;
        let rule = redirect_rule(node, cluster.run_id(), proxy.port());
        link.proxy = Some(proxy);
        // Opened before the rule, so it is direct, and spared when the others are closed.
        let mut control = node.connect().await.map_err(|e| link.error(e))?;
        link.iptables("-I", &rule).await?;
        link.rule = Some(rule);
        link.close_host_connections(&mut control, &node.gateway)
            .await?;
        Ok(link)
    }

    async fn close_host_connections(
        &self,
        control: &mut MultiplexedConnection,
        host: &str,
    ) -> Result<(), NemesisError> {
        let redis_error =
            |e: redis::RedisError| self.error(format!("closing open connections: {e}"));
        let own: i64 = redis::cmd("CLIENT")
            .arg("ID")
            .query_async(control)
            .await
            .map_err(redis_error)?;
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(control)
            .await
            .map_err(redis_error)?;
        for id in host_clients(&list, host, own) {
            // A client that went away by itself in between is not an error.
            let _: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("ID")
                .arg(id)
                .query_async(control)
                .await
                .map_err(redis_error)?;
        }
        Ok(())
    }

    async fn iptables(&self, action: &str, rule: &[String]) -> Result<(), NemesisError> {
        let out = tokio::process::Command::new("iptables")
            .args(iptables(action, rule))
            .output()
            .await
            .map_err(|e| self.error(format!("cannot run iptables: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(self.error(format!(
                "iptables -t nat {action} {} failed: {}",
                rule.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    fn error(&self, detail: String) -> NemesisError {
        NemesisError::Latency {
            node: self.node.clone(),
            detail,
        }
    }

    /// Removes the rule, then stops the proxy and so closes the slow connections.
    pub(super) async fn heal(mut self) -> Result<(), NemesisError> {
        if let Some(rule) = self.rule.take() {
            if let Err(e) = self.iptables("-D", &rule).await {
                self.rule = Some(rule);
                return Err(e);
            }
        }
        self.proxy = None;
        Ok(())
    }
}

impl Drop for SlowLink {
    fn drop(&mut self) {
        if let Some(rule) = self.rule.take() {
            let node = self.node.clone();
            crate::owed::owe("removing a latency rule", move || {
                let removed = std::process::Command::new("iptables")
                    .args(iptables("-D", &rule))
                    .output();
                if !removed.is_ok_and(|o| o.status.success()) {
                    tracing::error!(node = %node, rule = %rule.join(" "), "could not remove a latency rule");
                }
            });
        }
    }
}

impl Fault for Latency {
    type Guard = Vec<SlowLink>;

    fn needs(&self) -> Needs {
        Needs {
            root: Some(
                "an iptables rule on the host redirects the node's traffic into a delay proxy",
            ),
            programs: &["iptables"],
            own_network_namespace: Some(
                "its redirect rule would catch the nodes' traffic to each other, which all goes \
                 over loopback",
            ),
            not_with_app_image: Some(super::node_rules::HOST_LINK),
        }
    }

    async fn apply(
        &self,
        scene: &Scene<'_>,
        nodes: &[&Node],
    ) -> Result<Applied<Self::Guard>, NemesisError> {
        let mut links = Vec::new();
        for node in nodes {
            links.push(SlowLink::apply(scene.cluster, node, self.latency).await?);
        }
        Ok(Applied::at_once(links))
    }

    async fn heal(
        &self,
        _: &Scene<'_>,
        _: &[&Node],
        links: Self::Guard,
    ) -> Result<(), NemesisError> {
        for link in links {
            link.heal().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_the_hosts_plain_connections_only() {
        let list = "\
id=3 addr=172.29.1.1:40000 laddr=172.29.1.2:6379 fd=8 name= age=9 flags=N db=0 cmd=get
id=4 addr=172.29.1.1:40002 laddr=172.29.1.2:6379 fd=9 name= age=9 flags=P db=0 cmd=psubscribe
id=5 addr=172.29.1.3:51000 laddr=172.29.1.2:6379 fd=10 name= age=9 flags=S db=0 cmd=replconf
id=6 addr=172.29.1.1:40004 laddr=172.29.1.2:6379 fd=11 name= age=0 flags=N db=0 cmd=client|list
";
        assert_eq!(host_clients(list, "172.29.1.1", 6), vec![3]);
    }
}
