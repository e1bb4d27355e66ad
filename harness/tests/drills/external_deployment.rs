//! A Sentinel deployment started by hand, outside the harness (a master, a replica and three
//! sentinels as `redis-server` processes on loopback ports), looked at as an external deployment:
//! healthy while it is, and the replica named once it dies. The harness only reads: the test
//! started every process and stops them itself, and checks they were all still running.

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use failover_drill::cluster::external::{self, Deployment};
use failover_drill::cluster::image;
use sample_app::store::NodeAddr;

/// The test's own deployment; dropping it stops every process and removes its directory.
struct HandMade {
    processes: Vec<(String, Child)>,
    dir: PathBuf,
    master: NodeAddr,
    replica: NodeAddr,
    sentinels: Vec<NodeAddr>,
}

impl Drop for HandMade {
    fn drop(&mut self) {
        for (_, child) in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

impl HandMade {
    fn start() -> Self {
        let binary = image::find_binary().expect("redis-server");
        let dir = common::out_dir().join(format!("hand-made-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("its directory");
        let loopback = |port| NodeAddr::new("127.0.0.1", port);
        let mut made = Self {
            processes: Vec::new(),
            dir: dir.clone(),
            master: loopback(free_port()),
            replica: loopback(free_port()),
            sentinels: (0..3).map(|_| loopback(free_port())).collect(),
        };
        let data_node = |name: &str, addr: &NodeAddr, replica_of: Option<&NodeAddr>| {
            let node_dir = dir.join(name);
            std::fs::create_dir_all(&node_dir).expect("a node directory");
            let mut command = Command::new(&binary);
            command
                .args(["--port", &addr.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&node_dir);
            if let Some(master) = replica_of {
                command.args(["--replicaof", &master.host, &master.port.to_string()]);
            }
            command
        };
        let master = made.master.clone();
        let mut commands = vec![
            ("master".to_owned(), data_node("master", &master, None)),
            (
                "replica".to_owned(),
                data_node("replica", &made.replica, Some(&master)),
            ),
        ];
        for (i, sentinel) in made.sentinels.iter().enumerate() {
            let conf = dir.join(format!("sentinel-{i}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "port {}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {} 2\n\
                     sentinel down-after-milliseconds mymaster 1000\n",
                    sentinel.port,
                    dir.display(),
                    master.port
                ),
            )
            .expect("a sentinel's config");
            let mut command = Command::new(&binary);
            command.arg(&conf).arg("--sentinel");
            commands.push((format!("sentinel-{i}"), command));
        }
        for (name, mut command) in commands {
            let child = command
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            made.processes.push((name, child));
        }
        made
    }

    /// Whether every process but `except` still runs.
    fn all_running_but(&mut self, except: &str) -> bool {
        self.processes
            .iter_mut()
            .filter(|(name, _)| name != except)
            .all(|(_, child)| matches!(child.try_wait(), Ok(None)))
    }

    fn kill(&mut self, name: &str) {
        let (_, child) = self
            .processes
            .iter_mut()
            .find(|(n, _)| n == name)
            .expect("a process of that name");
        child.kill().expect("SIGKILL");
        child.wait().expect("it is gone");
    }
}

/// Looks at the deployment until `done` holds for it, for at most `within`; the last look.
async fn inspect_until(
    made: &HandMade,
    within: Duration,
    done: impl Fn(&Deployment) -> bool,
) -> Deployment {
    let deadline = Instant::now() + within;
    loop {
        let seen = external::inspect(&made.sentinels[..1], "mymaster", None).await;
        match seen {
            Ok(deployment) if done(&deployment) || Instant::now() >= deadline => return deployment,
            Err(e) if Instant::now() >= deadline => panic!("never answered: {e}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_started_by_hand_is_seen_whole_and_its_dead_replica_named() {
    let _slot = common::a_cluster_slot().await;
    let mut made = HandMade::start();
    // Sentinels find replicas by INFO every 10 s and each other by hello messages every 2 s.
    let healthy = inspect_until(&made, Duration::from_secs(30), |d| {
        d.problems().is_empty() && d.sentinels.len() == 3
    })
    .await;
    println!("{}", healthy.describe().join("\n"));
    assert_eq!(healthy.problems(), Vec::<String>::new(), "{:#?}", healthy);
    assert_eq!(healthy.master(), Some(&made.master));
    assert_eq!(healthy.sentinels.len(), 3, "found from the one given");
    assert_eq!(healthy.nodes.len(), 2, "{:#?}", healthy.nodes);

    made.kill("replica");
    let replica = made.replica.to_string();
    let broken = inspect_until(&made, Duration::from_secs(15), |d| {
        d.problems()
            .iter()
            .any(|p| p.contains(&replica) && p.contains("s_down"))
    })
    .await;
    let problems = broken.problems();
    println!("{}\n{}", broken.describe().join("\n"), problems.join("\n"));
    assert!(
        problems.iter().any(|p| p.contains(&replica)),
        "{problems:#?}"
    );

    let cli = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .args(["inspect", "--sentinels", &made.sentinels[0].to_string()])
        .env_remove("FAILOVER_DRILL_REDIS_PASSWORD")
        .output()
        .expect("run the CLI");
    let said = String::from_utf8_lossy(&cli.stdout);
    assert_eq!(cli.status.code(), Some(1), "{said}");
    assert!(
        said.lines()
            .any(|l| l.starts_with("problem:") && l.contains(&replica)),
        "{said}"
    );
    assert!(
        made.all_running_but("replica"),
        "the harness stopped nothing"
    );
}

#[test]
fn inspect_with_no_sentinel_answering_says_what_to_check() {
    let port = free_port();
    let cli = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .args(["inspect", "--sentinels", &format!("127.0.0.1:{port}")])
        .output()
        .expect("run the CLI");
    let said = String::from_utf8_lossy(&cli.stderr);
    assert_eq!(cli.status.code(), Some(2), "{said}");
    assert!(said.contains("no sentinel answered"), "{said}");
}
