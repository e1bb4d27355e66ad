//! Hand-built histories for checker tests.

use crate::history::{Attempt, AttemptResult, OkValue, OpKind, Operation, Outcome, Record};

/// Builds one user's operations with increasing times.
pub(crate) struct UserScript {
    pub(crate) user: u32,
    pub(crate) clock: u64,
    pub(crate) next_id: u64,
    pub(crate) records: Vec<Record>,
}

impl UserScript {
    pub(crate) fn new(user: u32) -> Self {
        Self {
            user,
            clock: 1_000,
            next_id: u64::from(user) * 1_000_000,
            records: Vec::new(),
        }
    }

    fn push(&mut self, kind: OpKind, attempts: Vec<AttemptResult>, outcome: Outcome) -> u64 {
        let intended_at = self.clock;
        let attempts: Vec<Attempt> = attempts
            .into_iter()
            .map(|result| {
                let started_at = self.clock;
                self.clock += 1_000;
                Attempt {
                    started_at,
                    ended_at: self.clock,
                    result,
                    instance: 0,
                }
            })
            .collect();
        self.next_id += 1;
        self.records.push(Record::Operation(Operation {
            id: self.next_id,
            user: self.user,
            kind,
            intended_at,
            ended_at: self.clock,
            attempts,
            outcome,
            final_read: false,
            login_cookies: None,
            back_from_idle: None,
        }));
        self.clock += 1_000;
        self.next_id
    }

    pub(crate) fn login(&mut self) -> &mut Self {
        self.push(
            OpKind::Login,
            vec![AttemptResult::Ok { status: 200 }],
            Outcome::Ok(OkValue::LoggedIn),
        );
        self
    }

    /// A login made holding the cookies `held`, of which it left `kept` as they were.
    pub(crate) fn login_holding(&mut self, held: &[&str], kept: &[&str]) -> &mut Self {
        self.login();
        if let Some(Record::Operation(op)) = self.records.last_mut() {
            op.login_cookies = Some(crate::history::LoginCookies {
                held: held.iter().map(|c| (*c).to_owned()).collect(),
                kept: kept.iter().map(|c| (*c).to_owned()).collect(),
            });
        }
        self
    }

    pub(crate) fn write(&mut self, value: &str, version: u64) -> &mut Self {
        self.push(
            OpKind::Write {
                value: value.into(),
            },
            vec![AttemptResult::Ok { status: 200 }],
            Outcome::Ok(OkValue::Written { version }),
        );
        self
    }

    /// An append that timed out `timeouts` times before it was acknowledged.
    pub(crate) fn write_after_timeouts(
        &mut self,
        value: &str,
        timeouts: usize,
        version: u64,
    ) -> &mut Self {
        let mut attempts = vec![AttemptResult::Timeout; timeouts];
        attempts.push(AttemptResult::Ok { status: 200 });
        self.push(
            OpKind::Write {
                value: value.into(),
            },
            attempts,
            Outcome::Ok(OkValue::Written { version }),
        );
        self
    }

    pub(crate) fn read(&mut self, items: &[&str], version: u64) -> &mut Self {
        self.read_as(&format!("user-{}", self.user), items, version)
    }

    pub(crate) fn read_as(&mut self, user: &str, items: &[&str], version: u64) -> &mut Self {
        self.push(
            OpKind::Read,
            vec![AttemptResult::Ok { status: 200 }],
            Outcome::Ok(OkValue::Read {
                user: user.into(),
                items: items.iter().map(|s| s.to_string()).collect(),
                version,
            }),
        );
        self
    }

    /// A read that failed `retries` times with 503 before succeeding.
    pub(crate) fn read_after_503s(
        &mut self,
        retries: usize,
        items: &[&str],
        version: u64,
    ) -> &mut Self {
        let mut attempts = vec![AttemptResult::Status { status: 503 }; retries];
        attempts.push(AttemptResult::Ok { status: 200 });
        self.push(
            OpKind::Read,
            attempts,
            Outcome::Ok(OkValue::Read {
                user: format!("user-{}", self.user),
                items: items.iter().map(|s| s.to_string()).collect(),
                version,
            }),
        );
        self
    }

    /// A logout, acknowledged.
    pub(crate) fn logout(&mut self) -> &mut Self {
        self.push(
            OpKind::Logout,
            vec![AttemptResult::Ok { status: 200 }],
            Outcome::Ok(OkValue::LoggedOut),
        );
        self
    }

    /// A logout answered `status`: whether it ended the session is not known.
    pub(crate) fn logout_failing(&mut self, status: u16) -> &mut Self {
        self.push(
            OpKind::Logout,
            vec![AttemptResult::Status { status }],
            Outcome::Fail {
                reason: format!("HTTP {status}"),
                session_lost: status == 401,
            },
        );
        self
    }

    pub(crate) fn read_failing(&mut self, status: u16) -> &mut Self {
        self.push(
            OpKind::Read,
            vec![AttemptResult::Status { status }],
            Outcome::Fail {
                reason: format!("HTTP {status}"),
                session_lost: status == 401,
            },
        );
        self
    }

    pub(crate) fn write_timing_out(&mut self, value: &str) -> &mut Self {
        self.push(
            OpKind::Write {
                value: value.into(),
            },
            vec![AttemptResult::Timeout],
            Outcome::Info {
                reason: "timeout".into(),
            },
        );
        self
    }

    pub(crate) fn idle(&mut self, micros: u64) -> &mut Self {
        self.clock += micros;
        self
    }

    /// Marks the last operation as the first back from an idle spell, with the session TTL
    /// `ttl`: the session was last used when the operation before it ended.
    pub(crate) fn back_after_ttl(&mut self, ttl: u64) -> &mut Self {
        let ended: Vec<u64> = self
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Operation(op) => Some(op.ended_at),
                _ => None,
            })
            .collect();
        let last_used = ended.len().checked_sub(2).map_or(0, |i| ended[i]);
        if let Some(Record::Operation(op)) = self.records.last_mut() {
            op.back_from_idle = Some(crate::history::BackFromIdle { last_used, ttl });
        }
        self
    }
}

pub(crate) fn history_of(users: &[&UserScript]) -> crate::history::History {
    crate::history::History {
        records: users.iter().flat_map(|u| u.records.clone()).collect(),
    }
}
