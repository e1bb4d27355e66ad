//! Helpers shared by the tests that start containers.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

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

/// Containers and networks labelled as the harness's, and host rules it made (of one run, or of
/// any run), one line each.
pub async fn leftovers(run_id: Option<&str>) -> Vec<String> {
    let docker = bollard::Docker::connect_with_local_defaults().expect("docker client");
    failover_drill::leftovers::find(Some(&docker), run_id)
        .await
        .expect("list leftovers")
        .describe()
}

/// The sample app's binary, built by `cargo test --workspace` for the sample app's own CLI tests.
pub fn sample_app_binary() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("a target directory")
        .to_owned();
    ["debug", "release"]
        .iter()
        .map(|profile| target.join(profile).join("sample-app"))
        .find(|p| p.is_file())
        .expect(
            "no sample-app binary: run `cargo build -p sample-app` (or `cargo test --workspace`)",
        )
}

/// The run directory a CLI summary names on its report line (`report: <dir>/report.html ...`).
pub fn run_dir_in_summary(stdout: &str) -> PathBuf {
    let line = stdout
        .lines()
        .find(|l| l.contains("report: "))
        .expect("a report line");
    let report = line
        .split("report: ")
        .nth(1)
        .and_then(|p| p.split(" (and").next())
        .expect("the report path");
    PathBuf::from(report)
        .parent()
        .expect("a run directory")
        .to_owned()
}
