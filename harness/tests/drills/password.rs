//! Password-protected topologies: every node and sentinel requires the password, the app gets it
//! only through its environment, an app without it fails, and no file of the run holds it, not
//! even where a user wrote it inline (the app's command, an operator's heal command), on each
//! backend, the external one included.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use failover_drill::run::{run, RunOptions};

use crate::hand_made::HandMade;

/// A password the tests can look for; a real run makes one up.
const PASSWORD: &str = "pw-Xq7-find-me-0151";

fn drill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .args(args)
        .arg("--scenarios-dir")
        .arg(common::scenarios_dir())
        .arg("--out")
        .arg(common::out_dir())
        .env(failover_drill::cluster::PASSWORD_ENV, PASSWORD)
        .output()
        .expect("run the CLI")
}

/// How the sample app's command gives it the password.
#[derive(Clone, Copy)]
enum Given {
    /// Not at all.
    No,
    /// Written inline in the command, as a user might.
    Inline,
}

fn sample_app_command(given: Given) -> String {
    let password = match given {
        Given::No => String::new(),
        Given::Inline => format!("REDIS_PASSWORD={PASSWORD} "),
    };
    format!(
        "{password}exec {} --listen $FAILOVER_DRILL_LISTEN --sentinels $FAILOVER_DRILL_SENTINELS \
         --master-name $FAILOVER_DRILL_MASTER_NAME",
        common::sample_app_binary().display()
    )
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                stack.push(entry.expect("entry").path());
            }
        } else {
            let bytes = std::fs::read(&path).expect("read file");
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// The run directory of a drill that passed, after checking that neither it nor what the CLI
/// printed holds the password. `None` when the sentinels' vote split and the drill met no failover
/// (the report said so); the password was still looked for.
fn passed_without_leaking(out: &Output) -> Option<std::path::PathBuf> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    let dir = common::run_dir_in_summary(&stdout);
    assert!(dir.join("history.jsonl").is_file(), "{}", dir.display());
    assert_eq!(
        files_containing(&dir, PASSWORD.as_bytes()),
        Vec::<String>::new(),
        "the password is in the run directory"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    if common::failover_stopped_by_a_split_vote_in(&dir) {
        return None;
    }
    assert_eq!(out.status.code(), Some(0), "the drill failed");
    Some(dir)
}

fn passes_with_password(extra: &[&str]) -> Option<std::path::PathBuf> {
    let mut args = vec!["run", "kill-master", "--require-password"];
    args.extend_from_slice(extra);
    let out = drill(&args);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("password required"),
        "{out:?}"
    );
    passed_without_leaking(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_master_passes_with_a_password_and_the_run_directory_never_holds_it() {
    let _serial = common::a_cluster_slot().await;
    // The in-process sample app on containers.
    passes_with_password(&["--backend", "docker"]);
    // The sample app as a process, its command holding the password inline, on processes.
    let command = sample_app_command(Given::Inline);
    let Some(dir) = passes_with_password(&["--backend", "process", "--app-cmd", &command]) else {
        return;
    };
    let report = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    assert!(
        report.contains("REDIS_PASSWORD=(redacted) exec"),
        "{report}"
    );
}

/// A password-protected deployment started by hand, drilled as an external one: the operator's
/// heal command restarts the killed node with the password on its command line, as `redis-server
/// <conf> --requirepass ...` is often run, and the app's command holds it inline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_deployment_with_a_password_is_drilled_and_no_file_holds_it() {
    let _slot = common::a_cluster_slot().await;
    let made = HandMade::start_with("password", 1, Some(PASSWORD));
    let healthy = made.ready().await;
    assert_eq!(healthy.problems(), Vec::<String>::new(), "{healthy:#?}");
    let dir = made.dir.display();
    let scenario = format!(
        "name = \"external-password\"\n\
         [app]\ncommand = \"{app}\"\n\
         [workload]\nusers = 5\nrate = 50.0\nduration = \"10s\"\n\
         [[faults]]\nkind = \"kill\"\ntarget = \"master\"\nat = \"2s\"\nduration = \"3s\"\n\
         [topology]\nbackend = \"external\"\n\
         [topology.external]\nname = \"hand-made\"\nsentinels = [\"{sentinel}\"]\n\
         command_timeout = \"10s\"\n\
         [topology.external.names]\n\"{master}\" = \"master\"\n\"{replica}\" = \"replica-1\"\n\
         [topology.external.faults.kill]\napply = \"echo node $FAILOVER_DRILL_NODE_NAME, \
         password variable ${{FAILOVER_DRILL_REDIS_PASSWORD:+set}}.; kill -9 $(cat {dir}/{{name}}.pid)\"\n\
         heal = \"{binary} {dir}/{{name}}.conf --requirepass {PASSWORD} --masterauth {PASSWORD}\"\n",
        app = sample_app_command(Given::Inline),
        sentinel = made.sentinels()[0],
        master = made.addr("master"),
        replica = made.addr("replica-1"),
        binary = made.binary.display(),
    );
    let file = made.dir.join("drill.toml");
    std::fs::write(&file, scenario).expect("the scenario file");
    let out = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .arg("run")
        .arg(&file)
        .arg("--yes")
        .arg("--out")
        .arg(common::out_dir())
        .env(failover_drill::cluster::PASSWORD_ENV, PASSWORD)
        .output()
        .expect("run the CLI");
    let Some(run) = passed_without_leaking(&out) else {
        return;
    };
    let commands = std::fs::read_to_string(run.join("commands.log")).expect("commands.log");
    assert_eq!(
        commands.matches("-- exit status: 0").count(),
        2,
        "the kill and its heal ran: {commands}"
    );
    assert!(
        commands.contains("--requirepass (redacted) --masterauth (redacted)"),
        "{commands}"
    );
    assert!(
        commands.contains("\nnode master, password variable .\n"),
        "an operator's command gets the node's values, not the password: {commands}"
    );
    assert!(made.all_running_but(""), "the heal started the node again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_without_the_password_fails_the_drill() {
    let _serial = common::a_cluster_slot().await;
    let mut scenario = common::scenario("kill-master");
    scenario.topology.require_password = true;
    scenario.faults.clear();
    scenario.workload.duration = Duration::from_secs(3);
    scenario.workload.retry.attempts = 1;
    scenario.app.command = Some(format!(
        "STORE_RETRY_DEADLINE_MS=300 {}",
        sample_app_command(Given::No)
    ));
    let options = RunOptions {
        yes: false,
        out_dir: common::out_dir(),
        progress: true,
    };
    let report = run(&scenario, &options).await.expect("run completes");
    assert!(!report.passed);
    assert!(report.user_errors.visible > 0, "{:?}", report.user_errors);
    let log = std::fs::read_to_string(report.run_dir.join("app-0.log")).expect("app log");
    assert!(
        log.contains("NOAUTH") || log.contains("uthentication"),
        "{log}"
    );
}
