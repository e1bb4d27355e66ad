//! Benchmarks of failover-drill.
//!
//! Run with: `cargo bench -p failover-drill-benches`; criterion writes its reports under
//! `target/criterion/`.
