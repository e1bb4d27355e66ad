//! What a finding shows of its user's operations: each operation as one short line (what was
//! asked, what came back), and the moments the cause is looked for at. Kept compact, because a
//! checker holds some per session until the session settles. It must not judge anything.

use serde::{Deserialize, Serialize};

use crate::history::{Attempt, AttemptResult, Micros, OkValue, OpKind, Operation, Outcome};

/// One request's time span and the app instance that answered it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    /// When the request was sent.
    pub started_at: Micros,
    /// When its answer (or error) came.
    pub ended_at: Micros,
    /// The app instance it went to.
    #[serde(default)]
    pub instance: u32,
    /// The HTTP status it was answered with; `None` for a timeout or a broken connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl Moment {
    /// The span of one attempt.
    pub fn of_attempt(attempt: &Attempt) -> Self {
        Self {
            started_at: attempt.started_at,
            ended_at: attempt.ended_at,
            instance: attempt.instance,
            status: match attempt.result {
                AttemptResult::Ok { status } | AttemptResult::Status { status } => Some(status),
                AttemptResult::Timeout | AttemptResult::Transport { .. } => None,
            },
        }
    }

    /// The attempt that gave the operation its outcome: its last one.
    pub fn answer_of(op: &Operation) -> Self {
        op.attempts.last().map_or(
            Self {
                started_at: op.intended_at,
                ended_at: op.ended_at,
                instance: 0,
                status: None,
            },
            Self::of_attempt,
        )
    }

    /// The operation's first attempt.
    pub fn first_of(op: &Operation) -> Self {
        op.attempts
            .first()
            .map_or_else(|| Self::answer_of(op), Self::of_attempt)
    }
}

/// One operation of a witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessOp {
    /// The operation's id in the history.
    pub id: u64,
    /// What the user asked: `login`, `write user-3-7`, `read`, `final read`.
    pub request: String,
    /// When it was due.
    pub intended_at: Micros,
    /// When its last attempt ended.
    pub ended_at: Micros,
    /// HTTP attempts it took.
    pub attempts: u32,
    /// What came back: `200, version 7`, `200: 6 items, version 6`, `HTTP 401`.
    pub answer: String,
    /// What it shows about the finding: `without user-3-7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What one attempt got, in a word: its status, `timeout`, or the transport error.
pub(crate) fn result_text(result: &AttemptResult) -> String {
    match result {
        AttemptResult::Ok { status } | AttemptResult::Status { status } => status.to_string(),
        AttemptResult::Timeout => "timeout".to_owned(),
        AttemptResult::Transport { message } => message.clone(),
    }
}

impl WitnessOp {
    /// `op` as a witness line, with what it shows.
    pub fn of(op: &Operation, note: Option<String>) -> Self {
        let request = match &op.kind {
            OpKind::Login => "login".to_owned(),
            OpKind::Write { value } => format!("write {value}"),
            OpKind::Read if op.final_read => "final read".to_owned(),
            OpKind::Read => "read".to_owned(),
            OpKind::Logout => "logout".to_owned(),
            OpKind::Replay { of } if op.final_read => format!("final replay of logout {of}"),
            OpKind::Replay { of } => format!("replay of logout {of}"),
        };
        let status = op
            .attempts
            .last()
            .map_or_else(|| "no attempt".to_owned(), |a| result_text(&a.result));
        let answer = match &op.outcome {
            Outcome::Ok(OkValue::LoggedIn | OkValue::LoggedOut) => status,
            Outcome::Ok(OkValue::Written { version }) => format!("{status}, version {version}"),
            Outcome::Ok(OkValue::Read {
                user,
                items,
                version,
            }) => format!(
                "{status}: session of '{user}', {} items, version {version}",
                items.len()
            ),
            Outcome::Fail { reason, .. } | Outcome::Info { reason } => reason.clone(),
        };
        Self {
            id: op.id,
            request,
            intended_at: op.intended_at,
            ended_at: op.ended_at,
            attempts: u32::try_from(op.attempts.len()).unwrap_or(u32::MAX),
            answer,
            note,
        }
    }
}
