//! The open model: requests are due on a fixed schedule of arrivals, whatever the answers do. Each
//! one goes to the user who has waited longest with nothing in flight, so no session ever has two
//! requests at once. When every user is busy, a request waits for one and starts late; its latency
//! still counts from when it was due, so a stall shows in full rather than thinning the load.

use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::arrivals::Arrivals;
use super::user::VirtualUser;
use super::WorkloadError;

/// Runs `users` against `arrivals` from `start`; returns the number of operations performed.
pub(super) async fn run(
    users: Vec<VirtualUser>,
    arrivals: Arrivals,
    start: Instant,
) -> Result<u64, WorkloadError> {
    let (free, mut next_free) = mpsc::unbounded_channel::<VirtualUser>();
    for user in users {
        // The receiver lives until the end of this function.
        let _ = free.send(user);
    }
    let mut running: JoinSet<u64> = JoinSet::new();
    let mut performed = 0;
    for offset in arrivals {
        let due = start + offset;
        tokio::time::sleep_until(due.into()).await;
        let mut user = loop {
            let Some(mut user) = next_free.recv().await else {
                return Ok(performed);
            };
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
                _ => break user,
            }
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
    Ok(performed)
}
