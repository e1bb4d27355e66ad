//! The session store against real Redis containers (a Docker engine and the local `redis-server`
//! are needed, as for the drills):
//!
//! - `session_io`: a session write (`SET .. PXAT`) and read (`GET`) through the Sentinel-aware
//!   store, and the same commands on a plain multiplexed connection to the same master; the
//!   ratio of the two is the store's overhead.
//! - `http_round_trip`: one `GET /session` through the sample app, cookie and store included.
//! - `failover_recovery`: SIGKILL the master and time until the store's first successful write
//!   (a custom measurement, few samples: each needs a failover and the old master's return). It
//!   also prints how long after the first `+switch-master` from any sentinel that write came.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use failover_drill::cluster::node::NodeKind;
use failover_drill::cluster::{engine, Backend, Cluster};
use failover_drill::scenario::Topology;
use futures::StreamExt;
use sample_app::store::{SentinelStore, StoreConfig};
use tokio::runtime::Runtime;

/// A 60-byte session value, about what the sample app stores for a fresh session.
const SESSION: &str = r#"{"id":"bench","data":{"user":"user-1","items":[]},"expiry":1}"#;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// One of each node: enough for steady-state latency, and the quickest to start.
fn small_topology() -> Topology {
    Topology {
        replicas: 1,
        sentinels: 1,
        quorum: 1,
        ..Topology::default()
    }
}

fn start_cluster(rt: &Runtime, topology: &Topology, name: &str) -> Cluster {
    rt.block_on(async {
        let docker = engine::connect()
            .await
            .expect("a Docker engine (see README)");
        Cluster::start(Backend::Docker(docker), topology, name, &|msg| {
            eprintln!("{msg}")
        })
        .await
        .expect("the cluster starts")
    })
}

fn store_for(cluster: &Cluster) -> SentinelStore {
    SentinelStore::new(
        StoreConfig::new(cluster.sentinel_addrs(), cluster.master_name()),
        Default::default(),
    )
}

async fn store_set(store: &SentinelStore, key: &str) {
    let key = key.to_owned();
    let _: () = store
        .run(|mut conn| {
            let key = key.clone();
            async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(SESSION)
                    .arg("PX")
                    .arg(60_000)
                    .query_async(&mut conn)
                    .await
            }
        })
        .await
        .expect("store write");
}

fn session_io(c: &mut Criterion) {
    let rt = runtime();
    let cluster = start_cluster(&rt, &small_topology(), "bench-session-io");
    let (store, mut plain) = rt.block_on(async {
        let store = store_for(&cluster);
        let master = cluster.current_master().await.expect("a master");
        let client = redis::Client::open(redis::ConnectionAddr::Tcp(
            master.addr.host.clone(),
            master.addr.port,
        ))
        .expect("client");
        let plain = client
            .get_multiplexed_async_connection()
            .await
            .expect("plain connection");
        store_set(&store, "session:bench").await;
        (store, plain)
    });
    let mut group = c.benchmark_group("session_io");
    group.bench_function("store/write", |b| {
        b.to_async(&rt).iter(|| store_set(&store, "session:bench"));
    });
    group.bench_function("plain/write", |b| {
        b.to_async(&rt).iter(|| {
            let mut conn = plain.clone();
            async move {
                let _: () = redis::cmd("SET")
                    .arg("session:bench")
                    .arg(SESSION)
                    .arg("PX")
                    .arg(60_000)
                    .query_async(&mut conn)
                    .await
                    .expect("plain write");
            }
        });
    });
    group.bench_function("store/read", |b| {
        b.to_async(&rt).iter(|| async {
            let value: Option<String> = store
                .run(|mut conn| async move {
                    redis::cmd("GET")
                        .arg("session:bench")
                        .query_async(&mut conn)
                        .await
                })
                .await
                .expect("store read");
            value
        });
    });
    group.bench_function("plain/read", |b| {
        b.to_async(&rt).iter(|| async {
            let value: Option<String> = redis::cmd("GET")
                .arg("session:bench")
                .query_async(&mut plain.clone())
                .await
                .expect("plain read");
            value
        });
    });
    group.finish();
    let _ = &mut plain;
    rt.block_on(async {
        drop(store);
        cluster.shutdown().await.expect("teardown");
    });
}

