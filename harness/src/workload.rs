//! Virtual users driving the app under test for the workload's duration, paced by the open model
//! (requests due on a schedule of arrivals, whatever the answers do) or the closed one (each user
//! works through its own schedule, one request at a time). Some users can go idle for a window and
//! come back with a read. Every attempt goes into the history, grouped under its operation.
//!
//! It owns HTTP load. It must not judge what it sees: a 401 is recorded, not interpreted.

mod agent;
mod arrivals;
mod closed;
mod cookie_jar;
mod open;
mod probe;
mod user;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::history::Recorder;
use crate::scenario::{HttpContract, LoadModel, Workload};
use agent::{Agent, Target};
use arrivals::Arrivals;
use probe::Probe;
use user::VirtualUser;

/// What can stop the workload.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// An app instance's base URL cannot be used by the probe client.
    #[error("cannot send probe requests to app URL `{url}`: {reason}")]
    AppUrl {
        /// The URL.
        url: String,
        /// Why, and how it should be written.
        reason: String,
    },
    /// A virtual user's task panicked or was cancelled: a bug in the harness, not in the app.
    #[error("a virtual user stopped unexpectedly ({detail}); this is a failover-drill bug, please report it")]
    UserLost {
        /// What the runtime said.
        detail: String,
    },
}

/// What the workload did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Operations performed.
    pub operations: u64,
    /// Open model: requests that came due but had not started when the workload's time was up,
    /// because every user was busy.
    pub not_started: u64,
}

/// How many HTTP requests the virtual users have sent and not yet had answered, now. A fault
/// timed to the workload reads it; cloning shares the count.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<AtomicU32>);

impl InFlight {
    /// Requests in flight at this moment.
    pub fn now(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Counts one request until the guard drops, however the request ends.
    fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::Relaxed);
        InFlightGuard(self.0.clone())
    }
}

/// One request counted in flight.
struct InFlightGuard(Arc<AtomicU32>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl WorkloadError {
    fn from_join(e: tokio::task::JoinError) -> Self {
        Self::UserLost {
            detail: e.to_string(),
        }
    }
}

fn users(
    spec: &Workload,
    contract: &HttpContract,
    base_urls: &[String],
    recorder: &Recorder,
    in_flight: &InFlight,
) -> Result<Vec<VirtualUser>, WorkloadError> {
    let op_ids = Arc::new(AtomicU64::new(1));
    let targets: Arc<[Target]> = base_urls
        .iter()
        .map(|url| {
            Target::parse(url).map_err(|e| WorkloadError::AppUrl {
                url: url.clone(),
                reason: e.to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    if targets.is_empty() {
        return Err(WorkloadError::AppUrl {
            url: String::new(),
            reason: "no app instance to send requests to".into(),
        });
    }
    let probe = Arc::new(
        Probe::new(contract).map_err(|reason| WorkloadError::AppUrl {
            url: base_urls.join(", "),
            reason: format!("the HTTP contract cannot be used: {reason}"),
        })?,
    );
    Ok((1..=spec.users)
        .map(|id| {
            VirtualUser::new(
                id,
                Agent::new(targets.clone(), spec.request_timeout, in_flight.clone()),
                probe.clone(),
                spec.clone(),
                recorder.clone(),
                op_ids.clone(),
            )
        })
        .collect())
}

/// The virtual users once the workload has ended, each with its cookies, kept for the final
/// reads.
pub struct Users(Vec<VirtualUser>);

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Users({})", self.0.len())
    }
}

impl Users {
    /// Every user reads its session once more, all at once, each with the client's retry
    /// budget; each read is recorded as a final read. Returns when every read has ended.
    pub async fn final_reads(self) -> Result<(), WorkloadError> {
        let mut reads = tokio::task::JoinSet::new();
        for mut user in self.0 {
            reads.spawn(async move { user.final_read().await });
        }
        while let Some(read) = reads.join_next().await {
            read.map_err(WorkloadError::from_join)?;
        }
        Ok(())
    }
}

/// Runs the workload from `start`, with requests shaped by `contract`, until its duration has
/// passed and every request already started has ended; `in_flight` counts its requests in flight.
/// Returns what it did, and the users for their final reads.
pub async fn run(
    spec: &Workload,
    contract: &HttpContract,
    base_urls: &[String],
    recorder: &Recorder,
    in_flight: &InFlight,
    start: Instant,
) -> Result<(Outcome, Users), WorkloadError> {
    let users = users(spec, contract, base_urls, recorder, in_flight)?;
    let end = start + spec.duration;
    match spec.model {
        LoadModel::Open => {
            let arrivals =
                Arrivals::new(spec.rate, spec.ramp_to.unwrap_or(spec.rate), spec.duration);
            let (outcome, users) = open::run(users, arrivals, start, end).await?;
            Ok((outcome, Users(users)))
        }
        LoadModel::Closed => {
            let interval = Duration::from_secs_f64(f64::from(spec.users) / spec.rate);
            let runs: Vec<_> = users
                .into_iter()
                .map(|user| {
                    // Users start spread over one interval so their requests do not come in bursts.
                    let offset = interval.mul_f64(f64::from(user.id - 1) / f64::from(spec.users));
                    tokio::spawn(closed::run_user(user, start, end, interval, offset))
                })
                .collect();
            let mut total = 0;
            let mut done = Vec::new();
            for run in runs {
                let (performed, user) = run.await.map_err(WorkloadError::from_join)?;
                total += performed;
                done.push(user);
            }
            let outcome = Outcome {
                operations: total,
                not_started: 0,
            };
            Ok((outcome, Users(done)))
        }
    }
}
