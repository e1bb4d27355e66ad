//! The process backend: with no Docker engine, `auto` runs the nodes as local redis-server
//! processes with a notice, kill-master and pause-master pass there, faults it cannot apply are
//! refused before anything starts, and nothing of a run is left afterwards.

use crate::common;

use std::process::{Command, Output};

/// No engine: the socket does not exist.
const NO_ENGINE: (&str, &str) = ("DOCKER_HOST", "unix:///nonexistent/docker.sock");

fn drill(args: &[&str]) -> Output {
    drill_with_env(args, &[])
}

fn drill_with_env(args: &[&str], env: &[(&str, &std::path::Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_failover-drill"));
    command
        .args(args)
        .arg("--scenarios-dir")
        .arg(common::scenarios_dir())
        .arg("--out")
        .arg(common::out_dir())
        .env(NO_ENGINE.0, NO_ENGINE.1);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run the CLI")
}

fn passes_without_docker(scenario: &str) {
    let _slot = common::take_cluster_slots(1);
    // As under GitHub Actions, with a JUnit file asked for.
    let ci = common::out_dir().join(format!("ci-{scenario}-{}", std::process::id()));
    std::fs::create_dir_all(&ci).expect("a directory for the CI files");
    let (junit, step_summary) = (ci.join("junit.xml"), ci.join("step-summary.md"));
    let out = drill_with_env(
        &[
            "run",
            scenario,
            "--quiet",
            "--junit",
            junit.to_str().expect("utf-8 path"),
        ],
        &[
            ("GITHUB_STEP_SUMMARY", &step_summary),
            ("GITHUB_ACTIONS", std::path::Path::new("true")),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    assert!(
        stderr.contains("notice: no Docker engine answered") && stderr.contains("process backend"),
        "{stderr}"
    );
    let dir = common::run_dir_in_summary(&stdout);
    if common::failover_stopped_by_a_split_vote_in(&dir) {
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{scenario} failed");
    assert!(stdout.contains(&format!("scenario {scenario}: PASSED")));
    assert!(stdout.contains("nodes on local processes of"), "{stdout}");
    assert!(stdout.contains("(new master 127.0.0.1:"), "{stdout}");
    assert!(
        !stdout.contains("::error"),
        "a passed run has no error line: {stdout}"
    );
    let parsed = junit_parser::from_reader(std::io::BufReader::new(
        std::fs::File::open(&junit).expect("--junit wrote its file"),
    ))
    .expect("JUnit XML");
    assert_eq!((parsed.suites.len(), parsed.failures), (1, 0));
    assert!(parsed.suites[0].cases.len() >= 4, "{:?}", parsed.suites[0]);
    let summary = std::fs::read_to_string(&step_summary).expect("the step summary");
    assert!(
        summary.contains(&format!("### failover-drill: {scenario} passed")),
        "{summary}"
    );
    std::fs::remove_dir_all(&ci).expect("clean up");
    let name = dir.file_name().expect("a directory name").to_string_lossy();
    let run = name.rsplit('-').next().expect("a run id");
    assert_eq!(
        failover_drill::leftovers::processes(Some(run)),
        Vec::<(u32, String)>::new()
    );
    assert!(failover_drill::leftovers::work_dirs(Some(run)).is_empty());
}

#[test]
fn kill_master_passes_with_no_docker_engine() {
    passes_without_docker("kill-master");
}

#[test]
fn pause_master_passes_with_no_docker_engine() {
    passes_without_docker("pause-master");
}

#[test]
fn faults_the_process_backend_cannot_apply_are_refused_before_anything_starts() {
    for (scenario, kind) in [("split-brain", "partition"), ("slow-master", "latency")] {
        let out = drill(&["run", scenario, "--quiet", "--backend", "process"]);
        let msg = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{msg}");
        assert!(
            msg.contains("the process backend cannot run this scenario")
                && msg.contains(&format!("({kind})")),
            "{msg}"
        );
        assert!(msg.contains("--backend docker"), "{msg}");
        assert!(
            !msg.contains("writing to"),
            "a run directory was made: {msg}"
        );
    }
    // An app image needs Docker too.
    let out = drill(&[
        "run",
        "kill-master",
        "--quiet",
        "--backend",
        "process",
        "--app-image",
        "shop:1",
    ]);
    let msg = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("app.image") && msg.contains("--app-cmd"),
        "{msg}"
    );
    // With auto and no engine the refusal also says why Docker was not used.
    let out = drill(&["run", "split-brain", "--quiet"]);
    let msg = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.contains("no Docker engine answered"), "{msg}");
}