fn http_round_trip(c: &mut Criterion) {
    let rt = runtime();
    let cluster = start_cluster(&rt, &small_topology(), "bench-http");
    let (client, url, server) = rt.block_on(async {
        let store = store_for(&cluster);
        let router = sample_app::app(store, Duration::from_secs(3600));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let server = tokio::spawn(sample_app::serve(listener, router, std::future::pending()));
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("HTTP client");
        client
            .post(format!("{url}/login"))
            .json(&serde_json::json!({ "user": "user-1" }))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("login");
        (client, url, server)
    });
    let mut group = c.benchmark_group("http_round_trip");
    group.bench_function("get_session", |b| {
        b.to_async(&rt).iter(|| async {
            client
                .get(format!("{url}/session"))
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .expect("GET /session")
                .bytes()
                .await
                .expect("body")
        });
    });
    group.finish();
    server.abort();
    rt.block_on(async { cluster.shutdown().await.expect("teardown") });
}

/// Subscribes to `+switch-master` on every sentinel; the task ends when the first one announces
/// a switch (the leader does, the others follow up to a second or two later), with when it came.
async fn first_switch(cluster: &Cluster) -> tokio::task::JoinHandle<Instant> {
    let mut streams = Vec::new();
    for sentinel in cluster.nodes_of(NodeKind::Sentinel) {
        let client = redis::Client::open(redis::ConnectionAddr::Tcp(
            sentinel.addr.host.clone(),
            sentinel.addr.port,
        ))
        .expect("client");
        let mut pubsub = client.get_async_pubsub().await.expect("subscribe");
        pubsub.subscribe("+switch-master").await.expect("subscribe");
        streams.push(pubsub.into_on_message());
    }
    tokio::spawn(async move {
        let mut any = futures::stream::select_all(streams);
        while let Some(msg) = any.next().await {
            if msg.get_channel_name() == "+switch-master" {
                return Instant::now();
            }
        }
        Instant::now()
    })
}

fn failover_recovery(c: &mut Criterion) {
    let rt = runtime();
    let cluster = start_cluster(&rt, &Topology::default(), "bench-failover");
    let store = rt.block_on(async {
        let store = store_for(&cluster);
        store_set(&store, "session:failover").await;
        store
    });
    // Signed: the store's own listeners and this bench's race to hear the same message.
    let mut after_switch: Vec<f64> = Vec::new();
    let mut group = c.benchmark_group("failover_recovery");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(1));
    group.bench_function("kill_master_to_first_write", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let switch = first_switch(&cluster).await;
                    let master = cluster.current_master().await.expect("a master");
                    cluster.kill(master).await.expect("kill");
                    let killed = Instant::now();
                    store_set(&store, "session:failover").await;
                    let written = Instant::now();
                    total += written - killed;
                    if let Ok(Ok(switched)) =
                        tokio::time::timeout(Duration::from_secs(5), switch).await
                    {
                        let ms = if written >= switched {
                            (written - switched).as_secs_f64() * 1e3
                        } else {
                            -(switched - written).as_secs_f64() * 1e3
                        };
                        after_switch.push(ms);
                    }
                    cluster.restart(master).await.expect("restart");
                    cluster
                        .wait_settled(master)
                        .await
                        .expect("the old master settles");
                }
                total
            })
        });
    });
    group.finish();
    after_switch.sort_by(f64::total_cmp);
    if let (Some(first), Some(last)) = (after_switch.first(), after_switch.last()) {
        let at = |q: f64| after_switch[((after_switch.len() - 1) as f64 * q).round() as usize];
        eprintln!(
            "first +switch-master from any sentinel to the store's first write over {} failovers, ms: min {:.2}, median {:.2}, p90 {:.2}, max {:.2}",
            after_switch.len(),
            first,
            at(0.5),
            at(0.9),
            last
        );
    }
    rt.block_on(async {
        drop(store);
        cluster.shutdown().await.expect("teardown");
    });
}

criterion_group!(benches, session_io, http_round_trip, failover_recovery);
criterion_main!(benches);
