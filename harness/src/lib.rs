//! failover-drill: proves with evidence that web sessions kept in Redis behind Sentinel survive a
//! failover, and that every error the failover causes is absorbed by retries.
//!
//! # Layout
//! - [`scenario`]: scenario files, parsed into typed values.
//! - [`cluster`]: the Redis topology: containers, local processes, or a deployment the harness
//!   did not start.
//! - [`app`]: the app under test.
//! - [`workload`]: virtual users.
//! - [`nemesis`]: faults on a schedule.
//! - [`monitor`]: sentinel events.
//! - [`sampler`]: node states over time.
//! - [`history`]: everything that happened, streamed to disk.
//! - [`checker`]: pure functions from history to findings, one per anomaly class.
//! - [`cause`]: each finding placed on the cluster's timeline, with a reason in plain words.
//! - [`verdict`]: findings against a scenario's expectations.
//! - [`assess`]: a history into a report: checkers, verdict, latency.
//! - [`report`]: terminal summary, `report.json`, latency per phase and `.hgrm` spectra.
//! - [`compare`]: two runs side by side.
//! - [`leftovers`]: what killed runs left, and `failover-drill clean`.
//! - [`marks`]: the labels, variable names, rule comment and directory prefix that mark a run's
//!   things as its own.
//! - [`progress`]: what a running drill tells the person watching it.
//! - [`guard`]: what a run will do to a deployment the harness did not start, and the user's yes.
//! - [`run`]: orders the phases; owns nothing else.
//! - [`drill`]: a drill from code, with the caller's own axum `Router` as the app under test.
//! - [`matrix`]: matrix files (apps × swept settings × scenarios) expanded into cells, the grid
//!   of their results with per-expectation rates, shards and their merge.
//! - [`drills`]: every request for more than one drill (a matrix, several scenarios, a repeat,
//!   a shard), run on one machine.

pub mod app;
pub mod assess;
pub mod cause;
pub mod check;
pub mod checker;
mod child;
pub mod cluster;
pub mod compare;
pub mod drill;
pub mod drills;
pub mod guard;
pub mod history;
mod http_get;
pub mod leftovers;
pub mod marks;
pub mod matrix;
pub mod monitor;
pub mod nemesis;
pub mod owed;
pub mod progress;
pub mod report;
pub mod run;
pub mod sampler;
pub mod scenario;
pub mod secret;
pub mod shown;
pub mod verdict;
pub mod workload;
