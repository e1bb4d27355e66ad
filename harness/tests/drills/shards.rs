//! One matrix drilled whole, and again as three shards started at once as separate processes,
//! then merged: the merged grid, counts and JUnit equal the whole one's, cell by cell, and a
//! missing shard is named. On the process backend with a scenario of a few seconds and no fault,
//! so every cell's verdict is the same in any run: the correct store passes, and the `fixed-id`
//! mutant keeps the session id at every login.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use failover_drill::matrix::MatrixOutcome;

use crate::common;

const SCENARIO: &str = r#"name = "sessions"
description = "two users log in, write and log in again on local processes; no fault"
[topology]
backend = "process"
[workload]
users = 2
rate = 20.0
duration = "2s"
relogin_after = 3
[expectations]
session_id_cycled = true
"#;

/// 2 apps × 2 swept durations × 1 scenario × 3 runs: 12 drills.
const MATRIX: &str = r#"name = "shards"
scenarios = ["sessions.toml"]
repeat = 3
[[apps]]
name = "sample"
[[apps]]
name = "fixed-id"
mutant = "fixed-id"
[sweep]
workload.duration = ["2s", "3s"]
"#;

const SHARDS: u32 = 3;

fn drill(args: &[&str], out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_failover-drill"));
    command.args(args).arg("--out").arg(out);
    command
}

fn finished(command: &mut Command) -> Output {
    command.output().expect("run the CLI")
}

/// The one matrix directory the run left under `out`.
fn matrix_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("the output directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn outcome(dir: &Path) -> MatrixOutcome {
    let text = std::fs::read_to_string(dir.join("matrix.json")).expect("matrix.json");
    serde_json::from_str(&text).expect("matrix.json parses")
}

/// Per cell: its verdict, runs, failed runs, and each bounded expectation that failed with the
/// runs it failed in: what must not depend on how the drills were split.
fn grid(outcome: &MatrixOutcome) -> Vec<String> {
    outcome
        .cells
        .iter()
        .map(|cell| {
            let rates: Vec<String> = cell
                .rates
                .iter()
                .filter(|r| !r.reported_only)
                .map(|r| format!("{} in {} of {}", r.expectation, r.failed_in, r.runs))
                .collect();
            format!(
                "{} × {}: {} ({} runs, {} failed) {rates:?}",
                outcome.rows[cell.row].label(),
                outcome.columns[cell.column],
                cell.verdict().word(),
                cell.runs.len(),
                cell.failed_runs(),
            )
        })
        .collect()
}

fn junit(dir: &Path) -> junit_parser::TestSuites {
    let file = std::fs::File::open(dir.join("junit.xml")).expect("junit.xml");
    junit_parser::from_reader(std::io::BufReader::new(file)).expect("JUnit XML")
}

