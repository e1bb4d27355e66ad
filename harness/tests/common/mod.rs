//! Helpers shared by the tests that start containers.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use failover_drill::scenario::{Catalogue, Scenario};

/// Drills the tests run at once on this machine, over every test binary together:
/// `FAILOVER_DRILL_TEST_JOBS` (1 to 16), or five per two cores. A drill mostly waits on Sentinel's
/// timers, so several share a core; CONTRIBUTING.md has what four, five and six at once did on 2
/// cores.
pub fn test_jobs() -> usize {
    std::env::var("FAILOVER_DRILL_TEST_JOBS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (1..=16).contains(n))
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(4, |n| n.get() * 5 / 2)
                .clamp(1, 16)
        })
}

/// Slots held by a test; dropping it frees them, and so does the process ending, however it ends.
pub struct ClusterSlots(Vec<std::fs::File>);

impl ClusterSlots {
    /// How many slots are held.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// How often a test waiting for a cluster slot looks again.
const SLOT_POLL: std::time::Duration = std::time::Duration::from_millis(100);

fn slot_file(name: &str) -> std::fs::File {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cluster-slots");
    std::fs::create_dir_all(&dir).expect("slot directory");
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("slot-{name}")))
        .expect("slot file")
}

/// Takes `wanted` of the machine's [`test_jobs`] cluster slots (file locks shared by every test
/// binary, so binaries run side by side stay within the limit), waiting for them to be free.
pub async fn cluster_slots(wanted: usize) -> ClusterSlots {
    tokio::task::spawn_blocking(move || take_cluster_slots(wanted))
        .await
        .expect("slot waiter")
}

/// [`cluster_slots`] for a test without a runtime: blocks the thread until they are free.
///
/// Whoever takes slots holds the gate meanwhile, so a test that needs them all is not starved by
/// tests taking one at a time: once it holds the gate, no one else takes a slot until it has its
/// own.
pub fn take_cluster_slots(wanted: usize) -> ClusterSlots {
    let jobs = test_jobs();
    let wanted = wanted.clamp(1, jobs);
    let gate = slot_file("gate");
    gate.lock().expect("lock the slots' gate");
    let mut held: Vec<(usize, std::fs::File)> = Vec::new();
    while held.len() < wanted {
        for index in 0..jobs {
            if held.len() == wanted || held.iter().any(|(h, _)| *h == index) {
                continue;
            }
            let file = slot_file(&index.to_string());
            if file.try_lock().is_ok() {
                held.push((index, file));
            }
        }
        if held.len() < wanted {
            // Whichever slot frees first will do, and no lock call waits on "any of these":
            // blocking on one given slot kept the gate shut while others stood free.
            std::thread::sleep(SLOT_POLL);
        }
    }
    drop(gate);
    ClusterSlots(held.into_iter().map(|(_, f)| f).collect())
}

/// One cluster slot, for a test that starts one cluster at a time.
pub async fn a_cluster_slot() -> ClusterSlots {
    cluster_slots(1).await
}

pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}

pub fn scenario(name: &str) -> Scenario {
    Catalogue::with_dir(scenarios_dir())
        .load(name)
        .expect("shipped scenario")
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

/// Prints a run's summary, for the test's output, and checks the run left nothing behind.
pub async fn show_and_check_removed(report: &failover_drill::report::RunReport) {
    report
        .write_summary(&mut std::io::stdout())
        .expect("summary");
    assert_eq!(leftovers(Some(&report.run_id)).await, Vec::<String>::new());
}

/// The ids of the runs under `dir`: each run directory's name ends in `-<id>`, and a matrix's
/// cells are one level down. For a test that gives its runs a directory of their own, so it can
/// look at its own leftovers while other tests' drills run beside it.
pub fn run_ids_under(dir: &std::path::Path) -> Vec<String> {
    let subdirs = |dir: &std::path::Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    };
    let id = |path: &PathBuf| {
        let name = path.file_name()?.to_str()?;
        Some(name.rsplit_once('-')?.1.to_owned())
    };
    let mut ids = Vec::new();
    for run in subdirs(dir) {
        ids.extend(id(&run));
        ids.extend(subdirs(&run).iter().filter_map(id));
    }
    ids
}

/// What the runs under `dir` left (see [`run_ids_under`]).
pub async fn leftovers_under(dir: &std::path::Path) -> Vec<String> {
    let mut left = Vec::new();
    for id in run_ids_under(dir) {
        left.extend(leftovers(Some(&id)).await);
    }
    left
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

/// Every cluster slot: the test has the machine to itself, for checks and `clean` calls that see
/// every run's containers, processes and host rules.
pub async fn every_cluster_slot() -> ClusterSlots {
    cluster_slots(test_jobs()).await
}

/// Whether `report` blames one of its findings on a sentinels' election that chose no leader (a
/// split vote; see `failover_drill::cause::elections`).
///
/// After a kill the three sentinels can start their elections within milliseconds of each other,
/// and now and then each votes for itself before another asks for its vote: none wins, and
/// Sentinel tries again only twice its failover-timeout later, after kill-master has restarted the
/// master. That drill put the app through no failover, so a
/// test of what the app does in one can check nothing of it. The caller then checks only what the
/// report said, which this does: the cause names the election, from the sentinels' own events.
/// A split vote that Sentinel got past in time is no reason; the test goes on.
pub fn failover_stopped_by_a_split_vote(report: &failover_drill::report::RunReport) -> bool {
    use std::io::Write;
    let Some(group) = report
        .findings
        .groups
        .iter()
        .find(|g| g.witness.cause.detail.contains("chose no leader"))
    else {
        return false;
    };
    // Written to stderr itself, not through `eprintln!`, which the test harness captures and
    // shows only for a failed test: a test that checked nothing of the app says so in CI's log.
    let _ = writeln!(
        std::io::stderr(),
        "NOTE: {}: the sentinels' election chose no leader, so this drill met no failover and \
         tests nothing of the app's; the report says so: {} {}: {}",
        report.run_dir.display(),
        group.count,
        group.class.plural(),
        group.witness.cause.detail
    );
    true
}

/// [`failover_stopped_by_a_split_vote`] for a run the CLI made, by its directory; `false` when it
/// has no readable report.
pub fn failover_stopped_by_a_split_vote_in(run_dir: &std::path::Path) -> bool {
    failover_drill::compare::load(run_dir)
        .is_ok_and(|report| failover_stopped_by_a_split_vote(&report))
}

/// `report`'s run judged again under `scenario`'s expectations: its history assessed afresh, as
/// the same drill with other bounds would have been.
pub fn judged_again(
    report: &failover_drill::report::RunReport,
    scenario: &Scenario,
) -> failover_drill::report::RunReport {
    let facts = failover_drill::assess::RunFacts {
        run_id: report.run_id.clone(),
        run_dir: report.run_dir.clone(),
        image: String::new(),
        startup: std::time::Duration::ZERO,
        app_metrics: report.app_metrics.clone(),
        not_started: 0,
    };
    failover_drill::assess::assess_file(scenario, &report.run_dir.join("history.jsonl"), facts)
        .expect("the history assesses")
        .report
}
