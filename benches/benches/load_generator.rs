//! How fast the load generator drives the sample app compared with `wrk` (Debian's `wrk`
//! package) against the same endpoint, `GET /session` with a live session, on the same machine
//! in one run. Three rounds alternate wrk and failover-drill's open model with reads only at a
//! rate no machine reaches, recording the full history to disk; then the open model runs at 0.7x
//! wrk's mean rate to show whether it keeps that schedule (requests not started, requests started
//! over 1 ms late). Each load generator gets two threads of its own (wrk is a separate process);
//! the app keeps the bench runtime's two. Prints each round's rates and the ratios.
//!
//! Run with: `cargo bench -p failover-drill-benches --bench load_generator`

use std::process::Command;
use std::time::{Duration, Instant};

use failover_drill::cluster::{engine, Backend, Cluster};
use failover_drill::history::Recorder;
use failover_drill::scenario::{LoadModel, Topology, Workload};
use sample_app::store::{SentinelStore, StoreConfig};

const SECONDS: u64 = 5;
const ROUNDS: u32 = 3;
const SUSTAINED_USERS: u32 = 100;
/// An arrival rate no machine reaches: every user always has a request due.
const SATURATING_RATE: f64 = 1_000_000.0;
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

/// What one load generator run did.
struct Generated {
    /// Operations per second of wall time.
    rate: f64,
    records: u64,
    not_started: u64,
    /// Operations whose first attempt started more than 1 ms after it was due.
    late: u64,
}

/// Runs the open model, reads only, at `rate` against `url` for `SECONDS`, on two threads of its
/// own as wrk has (the app keeps the bench runtime's two), recording the full history to disk.
async fn generate(url: &str, users: u32, rate: f64, name: &str) -> Generated {
    let dir = std::env::temp_dir().join("failover-drill-loadgen");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(format!("{name}.jsonl"));
    let (recorder, writer) = Recorder::create(&path).expect("a history file");
    let workload = Workload {
        model: LoadModel::Open,
        users,
        rate,
        write_every: 0,
        duration: Duration::from_secs(SECONDS),
        ..Workload::default()
    };
    let url = url.to_owned();
    let (outcome, elapsed) = tokio::task::spawn_blocking(move || {
        let own = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("load-generator")
            .enable_all()
            .build()
            .expect("the load generator's runtime");
        own.block_on(async {
            let started = Instant::now();
            // No final reads here: the users, and the recorder they hold, go at once.
            let (outcome, _users) = failover_drill::workload::run(
                &workload,
                &Default::default(),
                &[url],
                &recorder,
                &Default::default(),
                started,
            )
            .await
            .expect("the workload runs");
            (outcome, started.elapsed().as_secs_f64())
        })
    })
    .await
    .expect("the load generator ran");
    let records = writer.finish().await.expect("the history is written");
    let late = late_starts(&path);
    Generated {
        rate: outcome.operations as f64 / elapsed,
        records,
        not_started: outcome.not_started,
        late,
    }
}

/// Operations in the history at `path` whose first attempt began over 1 ms after it was due.
fn late_starts(path: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(path).expect("the history reads back");
    let history = failover_drill::history::History::from_jsonl(&text).expect("a valid history");
    history
        .operations()
        .filter(|op| {
            op.attempts
                .first()
                .is_some_and(|a| a.started_at.saturating_sub(op.intended_at) > 1_000)
        })
        .count() as u64
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
        let cluster = Cluster::start(Backend::Docker(docker), &topology, "bench-loadgen", &|m| eprintln!("{m}"))
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
        // Rounds alternate so that drift in the machine's speed falls on both sides alike.
        let (mut wrk_total, mut ours_total) = (0.0, 0.0);
        for round in 1..=ROUNDS {
            let wrk = tokio::task::spawn_blocking({
                let (url, cookie) = (url.clone(), cookie.clone());
                move || wrk_rate(&url, &cookie)
            })
            .await
            .expect("wrk ran");
            let ours = generate(&url, CONNECTIONS, SATURATING_RATE, &format!("round-{round}")).await;
            println!(
                "round {round}: wrk {wrk:.0} req/s; failover-drill {:.0} ops/s ({} records); ratio {:.2}",
                ours.rate,
                ours.records,
                ours.rate / wrk
            );
            wrk_total += wrk;
            ours_total += ours.rate;
        }
        let wrk_mean = wrk_total / f64::from(ROUNDS);
        println!(
            "saturated: wrk {wrk_mean:.0} req/s, failover-drill {:.0} ops/s (open model, reads only, \
             full history), ratio {:.2}",
            ours_total / f64::from(ROUNDS),
            ours_total / wrk_total
        );
        // An open model is judged by whether it keeps its schedule: 0.7x wrk's rate, every request
        // started on time or counted as not started. With wrk's 20 connections each user would be
        // busy 70% of the time and requests would queue behind the app's answers, so this run has
        // more users; what is late then is late because of the generator or the app's capacity.
        let target = 0.7 * wrk_mean;
        let kept = generate(&url, SUSTAINED_USERS, target, "sustained").await;
        println!(
            "sustained at 0.7x wrk = {target:.0}/s with {SUSTAINED_USERS} users for {SECONDS} s: \
             {:.0} ops/s, {} due but never started, {} of {} started more than 1 ms late",
            kept.rate, kept.not_started, kept.late, kept.records
        );
        server.abort();
        cluster.shutdown().await.expect("teardown");
    });
}