#[test]
fn a_matrix_run_as_three_shards_and_merged_equals_the_matrix_run_whole() {
    let slots = common::take_cluster_slots(SHARDS as usize);
    let root = common::out_dir().join(format!("shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("a directory for the test");
    std::fs::write(root.join("sessions.toml"), SCENARIO).expect("scenario file");
    let matrix_file = root.join("m.toml");
    std::fs::write(&matrix_file, MATRIX).expect("matrix file");
    let file = matrix_file.to_str().expect("utf-8 path");

    let jobs = slots.len().to_string();
    let began = Instant::now();
    let whole = finished(&mut drill(
        &["matrix", file, "--quiet", "--jobs", &jobs],
        &root.join("whole"),
    ));
    let whole_s = began.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&whole.stdout);
    assert_eq!(whole.status.code(), Some(1), "{stdout}");

    // The shards, each a process of its own, started together, one drill at a time each.
    let began = Instant::now();
    let running: Vec<(u32, std::process::Child)> = (0..SHARDS)
        .map(|k| {
            let shard = format!("{k}/{SHARDS}");
            let out = root.join(format!("shard-{k}"));
            let child = drill(
                &["matrix", file, "--quiet", "--jobs", "1", "--shard", &shard],
                &out,
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start a shard");
            (k, child)
        })
        .collect();
    for (k, child) in running {
        let out = child.wait_with_output().expect("a shard ends");
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "shard {k}: {text}\n{err}");
        assert!(
            text.contains(&format!("as shard {k}/{SHARDS} of the matrix")),
            "{text}"
        );
    }
    let sharded_s = began.elapsed().as_secs_f64();
    drop(slots);
    let shard_dirs: Vec<PathBuf> = (0..SHARDS)
        .map(|k| matrix_dir(&root.join(format!("shard-{k}"))))
        .collect();
    let dir_args: Vec<&str> = shard_dirs
        .iter()
        .map(|d| d.to_str().expect("utf-8 path"))
        .collect();

    let mut args = vec!["merge"];
    args.extend(&dir_args);
    let merged = finished(&mut drill(&args, &root.join("merged")));
    let merged_stdout = String::from_utf8_lossy(&merged.stdout);
    assert_eq!(
        merged.status.code(),
        Some(1),
        "{merged_stdout}\n{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    println!(
        "12 drills: whole, {jobs} at a time, {whole_s:.1} s; {SHARDS} shards at once, one drill \
         at a time each, {sharded_s:.1} s\n{merged_stdout}"
    );

    let (whole_dir, merged_dir) = (
        matrix_dir(&root.join("whole")),
        matrix_dir(&root.join("merged")),
    );
    let (whole, merged) = (outcome(&whole_dir), outcome(&merged_dir));
    assert_eq!((whole.planned, merged.planned), (12, 12));
    assert_eq!((whole.done(), merged.done()), (12, 12));
    assert_eq!(whole.identity, merged.identity);
    assert_eq!(grid(&merged), grid(&whole));
    // The grid says what it should, not only the same thing twice.
    let expected = ["passed", "passed", "FAILED", "FAILED"];
    let verdicts: Vec<&str> = whole.cells.iter().map(|c| c.verdict().word()).collect();
    assert_eq!(verdicts, expected);
    assert!(grid(&whole)[2].contains("session ids kept at login <= 0 in 3 of 3"));
    // Every shard drilled a run of every cell: repeats are spread.
    for dir in &shard_dirs {
        let shard = outcome(dir);
        assert!(shard.cells.iter().all(|c| c.runs.len() == 1), "{dir:?}");
    }
    // Each run is where its shard put it, and the merged page links to it there.
    let page = std::fs::read_to_string(merged_dir.join("matrix.html")).expect("matrix.html");
    for run in merged.cells.iter().flat_map(|c| &c.runs) {
        assert!(
            run.run_dir.join("report.json").is_file(),
            "{:?}",
            run.run_dir
        );
        let link = format!("{}/report.html", merged.relative(&run.run_dir));
        assert!(link.starts_with("../../shard-"), "{link}");
        assert!(merged_dir.join(&link).is_file(), "{link} leads nowhere");
        // The page's links are percent-encoded a segment at a time (`=` is `%3D`).
        let href = format!("href=\"{}\"", link.replace('=', "%3D"));
        assert!(page.contains(&href), "no link {href}");
    }
    let whole_page = std::fs::read_to_string(whole_dir.join("matrix.html")).expect("matrix.html");
    assert!(
        whole_page.contains("<svg") && page.contains("<svg"),
        "the sweep's plot"
    );
    for file in ["matrix.md", "junit.xml"] {
        assert!(merged_dir.join(file).is_file(), "{file}");
    }

    let (whole_junit, merged_junit) = (junit(&whole_dir), junit(&merged_dir));
    assert_eq!(
        (
            merged_junit.tests,
            merged_junit.failures,
            merged_junit.errors
        ),
        (whole_junit.tests, whole_junit.failures, whole_junit.errors)
    );
    assert_eq!((merged_junit.tests, merged_junit.failures), (4, 2));

    // A shard's directory left out is named.
    let mut args = vec!["merge", dir_args[0], dir_args[2]];
    let missing = finished(&mut drill(&args, &root.join("merged-again")));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{err}");
    assert!(err.contains("shard 1/3 is missing"), "{err}");
    args.push(dir_args[0]);
    let twice = finished(&mut drill(&args, &root.join("merged-again")));
    let err = String::from_utf8_lossy(&twice.stderr);
    assert!(err.contains("shard 0/3 is given twice"), "{err}");

    // Nothing of any run is left.
    for run in whole
        .cells
        .iter()
        .chain(&merged.cells)
        .flat_map(|c| &c.runs)
    {
        assert_eq!(
            failover_drill::leftovers::processes(Some(&run.run_id)),
            Vec::<(u32, String)>::new()
        );
        assert!(failover_drill::leftovers::work_dirs(Some(&run.run_id)).is_empty());
    }
    std::fs::remove_dir_all(&root).expect("clean up");
}
