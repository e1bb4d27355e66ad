//! One virtual user: its own cookie jar and one request in flight; logs in, then alternates
//! appending a value to its session and reading the session back, and now and then logs out,
//! replays the cookie it held at once (and again in its final reads), and logs in again. A login
//! made while it held session cookies records which of them the login left as they were, and the
//! first operation back from an idle spell when the session was last used. Requests
//! go round-robin over the app instances, and every attempt goes into the history, grouped under
//! its operation, with the client's retry budget.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hyper::StatusCode;

use super::agent::{Agent, Failure};
use super::cookie_jar::CookieJar;
use super::probe::{Probe, Step};

use crate::history::{
    user_name, Attempt, AttemptResult, BackFromIdle, LoginCookies, Micros, OkValue, OpKind,
    Operation, Outcome, Record, Recorder, EXPIRY_GRACE,
};
use crate::scenario::Workload;

/// How far past its TTL and [`EXPIRY_GRACE`] a user back from idle sends its first request: the
/// checks count a session due to expire only when that request was sent after both.
const EXPIRY_GRACE_PASSED: std::time::Duration =
    std::time::Duration::from_micros(EXPIRY_GRACE + 100_000);

/// One virtual user.
pub(super) struct VirtualUser {
    pub(super) id: u32,
    /// Reaches every app instance; requests go round-robin, as behind a load balancer without
    /// stickiness, so an instance still on an old master is read from by users who wrote through
    /// another.
    agent: Agent,
    probe: Arc<Probe>,
    spec: Workload,
    recorder: Recorder,
    op_ids: Arc<AtomicU64>,
    logged_in: bool,
    /// Set after an idle spell: the user's first request back is a read of what it had written.
    returning: bool,
    writes: u64,
    /// Appends attempted since the last login.
    writes_in_session: u64,
    /// Operations done so far.
    steps: u64,
    /// Whether the user logs out now and then (`workload.logout_share`); cleared when the app
    /// answered a logout 404 or 405: it has no logout route.
    logs_out: bool,
    /// The last acknowledged logout, with the cookies held before it.
    logged_out: Option<LoggedOut>,
    /// With a session TTL to check, the cookies as they were after the last operation: the
    /// final read sends them, though the browser may have let them expire while the topology
    /// settled.
    held_last: Vec<(String, String)>,
    /// When the user's last operation ended.
    last_ended: Micros,
    /// Set by an idle spell: when the session was last used before it, and the cookies held
    /// then.
    idle_since: Option<(Micros, Vec<(String, String)>)>,
}

/// An acknowledged logout and the cookies held before it.
#[derive(Clone)]
struct LoggedOut {
    /// The logout's operation id.
    logout: u64,
    /// The jar as it was.
    jar: CookieJar,
    /// Its cookies as they were then, whatever their expiry since.
    held: Vec<(String, String)>,
}

enum Answer {
    Done(OkValue),
    /// Definite failure; `retry` says whether another attempt could help.
    Refused {
        reason: String,
        retry: bool,
        session_lost: bool,
    },
    Unknown {
        reason: String,
    },
}

impl VirtualUser {
    pub(super) fn new(
        id: u32,
        agent: Agent,
        probe: Arc<Probe>,
        spec: Workload,
        recorder: Recorder,
        op_ids: Arc<AtomicU64>,
    ) -> Self {
        let logs_out = spec.logs_out(id);
        Self {
            id,
            agent,
            probe,
            spec,
            recorder,
            op_ids,
            logged_in: false,
            returning: false,
            writes: 0,
            writes_in_session: 0,
            steps: 0,
            logs_out,
            logged_out: None,
            held_last: Vec::new(),
            last_ended: 0,
            idle_since: None,
        }
    }

    /// The user's idle window, if it has one, as instants from `start`.
    pub(super) fn idle_window(&self, start: Instant) -> Option<(Instant, Instant)> {
        self.spec
            .idle
            .as_ref()
            .filter(|idle| self.id <= idle.users)
            .map(|idle| (start + idle.from, start + idle.until))
    }

    /// When the user may come back from its idle spell, whose window ends at `until`: not before
    /// its session is due to expire, when the app has a session TTL. A failover can hold the
    /// requests the user sent before the window until well into it, and a user back before its
    /// TTL (and [`EXPIRY_GRACE`]) since the last of them ended checks no expiry: its session
    /// should still be alive, and a bug that dropped the expiry would go unseen.
    pub(super) fn back_from_idle_at(&self, until: Instant) -> Instant {
        let due_to_expire =
            self.idle_since
                .as_ref()
                .zip(self.probe.session_ttl())
                .map(|((last_used, _), ttl)| {
                    self.recorder.instant_of(*last_used) + ttl + EXPIRY_GRACE_PASSED
                });
        due_to_expire.map_or(until, |at| at.max(until))
    }

