//! The app under test as a separate process started from a command line: the sample app's own
//! binary passes kill-master the way the in-process one does, and a command that dies or never
//! becomes healthy gets one clear error with nothing left running.

use crate::common;

use std::time::Duration;

use failover_drill::run::{run, RunError, RunOptions};

fn options() -> RunOptions {
    RunOptions {
        yes: false,
        out_dir: common::out_dir(),
        progress: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_master_passes_with_the_sample_app_as_a_process() {
    let _serial = common::a_cluster_slot().await;
    let mut scenario = common::scenario("kill-master");
    scenario.app.command = Some(format!(
        "exec {} --listen $FAILOVER_DRILL_LISTEN --sentinels $FAILOVER_DRILL_SENTINELS \
         --master-name $FAILOVER_DRILL_MASTER_NAME",
        common::sample_app_binary().display()
    ));
    let report = run(&scenario, &options()).await.expect("run completes");
    sample_app_passed_outside(&report, "listening on http://127.0.0.1:").await;
}

/// The sample app, run outside the harness, passed: every user recovered, its own counters and
/// output were collected, and nothing of the run is left.
async fn sample_app_passed_outside(report: &failover_drill::report::RunReport, listening: &str) {
    report
        .write_summary(&mut std::io::stdout())
        .expect("summary");
    if common::failover_stopped_by_a_split_vote(report) {
        return;
    }
    assert!(report.passed, "{:?}", report.expectations);
    let failover = &report.failovers[0];
    assert_eq!(failover.users_recovered, failover.users);
    assert!(
        report.app_metrics["sample_app_store_retries_total"] > 0.0,
        "the app's own counters were read"
    );
    let log = std::fs::read_to_string(report.run_dir.join("app-0.log")).expect("the app's log");
    assert!(log.contains(listening), "{log}");
    assert_eq!(
        common::leftovers(Some(&report.run_id)).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_exits_or_never_answers_gets_one_clear_error() {
    let _serial = common::a_cluster_slot().await;
    // Its own run directory, so the leftovers looked at are its runs' alone.
    let out_dir = common::out_dir().join(format!("app-exits-{}", std::process::id()));
    let options = RunOptions {
        yes: false,
        out_dir: out_dir.clone(),
        progress: true,
    };
    let mut scenario = common::scenario("kill-master");
    scenario.app.command = Some("echo cannot reach the database >&2; exit 3".into());
    let err = run(&scenario, &options).await.expect_err("the app exits");
    let msg = err.to_string();
    assert!(
        matches!(err, RunError::App(_)) && msg.contains("exit status: 3"),
        "{msg}"
    );
    assert!(msg.contains("cannot reach the database"), "{msg}");

    // The test's pid in the sleep's length finds the process if it outlived the run.
    let marker = std::process::id();
    scenario.app.command = Some(format!("exec sleep 6{marker}"));
    scenario.app.health_timeout = Duration::from_secs(1);
    let err = run(&scenario, &options).await.expect_err("never healthy");
    let msg = err.to_string();
    assert!(msg.contains("did not become healthy"), "{msg}");
    let ps = std::process::Command::new("pgrep")
        .args(["-f", &format!("sleep 6{marker}")])
        .output()
        .expect("pgrep");
    assert!(
        ps.stdout.is_empty(),
        "the app process outlived the run: {}",
        String::from_utf8_lossy(&ps.stdout)
    );
    assert_eq!(common::run_ids_under(&out_dir).len(), 2, "two runs");
    assert_eq!(
        common::leftovers_under(&out_dir).await,
        Vec::<String>::new()
    );
}

fn python_example() -> failover_drill::scenario::Scenario {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/python"));
    let mut scenario =
        failover_drill::scenario::Scenario::from_file(&dir.join("python-kill-master.toml"))
            .expect("the example scenario parses");
    scenario.app.command = Some(format!(
        "exec python3 {}",
        dir.join("session_app.py").display()
    ));
    scenario
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_app_passes_kill_master_through_its_own_routes() {
    let _serial = common::a_cluster_slot().await;
    let report = run(&python_example(), &options())
        .await
        .expect("run completes (needs python3 with redis-py: `pip install redis`)");
    let mut summary = Vec::new();
    report.write_summary(&mut summary).expect("summary");
    let summary = String::from_utf8_lossy(&summary);
    println!("{summary}");
    if common::failover_stopped_by_a_split_vote(&report) {
        return;
    }
    assert!(report.passed, "{:?}", report.expectations);
    // The app exports no store counters: the summary says so instead of printing zeros.
    assert!(
        summary.contains(
            "app store: retries, errors, rediscoveries and +switch-master messages not reported by the app"
        ),
        "{summary}"
    );
    assert_eq!(
        report.failovers[0].users_recovered,
        report.failovers[0].users
    );
    assert!(report.operations > 1000, "{}", report.operations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_python_app_fails_when_probed_on_routes_it_does_not_have() {
    let _serial = common::a_cluster_slot().await;
    let mut scenario = python_example();
    scenario.app.contract = Default::default();
    scenario.faults.clear();
    scenario.workload.duration = Duration::from_secs(3);
    let report = run(&scenario, &options()).await.expect("run completes");
    assert!(!report.passed);
    // Every login hits a 404 and reaches the user; nothing is read as a session.
    assert!(report.user_errors.visible > 0, "{:?}", report.user_errors);
    assert_eq!(report.user_errors.absorbed_attempts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_master_passes_with_the_sample_app_as_a_container_image() {
    let _serial = common::a_cluster_slot().await;
    // The sample app's binary as a one-program image, as a user's CI would have built theirs.
    let docker = failover_drill::cluster::engine::connect()
        .await
        .expect("a Docker engine");
    let image = failover_drill::cluster::image::ImageRef {
        repo: "failover-drill/sample-app-under-test".into(),
        tag: std::process::id().to_string(),
    };
    failover_drill::cluster::image::import_binary(
        &docker,
        &common::sample_app_binary(),
        "/sample-app",
        &image,
    )
    .await
    .expect("import the sample app as an image");

    let mut scenario = common::scenario("kill-master");
    scenario.app.image = Some(image.to_string());
    // The sample app reads its own variable names; the harness fills them in.
    for (name, value) in [
        ("SAMPLE_APP_LISTEN", "${FAILOVER_DRILL_LISTEN}"),
        ("SENTINEL_ADDRS", "${FAILOVER_DRILL_SENTINELS}"),
        ("MASTER_NAME", "${FAILOVER_DRILL_MASTER_NAME}"),
    ] {
        scenario.app.env.insert(name.into(), value.into());
    }
    let report = run(&scenario, &options()).await;
    let removed = docker
        .remove_image(
            &image.to_string(),
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .map(|_| ());
    let report = report.expect("run completes");
    sample_app_passed_outside(&report, "listening on http://0.0.0.0:8080").await;
    removed.expect("remove the test image");
}
