//! A deployment started by hand (see `hand_made`) drilled as an external deployment: the master
//! killed and started again by the operator's command templates, paused by `CLIENT PAUSE`, and
//! failed over by `SENTINEL FAILOVER`. The verdict must match the same scenario's on the
//! harness's own cluster, nothing the test started may be gone, and the guard must stop a run
//! nobody confirmed before anything is done.

use crate::common;

use std::process::{Command, Stdio};

use failover_drill::report::RunReport;
use failover_drill::run::{run, RunOptions};
use failover_drill::scenario::Scenario;

use crate::hand_made::HandMade;

/// The drill both runs share: three failovers, each by another way. Its bounds are those the
/// catalogue's kill-master, pause-master and manual-failover keep: a logout is a write, which a
/// failover can drop as it drops any acknowledged write, so a resurrected session is reported
/// there, not bounded, and the two drills are compared on what the app itself must get right.
const DRILL: &str = r#"
name = "hand-made-drill"

[workload]
users = 20
rate = 200.0
duration = "34s"

[[faults]]
kind = "kill"
target = "master"
at = "3s"
duration = "3s"

[[faults]]
kind = "pause"
target = "master"
at = "14s"
duration = "3s"

[[faults]]
kind = "manual-failover"
at = "26s"

[expectations]
lost_sessions = 0
user_visible_errors = 0
lost_writes = "report"
resurrected_sessions = "report"
"#;

/// The `[topology]` that makes [`DRILL`] a drill of `made`, with `faults` added.
fn external_topology(made: &HandMade, faults: &str) -> String {
    let names: String = made
        .nodes
        .iter()
        .filter(|(name, _)| !name.starts_with("sentinel"))
        .map(|(name, addr)| format!("\"{addr}\" = \"{name}\"\n"))
        .collect();
    format!(
        "[topology]\nbackend = \"external\"\n\n[topology.external]\nname = \"hand-made\"\n\
         sentinels = [\"{}\"]\ncommand_timeout = \"10s\"\n\n[topology.external.names]\n{names}\n{faults}",
        made.sentinels()[0]
    )
}

/// The operator's commands for `kill` on `made`: SIGKILL by pid file, start from the config file.
fn kill_commands(made: &HandMade) -> String {
    format!(
        "[topology.external.faults.kill]\napply = \"kill -9 $(cat {dir}/{{name}}.pid)\"\n\
         heal = \"{binary} {dir}/{{name}}.conf\"\n",
        dir = made.dir.display(),
        binary = made.binary.display()
    )
}

fn parse(text: &str) -> Scenario {
    Scenario::parse(text, std::path::Path::new("external_drill.rs")).expect("a valid scenario")
}

fn failed_names(report: &RunReport) -> Vec<String> {
    report
        .expectations
        .iter()
        .filter(|e| !e.passed)
        .map(|e| e.expectation.clone())
        .collect()
}

/// Runs the CLI on `scenario` with `extra` arguments and stdin closed; its exit status and stderr.
fn cli_run(scenario: &str, out: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
    let file = out.join("scenario.toml");
    std::fs::create_dir_all(out).expect("a directory");
    std::fs::write(&file, scenario).expect("the scenario file");
    let ran = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run the CLI");
    (
        ran.status.code(),
        String::from_utf8_lossy(&ran.stderr).into_owned(),
    )
}