    /// Marks the user as back from an idle spell: its next operation reads what it had written.
    pub(super) fn come_back(&mut self) {
        self.returning = true;
        if self.idle_since.is_none() {
            self.idle_since = Some((self.last_ended, self.agent.cookie_values()));
        }
    }

    /// Performs the user's next operation, due at `intended`, and records it. A logout the app
    /// acknowledged is followed at once by a replay of the cookies held before it.
    pub(super) async fn operate_next(&mut self, intended: Instant) {
        let step = self.steps;
        let kind = self.next_kind(step);
        let before = matches!(kind, OpKind::Logout)
            .then(|| (self.agent.cookies(), self.agent.cookie_values()));
        // Back from an idle spell with a session TTL to check, the user sends the cookies it
        // held before the spell as they were: a cookie the browser let expire still opens a
        // session the server kept, for whoever copied it.
        let back = self.idle_since.take().zip(self.probe.session_ttl()).map(
            |((last_used, cookies), ttl)| {
                self.agent.pin_cookies(&cookies);
                BackFromIdle::new(last_used, ttl)
            },
        );
        let mut op = self.operate(kind, intended, step).await;
        self.agent.unpin_cookies();
        op.back_from_idle = back;
        if op.session_due_to_expire() {
            // Past the TTL the session is over whatever this request found (its cookie may well
            // have expired in the browser too): the user logs in again.
            self.logged_in = false;
        }
        if self.probe.session_ttl().is_some() {
            self.held_last = self.agent.cookie_values();
        }
        let acknowledged = matches!(op.outcome, Outcome::Ok(OkValue::LoggedOut));
        let refused = op.logout_without_route().is_some();
        let logout = op.id;
        self.recorder.record(Record::Operation(op));
        self.steps += 1;
        if refused {
            self.logs_out = false;
        }
        if let (true, Some((jar, held))) = (acknowledged, before) {
            self.logged_out = Some(LoggedOut { logout, jar, held });
            self.replay(Instant::now(), false).await;
        }
    }

    /// Sends a read with the cookies held before the last acknowledged logout, then puts the
    /// user's own back; records it as a replay.
    async fn replay(&mut self, intended: Instant, final_read: bool) {
        let Some(LoggedOut {
            logout: of,
            jar,
            held,
        }) = self.logged_out.clone()
        else {
            return;
        };
        // The cookies as they were, whatever their expiry since: a copied cookie replayed.
        let own = self.agent.swap_cookies(jar);
        self.agent.pin_cookies(&held);
        let logged_in = self.logged_in;
        let mut op = self
            .operate(OpKind::Replay { of }, intended, self.steps)
            .await;
        self.agent.unpin_cookies();
        self.agent.swap_cookies(own);
        self.logged_in = logged_in;
        op.final_read = final_read;
        self.recorder.record(Record::Operation(op));
        self.steps += 1;
    }

    /// Operations done so far.
    pub(super) fn steps(&self) -> u64 {
        self.steps
    }

    fn next_kind(&mut self, step: u64) -> OpKind {
        let session_full = self.spec.relogin_after > 0
            && self.writes_in_session >= u64::from(self.spec.relogin_after);
        let logout_due = self.logs_out
            && self.spec.logout_every > 0
            && self.writes_in_session >= u64::from(self.spec.logout_every);
        // Back from an idle spell, a logged-in user reads what it had first, whatever else is
        // due: that read is what shows whether the session outlived the spell.
        if self.logged_in && std::mem::take(&mut self.returning) {
            OpKind::Read
        } else if self.logged_in && logout_due {
            OpKind::Logout
        } else if !self.logged_in || session_full {
            OpKind::Login
        } else if writes_at(self.spec.write_every, step) {
            self.writes += 1;
            self.writes_in_session += 1;
            OpKind::Write {
                value: format!("{}-{}", user_name(self.id), self.writes),
            }
        } else {
            OpKind::Read
        }
    }

    async fn attempt(&mut self, kind: &OpKind, instance: usize) -> (AttemptResult, Answer) {
        let user = user_name(self.id);
        let step = match kind {
            OpKind::Login => Step::Login(&user),
            OpKind::Write { value } => Step::Append(value),
            OpKind::Read | OpKind::Replay { .. } => Step::Read,
            OpKind::Logout => Step::Logout,
        };
        let call = self.probe.call(step);
        let reply = match self.agent.exchange(instance, call).await {
            Ok(reply) => reply,
            Err(Failure::Timeout) => {
                return (
                    AttemptResult::Timeout,
                    Answer::Unknown {
                        reason: "request timed out".into(),
                    },
                )
            }
            Err(Failure::Transport(message)) => {
                return (
                    AttemptResult::Transport {
                        message: message.clone(),
                    },
                    Answer::Unknown { reason: message },
                );
            }
        };
        let status = reply.status;
        if !status.is_success() {
            let refused = Answer::Refused {
                reason: format!("HTTP {status}"),
                retry: status.is_server_error(),
                session_lost: status == StatusCode::UNAUTHORIZED,
            };
            return (
                AttemptResult::Status {
                    status: status.as_u16(),
                },
                refused,
            );
        }
        let value = reply.body.and_then(|body| self.probe.answer(step, &body));
        let ok = AttemptResult::Ok {
            status: status.as_u16(),
        };
        match value {
            Ok(v) => (ok, Answer::Done(v)),
            // A 2xx whose body did not arrive whole: the app acted, the user saw nothing usable.
            Err(e) => (
                ok,
                Answer::Unknown {
                    reason: format!("unreadable body: {e}"),
                },
            ),
        }
    }

