//! Password-protected topologies: every node and sentinel requires the password, the app gets it
//! only through its environment, an app without it fails, and no file of the run holds it.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use failover_drill::run::{run, RunOptions};

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

fn sample_app_command(with_password: bool) -> String {
    let password = if with_password {
        "REDIS_PASSWORD=$FAILOVER_DRILL_REDIS_PASSWORD "
    } else {
        ""
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

fn passes_with_password(extra: &[&str]) {
    let mut args = vec!["run", "kill-master", "--require-password"];
    args.extend_from_slice(extra);
    let out = drill(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    assert_eq!(out.status.code(), Some(0), "kill-master failed");
    assert!(stderr.contains("password required"), "{stderr}");
    let dir = common::run_dir_in_summary(&stdout);
    assert!(dir.join("history.jsonl").is_file(), "{}", dir.display());
    assert_eq!(
        files_containing(&dir, PASSWORD.as_bytes()),
        Vec::<String>::new(),
        "the password is in the run directory"
    );
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_master_passes_with_a_password_and_the_run_directory_never_holds_it() {
    let _serial = common::a_cluster_slot().await;
    // The in-process sample app on containers.
    passes_with_password(&["--backend", "docker"]);
    // The sample app as a process, given the password through its environment, on processes.
    let command = sample_app_command(true);
    passes_with_password(&["--backend", "process", "--app-cmd", &command]);
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
        sample_app_command(false)
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
