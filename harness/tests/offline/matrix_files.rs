//! A matrix's files, read back as their readers would: the JUnit XML by a JUnit parser, the JSON
//! into the grid it came from, the Markdown table row by row, and the page's grid and plot. The
//! runs are made up; what is checked is what the files say about them.

use std::path::{Path, PathBuf};

use failover_drill::matrix::{CellRun, FailedExpectation, Matrix, MatrixOutcome};
use failover_drill::scenario::Catalogue;

fn run(passed: bool, unavailable_s: f64, lost_writes: u64, run_dir: PathBuf) -> CellRun {
    CellRun {
        repetition: 1,
        run_id: "r1".into(),
        run_dir,
        passed,
        failed: if passed {
            Vec::new()
        } else {
            vec![FailedExpectation {
                expectation: "lost writes <= 0".into(),
                actual: 12,
                shown: None,
            }]
        },
        reported: Vec::new(),
        longest_unavailable_s: unavailable_s,
        // A failed run also locked its users out for good.
        never_recovered: if passed { 0 } else { 20 },
        lost_writes,
        user_errors: 0,
        lost_logins: 0,
        resurrected: Some(0),
        switch_master_ms: Some(2100.0),
        took_s: 40.0,
        error: None,
    }
}

/// The shipped sweep's grid with made-up runs: the first row loses writes in one of its runs,
/// the second could not finish once, the last two pass.
fn outcome(dir: &Path) -> MatrixOutcome {
    let file = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/sweeps/split-brain-durability.toml"
    ));
    let matrix =
        Matrix::from_file(&file, &Catalogue::built_in()).expect("the shipped sweep is valid");
    assert_eq!(matrix.rows.len(), 4);
    assert_eq!(matrix.columns, ["split-brain"]);
    let mut outcome = MatrixOutcome::new(&matrix, dir.to_owned(), 4, &matrix.plan(None), None);
    for (cell, runs) in [
        vec![(true, 0.2, 0), (false, 0.4, 12), (true, 0.3, 0)],
        vec![(true, 1.5, 0), (true, 1.8, 0)],
        vec![(true, 3.1, 0), (true, 3.4, 0), (true, 3.2, 0)],
        vec![(true, 2.9, 0), (true, 3.0, 0), (true, 2.9, 0)],
    ]
    .into_iter()
    .enumerate()
    {
        for (i, (passed, unavailable, lost)) in runs.into_iter().enumerate() {
            let run_dir = dir.join(format!("0{}-row/split-brain-{i}", cell + 1));
            let mut run = run(passed, unavailable, lost, run_dir);
            run.repetition = u32::try_from(i + 1).expect("a few runs");
            outcome.add(cell, run);
        }
    }
    outcome.add(
        1,
        CellRun::failed_to_finish("no Docker engine answered".into(), 3, 1.0),
    );
    outcome.wall_s = 123.0;
    outcome
}

/// The files written into a directory of the test's own: tests run at once and must not read
/// one another's half-written files.
fn written(test: &str) -> (PathBuf, MatrixOutcome) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("matrix-files-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let outcome = outcome(&dir);
    outcome.write_files().expect("the files are written");
    (dir, outcome)
}

#[test]
fn junit_xml_is_a_suite_per_scenario_and_a_case_per_row() {
    let (dir, _) = written("junit");
    let file = std::fs::File::open(dir.join("junit.xml")).expect("junit.xml");
    let parsed = junit_parser::from_reader(std::io::BufReader::new(file)).expect("JUnit XML");
    assert_eq!(parsed.suites.len(), 1);
    let suite = &parsed.suites[0];
    assert_eq!(suite.name, "split-brain");
    assert_eq!(suite.cases.len(), 4);
    assert_eq!(suite.failures, 1);
    assert_eq!(suite.errors, 1);
    let first = &suite.cases[0];
    assert!(first.status.is_failure(), "{first:?}");
    assert_eq!(
        first.original_name,
        "sample app, 2 instances: wait_replicas=0, min_replicas_to_write=0"
    );
    assert_eq!(first.classname.as_deref(), Some("split-brain"));
    let failure = first.status.failure_as_ref();
    assert_eq!(
        failure.message,
        "lost writes <= 0: failed in 1 of 3 runs (largest 12, 12 in all)"
    );
    assert!(suite.cases[1].status.is_error());
    assert!(suite.cases[2].status.is_success() && suite.cases[3].status.is_success());
}

#[test]
fn matrix_json_reads_back_as_the_grid() {
    let (dir, outcome) = written("json");
    let text = std::fs::read_to_string(dir.join("matrix.json")).expect("matrix.json");
    let read: MatrixOutcome = serde_json::from_str(&text).expect("JSON of a grid");
    assert_eq!(read, outcome);
    assert_eq!(
        read.fixed.len(),
        1,
        "min_replicas_max_lag is set in every cell"
    );
}

#[test]
fn matrix_md_is_a_table_with_a_row_per_app_and_settings() {
    let (dir, _) = written("md");
    let text = std::fs::read_to_string(dir.join("matrix.md")).expect("matrix.md");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 5, "a header and four rows: {text}");
    assert_eq!(rows[0], "| app × settings | split-brain |");
    assert!(
        rows[1].contains("**FAILED** (1 of 3 runs failed); 0.2–0.4 s unavailable, 0–12 lost"),
        "{text}"
    );
    assert!(rows[1].ends_with("20 users never worked again |"), "{text}");
    assert!(rows[2].contains("**ERROR**"), "{text}");
    assert!(rows[3].contains("passed (0 of 3 runs failed); 3.1–3.4 s unavailable, 0 lost"));
    assert!(
        text.contains("Every cell: min_replicas_max_lag=1s."),
        "{text}"
    );
    assert!(
        text.contains("could not finish: no Docker engine answered"),
        "{text}"
    );
}

#[test]
fn matrix_html_has_the_grid_the_plot_and_links_to_each_run() {
    let (dir, _) = written("html");
    let page = std::fs::read_to_string(dir.join("matrix.html")).expect("matrix.html");
    assert_eq!(page.matches("<td class=\"failed\">").count(), 1);
    assert_eq!(page.matches("<td class=\"error\">").count(), 1);
    assert_eq!(page.matches("<td class=\"passed\">").count(), 2);
    assert!(
        page.contains("href=\"01-row/split-brain-1/report.html\""),
        "relative links"
    );
    assert_eq!(
        page.matches("20 users never worked again").count(),
        1,
        "the failed cell says its users never got back"
    );
    assert_eq!(page.matches("<svg").count(), 1, "one plot");
    assert!(page.contains("Acknowledged writes lost against the longest time"));
    // The plot's key: one numbered point per cell that has a finished run.
    assert!(page.contains("<tr><td>4</td>"));
    assert!(!page.contains("<tr><td>5</td>"));
}
