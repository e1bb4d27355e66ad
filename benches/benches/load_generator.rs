//! How fast the load generator drives the sample app compared with `wrk` (Debian's `wrk`
//! package) against the same endpoint, `GET /session` with a live session, on the same machine
//! in one run: first wrk, then failover-drill's open model with reads only, at a rate no machine
//! reaches, recording the full history to disk. Each load generator gets two threads of its own
//! (wrk is a separate process); the app keeps the bench runtime's two. Prints both rates and
//! their ratio.
//!
//! Run with: `cargo bench -p failover-drill-benches --bench load_generator`

use std::process::Command;
use std::time::{Duration, Instant};

use failover_drill::cluster::{engine, Cluster};
use failover_drill::history::Recorder;
use failover_drill::scenario::{LoadModel, Topology, Workload};
use sample_app::store::{SentinelStore, StoreConfig};

const SECONDS: u64 = 10;
const CONNECTIONS: u32 = 20;

fn wrk_rate(url: &str, cookie: &str) -> f64 {
    let out = Command::new("wrk")
        .args(["-t", "2", "-c", &CONNECTIONS.to_string(), "-d"])
        .arg(format!("{SECONDS}s"))
        .args(["-H", &format!("Cookie: {cookie}")])
        .arg(format!("{url}/session"))
        .output()
        .expect("wrk is needed: apt-get install -y wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("wrk printed Requests/sec")
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let topology = Topology {
            replicas: 1,
            sentinels: 1,
            quorum: 1,
            ..Topology::default()
        };
        let docker = engine::connect().await.expect("a Docker engine (see README)");
        let cluster = Cluster::start(docker, &topology, "bench-loadgen", &|m| eprintln!("{m}"))
            .await
            .expect("the cluster starts");
        let store = SentinelStore::new(
            StoreConfig::new(cluster.sentinel_addrs(), cluster.master_name()),
            Default::default(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let router = sample_app::app(store, Duration::from_secs(3600));
        let server = tokio::spawn(sample_app::serve(listener, router, std::future::pending()));

        let login = reqwest::Client::new()
            .post(format!("{url}/login"))
            .json(&serde_json::json!({ "user": "user-1" }))
            .send()
            .await
            .expect("login");
        let cookie = login
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let wrk = tokio::task::spawn_blocking({
            let url = url.clone();
            move || wrk_rate(&url, &cookie)
        })
        .await
        .expect("wrk ran");

        let dir = std::env::temp_dir().join("failover-drill-loadgen");
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let (recorder, writer) =
            Recorder::create(&dir.join("history.jsonl")).expect("a history file");
        let workload = Workload {
            model: LoadModel::Open,
            users: CONNECTIONS,
            rate: 1_000_000.0,
            write_every: 0,
            duration: Duration::from_secs(SECONDS),
            ..Workload::default()
        };
        // On threads of its own, as wrk is: the app keeps the bench runtime's two workers.
        let (ops, elapsed) = tokio::task::spawn_blocking(move || {
            let own = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("load-generator")
                .enable_all()
                .build()
                .expect("the load generator's runtime");
            own.block_on(async {
                let started = Instant::now();
                let ops = failover_drill::workload::run(&workload, &[url], &recorder, started)
                    .await
                    .expect("the workload runs");
                (ops, started.elapsed().as_secs_f64())
            })
        })
        .await
        .expect("the load generator ran");
        let records = writer.finish().await.expect("the history is written");
        let ours = ops.operations as f64 / elapsed;
        println!(
            "wrk: {wrk:.0} req/s; failover-drill open model, reads only, full history: {ours:.0} ops/s \
             ({} records, {} due but never started) over {elapsed:.1} s; ratio {:.2}",
            records,
            ops.not_started,
            ours / wrk
        );
        server.abort();
        cluster.shutdown().await.expect("teardown");
    });
}
