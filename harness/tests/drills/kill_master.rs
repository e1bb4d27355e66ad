//! kill-master against real containers: the correct store passes, and a store whose failover
//! errors reach users is failed for it.

use crate::common;

use std::time::Duration;

use failover_drill::checker::Class;
use failover_drill::run::{run, RunOptions};
use failover_drill::scenario::Scenario;

fn options() -> RunOptions {
    RunOptions {
        yes: false,
        out_dir: common::out_dir(),
        progress: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_master_keeps_every_user_working() {
    let _serial = common::a_cluster_slot().await;
    let scenario = common::scenario("kill-master");
    let report = run(&scenario, &options()).await.expect("run completes");
    report
        .write_summary(&mut std::io::stdout())
        .expect("summary");
    if common::failover_stopped_by_a_split_vote(&report) {
        return;
    }

    assert!(
        report.passed,
        "expectations failed: {:?}",
        report.expectations
    );
    assert_eq!(report.findings.count(Class::LostSession), 0);
    assert_eq!(report.user_errors.visible, 0);
    assert!(
        report.operations > 1_000,
        "only {} operations",
        report.operations
    );

    let failover = &report.failovers[0];
    assert_eq!(
        failover.node, "redis-1",
        "the first master is the one killed"
    );
    assert!(
        failover.switch_master_ms.is_some(),
        "sentinels announced +switch-master"
    );
    let odown = failover
        .odown_ms
        .expect("the sentinels agreed the master was down");
    let app = failover
        .app_first_success_ms
        .expect("the app wrote to the new master");
    // A replica is promoted only after +odown; the leader may name it before any +switch-master
    // is published, so +odown is the earliest milestone the app's recovery must follow.
    assert!(
        app > odown,
        "the app cannot succeed on a new master before the failover began"
    );
    assert_eq!(
        failover.users_recovered, failover.users,
        "every user worked again"
    );
    assert!(failover.last_user_success_ms.is_some());
    assert!(
        failover.settled_ms.is_some(),
        "the old master came back as a replica"
    );
    assert_ne!(failover.new_master.as_deref(), Some(failover.addr.as_str()));
    assert!(report.run_dir.join("report.json").is_file());
    assert!(report.run_dir.join("report.html").is_file());
    assert!(report.run_dir.join("latency/during-all.hgrm").is_file());
    assert!(report.run_dir.join("history.jsonl").is_file());
    assert!(
        report.app_metrics["sample_app_store_retries_total"] > 0.0,
        "the store must have retried through the failover"
    );

    assert_eq!(
        common::leftovers(Some(&report.run_id)).await,
        Vec::<String>::new()
    );

    // The run says what it ran and with what: the scenario with every default, read back as one.
    let written =
        std::fs::read_to_string(report.run_dir.join("scenario.toml")).expect("scenario.toml");
    let back =
        Scenario::parse(&written, std::path::Path::new("scenario.toml")).expect("a scenario");
    assert_eq!(back, scenario);
    assert_eq!(report.schema_version, 1);
    assert_eq!(report.tool_version, env!("CARGO_PKG_VERSION"));
    assert!(
        report
            .started_at
            .as_deref()
            .is_some_and(|t| t.ends_with('Z')),
        "{:?}",
        report.started_at
    );
    assert!(report.settings.is_some());

    // The same history under bounds on time below what the failover took: each is failed by
    // name, with the time measured.
    let shipped: Vec<&str> = report
        .expectations
        .iter()
        .map(|e| e.expectation.as_str())
        .collect();
    assert!(
        shipped.contains(&"longest a user could not work <= 8s"),
        "kill-master bounds the outage: {shipped:?}"
    );
    let mut strict = scenario.clone();
    strict.expectations.longest_unavailable = Some(Duration::from_millis(100));
    strict.expectations.failover_within = Some(Duration::from_millis(100));
    let judged = common::judged_again(&report, &strict);
    let failed: Vec<&str> = judged
        .expectations
        .iter()
        .filter(|e| !e.passed)
        .map(|e| e.expectation.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "longest a user could not work <= 100ms",
            "+switch-master after fault 1 (kill) <= 100ms"
        ]
    );
    // What a CI system reads of that failed run.
    let errors = judged.github_errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "::error title=failover-drill kill-master::expected longest a user could not work <= 100ms, was "
        ),
        "{errors:?}"
    );
    let mut xml = Vec::new();
    judged.write_junit(&mut xml).expect("JUnit XML");
    let parsed = junit_parser::from_reader(xml.as_slice()).expect("a JUnit parser reads it");
    assert_eq!(parsed.failures, 2);
    assert!(judged
        .markdown_summary()
        .contains("| longest a user could not work <= 100ms |"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_gives_up_at_once_is_failed() {
    let _serial = common::a_cluster_slot().await;
    let mut scenario = common::scenario("kill-master");
    // The Express app of the story: no retry worth the name in the store, none in the client.
    scenario.app.store_retry_deadline = Duration::from_millis(50);
    scenario.workload.retry.attempts = 1;
    scenario.workload.duration = Duration::from_secs(12);
    let report = run(&scenario, &options()).await.expect("run completes");
    report
        .write_summary(&mut std::io::stdout())
        .expect("summary");
    if common::failover_stopped_by_a_split_vote(&report) {
        return;
    }

    assert!(
        !report.passed,
        "a store that lets failover errors through must fail"
    );
    assert!(report.user_errors.visible > 0);
    let failed = report
        .expectations
        .iter()
        .find(|e| !e.passed)
        .expect("a failed expectation");
    assert!(
        failed.expectation.starts_with("user-visible errors"),
        "{failed:?}"
    );
    assert!(report.app_metrics["sample_app_unavailable_responses_total"] > 0.0);
    assert_eq!(
        common::leftovers(Some(&report.run_id)).await,
        Vec::<String>::new()
    );
}
