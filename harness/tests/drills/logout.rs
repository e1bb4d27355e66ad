//! The logout check end to end, on apps started as processes: one whose logout answers 200 and
//! leaves the session on the server (`tests/apps/logout_kept_app.py`) must fail
//! `resurrected sessions <= 0` with every replay reopening the session, and one with no logout
//! route (`tests/apps/malformed_app.py` answers 404) is drilled as before with the check reported
//! as not made. The sample app's logout, which deletes the session before answering, is drilled
//! by every scenario.

use crate::common;

/// Runs `app` for 4 s, half its users logging out after every third append; the CLI's exit code
/// and stdout.
fn drill_app(app: &str, tag: &str) -> (Option<i32>, String) {
    let ran = crate::test_apps::drill_app(
        app,
        &format!("logout-{tag}"),
        "duration = \"4s\"\nlogout_every = 3\nlogout_share = 0.5",
    );
    (
        ran.status.code(),
        String::from_utf8_lossy(&ran.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_that_leaves_the_session_on_the_server_is_a_resurrected_session() {
    let _slot = common::a_cluster_slot().await;
    let (status, stdout) = drill_app("logout_kept_app.py", "kept");
    assert_eq!(status, Some(1), "the drill fails");
    assert!(
        stdout.contains("[FAIL] resurrected sessions <= 0"),
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("logouts:"))
        .expect("a logouts line");
    // Every replay of every acknowledged logout opened the session again.
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        matches!(numbers[..], [acked, asked, replays, reopened]
            if acked == asked && acked > 0 && replays >= acked && reopened == replays),
        "{line}"
    );
    assert!(
        stdout.contains("did not end the session"),
        "the finding says what the logout failed to do: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_with_no_logout_route_is_drilled_and_the_check_reported_as_not_made() {
    let _slot = common::a_cluster_slot().await;
    let (status, stdout) = drill_app("malformed_app.py", "none");
    assert!(matches!(status, Some(0 | 1)), "a verdict");
    assert!(
        stdout.contains("logouts: not checked: the app answered 404 to its logout route"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("[FAIL] user-visible errors"),
        "a logout route the app does not have is no error users saw: {stdout}"
    );
}
