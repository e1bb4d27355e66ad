//! The open model: requests are due on a fixed schedule of arrivals, whatever the answers do. Each
//! one goes to the user who has waited longest with nothing in flight, so no session ever has two
//! requests at once. When every user is busy, a request waits for one and starts late; its latency
//! still counts from when it was due, so a stall shows in full rather than thinning the load.
//!
//! Free users queue, first come first served, on the schedule's lock; the one holding it waits for
//! the next arrival, takes it and lets the next user in. No task hands work to another: at high
//! rates the generator's CPU goes to the requests, not to scheduling them.

use std::time::Instant;

use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::arrivals::Arrivals;
use super::user::VirtualUser;
use super::{Outcome, WorkloadError};

/// The arrivals not yet taken, and how many came due but could not start before the end.
struct Schedule {
    arrivals: Arrivals,
    not_started: u64,
}

/// Runs `users` against `arrivals` from `start` until `end`; returns the operations performed,
/// the requests that came due but had not started by `end`, and the users.
pub(super) async fn run(
    users: Vec<VirtualUser>,
    arrivals: Arrivals,
    start: Instant,
    end: Instant,
) -> Result<(Outcome, Vec<VirtualUser>), WorkloadError> {
    let schedule = std::sync::Arc::new(Mutex::new(Schedule {
        arrivals,
        not_started: 0,
    }));
    let mut running: JoinSet<(u64, VirtualUser)> = JoinSet::new();
    for user in users {
        running.spawn(run_user(user, schedule.clone(), start, end));
    }
    let mut operations = 0;
    let mut done_users = Vec::new();
    while let Some(done) = running.join_next().await {
        let (performed, user) = done.map_err(WorkloadError::from_join)?;
        operations += performed;
        done_users.push(user);
    }
    let not_started = schedule.lock().await.not_started;
    let outcome = Outcome {
        operations,
        not_started,
    };
    Ok((outcome, done_users))
}

/// One user's turn after turn at the schedule until it runs out; returns the user's operations
/// and the user.
async fn run_user(
    mut user: VirtualUser,
    schedule: std::sync::Arc<Mutex<Schedule>>,
    start: Instant,
    end: Instant,
) -> (u64, VirtualUser) {
    let idle = user.idle_window(start);
    let mut operations = 0;
    loop {
        let mut turn = schedule.lock().await;
        let Some(offset) = turn.arrivals.peek() else {
            break;
        };
        let due = start + offset;
        if let Some((from, until)) = idle {
            // An arrival due inside the spell is never this user's, even once it is back (every
            // other user was busy): the spell is when its requests were not due. At the end,
            // the check below ends the user.
            if due >= from && due < user.back_from_idle_at(until) && Instant::now() < end {
                // This user sits the window out; the arrival goes to the next one in the queue.
                drop(turn);
                user.come_back();
                tokio::time::sleep_until(user.back_from_idle_at(until).min(end).into()).await;
                continue;
            }
        }
        if Instant::now() >= end {
            // Every user was busy until the end: this arrival and the rest never started.
            let left = turn.arrivals.by_ref().count() as u64;
            turn.not_started += left;
            break;
        }
        turn.arrivals.next();
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        drop(turn);
        user.operate_next(due).await;
        operations += 1;
    }
    (operations, user)
}
