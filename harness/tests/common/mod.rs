//! Helpers shared by the tests that start containers.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::query_parameters::{ListContainersOptions, ListNetworksOptions};
use failover_drill::cluster::RUN_LABEL;
use failover_drill::scenario::Scenario;

static CLUSTERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Serialises the tests of one binary that start clusters: on 2 cores, two failovers at once
/// starve each other and time nothing true. Cargo already runs test binaries one at a time. An
/// async mutex: each test has its own runtime, and a failed test must not poison the next.
pub async fn one_cluster_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    CLUSTERS.lock().await
}

pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}

pub fn scenario(name: &str) -> Scenario {
    Scenario::find(name, &scenarios_dir()).expect("shipped scenario")
}

pub fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("drill-runs")
}

fn label_filter(run_id: Option<&str>) -> HashMap<String, Vec<String>> {
    let label = match run_id {
        Some(id) => format!("{RUN_LABEL}={id}"),
        None => RUN_LABEL.to_owned(),
    };
    HashMap::from([("label".to_owned(), vec![label])])
}

/// The host's latency rules (they carry `failover-drill:<run>` as a comment), of one run or any.
fn host_rules(run_id: Option<&str>) -> Vec<String> {
    let tag = format!("failover-drill:{}", run_id.unwrap_or(""));
    let Ok(out) = std::process::Command::new("iptables")
        .args(["-w", "-t", "nat", "-S", "OUTPUT"])
        .output()
    else {
        return Vec::new(); // no iptables: no rule can have been made
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|rule| rule.contains(&tag))
        .map(str::to_owned)
        .collect()
}

/// Containers and networks labelled as the harness's, and host rules it made (of one run, or of
/// any run), by name.
pub async fn leftovers(run_id: Option<&str>) -> Vec<String> {
    let docker = bollard::Docker::connect_with_local_defaults().expect("docker client");
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(label_filter(run_id)),
            ..Default::default()
        }))
        .await
        .expect("list containers");
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(label_filter(run_id)),
        }))
        .await
        .expect("list networks");
    containers
        .into_iter()
        .flat_map(|c| c.names.unwrap_or_default())
        .chain(networks.into_iter().filter_map(|n| n.name))
        .chain(host_rules(run_id))
        .collect()
}
