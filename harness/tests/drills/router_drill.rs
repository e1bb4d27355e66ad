//! Drilling the caller's own axum `Router` from a test, through the library's `Drill`: the
//! closure is called with where the store is, the router it returns is what the users reach, and
//! its bugs are the verdict's. The router here is the sample app's routes over its store, built by
//! the test as a user builds theirs; a store with a known bug must fail the same drill.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common;

use failover_drill::drill::Drill;
use failover_drill::report::RunReport;
use failover_drill::scenario::{Scenario, ScenarioBuilder};
use sample_app::store::{Mutant, NodeAddr, Password, SentinelStore, StoreConfig};

/// Drills the named scenario against a router whose store has `mutant`, counting the closure's
/// calls.
async fn drill_router(scenario: &str, mutant: Option<Mutant>) -> (RunReport, u32) {
    let _slot = common::a_cluster_slot().await;
    let scenario = ScenarioBuilder::from(Scenario::named(scenario).expect("built in"))
        .name(match mutant {
            None => format!("router-{scenario}"),
            Some(m) => format!("router-{scenario}-{m}"),
        })
        .build()
        .expect("valid");
    let mut scenario = scenario;
    if mutant == Some(Mutant::Pinned) {
        crate::mutants::one_attempt(&mut scenario);
    }
    let builds = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&builds);
    let report = Drill::new(scenario)
        .router(move |store| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                let sentinels = store
                    .sentinels
                    .iter()
                    .map(|(host, port)| NodeAddr::new(host.clone(), *port))
                    .collect();
                let mut config = StoreConfig::new(sentinels, store.master_name);
                config.password = store.password.map(Password::new);
                config.mutant = mutant;
                let session_store = SentinelStore::new(config, Default::default());
                Ok::<_, std::convert::Infallible>(sample_app::app(
                    session_store,
                    Duration::from_secs(3600),
                ))
            }
        })
        .out_dir(common::out_dir())
        .progress(true)
        .run()
        .await
        .expect("the drill reaches a verdict");
    common::show_and_check_removed(&report).await;
    (report, builds.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callers_router_with_a_retrying_store_passes_kill_master() {
    let (report, builds) = drill_router("kill-master", None).await;
    if common::failover_stopped_by_a_split_vote(&report) {
        return;
    }
    assert!(report.passed, "{}", report.failed_expectations().join("\n"));
    assert_eq!(builds, 1, "one instance, built once");
    assert_eq!(
        report.app_command.as_deref(),
        Some("the caller's axum Router, in process")
    );
    let recorded = std::fs::read_to_string(report.run_dir.join("scenario.toml")).expect("read");
    assert!(
        recorded.starts_with("# app: the caller's axum Router"),
        "{recorded}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callers_router_whose_store_keeps_the_dead_master_fails_kill_master() {
    let (report, _) = drill_router("kill-master", Some(Mutant::Pinned)).await;
    if common::failover_stopped_by_a_split_vote(&report) {
        return;
    }
    assert!(
        !report.passed,
        "kill-master passed a router pinned to the dead master"
    );
    let failed = report.failed_expectations();
    assert!(
        failed
            .iter()
            .any(|e| e.starts_with("user-visible errors <=")),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callers_router_crashed_mid_failover_is_built_again_and_keeps_every_session() {
    let (report, builds) = drill_router("kill-app-mid-failover", None).await;
    if common::failover_stopped_by_a_split_vote(&report) {
        return;
    }
    assert!(report.passed, "{}", report.failed_expectations().join("\n"));
    assert_eq!(builds, 3, "two instances, and the crashed one once more");
}

#[tokio::test]
async fn a_router_beside_an_app_command_is_refused_before_anything_starts() {
    let scenario = Scenario::builder("router-and-command")
        .app(|a| a.command = Some("true".to_owned()))
        .build()
        .expect("valid alone");
    let error = Drill::new(scenario)
        .router(|_| async { Ok::<_, std::convert::Infallible>(axum::Router::new()) })
        .out_dir(common::out_dir())
        .run()
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("app.command"), "{error}");
}
