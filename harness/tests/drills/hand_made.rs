//! A Sentinel deployment started by hand, outside the harness: a master, its replicas and three
//! sentinels as daemonised `redis-server` processes on loopback ports, each with its config file
//! and pid file in the test's own directory, as an operator would run them on a host. `ready`
//! waits for it with the startup waits shortened, as the harness does for its own topology, then
//! puts them back. Dropping it kills every process its pid files name (restarted ones included)
//! and removes the directory.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use failover_drill::cluster::external::{self, Deployment};
use failover_drill::cluster::image;
use sample_app::store::{NodeAddr, Password};

/// Sentinel's own periods for INFO to the nodes and hello messages, shortened while the
/// deployment starts as the harness's own topology does (`cluster/startup.rs`).
const SENTINEL_PERIODS: [&str; 2] = ["info-period", "publish-period"];

/// The test's own deployment.
pub(crate) struct HandMade {
    pub(crate) dir: PathBuf,
    pub(crate) binary: PathBuf,
    /// `(name, address)` of every node: `master`, `replica-1`..., `sentinel-1`...
    pub(crate) nodes: Vec<(String, NodeAddr)>,
    /// What every node and sentinel requires, if anything.
    pub(crate) password: Option<Password>,
    /// The nodes' ports, reserved against the drills running beside it until it is dropped.
    _ports: Vec<failover_drill::cluster::process::ReservedPort>,
}

