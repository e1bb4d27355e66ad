//! The open model: requests are due on a fixed schedule of arrivals, whatever the answers do. Each
//! one goes to the user who has waited longest with nothing in flight, so no session ever has two
//! requests at once. When every user is busy, a request waits for one and starts late; its latency
//! still counts from when it was due, so a stall shows in full rather than thinning the load.

use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::arrivals::Arrivals;
use super::user::VirtualUser;
use super::{Outcome, WorkloadError};

/// Runs `users` against `arrivals` from `start` until `end`; returns the operations performed
/// and the requests that came due but had not started by `end`.
pub(super) async fn run(
    users: Vec<VirtualUser>,
    arrivals: Arrivals,
    start: Instant,
    end: Instant,
) -> Result<Outcome, WorkloadError> {
    let (free, mut next_free) = mpsc::unbounded_channel::<VirtualUser>();
    for user in users {
        // The receiver lives until the end of this function.
        let _ = free.send(user);
    }
    let mut running: JoinSet<u64> = JoinSet::new();
    let mut performed = 0;
    let mut arrivals = arrivals;
    while let Some(offset) = arrivals.next() {
        let due = start + offset;
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let waited = tokio::time::timeout_at(end.into(), async {
            loop {
                let mut user = next_free.recv().await?;
                match user.idle_window(start) {
                    Some((from, until)) if due >= from && due < until => {
                        // Back in the pool when its window closes.
                        let free = free.clone();
                        user.come_back();
                        running.spawn(async move {
                            tokio::time::sleep_until(until.into()).await;
                            let _ = free.send(user);
                            0
                        });
                    }
                    _ => return Some(user),
                }
            }
        })
        .await;
        let Ok(Some(mut user)) = waited else {
            // The workload ended with every user still busy: this request and the rest never
            // started.
            let not_started = 1 + arrivals.count() as u64;
            while let Some(done) = running.join_next().await {
                performed += done.map_err(WorkloadError::from_join)?;
            }
            return Ok(Outcome {
                operations: performed,
                not_started,
            });
        };

        let free = free.clone();
        running.spawn(async move {
            user.operate_next(due).await;
            let _ = free.send(user);
            1
        });
        while let Some(done) = running.try_join_next() {
            performed += done.map_err(WorkloadError::from_join)?;
        }
    }
    while let Some(done) = running.join_next().await {
        performed += done.map_err(WorkloadError::from_join)?;
    }
    Ok(Outcome {
        operations: performed,
        not_started: 0,
    })
}
