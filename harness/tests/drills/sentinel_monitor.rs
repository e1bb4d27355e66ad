//! The harness's own sentinel monitor keeps hearing a sentinel that was restarted: the events it
//! publishes after its restart reach the history.

use crate::common;

use std::time::Duration;

use failover_drill::cluster::node::NodeKind;
use failover_drill::cluster::{engine, Backend, Cluster};
use failover_drill::history::Recorder;
use failover_drill::monitor::SentinelMonitor;
use failover_drill::scenario::Topology;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_sentinel_is_heard_again() {
    let _slot = common::a_cluster_slot().await;
    let docker = engine::connect().await.expect("docker");
    let topology = Topology {
        replicas: 1,
        sentinels: 2,
        quorum: 1,
        ..Topology::default()
    };
    let run_id = format!("monitor-{}", std::process::id());
    let cluster = Cluster::start(Backend::Docker(docker), &topology, &run_id, &|_| {})
        .await
        .expect("cluster starts");
    let dir = common::out_dir().join(&run_id);
    std::fs::create_dir_all(&dir).expect("run directory");
    let (recorder, writer) = Recorder::create(&dir.join("history.jsonl")).expect("history");
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let monitor = SentinelMonitor::start(
        cluster.nodes_of(NodeKind::Sentinel),
        &recorder,
        move |event| {
            let _ = heard_tx.send((event.sentinel.clone(), event.channel.clone()));
        },
    )
    .await
    .expect("monitor subscribes");

    let restarted = cluster
        .nodes_of(NodeKind::Sentinel)
        .next()
        .expect("a sentinel");
    let restarted_name = restarted.name.clone();
    cluster.stop(restarted).await.expect("stop the sentinel");
    cluster
        .restart(restarted)
        .await
        .expect("restart the sentinel");
    cluster
        .wait_settled(restarted)
        .await
        .expect("the sentinel knows the master again");
    let old_master = cluster.current_master().await.expect("a master");
    cluster.request_failover().await.expect("failover accepted");
    cluster
        .wait_master_moved(old_master)
        .await
        .expect("the master moves");

    // Every sentinel publishes +switch-master when it takes the new configuration.
    let wanted = (restarted_name.clone(), "+switch-master".to_owned());
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = heard.recv().await {
            let found = event == wanted;
            seen.push(event);
            if found {
                return true;
            }
        }
        false
    })
    .await;
    drop(monitor);
    drop(recorder);
    writer.finish().await.expect("history written");
    cluster.shutdown().await.expect("cluster removed");
    assert_eq!(
        found,
        Ok(true),
        "{restarted_name} restarted and its +switch-master was not heard; heard {seen:?}"
    );
}