impl Drop for HandMade {
    fn drop(&mut self) {
        for (name, _) in &self.nodes {
            if let Some(pid) = self.pid(name) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free port, reserved until the reservation is dropped.
pub(crate) fn free_port() -> failover_drill::cluster::process::ReservedPort {
    failover_drill::cluster::process::free_ports(1)
        .expect("a free port")
        .remove(0)
}

/// What every node's config file starts with: where it listens, keeps its pid and logs.
fn common_conf(dir: &Path, name: &str, port: u16) -> String {
    let node_dir = dir.join(name);
    std::fs::create_dir_all(&node_dir).expect("a node directory");
    format!(
        "port {port}\nbind 127.0.0.1\ndir {}\ndaemonize yes\npidfile {}\nlogfile {}\n",
        node_dir.display(),
        dir.join(format!("{name}.pid")).display(),
        dir.join(format!("{name}.log")).display()
    )
}

/// A connection to `addr`, waiting at most 10 s for it to listen: a daemonised `redis-server`
/// returns before its child has bound the port.
async fn connect(
    addr: &NodeAddr,
    password: Option<&Password>,
) -> redis::aio::MultiplexedConnection {
    let client = addr.client(password).expect("a client");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.get_multiplexed_async_connection().await {
            Ok(conn) => return conn,
            Err(e) if Instant::now() >= deadline => panic!("{addr} never listened: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Whether `pid` runs: a killed daemon nobody has reaped yet is a zombie, not running.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

impl HandMade {
    /// Starts a master, `replicas` replicas and three sentinels (quorum 2, 1 s
    /// down-after-milliseconds, as the harness's own topology has).
    pub(crate) fn start(tag: &str, replicas: usize) -> Self {
        Self::start_with(tag, replicas, None)
    }

    /// As `start`, every node and sentinel requiring `password` when there is one.
    pub(crate) fn start_with(tag: &str, replicas: usize, password: Option<&str>) -> Self {
        let password = password.map(Password::new);
        let binary = image::find_binary().expect("redis-server");
        let dir = common::out_dir().join(format!("hand-made-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("its directory");
        let loopback = |port| NodeAddr::new("127.0.0.1", port);
        let names = std::iter::once("master".to_owned())
            .chain((1..=replicas).map(|i| format!("replica-{i}")))
            .chain((1..=3).map(|i| format!("sentinel-{i}")));
        let ports = failover_drill::cluster::process::free_ports(replicas + 4).expect("free ports");
        let nodes: Vec<(String, NodeAddr)> = names
            .zip(&ports)
            .map(|(n, p)| (n, loopback(p.port)))
            .collect();
        let master = nodes[0].1.clone();
        let made = Self {
            dir,
            binary,
            nodes,
            password,
            _ports: ports,
        };
        for (name, addr) in &made.nodes {
            let mut conf = common_conf(&made.dir, name, addr.port);
            if name.starts_with("sentinel") {
                conf.push_str(&format!(
                    "sentinel monitor mymaster 127.0.0.1 {} 2\n\
                     sentinel down-after-milliseconds mymaster 1000\n\
                     sentinel failover-timeout mymaster 10000\n",
                    master.port
                ));
            } else {
                // The first full sync goes at once; `ready` puts Redis's 5 s delay back.
                conf.push_str("save \"\"\nappendonly no\nrepl-diskless-sync-delay 0\n");
                if name != "master" {
                    conf.push_str(&format!("replicaof 127.0.0.1 {}\n", master.port));
                }
            }
            if let Some(password) = &made.password {
                let p = password.expose();
                conf.push_str(&format!("requirepass {p}\n"));
                conf.push_str(&if name.starts_with("sentinel") {
                    format!("sentinel auth-pass mymaster {p}\n")
                } else {
                    format!("masterauth {p}\n")
                });
            }
            std::fs::write(made.conf(name), conf).expect("a config file");
            let mut command = Command::new(&made.binary);
            command.arg(made.conf(name));
            if name.starts_with("sentinel") {
                command.arg("--sentinel");
            }
            let started = command.status().expect("start redis-server");
            assert!(started.success(), "{name} did not start: {started}");
        }
        made
    }

    /// Looks at the deployment until `done` holds for it, for at most `within`; the last look.
    pub(crate) async fn inspect_until(
        &self,
        within: Duration,
        done: impl Fn(&Deployment) -> bool,
    ) -> Deployment {
        let deadline = Instant::now() + within;
        loop {
            let seen =
                external::inspect(&self.sentinels()[..1], "mymaster", self.password.as_ref()).await;
            match seen {
                Ok(deployment) if done(&deployment) || Instant::now() >= deadline => {
                    return deployment
                }
                Err(e) if Instant::now() >= deadline => panic!("never answered: {e}"),
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Waits until every sentinel knows every node and nothing is wrong, then puts back Redis's
    /// and Sentinel's own timers, so the drill runs on them; the deployment as it was then.
    pub(crate) async fn ready(&self) -> Deployment {
        let mut originals = Vec::new();
        for sentinel in self.sentinels() {
            let mut conn = connect(&sentinel, self.password.as_ref()).await;
            let listed: Vec<String> = redis::cmd("SENTINEL")
                .arg("DEBUG")
                .query_async(&mut conn)
                .await
                .expect("SENTINEL DEBUG lists its periods");
            let kept: Vec<(String, String)> = listed
                .chunks(2)
                .filter(|pair| {
                    SENTINEL_PERIODS
                        .iter()
                        .any(|p| pair[0].eq_ignore_ascii_case(p))
                })
                .map(|pair| (pair[0].clone(), pair[1].clone()))
                .collect();
            assert_eq!(kept.len(), 2, "{listed:?}");
            let mut hasten = redis::cmd("SENTINEL");
            hasten.arg("DEBUG");
            for period in SENTINEL_PERIODS {
                hasten.arg(period).arg(100);
            }
            let () = hasten
                .query_async(&mut conn)
                .await
                .expect("periods shortened");
            originals.push((sentinel, kept));
        }
        let data_nodes = self.nodes.len() - 3;
        let healthy = self
            .inspect_until(Duration::from_secs(30), |d| {
                d.problems().is_empty() && d.sentinels.len() == 3 && d.nodes.len() == data_nodes
            })
            .await;
        for (sentinel, kept) in originals {
            let mut restore = redis::cmd("SENTINEL");
            restore.arg("DEBUG");
            for (period, value) in kept {
                restore.arg(period).arg(value);
            }
            let () = restore
                .query_async(&mut connect(&sentinel, self.password.as_ref()).await)
                .await
                .expect("periods put back");
        }
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("repl-diskless-sync-delay")
            .arg(5)
            .query_async(&mut connect(self.addr("master"), self.password.as_ref()).await)
            .await
            .expect("the sync delay put back");
        healthy
    }

    /// A node's config file, which Sentinel rewrites as it reconfigures the node.
    pub(crate) fn conf(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.conf"))
    }

    pub(crate) fn addr(&self, name: &str) -> &NodeAddr {
        &self
            .nodes
            .iter()
            .find(|(n, _)| n == name)
            .expect("a node of that name")
            .1
    }

    pub(crate) fn sentinels(&self) -> Vec<NodeAddr> {
        self.nodes
            .iter()
            .filter(|(n, _)| n.starts_with("sentinel"))
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// The pid its pid file names, if that process is alive.
    pub(crate) fn pid(&self, name: &str) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join(format!("{name}.pid"))).ok()?;
        let pid: u32 = text.trim().parse().ok()?;
        alive(pid).then_some(pid)
    }

    /// Whether every node but `except` is running.
    pub(crate) fn all_running_but(&self, except: &str) -> bool {
        self.nodes
            .iter()
            .filter(|(name, _)| name != except)
            .all(|(name, _)| self.pid(name).is_some())
    }

    /// SIGKILLs a node and waits until its process is gone.
    pub(crate) fn kill(&self, name: &str) {
        let pid = self.pid(name).expect("it runs");
        let killed = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        while alive(pid) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
