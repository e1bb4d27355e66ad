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
