//! Nothing is left behind: not after Ctrl-C while a cluster starts, in the middle of a failover, a
//! partition, a freeze or a slow link (whose rule is on the host), nor in the middle of drills run
//! in parallel, not after SIGTERM with an app started from a command line, not after a panic with
//! a cluster up; and what a SIGKILLed run leaves, `failover-drill clean` removes.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use failover_drill::cluster::{engine, Backend, Cluster};
use failover_drill::scenario::Topology;

fn drill(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .args(args)
        .output()
        .expect("run the CLI")
}

/// The CLI with `args`, writing into the tests' run directory, its stderr piped.
fn spawn_cli(args: &[String]) -> std::process::Child {
    spawn_cli_into(args, &common::out_dir())
}

/// [`spawn_cli`], writing into `out`.
fn spawn_cli_into(args: &[String], out: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--scenarios-dir")
        .arg(common::scenarios_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the CLI")
}

/// Sends `signal` to the CLI, waits for it, and checks it exited as shells expect after it (130
/// for INT, 143 for TERM); what it said on stderr.
fn stop_cli(
    mut child: std::process::Child,
    signal: &str,
    said: std::thread::JoinHandle<Vec<String>>,
) -> Vec<String> {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("send the signal");
    assert!(status.success());
    let exit = child.wait().expect("CLI exits");
    let said = said.join().expect("stderr reader");
    let expected = match signal {
        "TERM" => 143,
        _ => 130,
    };
    assert_eq!(
        exit.code(),
        Some(expected),
        "runs stopped by SIG{signal} exit {expected}; it said {said:#?}"
    );
    said
}

/// A CLI run of `scenario` that has reached its fault, a thread draining its stderr, and the run's
/// id.
fn start_until_fault(
    scenario: &str,
    extra: &[String],
) -> (
    std::process::Child,
    std::thread::JoinHandle<Vec<String>>,
    String,
) {
    let mut args = vec!["run".to_owned(), scenario.to_owned()];
    args.extend_from_slice(extra);
    let mut child = spawn_cli(&args);
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("read stderr");
        let started = line.contains("started on");
        seen.push(line);
        if started {
            break;
        }
    }
    assert!(
        seen.last().is_some_and(|l| l.contains("started on")),
        "the run never reached its fault: {seen:#?}"
    );
    // The first progress line names the run: `[   0.0s] run <id>: writing to <dir>`.
    let run_id = seen
        .iter()
        .find_map(|l| l.split("] run ").nth(1)?.split(':').next())
        .expect("the run's id on its first line")
        .to_owned();
    // Keep reading so the CLI's progress lines never meet a closed pipe.
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    (child, rest, run_id)
}

