//! The closed model: each user works through its own schedule of `users / rate` second intervals,
//! one request at a time, so a stalled server makes users late rather than making the load
//! lighter. Latency still counts from each request's intended start.

use std::time::{Duration, Instant};

use super::user::VirtualUser;

/// Runs one user from `start + offset` until the workload's end; returns its operation count
/// and the user.
pub(super) async fn run_user(
    mut user: VirtualUser,
    start: Instant,
    end: Instant,
    interval: Duration,
    offset: Duration,
) -> (u64, VirtualUser) {
    let mut intended = start + offset;
    let idle = user.idle_window(start);
    while intended < end {
        if let Some((from, until)) = idle {
            if intended >= from && intended < user.back_from_idle_at(until) {
                user.come_back();
                intended += interval;
                continue;
            }
        }
        tokio::time::sleep_until(intended.into()).await;
        user.operate_next(intended).await;
        // The next operation is due one interval after this one was, not after it ended.
        intended += interval;
    }
    (user.steps(), user)
}
