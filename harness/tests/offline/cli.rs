//! The command line's answers to mistakes: one clear message, exit status 2, nothing started.

use crate::common;

use std::process::{Command, Output};

fn drill(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .args(args)
        .arg("--scenarios-dir")
        .arg(common::scenarios_dir())
        .envs(env.iter().copied())
        .output()
        .expect("run the CLI")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn list_shows_each_scenario_on_one_line() {
    let out = drill(&["list"], &[]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("kill-master "))
        .expect("kill-master listed");
    assert!(line.contains("SIGKILL"), "{line}");
}

/// An installed binary runs far from the source tree: the scenarios it lists are built in.
#[test]
fn list_from_another_directory_shows_every_built_in_scenario() {
    let out = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .arg("list")
        .current_dir("/")
        .env_remove("FAILOVER_DRILL_SCENARIOS")
        .output()
        .expect("run the CLI");
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let shipped = std::fs::read_dir(common::scenarios_dir()).expect("the shipped scenarios");
    let mut names = 0;
    for entry in shipped {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        names += 1;
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} is not listed from /:\n{stdout}"
        );
    }
    assert_eq!(stdout.lines().count(), names, "{stdout}");
    assert!(!stdout.contains("(invalid)"), "{stdout}");
}

#[test]
fn an_unknown_scenario_lists_the_known_ones() {
    let out = drill(&["run", "kill-mastr"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(msg.contains("unknown scenario 'kill-mastr'"), "{msg}");
    assert!(msg.contains("kill-master"), "{msg}");
}

#[test]
fn a_docker_host_over_tcp_is_refused_before_two_engines_share_a_run() {
    // Refused with auto too: falling back to processes would hide the engine the user named.
    for backend in ["docker", "auto"] {
        let out = drill(
            &["run", "kill-master", "--quiet", "--backend", backend],
            &[("DOCKER_HOST", "tcp://127.0.0.1:1")],
        );
        assert_eq!(out.status.code(), Some(2), "{backend}");
        let msg = stderr(&out);
        assert!(
            msg.contains("DOCKER_HOST=tcp://127.0.0.1:1") && msg.contains("unix://"),
            "{backend}: {msg}"
        );
    }
}

#[test]
fn a_shard_out_of_range_and_a_merge_of_nothing_are_refused_with_what_to_give() {
    let no_engine = [("DOCKER_HOST", "unix:///nonexistent/docker.sock")];
    let out = drill(&["run", "kill-master", "--shard", "3/3"], &no_engine);
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(msg.contains("--shard") && msg.contains("0 to 2"), "{msg}");
    let out = drill(&["run", "kill-master", "--shard", "first"], &no_engine);
    assert!(
        stderr(&out).contains("0/3, 1/3 and 2/3"),
        "{}",
        stderr(&out)
    );
    let out = drill(&["merge", "no-such-shard"], &no_engine);
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(
        msg.contains("cannot merge the shards") && msg.contains("no-such-shard/matrix.json"),
        "{msg}"
    );
}

#[test]
fn an_unreachable_engine_says_how_to_start_one() {
    let out = drill(
        &["run", "kill-master", "--quiet", "--backend", "docker"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(msg.contains("cannot reach the Docker engine"), "{msg}");
    assert!(msg.contains("dockerd"), "{msg}");
}

#[test]
fn a_busy_port_fails_before_anything_starts() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let dir = std::env::temp_dir().join(format!("fd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("busy.toml");
    std::fs::write(&file, format!("name = \"busy\"\n[app]\nport = {port}\n")).expect("write");
    let out = drill(&["run", file.to_str().expect("utf-8 path"), "--quiet"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.contains("[app] port"), "{msg}");
    std::fs::remove_dir_all(dir).expect("clean up");
}

#[test]
fn a_malformed_file_names_line_and_field() {
    let dir = std::env::temp_dir().join(format!("fd-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "name = \"bad\"\n[workload]\nusers = \"many\"\n").expect("write");
    let out = drill(&["run", file.to_str().expect("utf-8 path")], &[]);
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(
        msg.contains("bad.toml") && msg.contains("line 3") && msg.contains("users"),
        "{msg}"
    );
    std::fs::remove_dir_all(dir).expect("clean up");
}

#[test]
fn bad_values_name_their_field_and_start_nothing() {
    let dir = std::env::temp_dir().join(format!("fd-cli-values-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fault = "[[faults]]\nkind = \"kill\"\nat = \"2s\"\nduration = \"1s\"\n";
    let cases: [(&str, String, &str); 14] = [
        (
            "zero-rate",
            "[workload]\nrate = 0.0\n".into(),
            "workload.rate",
        ),
        (
            "negative-rate",
            "[workload]\nrate = -5.0\n".into(),
            "workload.rate",
        ),
        (
            "huge-rate",
            "[workload]\nrate = 1e9\n".into(),
            "workload.rate",
        ),
        (
            "no-users",
            "[workload]\nusers = 0\n".into(),
            "workload.users",
        ),
        (
            "long",
            "[workload]\nduration = \"2h\"\n".into(),
            "workload.duration",
        ),
        (
            "sentinels",
            "[topology]\nsentinels = 50\nquorum = 2\n".into(),
            "topology.sentinels",
        ),
        (
            "unknown-kind",
            fault.replace("\"kill\"", "\"explode\""),
            "explode",
        ),
        (
            "late-fault",
            format!(
                "[workload]\nduration = \"5s\"\n{}",
                fault.replace("2s", "9s")
            ),
            "faults[0].at",
        ),
        ("mutant", "[app]\nmutant = \"pinnned\"\n".into(), "pinnned"),
        (
            "contract-get-body",
            "[app.contract]\nappend = { method = \"GET\", path = \"/cart\" }\n".into(),
            "app.contract.append.method",
        ),
        (
            "contract-path",
            "[app.contract]\nread = { method = \"GET\", path = \"cart\" }\n".into(),
            "app.contract.read.path",
        ),
        ("backend", "[topology]\nbackend = \"vm\"\n".into(), "vm"),
        (
            "image-and-command",
            "[app]\nimage = \"shop:1\"\ncommand = \"shop\"\n".into(),
            "app.image",
        ),
        (
            "image-misses-latency",
            "[app]\nimage = \"shop:1\"\n[[faults]]\nkind = \"latency\"\nat = \"1s\"\nduration = \"1s\"\nlatency = \"50ms\"\n".into(),
            "faults[0]",
        ),
    ];
    for (name, body, field) in cases {
        let file = dir.join(format!("{name}.toml"));
        std::fs::write(&file, format!("name = \"{name}\"\n{body}")).expect("write");
        // An unreachable engine: a file that got past validation would fail on it instead, with
        // another message, and nothing could be started by mistake.
        let out = drill(
            &[
                "run",
                file.to_str().expect("utf-8 path"),
                "--quiet",
                "--backend",
                "docker",
            ],
            &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        );
        let msg = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {msg}");
        assert!(msg.contains(field), "{name}: no '{field}' in: {msg}");
        assert!(
            !msg.contains("Docker engine"),
            "{name} got past validation: {msg}"
        );
        assert!(!msg.contains("panicked"), "{name}: {msg}");
    }
    std::fs::remove_dir_all(dir).expect("clean up");
}

#[test]
fn a_missing_redis_binary_says_what_to_install() {
    let out = drill(
        &["run", "kill-master", "--quiet"],
        &[("FAILOVER_DRILL_REDIS_SERVER", "/nonexistent/redis-server")],
    );
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(msg.contains("no Redis image"), "{msg}");
    assert!(msg.contains("/nonexistent/redis-server"), "{msg}");
}

/// A report made from a synthetic history, written as a run directory would hold it.
fn synthetic_run(name: &str, slower_by_micros: u64) -> std::path::PathBuf {
    use failover_drill::assess::{assess, RunFacts};
    let mut history = failover_drill::history::synthetic::synthetic_history(4, 50);
    for record in &mut history.records {
        if let failover_drill::history::Record::Operation(op) = record {
            op.ended_at += slower_by_micros;
        }
    }
    let dir = common::out_dir().join(name);
    std::fs::create_dir_all(&dir).expect("run directory");
    let facts = RunFacts {
        run_id: name.into(),
        run_dir: dir.clone(),
        ..RunFacts::default()
    };
    assess(&common::scenario("kill-master"), &history, facts)
        .report
        .write_json()
        .expect("report.json");
    dir
}

#[test]
fn compare_prints_both_runs_and_the_ratio() {
    let (a, b) = (
        synthetic_run("compare-a", 0),
        synthetic_run("compare-b", 500),
    );
    let out = drill(
        &[
            "compare",
            &a.display().to_string(),
            &b.display().to_string(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Every operation of b takes 0.5 ms on top of a's 0.5 ms.
    let p50 = stdout
        .lines()
        .find(|l| l.starts_with("operation p50"))
        .expect("an operation p50 row");
    assert!(p50.trim_end().ends_with("2.00x"), "{p50}");
    assert!(
        stdout.contains("compare-a") && stdout.contains("compare-b"),
        "{stdout}"
    );
}

#[test]
fn compare_names_what_it_could_not_read() {
    let out = drill(
        &["compare", "/nonexistent/run-a", "/nonexistent/run-b"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(msg.contains("cannot read /nonexistent/run-a"), "{msg}");
    assert_eq!(msg.matches("No such file").count(), 1, "{msg}");
}

/// Every scenario and matrix file the repository ships is valid, and `check` says what each
/// would run without starting anything; a broken file exits 2 naming it and its field.
#[test]
fn check_passes_every_shipped_file_and_names_what_is_wrong_in_a_broken_one() {
    let root = common::scenarios_dir()
        .parent()
        .expect("the repository")
        .to_owned();
    let toml_files = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .map(|entry| entry.expect("entry").path())
            .filter(|path| {
                path.extension().is_some_and(|e| e == "toml")
                    && path.file_name().is_some_and(|n| n != "Cargo.toml")
            })
            .collect()
    };
    let mut files = Vec::new();
    for dir in ["scenarios", "docs/external", "examples"] {
        files.extend(toml_files(&root.join(dir)));
    }
    for entry in std::fs::read_dir(root.join("examples")).expect("examples") {
        files.extend(toml_files(&entry.expect("entry").path()));
    }
    assert!(files.len() > 25, "shipped files found: {files:?}");
    let out_dir = std::env::temp_dir().join(format!("fd-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("a working directory");
    let out = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .arg("check")
        .args(&files)
        .current_dir(&out_dir)
        .output()
        .expect("run the CLI");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    assert_eq!(
        stdout.lines().filter(|l| l.ends_with(": valid")).count(),
        files.len(),
        "{stdout}"
    );
    assert!(stdout.contains("matrix stacks: "), "{stdout}");
    assert!(
        stdout.contains("fault 1: kill on master at 6s for 8s"),
        "{stdout}"
    );

    let broken = out_dir.join("broken.toml");
    std::fs::write(&broken, "name = \"b\"\n[workload]\nrate = -1.0\n").expect("write");
    let out = drill(&["check", "kill-master", &broken.to_string_lossy()], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("kill-master: valid"), "{stdout}");
    assert!(
        stdout.contains("broken.toml: invalid") && stdout.contains("workload.rate"),
        "{stdout}"
    );
    let made: Vec<_> = std::fs::read_dir(&out_dir)
        .expect("the working directory")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(made, ["broken.toml"], "check wrote nothing");
    std::fs::remove_dir_all(&out_dir).expect("clean up");
}