/// Starts `scenario` with the CLI and `extra` arguments, sends `signal` once its fault started,
/// and checks that the CLI exits as shells expect (130, or 143 after TERM) leaving no container, network, host rule, process or node
/// directory of the run.
async fn interrupt_during_fault(scenario: &str, signal: &str, extra: &[String]) {
    let _slot = common::a_cluster_slot().await;
    let (child, rest, run_id) = start_until_fault(scenario, extra);
    stop_cli(child, signal, rest);
    assert_eq!(common::leftovers(Some(&run_id)).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_the_master_is_dead_removes_everything() {
    interrupt_during_fault("kill-master", "INT", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_partition_removes_everything() {
    interrupt_during_fault("split-brain", "INT", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_the_master_is_paused_removes_everything() {
    interrupt_during_fault("pause-master", "INT", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_the_master_is_slow_removes_the_host_rule() {
    interrupt_during_fault("slow-master", "INT", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_an_external_app_removes_it_too() {
    let app = format!(
        "exec {} --listen $FAILOVER_DRILL_LISTEN --sentinels $FAILOVER_DRILL_SENTINELS",
        common::sample_app_binary().display()
    );
    interrupt_during_fault("kill-master", "TERM", &["--app-cmd".to_owned(), app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_on_the_process_backend_while_the_master_is_frozen_removes_everything() {
    let process = ["--backend".to_owned(), "process".to_owned()];
    interrupt_during_fault("pause-master", "INT", &process).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_the_cluster_starts_removes_every_node_created_so_far() {
    let _slot = common::a_cluster_slot().await;
    // While the master's container is being created: the engine lists it before it can remove it.
    interrupt_while_starting(|left| left.iter().any(|l| l.starts_with("container"))).await;
    // Once the master is up, the replicas' and sentinels' containers are being created together.
    interrupt_while_starting(|left| {
        left.iter()
            .any(|l| l.starts_with("container") && !l.contains("-redis-1 "))
    })
    .await;
}

/// Runs `kill-master`, sends SIGINT as soon as what the run created so far satisfies `stop_at`, and
/// checks nothing of the run is left.
async fn interrupt_while_starting(stop_at: impl Fn(&[String]) -> bool) {
    let args = ["run", "kill-master"].map(str::to_owned);
    let mut child = spawn_cli(&args);
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    // The first progress line names the run: `[   0.0s] run <id>: writing to <dir>`.
    let first = lines.next().expect("a first line").expect("read stderr");
    let run_id = first
        .split("] run ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("the run's id on its first line: {first}"))
        .to_owned();
    let said = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let mut left = common::leftovers(Some(&run_id)).await;
    for _ in 0..600 {
        if stop_at(&left) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        left = common::leftovers(Some(&run_id)).await;
    }
    assert!(stop_at(&left), "the run never got there: {left:#?}");
    let said = stop_cli(child, "INT", said);
    assert_eq!(
        common::leftovers(Some(&run_id)).await,
        Vec::<String>::new(),
        "what the run said: {said:#?}; what it had created when it was stopped: {left:#?}"
    );
}

/// A start cut short may leave the engine creating its container after the run looked for what to
/// remove; settling its name removes what the create makes, and a claim shows none is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_whose_create_ends_after_the_run_is_removed_when_its_name_is_settled() {
    use failover_drill::cluster::{image, in_flight};
    // A slot, so that no test looking at every run's leftovers sees this one's container.
    let _slot = common::a_cluster_slot().await;
    let docker = engine::connect().await.expect("docker");
    let image = image::ensure(&docker, None, &|_| {})
        .await
        .expect("the node image")
        .to_string();
    let run_id = format!("settle-{}", std::process::id());
    let landed = format!("fd-{run_id}-redis-1");
    let never_created = format!("fd-{run_id}-redis-2");
    // What a create the run no longer waited for makes: a container of the run, by its name.
    let create = bollard::query_parameters::CreateContainerOptionsBuilder::new()
        .name(&landed)
        .build();
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.clone()),
        entrypoint: Some(vec![image::SERVER_PATH.to_owned()]),
        labels: Some(std::collections::HashMap::from([(
            failover_drill::marks::RUN_LABEL.to_owned(),
            run_id.clone(),
        )])),
        ..Default::default()
    };
    docker
        .create_container(Some(create), body)
        .await
        .expect("create the late container");
    assert_eq!(
        common::leftovers(Some(&run_id)).await,
        [format!("container {landed} (created)")]
    );
    let starts = in_flight::StartsInFlight::default();
    let _landed_start = starts.begin(&landed);
    let _never_created_start = starts.begin(&never_created);
    let unsettled = in_flight::settle(&docker, &image, &run_id, &starts.names()).await;
    assert_eq!(unsettled, Vec::<String>::new());
    // Neither the late container nor a placeholder that claimed a name is left.
    assert_eq!(common::leftovers(Some(&run_id)).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_parallel_drills_removes_every_drills_cluster() {
    let _slots = common::cluster_slots(2).await;
    // Its own run directory: the leftovers looked at are its two drills' alone.
    let out = common::out_dir().join(format!("parallel-ctrl-c-{}", std::process::id()));
    let args = ["run", "kill-master", "stop-master", "--jobs", "2"].map(str::to_owned);
    let mut child = spawn_cli_into(&args, &out);
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let said = std::thread::spawn(move || stderr.lines().map_while(Result::ok).collect::<Vec<_>>());
    // Both drills are in their fault once each has a master down: killed, or shut down.
    let in_fault = |left: &[String]| {
        left.iter()
            .filter(|l| l.starts_with("container") && l.ends_with("(exited)"))
            .count()
    };
    let mut left = common::leftovers_under(&out).await;
    for _ in 0..600 {
        if in_fault(&left) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = common::leftovers_under(&out).await;
    }
    assert_eq!(
        in_fault(&left),
        2,
        "both drills reach their fault: {left:#?}"
    );
    let said = stop_cli(child, "INT", said);
    assert!(
        said.iter().any(|l| l.contains("matrix stopped")),
        "{said:#?}"
    );
    assert!(
        common::run_ids_under(&out).len() >= 3,
        "a matrix and its two drills"
    );
    assert_eq!(common::leftovers_under(&out).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_removes_the_node_processes_and_directory_a_sigkilled_run_left() {
    let _slot = common::a_cluster_slot().await;
    let process = ["--backend".to_owned(), "process".to_owned()];
    let (mut child, rest, run_id) = start_until_fault("kill-master", &process);
    child.kill().expect("SIGKILL the CLI");
    child.wait().expect("the CLI is gone");
    drop(rest.join());
    let left = common::leftovers(Some(&run_id)).await;
    let nodes = left
        .iter()
        .filter(|l| l.starts_with("process") && l.contains("redis-server"))
        .count();
    // The killed master is down; its two replicas and three sentinels are still running.
    assert_eq!(nodes, 5, "{left:#?}");
    assert!(left.iter().any(|l| l.starts_with("directory")), "{left:#?}");
    // Only this run's: other tests' drills may be running beside it.
    let cleaned = drill(&["clean", "--run", &run_id]);
    assert!(cleaned.status.success());
    assert_eq!(common::leftovers(Some(&run_id)).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_removes_what_a_sigkilled_run_left() {
    let _serial = common::every_cluster_slot().await;
    // SIGKILL during the slow link: nothing in the run gets to clean up, not even its host rule.
    let (mut child, rest, _) = start_until_fault("slow-master", &[]);
    child.kill().expect("SIGKILL the CLI");
    child.wait().expect("the CLI is gone");
    drop(rest.join());
    let left = common::leftovers(None).await;
    assert!(left.iter().any(|l| l.starts_with("container")), "{left:#?}");
    assert!(left.iter().any(|l| l.starts_with("host rule")), "{left:#?}");

    let listed = drill(&["clean", "--dry-run"]);
    assert!(listed.status.success());
    assert_eq!(
        common::leftovers(None).await,
        left,
        "a dry run removes nothing"
    );

    let cleaned = drill(&["clean"]);
    let said = String::from_utf8_lossy(&cleaned.stdout);
    assert!(
        cleaned.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&cleaned.stderr)
    );
    assert!(said.contains("removing container"), "{said}");
    assert_eq!(common::leftovers(None).await, Vec::<String>::new());
    let again = drill(&["clean"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing left"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_with_a_cluster_up_removes_it() {
    let _slot = common::a_cluster_slot().await;
    let topology = Topology {
        replicas: 1,
        sentinels: 1,
        quorum: 1,
        ..Topology::default()
    };
    let outcome = tokio::spawn(async move {
        let docker = engine::connect().await.expect("docker");
        let cluster = Cluster::start(Backend::Docker(docker), &topology, "panic-test", &|_| {})
            .await
            .expect("cluster starts");
        assert!(!common::leftovers(Some("panic-test")).await.is_empty());
        let _still_up = &cluster;
        panic!("a test failing with its cluster up");
    })
    .await;
    assert!(outcome.expect_err("the task panicked").is_panic());
    // Drop ran during unwinding; give the engine a moment to finish removing.
    let mut left = common::leftovers(Some("panic-test")).await;
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = common::leftovers(Some("panic-test")).await;
    }
    assert_eq!(left, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_kills_an_app_process_a_killed_run_left() {
    // One slot keeps it apart from the tests that run `clean` for every run, which take them all
    // and would kill this stand-in too.
    let _slot = common::a_cluster_slot().await;
    // What an app started with --app-cmd looks like once the run that started it was SIGKILLed.
    let mut orphan = std::process::Command::new("sleep")
        .arg("300")
        .env("FAILOVER_DRILL_RUN", "orphan-test")
        .spawn()
        .expect("start a stand-in app");
    // `spawn` returns once the child has begun its exec; the kernel fills in the new
    // program's environment a moment later, so wait until the tag can be read.
    let mut found = failover_drill::leftovers::processes(Some("orphan-test"));
    for _ in 0..100 {
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        found = failover_drill::leftovers::processes(Some("orphan-test"));
    }
    assert_eq!(
        found.iter().map(|(pid, _)| *pid).collect::<Vec<_>>(),
        vec![orphan.id()],
        "{found:?}"
    );
    let cleaned = drill(&["clean", "--run", "orphan-test"]);
    let said = String::from_utf8_lossy(&cleaned.stdout);
    assert!(cleaned.status.success(), "{said}");
    assert!(said.contains("removing process"), "{said}");
    let status = orphan.wait().expect("the stand-in is reaped");
    assert!(!status.success(), "killed, not exited: {status}");
    assert!(failover_drill::leftovers::processes(Some("orphan-test")).is_empty());
}