    /// Runs one operation with the client's retry budget.
    async fn operate(&mut self, kind: OpKind, intended: Instant, step: u64) -> Operation {
        let held_at_login = matches!(kind, OpKind::Login)
            .then(|| self.probe.session_cookies(self.agent.cookie_values()))
            .filter(|held| !held.is_empty());
        let mut attempts = Vec::new();
        let outcome = loop {
            let turn = (u64::from(self.id) + step + attempts.len() as u64) as usize;
            let instance = turn % self.agent.instances();
            let started_at = self.recorder.now();
            let (result, answer) = self.attempt(&kind, instance).await;
            attempts.push(Attempt {
                started_at,
                ended_at: self.recorder.now(),
                result,
                instance: u32::try_from(instance).unwrap_or(u32::MAX),
            });
            let retryable = match &answer {
                Answer::Done(_) => false,
                Answer::Refused { retry, .. } => *retry,
                Answer::Unknown { .. } => true,
            };
            if !retryable || attempts.len() >= self.spec.retry.attempts as usize {
                break match answer {
                    Answer::Done(v) => Outcome::Ok(v),
                    Answer::Refused {
                        reason,
                        session_lost,
                        ..
                    } => Outcome::Fail {
                        reason,
                        session_lost,
                    },
                    Answer::Unknown { reason } => Outcome::Info { reason },
                };
            }
            tokio::time::sleep(self.spec.retry.backoff).await;
        };
        match (&kind, &outcome) {
            (OpKind::Login, Outcome::Ok(_)) => {
                self.logged_in = true;
                self.writes_in_session = 0;
            }
            // Logged out or not, the user logs in again next; a logout the app has no route for
            // leaves the session as it was.
            (OpKind::Logout, Outcome::Ok(_)) => self.logged_in = false,
            (OpKind::Logout, _) => self.writes_in_session = 0,
            (
                _,
                Outcome::Fail {
                    session_lost: true, ..
                },
            ) => self.logged_in = false,
            _ => {}
        }
        let ended_at = self.recorder.now();
        self.last_ended = ended_at;
        let login_cookies = held_at_login.map(|held| {
            let now = self.agent.cookie_values();
            LoginCookies {
                kept: held
                    .iter()
                    .filter(|cookie| now.contains(cookie))
                    .map(|(name, _)| name.clone())
                    .collect(),
                held: held.into_iter().map(|(name, _)| name).collect(),
            }
        });
        Operation {
            id: self.op_ids.fetch_add(1, Ordering::Relaxed),
            user: self.id,
            kind,
            intended_at: self.recorder.at(intended),
            ended_at,
            attempts,
            outcome,
            final_read: false,
            login_cookies,
            back_from_idle: None,
        }
    }

    /// Reads the session once more, now, with the client's retry budget, and records it as a
    /// final read; then replays the cookies of its last logout, if it had one.
    pub(super) async fn final_read(&mut self) {
        // A user whose last act was its logout has no session of its own to read.
        if self.logged_in || self.logged_out.is_none() {
            let last_used = self.last_ended;
            if self.probe.session_ttl().is_some() {
                let held = self.held_last.clone();
                self.agent.pin_cookies(&held);
            }
            let mut op = self.operate(OpKind::Read, Instant::now(), self.steps).await;
            self.agent.unpin_cookies();
            op.final_read = true;
            // The wait for the topology to settle is an idle spell too.
            op.back_from_idle = self
                .probe
                .session_ttl()
                .map(|ttl| BackFromIdle::new(last_used, ttl));
            self.recorder.record(Record::Operation(op));
            self.steps += 1;
        }
        self.replay(Instant::now(), true).await;
    }
}

/// Whether the operation at `step` (the login is step 0) appends: every `write_every`-th one,
/// starting with the first after the login; never when `write_every` is 0.
fn writes_at(write_every: u32, step: u64) -> bool {
    let every = u64::from(write_every);
    every > 0 && step % every == 1 % every
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_come_every_nth_operation_after_the_login() {
        let steps = |every| {
            (1..=6)
                .filter(|&s| writes_at(every, s))
                .collect::<Vec<u64>>()
        };
        assert_eq!(steps(2), vec![1, 3, 5]);
        assert_eq!(steps(3), vec![1, 4]);
        assert_eq!(steps(1), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(steps(0), Vec::<u64>::new());
    }
}
