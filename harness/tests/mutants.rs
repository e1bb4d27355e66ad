//! The harness must turn red on a store with a known bug, and for the right reason: each mutant of
//! the sample app's store runs the scenario that exposes it and must fail the expectation its bug
//! breaks. A mutant that passes is a hole in the harness.

mod common;

use failover_drill::run::{run, RunOptions};
use sample_app::store::Mutant;

/// Which scenario exposes each mutant, and the expectation it must fail.
const MATRIX: [(Mutant, &str, &str); 4] = [
    // The dead master's connection is all it has: every request after the kill fails.
    (Mutant::Pinned, "kill-master", "user-visible errors"),
    // Each request whose store call meets the failover answers 500 at once; the client's retries
    // may get past every one, but kill-master bounds the errors they hide at 0 too.
    (Mutant::NoRetry, "kill-master", "user-visible errors"),
    // The replica stops replicating and serves sessions missing the values appended since.
    (Mutant::StaleRead, "replicas-cut-off", "lost writes"),
    // Every tenth save is dropped after it was acknowledged.
    (Mutant::LossyAck, "reset-master-connections", "lost writes"),
];

async fn is_caught(mutant: Mutant, scenario_name: &str, finding: &str) {
    let _serial = common::one_cluster_at_a_time().await;
    let mut scenario = common::scenario(scenario_name);
    scenario.app.mutant = Some(mutant);
    let options = RunOptions {
        out_dir: common::out_dir(),
        progress: true,
    };
    let report = run(&scenario, &options).await.expect("run completes");
    report
        .write_summary(&mut std::io::stdout())
        .expect("summary");

    assert!(
        !report.passed,
        "{scenario_name} passed a store with the {mutant} bug"
    );
    let failed: Vec<&str> = report
        .expectations
        .iter()
        .filter(|e| !e.passed)
        .map(|e| e.expectation.as_str())
        .collect();
    assert!(
        failed.iter().any(|e| e.starts_with(finding)),
        "{scenario_name} failed the {mutant} store, but not on {finding}: {failed:?}"
    );
    assert_eq!(
        common::leftovers(Some(&report.run_id)).await,
        Vec::<String>::new()
    );
}

#[test]
fn the_matrix_covers_every_mutant() {
    for mutant in Mutant::ALL {
        assert!(
            MATRIX.iter().any(|(m, _, _)| *m == mutant),
            "{mutant} has no scenario that catches it"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_master_catches_a_pinned_store() {
    let (m, s, f) = MATRIX[0];
    is_caught(m, s, f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_master_catches_a_store_that_does_not_retry() {
    let (m, s, f) = MATRIX[1];
    is_caught(m, s, f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_cut_off_catches_a_store_reading_from_a_replica() {
    let (m, s, f) = MATRIX[2];
    is_caught(m, s, f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_master_connections_catches_a_store_that_acknowledges_early() {
    let (m, s, f) = MATRIX[3];
    is_caught(m, s, f).await;
}
