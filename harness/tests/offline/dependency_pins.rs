//! bollard must stay at 0.21.1: it sends no API version, which is what lets it talk to Debian's
//! Docker 20.10 engine (API 1.41). 0.22 sends a newer version and the engine refuses every call.

#[test]
fn bollard_is_pinned_in_the_lock_file() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("Cargo.lock is committed");
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains("name = \"bollard\"\n"))
        .filter_map(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .collect();
    assert_eq!(versions, vec!["\"0.21.1\""]);
}

/// The workspace's `rust-version` is the oldest toolchain it claims to build on, so it must be at
/// least every locked dependency's own, on every platform.
///
/// `cargo metadata` reads every platform's dependency manifests, and no build here downloads the
/// sources of another platform's (`android_system_properties`, `windows-sys`). So it may fetch
/// them from crates.io, as a build does: with `--offline` the test passed only on machines whose
/// cargo cache already held them. `ci/test.sh` runs `cargo fetch --locked` first, so there it
/// needs no network.
#[test]
fn rust_version_is_at_least_every_dependencys() {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed; it needs the sources of every platform's dependencies: run \
         `cargo fetch --locked` where crates.io can be reached, then this test again:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    // "1.88" is "1.88.0"
    let version = |text: &str| -> Vec<u32> {
        let mut parts: Vec<u32> = text
            .split('.')
            .map(|part| part.parse().expect("a numeric version"))
            .collect();
        parts.resize(3, 0);
        parts
    };
    let packages = metadata["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == "failover-drill")
        .and_then(|p| p["rust_version"].as_str())
        .expect("failover-drill declares rust-version");
    let higher: Vec<String> = packages
        .iter()
        .filter_map(|p| Some((p["name"].as_str()?, p["rust_version"].as_str()?)))
        .filter(|(_, theirs)| version(theirs) > version(ours))
        .map(|(name, theirs)| format!("{name} needs {theirs}"))
        .collect();
    assert!(higher.is_empty(), "rust-version {ours}, but {higher:?}");
}
