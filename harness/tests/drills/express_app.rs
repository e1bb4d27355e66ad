//! The story's stack under the drill: the Express example app (examples/express) on Debian's
//! Node.js modules, in both variants. Held, it passes kill-master with no error reaching a user;
//! as in the story, its errors go to Express's error handler and only the users' reloads get past
//! them: its own scenario reports them, and the shipped kill-master, which bounds them at 0,
//! fails it on them alone.

use crate::common;

use std::path::PathBuf;

use failover_drill::report::RunReport;
use failover_drill::run::{run, RunOptions};
use failover_drill::scenario::Scenario;

fn example_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/express"))
}

/// `scenario` with the app's path made absolute: the tests run from the harness's directory.
fn with_app_path(mut scenario: Scenario) -> Scenario {
    scenario.app.command = Some(format!(
        "exec node {}",
        example_dir().join("session_app.js").display()
    ));
    scenario
}

fn example(file: &str) -> Scenario {
    with_app_path(
        Scenario::from_file(&example_dir().join(file)).expect("the example scenario parses"),
    )
}

async fn drill(scenario: &Scenario) -> RunReport {
    let _slot = common::a_cluster_slot().await;
    let options = RunOptions {
        yes: false,
        out_dir: common::out_dir(),
        progress: false,
    };
    let report = run(scenario, &options).await.expect(
        "run completes (needs node with Debian's node-express and node-redis: `bash ci/prepare.sh --tests`)",
    );
    report
        .write_summary(&mut std::io::stdout())
        .expect("summary");
    report
}

fn retried_errors(report: &RunReport) -> u64 {
    report.user_errors.absorbed_attempts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_the_express_app_passes_kill_master_with_no_error_a_user_sees() {
    let report = drill(&example("express-held-kill-master.toml")).await;
    if common::failover_stopped_by_a_split_vote(&report) {
        return;
    }
    assert!(report.passed, "{:?}", report.expectations);
    assert_eq!(retried_errors(&report), 0, "{:?}", report.user_errors);
    assert!(report.failovers[0].switch_master_ms.is_some());
}

/// One drill of the story's stack, judged twice: by its own scenario, which reports the errors a
/// reload got past, and by the shipped kill-master, which bounds them at 0. The run is the same
/// either way (the same app, workload and kill), so it is drilled once and its history assessed
/// again under kill-master's expectations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_in_the_story_only_reloads_get_past_its_errors_and_kill_master_fails_it_on_them() {
    let story = example("express-story-kill-master.toml");
    let report = drill(&story).await;
    if common::failover_stopped_by_a_split_vote(&report) {
        return;
    }
    assert!(report.passed, "{:?}", report.expectations);
    // Reported, not bounded: the 500s that the users' reloads got past.
    assert!(retried_errors(&report) > 0, "{:?}", report.user_errors);
    assert_eq!(report.user_errors.visible, 0);

    let mut kill_master = with_app_path(common::scenario("kill-master"));
    kill_master.app.env = story.app.env.clone();
    assert_eq!(
        (
            &kill_master.workload,
            &kill_master.faults,
            &kill_master.topology
        ),
        (&story.workload, &story.faults, &story.topology),
        "the story's scenario drills what kill-master drills"
    );
    let judged = common::judged_again(&report, &kill_master);
    assert!(!judged.passed);
    let failed: Vec<&str> = judged
        .expectations
        .iter()
        .filter(|x| !x.passed)
        .map(|x| x.expectation.as_str())
        .collect();
    assert_eq!(
        failed,
        ["user-visible errors a client retry got past <= 0"],
        "{:?}",
        judged.expectations
    );
}
