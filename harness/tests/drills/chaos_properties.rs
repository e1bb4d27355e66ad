//! Random fault schedules against real containers: proptest draws one or two faults (kind, target,
//! start, duration, within bounds a correct store survives) and runs each schedule as a scenario
//! whose expectations are the property: no lost session, no user-visible error. A failing
//! schedule is shrunk to a minimal one and printed as a scenario file, ready to commit under
//! `scenarios/`.
//!
//! - `FAILOVER_DRILL_CHAOS_CASES`: schedules to run (default 2; each is a real drill of 15-35 s).
//! - `FAILOVER_DRILL_CHAOS_SEED`: the seed (default 1, so CI runs the same schedules every time);
//!   the same seed draws the same schedules.
//! - `FAILOVER_DRILL_CHAOS_SHRINK`: most shrink steps after a failure (default 6), each a drill.

use crate::common;

use std::time::Duration;

use failover_drill::run::{run, RunOptions};
use failover_drill::scenario::kinds::{Kill, ManualFailover, Partition, Pause, Reset, Stop};
use failover_drill::scenario::{
    Bound, Cut, FailoverExpectation, FaultAction, FaultSpec, Persistence, Scenario, Target,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

fn env_or(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not '{v}'")),
        Err(_) => default,
    }
}

/// One fault that starts at `at`: what, whom, how long.
fn fault(at: Duration) -> impl Strategy<Value = FaultSpec> {
    let action = prop_oneof![
        Just(FaultAction::Kill(Kill::default())),
        Just(FaultAction::Stop(Stop::default())),
        Just(FaultAction::Pause(Pause::default())),
        Just(FaultAction::Partition(Partition { cut: Cut::All })),
        Just(FaultAction::Partition(Partition { cut: Cut::App })),
        Just(FaultAction::Reset(Reset { cut: Cut::App })),
        Just(FaultAction::ManualFailover(ManualFailover::default())),
    ];
    let target = prop_oneof![
        3 => Just(Target::Master),
        1 => Just(Target::Replica),
        1 => Just(Target::Sentinel),
    ];
    (action, target, 1_000u64..4_000).prop_map(move |(action, target, ms)| {
        let manual = !action.kind().lasts();
        // A master away past down-after (1 s) that comes back before Sentinel has promoted a
        // replica (about 2 s on an idle machine, longer on a loaded one) takes writes as master,
        // and the promoted replica lacks them: two masters, Redis's documented hazard, which no
        // store can get past. A kill of 1.2 s lost a session so in CI whenever the machine was
        // loaded. Such a fault lasts past kill-master's bound on the switch (5 s) instead.
        let sentinels_replace_it = target == Target::Master
            && matches!(
                action,
                FaultAction::Kill(_)
                    | FaultAction::Stop(_)
                    | FaultAction::Pause(_)
                    | FaultAction::Partition(Partition { cut: Cut::All })
            );
        let ms = if sentinels_replace_it { ms + 4_000 } else { ms };
        FaultSpec {
            target: Some(if manual { Target::Master } else { target }),
            at,
            duration: if manual {
                Duration::ZERO
            } else {
                // Whole 100 ms steps keep the printed scenario readable.
                Duration::from_millis(ms / 100 * 100)
            },
            count: 1,
            every: None,
            jitter: None,
            action,
        }
    })
}

/// One or two faults, the second after the first has healed and the cluster has had time to
/// settle, so every schedule is one a correct store must survive.
fn schedule() -> impl Strategy<Value = Vec<FaultSpec>> {
    let first = fault(Duration::from_secs(3));
    (first, proptest::option::of(4_000u64..8_000)).prop_flat_map(|(first, gap)| {
        let end = first.at + first.duration;
        match gap {
            None => Just(vec![first]).boxed(),
            Some(gap) => fault(end + Duration::from_millis(gap / 100 * 100))
                .prop_map(move |second| vec![first.clone(), second])
                .boxed(),
        }
    })
}

fn describe(f: &FaultSpec) -> String {
    let cut = f
        .action
        .cut()
        .map(|c| format!(" cut {c:?}"))
        .unwrap_or_default();
    format!(
        "{} {}{cut} at {:?} for {:?}",
        f.kind(),
        String::from(f.target()),
        f.at,
        f.duration
    )
}

