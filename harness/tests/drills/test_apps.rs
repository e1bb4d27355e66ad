//! Drilling one of the small apps of `tests/apps` (Python's standard library, sessions in memory)
//! through the CLI, on the process backend, with no fault: what the hostile-input and logout
//! tests share.

use crate::common;

use std::process::{Command, Output};

/// Runs `app` (a file of `tests/apps`) under a scenario named `name`, with `workload` lines
/// added to its `[workload]` section; the CLI's output.
pub(crate) fn drill_app(app: &str, name: &str, workload: &str) -> Output {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/apps")
        .join(app);
    let out = common::out_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("a directory");
    let scenario = out.join("drill.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"{name}\"\n[app]\ncommand = \"exec python3 {}\"\n\
             [workload]\nusers = 4\nrate = 40.0\n{workload}\n\
             [topology]\nbackend = \"process\"\n",
            path.display()
        ),
    )
    .expect("the scenario");
    let ran = Command::new(env!("CARGO_BIN_EXE_failover-drill"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run the CLI");
    println!(
        "{}\n{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    ran
}
