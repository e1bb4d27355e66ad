//! The Rust session stores people take from crates.io under the drill: an axum app with
//! tower-sessions-redis-store (fred) and one with redis-rs's own `sentinel` module
//! (examples/axum-fred, examples/axum-redis-rs), each set up as its documentation shows and then
//! in the configuration that survives, against the shipped kill-master. The apps are their own
//! workspace (examples/Cargo.toml); the first test to need them builds them into this target
//! directory before it takes a cluster slot (`ci/test.sh` has built them already).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use failover_drill::report::RunReport;
use failover_drill::run::{run, RunOptions};

fn target_dir() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the tests' temporary directory sits in the target directory")
}

/// The example app `bin`, built once for every test of this binary.
fn example_app(bin: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/Cargo.toml");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // At a low priority: other tests' drills may be running beside this build.
        let status = Command::new("nice")
            .args(["-n", "15"])
            .arg(cargo)
            .args([
                "build",
                "--quiet",
                "--manifest-path",
                manifest,
                "--target-dir",
            ])
            .arg(target_dir())
            .status()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("cargo build of {manifest} failed: {status}"))
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    target_dir().join("debug").join(bin)
}

/// The shipped kill-master against example app `bin`, with `env` set for it.
async fn kill_master(bin: &str, env: (&str, &str)) -> RunReport {
    kill_master_with(bin, env, |_| ()).await
}

/// [`kill_master`], with the scenario changed by `adjust` first.
async fn kill_master_with(
    bin: &str,
    env: (&str, &str),
    adjust: fn(&mut failover_drill::scenario::Scenario),
) -> RunReport {
    let mut scenario = common::scenario("kill-master");
    adjust(&mut scenario);
    scenario.app.command = Some(format!("exec {}", example_app(bin).display()));
    scenario.app.env.insert(env.0.into(), env.1.into());
    let _slot = common::a_cluster_slot().await;
    let options = RunOptions {
        yes: false,
        out_dir: common::out_dir(),
        progress: false,
    };
    let report = run(&scenario, &options).await.expect("the drill completes");
    report
        .write_summary(&mut std::io::stdout())
        .expect("summary");
    report
}

/// The expectations `report` failed, by name.
fn failed(report: &RunReport) -> Vec<&str> {
    report
        .expectations
        .iter()
        .filter(|x| !x.passed)
        .map(|x| x.expectation.as_str())
        .collect()
}

/// Checks that `report` failed kill-master on errors left to users alone, and that no user worked
/// again after the kill.
fn assert_every_user_stuck(report: &RunReport) {
    if common::failover_stopped_by_a_split_vote(report) {
        return;
    }
    assert!(!report.passed);
    assert_eq!(
        failed(report),
        ["user-visible errors <= 0"],
        "{:?}",
        report.expectations
    );
    assert_eq!(
        report.user_errors.never_recovered, report.failovers[0].users as u64,
        "{:?}",
        report.user_errors
    );
}

/// Checks that `report` passed kill-master through a real switch without a single failed request.
fn assert_passed_without_error(report: &RunReport) {
    if common::failover_stopped_by_a_split_vote(report) {
        return;
    }
    assert!(report.passed, "{:?}", report.expectations);
    assert_eq!(
        report.user_errors.failed_attempts, 0,
        "{:?}",
        report.user_errors
    );
    assert!(report.failovers[0].switch_master_ms.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fred_as_the_store_readme_sets_it_up_never_reconnects_after_the_master_dies() {
    // No reconnect policy: the pool's connections end with the master, and so does every user.
    // Its requests hang to the request timeout: with reloads the drill took almost 3 minutes.
    let readme = kill_master_with(
        "axum-fred",
        ("FRED_CONFIG", "readme"),
        crate::mutants::one_attempt,
    );
    assert_every_user_stuck(&readme.await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fred_configured_for_failover_passes_kill_master_with_no_error() {
    assert_passed_without_error(&kill_master("axum-fred", ("FRED_CONFIG", "failover")).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rs_keeping_its_first_connection_loses_every_user_to_the_dead_master() {
    assert_every_user_stuck(&kill_master("axum-redis-rs", ("REDIS_RS_ON_ERROR", "keep")).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rs_reconnecting_through_its_sentinel_client_passes_kill_master() {
    assert_passed_without_error(
        &kill_master("axum-redis-rs", ("REDIS_RS_ON_ERROR", "reconnect")).await,
    );
}
