//! The scenario's `[workload]` section, the virtual users, and its validation.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Problem;

/// Most virtual users.
pub const MAX_USERS: u32 = 10_000;
/// Highest arrival rate, requests per second: well past what one machine's generator reaches.
pub const MAX_RATE: f64 = 1_000_000.0;

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadModel {
    /// Requests are due at `rate` whatever the answers do; each goes to a user with nothing in
    /// flight, and waits (late, and counted so) when every user is busy.
    Open,
    /// Each user works through its own schedule at `rate / users`, one request at a time.
    Closed,
}

/// Virtual users and their pace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    /// Open or closed model.
    pub model: LoadModel,
    /// Virtual users, each with its own cookie jar and one request in flight.
    pub users: u32,
    /// Target requests per second, all users together.
    pub rate: f64,
    /// For the open model: the rate at the end, reached by a linear ramp from `rate`.
    pub ramp_to: Option<f64>,
    /// Every how many operations a user appends a value (the others read); 0 for reads only.
    pub write_every: u32,
    /// Appends after which a user logs in again, starting a fresh session; 0 for never. Bounds
    /// session size, so long runs keep each read small.
    pub relogin_after: u32,
    /// Appends after which a user that logs out (see `logout_share`) does so
    /// (`app.contract.logout`), replays the cookie it held at once, and logs in again; 0 for
    /// never. The old cookie is replayed once more in the final reads. A replay the app answers
    /// 2xx is a resurrected session.
    pub logout_every: u32,
    /// The share of users that log out, the highest-numbered ones (at least one when above 0):
    /// the others keep one session throughout, so that an acknowledged write lost in a failover
    /// meets a later read of its session.
    pub logout_share: f64,
    /// How long users keep working.
    #[serde(with = "humantime_serde")]
    pub duration: Duration,
    /// Longest wait for one HTTP request.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How a user retries a failed request, as a person reloading the page would.
    pub retry: ClientRetry,
    /// Users who stop working for a window and come back; none by default.
    pub idle: Option<Idle>,
}

/// A window in which the first `users` users do nothing. A user who comes back reads its session
/// first: a busy user carries its session across a switch in its own read-modify-write, and only a
/// user who returns afterwards sees what the switch rolled back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Idle {
    /// How many users go idle (users 1 to `users`).
    pub users: u32,
    /// Start of the window, from the start of the workload.
    #[serde(with = "humantime_serde")]
    pub from: Duration,
    /// End of the window.
    #[serde(with = "humantime_serde")]
    pub until: Duration,
}

/// Appends between logouts when a scenario does not say: a user of the default workload logs
/// out about every 2 s, so a failover of a few seconds meets several logouts. A user who logs out
/// logs in again, and a login acknowledged by a master that then loses its writes is a lost login
/// (bounded as lost writes are), not a lost session.
const DEFAULT_LOGOUT_EVERY: u32 = 10;

/// The share of users that log out when a scenario does not say: 5 of the default 20.
const DEFAULT_LOGOUT_SHARE: f64 = 0.25;

impl Default for Workload {
    fn default() -> Self {
        Self {
            model: LoadModel::Open,
            users: 20,
            rate: 200.0,
            ramp_to: None,
            write_every: 2,
            relogin_after: 0,
            logout_every: DEFAULT_LOGOUT_EVERY,
            logout_share: DEFAULT_LOGOUT_SHARE,
            duration: Duration::from_secs(20),
            request_timeout: Duration::from_secs(10),
            retry: ClientRetry::default(),
            idle: None,
        }
    }
}

/// A virtual user's retry budget.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClientRetry {
    /// Attempts per operation, the first included.
    pub attempts: u32,
    /// Pause between attempts.
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
}

impl Default for ClientRetry {
    fn default() -> Self {
        Self {
            attempts: 5,
            backoff: Duration::from_millis(500),
        }
    }
}

impl Workload {
    /// The load in words: `20 users at 200 req/s for 20s`.
    pub fn describe(&self) -> String {
        format!(
            "{} users at {} req/s for {}",
            self.users,
            self.rate,
            humantime::format_duration(self.duration)
        )
    }

    /// Checks the section; the field named is within it.
    pub(super) fn check(&self) -> Result<(), Problem> {
        let problem = |field: &str, message: String| Err((field.to_owned(), message));
        // Upper bounds keep a typo from starting millions of users.
        if self.users == 0 || self.users > MAX_USERS {
            return problem(
                "users",
                format!("{} is not between 1 and {MAX_USERS}", self.users),
            );
        }
        if !(self.rate.is_finite() && self.rate > 0.0 && self.rate <= MAX_RATE) {
            return problem(
                "rate",
                format!(
                    "{} is not a rate above 0 and at most {MAX_RATE} requests per second",
                    self.rate
                ),
            );
        }
        if let Some(ramp_to) = self.ramp_to {
            if self.model == LoadModel::Closed {
                return problem("ramp_to", "a ramp needs model = \"open\"".into());
            }
            if !(ramp_to.is_finite() && ramp_to > 0.0 && ramp_to <= MAX_RATE) {
                return problem(
                    "ramp_to",
                    format!("{ramp_to} is not a rate above 0 and at most {MAX_RATE}"),
                );
            }
        }
        if self.duration.is_zero() || self.duration > Duration::from_secs(3600) {
            return problem("duration", "must be more than 0s and at most 1h".into());
        }
        if let Some(idle) = &self.idle {
            if idle.users == 0 || idle.users > self.users {
                return problem(
                    "idle.users",
                    format!("must be between 1 and workload.users ({})", self.users),
                );
            }
            if self.model == LoadModel::Open && idle.users >= self.users {
                return problem(
                    "idle.users",
                    format!(
                        "must be below workload.users ({}) in the open model: someone must take the requests",
                        self.users
                    ),
                );
            }
            if idle.from >= idle.until || idle.until > self.duration {
                return problem(
                    "idle.until",
                    "the window must end after it starts and by the end of the workload".into(),
                );
            }
        }
        if self.retry.attempts == 0 {
            return problem("retry.attempts", "must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.logout_share) {
            return problem(
                "logout_share",
                format!("{} is not a share between 0 and 1", self.logout_share),
            );
        }
        Ok(())
    }

    /// Whether user `user` (1 to `users`) logs out now and then: the highest-numbered
    /// `logout_share` of them, at least one when the share is above 0.
    pub fn logs_out(&self, user: u32) -> bool {
        if self.logout_every == 0 || self.logout_share <= 0.0 {
            return false;
        }
        let count = (f64::from(self.users) * self.logout_share).ceil() as u32;
        user > self.users.saturating_sub(count.max(1))
    }
}