fn scenario_of(faults: Vec<FaultSpec>, seed: u64) -> Scenario {
    let mut scenario = common::scenario("kill-master");
    scenario.name = format!("chaos-seed-{seed}");
    scenario.description =
        format!("a random fault schedule drawn with FAILOVER_DRILL_CHAOS_SEED={seed} that failed");
    let end = faults
        .iter()
        .map(|f| f.at + f.duration)
        .max()
        .unwrap_or_default();
    scenario.workload.duration = end + Duration::from_secs(6);
    scenario.faults = faults;
    // Without persistence a master killed for less than Sentinel needs to fail over (about 2 s)
    // restarts empty, its replicas copy the empty data set and every session is gone: the first
    // schedule this test found (a kill of 1 s). That is Redis's documented hazard, not the store's
    // bug, so the schedules run with the append-only file on.
    scenario.topology.persistence = Persistence::Aof;
    scenario.expectations.failover = FailoverExpectation::Any;
    // Asynchronous replication may lose, roll back or serve stale data under any of these
    // faults; what must hold is every session kept and every error retried away.
    scenario.expectations.retried_errors = Bound::Report;
    scenario.expectations.lost_writes = Bound::Report;
    scenario.expectations.rollbacks = Bound::Report;
    scenario.expectations.stale_reads = Bound::Report;
    // kill-master's bounds on time are about its one kill; a random schedule may hold the master
    // without a failover (a reset, a cut from the app), and how long things take is no part of
    // surviving.
    scenario.expectations.failover_within = None;
    scenario.expectations.longest_unavailable = None;
    scenario
}

fn runner(seed: u64, cases: u32, shrink: u32) -> TestRunner {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        max_shrink_iters: shrink,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

/// The schedules `runner` draws for `cases` cases, without running them.
fn drawn(seed: u64, cases: u32) -> Vec<Vec<String>> {
    let mut runner = runner(seed, cases, 0);
    (0..cases)
        .map(|_| {
            schedule()
                .new_tree(&mut runner)
                .expect("a schedule")
                .current()
                .iter()
                .map(describe)
                .collect()
        })
        .collect()
}

#[test]
fn the_same_seed_draws_the_same_schedules() {
    assert_eq!(drawn(7, 5), drawn(7, 5));
    assert_ne!(drawn(7, 5), drawn(8, 5), "another seed, other schedules");
}

#[test]
fn a_correct_store_survives_random_fault_schedules() {
    let seed = env_or("FAILOVER_DRILL_CHAOS_SEED", 1);
    let cases = env_or("FAILOVER_DRILL_CHAOS_CASES", 2) as u32;
    let shrink = env_or("FAILOVER_DRILL_CHAOS_SHRINK", 6) as u32;
    println!("chaos schedules: seed {seed}, {cases} cases (FAILOVER_DRILL_CHAOS_SEED, _CASES)");
    let mut runner = runner(seed, cases, shrink);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let options = RunOptions {
        yes: false,
        out_dir: common::out_dir(),
        progress: false,
    };
    let result = runner.run(&schedule(), |faults| {
        // A slot per case, not for them all: a test waiting for every slot gets in between.
        let _slot = common::take_cluster_slots(1);
        let scenario = scenario_of(faults, seed);
        let drawn: Vec<String> = scenario.faults.iter().map(describe).collect();
        println!("schedule: {}", drawn.join("; then "));
        let report = runtime
            .block_on(run(&scenario, &options))
            .map_err(|e| TestCaseError::fail(format!("the run could not be made: {e}")))?;
        let leftovers = runtime.block_on(common::leftovers(Some(&report.run_id)));
        prop_assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
        // This schedule met no failover; another is drawn in its place, so the cases drilled
        // stay as many.
        if common::failover_stopped_by_a_split_vote(&report) {
            return Err(TestCaseError::reject("the sentinels' vote split"));
        }
        let failed: Vec<String> = report
            .expectations
            .iter()
            .filter(|e| !e.passed)
            .map(|e| format!("{} (was {})", e.expectation, e.actual))
            .collect();
        prop_assert!(
            failed.is_empty(),
            "{}: {}",
            report.run_dir.display(),
            failed.join(", ")
        );
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, faults)) => {
            let scenario = scenario_of(faults, seed);
            let text = toml::to_string(&scenario).unwrap_or_else(|e| format!("({e})"));
            let path = common::out_dir().join(format!("{}.toml", scenario.name));
            let _ = std::fs::create_dir_all(common::out_dir());
            let _ = std::fs::write(&path, &text);
            panic!(
                "the smallest failing schedule ({reason}), also in {}:\n\n{text}",
                path.display()
            );
        }
        Err(TestError::Abort(reason)) => panic!("proptest gave up: {reason}"),
    }
}
