//! The sample app's command line refuses to start without what it needs, saying what to pass.

use std::process::Command;

#[test]
fn no_sentinels_is_refused_with_the_flag_to_pass() {
    let out = Command::new(env!("CARGO_BIN_EXE_sample-app"))
        .env_remove("SENTINEL_ADDRS")
        .output()
        .expect("run the sample app");
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("--sentinels"), "{msg}");
}

#[test]
fn an_unknown_mutant_lists_the_known_ones() {
    let out = Command::new(env!("CARGO_BIN_EXE_sample-app"))
        .args(["--sentinels", "127.0.0.1:1", "--mutant", "pinnned"])
        .output()
        .expect("run the sample app");
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("lossy-ack"), "{msg}");
}

#[test]
fn a_bad_sentinel_address_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_sample-app"))
        .args(["--sentinels", "127.0.0.1:26379,nohostport"])
        .output()
        .expect("run the sample app");
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("nohostport") && !msg.contains("panicked"),
        "{msg}"
    );
}
