//! The tests that start clusters (containers, or redis-server processes), in one binary so the
//! crate and its dependencies are linked once for all of them. They share the machine-wide cluster
//! slots in `common`, so only a few drills run at a time however many threads the binary has.

#[path = "../common/mod.rs"]
mod common;

mod chaos_properties;
mod cleanup;
mod express_app;
mod external_app;
mod external_deployment;
mod external_drill;
mod hand_made;
mod kill_master;
mod logout;
mod malformed_answers;
mod mutants;
mod password;
mod process_backend;
mod router_drill;
mod rust_stacks;
mod scenarios;
mod sentinel_monitor;
mod shards;
mod test_apps;
