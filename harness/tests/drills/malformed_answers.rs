//! An app whose answers are hostile (`tests/apps/malformed_app.py`): read answers of 4 MB, bytes
//! that are not UTF-8, escape sequences and a forged report line inside its JSON, cookies holding
//! a control character or an encoded line break, error bodies with escape sequences. The drill
//! must finish with a verdict, and nothing the app said may reach the terminal or a report as a
//! control character or a line of its own.

use crate::common;

/// The line the app tries to forge in the summary.
const FORGED: &str = "[ok  ] every expectation held";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_are_read_safely_and_shown_escaped() {
    let _slot = common::a_cluster_slot().await;
    let ran =
        crate::test_apps::drill_app("malformed_app.py", "malformed-answers", "duration = \"5s\"");
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert_eq!(
        ran.status.code(),
        Some(1),
        "a verdict, failed: the user name the app returns is not the user's own"
    );
    for printed in [&stdout, &stderr] {
        assert!(
            !printed.contains('\u{1b}'),
            "no escape sequence reaches the terminal"
        );
        assert!(
            !printed.lines().any(|l| l.trim_start().starts_with(FORGED)),
            "no forged line"
        );
    }
    assert!(
        stdout.contains("\\u{1b}[2J") && stdout.contains("forged line\\n"),
        "the app's words are shown, escaped: {stdout}"
    );
    let dir = common::run_dir_in_summary(&stdout);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("report.json")).expect("report.json"),
    )
    .expect("report.json is JSON");
    assert!(report["findings"].is_object(), "{report}");
    for file in ["report.html", "history.jsonl", "report.json"] {
        let text = std::fs::read(dir.join(file)).expect(file);
        assert!(!text.contains(&0x1b), "{file} holds a raw escape character");
    }
}