/// Runs the CLI on `scenario` at a terminal (`script` gives it one) and types `typed` there; its
/// exit status and everything it printed.
fn cli_run_at_terminal(
    scenario: &str,
    out: &std::path::Path,
    typed: &str,
) -> (Option<i32>, String) {
    let file = out.join("scenario.toml");
    std::fs::create_dir_all(out).expect("a directory");
    std::fs::write(&file, scenario).expect("the scenario file");
    let command = format!(
        "{} run {} --out {} --quiet",
        env!("CARGO_BIN_EXE_failover-drill"),
        file.display(),
        out.display()
    );
    let mut script = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script, from util-linux's bsdutils");
    let mut stdin = script.stdin.take().expect("its input");
    std::io::Write::write_all(&mut stdin, format!("{typed}\n").as_bytes()).expect("typed");
    drop(stdin);
    let ran = script.wait_with_output().expect("it ends");
    (
        ran.status.code(),
        String::from_utf8_lossy(&ran.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_started_by_hand_is_drilled_through_its_own_commands_and_judged_alike() {
    let _slots = common::cluster_slots(2).await;
    let made = HandMade::start("drill", 2);
    let healthy = made.ready().await;
    assert_eq!(healthy.problems(), Vec::<String>::new(), "{healthy:#?}");

    let external_text = format!(
        "{DRILL}\n{}",
        external_topology(&made, &kill_commands(&made))
    );
    let out = common::out_dir().join(format!("external-drill-{}", std::process::id()));

    // Nobody confirms: the plan is printed and the run stops before anything is done.
    let (status, said) = cli_run(&external_text, &out.join("unconfirmed"), &[]);
    assert_eq!(status, Some(2), "{said}");
    assert!(
        said.contains("about to drill the external deployment 'hand-made'")
            && said.contains(&format!(
                "the master now: master at {}",
                made.addr("master")
            ))
            && said.contains(&format!(
                "data node replica-2 at {}",
                made.addr("replica-2")
            ))
            && said.contains("faults[1] pause at 14s on master: CLIENT PAUSE 3000 ALL")
            && said.contains("--yes"),
        "{said}"
    );
    // A fault with no way to act on the deployment is refused before it is looked at.
    let partition =
        external_text.replace("kind = \"pause\"", "kind = \"partition\"\ncut = \"all\"");
    let (status, said) = cli_run(&partition, &out.join("refused"), &[]);
    assert_eq!(status, Some(2), "{said}");
    assert!(
        said.contains("faults[1] (partition) cannot run on an external deployment")
            && said.contains("[topology.external.faults.partition]"),
        "{said}"
    );
    // Drills at once cannot each be confirmed.
    let (status, said) = cli_run(&external_text, &out.join("at-once"), &["--jobs", "2"]);
    assert_eq!(status, Some(2), "{said}");
    assert!(
        said.contains("drills the external deployment 'hand-made'")
            && said.contains("failover-drill run"),
        "{said}"
    );
    // At a terminal, the deployment's name typed back is the confirmation.
    let short = format!(
        "name = \"hand-made-short\"\n[workload]\nusers = 2\nrate = 10.0\nduration = \"2s\"\n{}",
        external_topology(&made, "")
    );
    let (status, said) = cli_run_at_terminal(&short, &out.join("mistyped"), "hand-mad");
    assert_eq!(status, Some(2), "{said}");
    assert!(
        said.contains("type the deployment's name (hand-made) to drill it")
            && said.contains("'hand-mad' was typed, not its name"),
        "{said}"
    );
    let (status, said) = cli_run_at_terminal(&short, &out.join("typed"), "hand-made");
    assert_eq!(status, Some(0), "{said}");
    assert!(said.contains("PASSED"), "{said}");
    // A repeat, one drill at a time, goes through the same guard: stopped unconfirmed before
    // its first drill, and with --yes drilled every time.
    let repeat = ["--repeat", "2", "--jobs", "1"];
    let (status, said) = cli_run(&short, &out.join("repeat-unconfirmed"), &repeat);
    assert_eq!(status, Some(2), "{said}");
    assert!(
        said.contains("about to drill the external deployment 'hand-made'")
            && said.contains("was not drilled: nothing confirmed it"),
        "{said}"
    );
    let (status, said) = cli_run(
        &short,
        &out.join("repeat"),
        &[&repeat[..], &["--yes"]].concat(),
    );
    assert_eq!(status, Some(0), "{said}");
    assert!(made.all_running_but(""), "the refused runs did nothing");

    let external = RunOptions {
        yes: true,
        out_dir: out.clone(),
        progress: true,
    };
    let own = RunOptions {
        yes: false,
        ..external.clone()
    };
    let own_text = format!("{DRILL}\n[topology]\nbackend = \"process\"\n");
    let (external_scenario, own_scenario) = (parse(&external_text), parse(&own_text));
    let (on_external, on_own) =
        tokio::join!(run(&external_scenario, &external), run(&own_scenario, &own));
    let on_external = on_external.expect("the external drill ran");
    let on_own = on_own.expect("the drill of the harness's own cluster ran");
    println!(
        "external: passed {} ({:?}), {} failovers; own: passed {} ({:?}), {} failovers",
        on_external.passed,
        on_external.failed_expectations(),
        on_external.failovers.len(),
        on_own.passed,
        on_own.failed_expectations(),
        on_own.failovers.len()
    );
    assert!(on_external
        .image
        .contains("external deployment 'hand-made'"));
    // A split vote leaves one drill with no failover to judge; the rest is checked all the same.
    let split = [&on_external, &on_own]
        .into_iter()
        .any(common::failover_stopped_by_a_split_vote);
    if !split {
        assert_eq!(
            (on_external.passed, failed_names(&on_external)),
            (on_own.passed, failed_names(&on_own)),
            "the same verdict on both"
        );
        assert_eq!(
            on_external.failovers.len(),
            3,
            "the kill, the pause and the manual failover each moved the master"
        );
    }
    let commands =
        std::fs::read_to_string(on_external.run_dir.join("commands.log")).expect("commands.log");
    for phase in ["apply", "heal"] {
        assert!(
            commands.contains(&format!("== faults[0] kill {phase} on master"))
                || commands.contains(&format!("== faults[0] kill {phase} on replica")),
            "{commands}"
        );
    }
    assert_eq!(
        commands.matches("-- exit status: 0").count(),
        2,
        "{commands}"
    );
    assert!(
        made.all_running_but(""),
        "every process the test started runs, the killed one started again by its heal command"
    );
    assert!(made.conf("master").exists(), "nothing of it was removed");
    common::show_and_check_removed(&on_own).await;
}
