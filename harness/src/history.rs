//! The history of a run: every operation with its attempts, every fault, every sentinel event and
//! every store event, stamped in microseconds since the run's start on the monotonic clock.
//!
//! It owns the record types and the recorder that streams them to `history.jsonl`. It must not
//! interpret records: that is the checkers' job.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

mod node_state;
mod sentinel_event;
pub mod synthetic;
use tokio::task::JoinHandle;

use crate::secret::Redactor;

pub use crate::scenario::{Cut, FaultKind};
pub use node_state::{NodeSample, NodeState, NodeType, Served};
pub use sentinel_event::{Instance, InstanceEvent, InstanceRole, Notice, SentinelEvent};

/// Microseconds since the run started.
pub type Micros = u64;

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A user action with all its attempts.
    Operation(Operation),
    /// A fault starting or healing.
    Fault(FaultEvent),
    /// A message a sentinel published (`+sdown`, `+switch-master`, ...).
    Sentinel(SentinelEvent),
    /// A change in the app's view of the master.
    Store(StoreEvent),
    /// A sampled snapshot of one node: reachable or not, its role, offset, keys and run id, or the
    /// master a sentinel names.
    Node(NodeSample),
    /// A step of the run itself: the workload's end, a topology that did not settle, the final
    /// reads.
    Phase(PhaseMark),
}

/// A step of the run, when it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseMark {
    /// When.
    pub at: Micros,
    /// Which step.
    #[serde(flatten)]
    pub phase: RunPhase,
}

/// The steps of a run the report tells apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum RunPhase {
    /// The workload's time was up and its last request had ended.
    WorkloadEnded,
    /// A fault's node did not come back in its place (a replica linked to the master, or the
    /// master) within the wait: the topology never settled.
    Unsettled {
        /// The node.
        node: String,
        /// How long the harness waited, in milliseconds.
        waited_ms: u64,
        /// What the node last said.
        report: String,
    },
    /// Every fault had healed and its nodes had settled, or would not: the users' final reads
    /// began.
    FinalReads,
}

/// One logical user action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Unique within the run.
    pub id: u64,
    /// The virtual user.
    pub user: u32,
    /// What the user tried.
    pub kind: OpKind,
    /// When the user meant to start it; latency counts from here, so a stalled server cannot hide
    /// behind requests that were never sent.
    pub intended_at: Micros,
    /// When the last attempt ended.
    pub ended_at: Micros,
    /// Every HTTP attempt, in order.
    pub attempts: Vec<Attempt>,
    /// How the operation ended after the client's retries.
    pub outcome: Outcome,
    /// A final read: the user's last read of its session, made once the workload had ended and
    /// the topology had settled. Checkers treat it as any read; latency and outage figures,
    /// which describe the workload, leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub final_read: bool,
    /// For a login made while the user held session cookies: which, and which of them the login
    /// left as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_cookies: Option<LoginCookies>,
    /// For a user's first operation back from an idle spell, when the scenario names the app's
    /// session TTL: when the session was last used, and the TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_from_idle: Option<BackFromIdle>,
}

/// A user back from an idle spell, and how long its session should have lived unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackFromIdle {
    /// The end of the user's last operation before the spell: the session's last use.
    pub last_used: Micros,
    /// `app.contract.session_ttl`.
    pub ttl: Micros,
}

impl BackFromIdle {
    /// A return after a spell that began when the session was `last_used`, with the app's
    /// session TTL `ttl`.
    pub fn new(last_used: Micros, ttl: std::time::Duration) -> Self {
        Self {
            last_used,
            ttl: u64::try_from(ttl.as_micros()).unwrap_or(u64::MAX),
        }
    }
}

/// Past the TTL by this much, a session must have expired: apps keep TTLs in whole seconds and
/// count from when they saved, which is before the answer ended.
pub const EXPIRY_GRACE: Micros = 1_000_000;

/// The session cookies a login was made holding (every cookie, or only
/// `app.contract.session_cookie` when the scenario names one), by name. A login that cycles the
/// session id changes the value of at least one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginCookies {
    /// The cookies held when the login was sent.
    pub held: Vec<String>,
    /// Those of them whose value was the same after the login's answer.
    pub kept: Vec<String>,
}

impl LoginCookies {
    /// Whether the login left every session cookie the user held as it was: its session id was
    /// not cycled.
    pub fn kept_the_id(&self) -> bool {
        !self.held.is_empty() && self.kept.len() == self.held.len()
    }
}

/// What an operation does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OpKind {
    /// `POST /login`.
    Login,
    /// `POST /session/items` with a value unique within the run.
    Write {
        /// The appended value.
        value: String,
    },
    /// `GET /session`.
    Read,
    /// `POST /logout`: the app must end the session on the server.
    Logout,
    /// `GET /session` sent with the cookies the user held before its logout `of` (an
    /// operation's id): any 2xx answer is a session the logout did not end.
    Replay {
        /// The logout's operation id.
        of: u64,
    },
}

impl OpKind {
    /// Whether this is the replay of a logged-out cookie, which only the resurrected-session
    /// check reads: its answer is not the user's current session.
    pub fn is_replay(&self) -> bool {
        matches!(self, OpKind::Replay { .. })
    }
}

/// One HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it was sent.
    pub started_at: Micros,
    /// When its answer (or error) arrived.
    pub ended_at: Micros,
    /// What came back.
    pub result: AttemptResult,
    /// Which app instance the request went to (0 for the first).
    #[serde(default, skip_serializing_if = "is_first")]
    pub instance: u32,
}

fn is_first(instance: &u32) -> bool {
    *instance == 0
}

/// What one request returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AttemptResult {
    /// A 2xx answer.
    Ok {
        /// HTTP status.
        status: u16,
    },
    /// A non-2xx answer.
    Status {
        /// HTTP status.
        status: u16,
    },
    /// No answer in time; the request may or may not have been applied.
    Timeout,
    /// The request failed at the transport (refused, reset).
    Transport {
        /// The client's message.
        message: String,
    },
}

impl Operation {
    /// Whether the session was due to have expired when this operation was sent: the user came
    /// back from idling past the session TTL (and [`EXPIRY_GRACE`]).
    pub fn session_due_to_expire(&self) -> bool {
        let sent = self
            .attempts
            .first()
            .map_or(self.intended_at, |a| a.started_at);
        self.back_from_idle
            .is_some_and(|idle| sent > idle.last_used + idle.ttl + EXPIRY_GRACE)
    }

    /// Whether this is a login that succeeded while the user held session cookies: one the
    /// session-id check reads.
    pub fn login_holding_cookies(&self) -> Option<&LoginCookies> {
        match (&self.kind, &self.outcome) {
            (OpKind::Login, Outcome::Ok(_)) => {
                self.login_cookies.as_ref().filter(|c| !c.held.is_empty())
            }
            _ => None,
        }
    }

    /// The status an app with no logout route answered this logout (404 or 405), if it did.
    pub fn logout_without_route(&self) -> Option<u16> {
        match (&self.kind, self.attempts.last().map(|a| &a.result)) {
            (
                OpKind::Logout,
                Some(AttemptResult::Status {
                    status: s @ (404 | 405),
                }),
            ) => Some(*s),
            _ => None,
        }
    }
}

impl Attempt {
    /// Whether the app answered 2xx.
    pub fn succeeded(&self) -> bool {
        matches!(self.result, AttemptResult::Ok { .. })
    }
}

/// How an operation ended, in Jepsen's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Done, with what the app answered.
    Ok(OkValue),
    /// Definitely not done (the app said so).
    Fail {
        /// Why, for people.
        reason: String,
        /// The app answered 401: the session is gone.
        session_lost: bool,
    },
    /// Unknown: the last attempt got no answer, so a write may have been applied.
    Info {
        /// Why, for people.
        reason: String,
    },
}

/// What a successful operation returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "value", rename_all = "snake_case")]
pub enum OkValue {
    /// A new session.
    LoggedIn,
    /// An acknowledged logout.
    LoggedOut,
    /// An acknowledged append.
    Written {
        /// The session's version after it.
        version: u64,
    },
    /// The session as read.
    Read {
        /// The session's user.
        user: String,
        /// Its values.
        items: Vec<String>,
        /// Its version.
        version: u64,
    },
}

/// Whether a fault began or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultPhase {
    /// Applied.
    Start,
    /// Healed: the node runs again.
    Heal,
    /// Back in the topology: a restarted data node replicates from the master again.
    Rejoined,
}

/// A fault's start or heal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultEvent {
    /// When.
    pub at: Micros,
    /// Which kind of fault, as in the scenario (`kill`).
    pub fault: FaultKind,
    /// Start or heal.
    pub phase: FaultPhase,
    /// The node's name.
    pub node: String,
    /// The node's `host:port` at that moment.
    pub addr: String,
    /// For a partition or reset: whom the node was cut off from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<Cut>,
    /// For a start or a heal: when applying it began (`at` is when it was in place). A kill takes
    /// effect somewhere in between, so requests failing then are the fault's; a restarted node
    /// can answer before its heal is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applying_since: Option<Micros>,
    /// For a start timed to the workload: the requests in flight when it applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<u32>,
}

/// A change in the app's view of the master.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreEvent {
    /// When.
    pub at: Micros,
    /// Which app instance (0 for the first).
    #[serde(default)]
    pub instance: u32,
    /// What changed.
    pub event: StoreChange,
    /// The master it concerns, `host:port`.
    pub master: String,
}

/// What changed in the app's view of the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreChange {
    /// A `+switch-master` message named a new master.
    SwitchAnnounced,
    /// Discovery through the sentinels settled on a master.
    MasterResolved,
    /// The first command succeeded on a master.
    FirstSuccess,
}

/// A finished history, in recording order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Every record.
    pub records: Vec<Record>,
}

impl History {
    /// Every operation.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.records.iter().filter_map(|r| match r {
            Record::Operation(op) => Some(op),
            _ => None,
        })
    }

    /// Every fault event.
    pub fn faults(&self) -> impl Iterator<Item = &FaultEvent> {
        self.records.iter().filter_map(|r| match r {
            Record::Fault(f) => Some(f),
            _ => None,
        })
    }

    /// Every sentinel event.
    pub fn sentinel_events(&self) -> impl Iterator<Item = &SentinelEvent> {
        self.records.iter().filter_map(|r| match r {
            Record::Sentinel(e) => Some(e),
            _ => None,
        })
    }

    /// Every node-state sample.
    pub fn node_samples(&self) -> impl Iterator<Item = &NodeSample> {
        self.records.iter().filter_map(|r| match r {
            Record::Node(s) => Some(s),
            _ => None,
        })
    }

    /// Every phase mark.
    pub fn phases(&self) -> impl Iterator<Item = &PhaseMark> {
        self.records.iter().filter_map(|r| match r {
            Record::Phase(p) => Some(p),
            _ => None,
        })
    }

    /// Every store event.
    pub fn store_events(&self) -> impl Iterator<Item = &StoreEvent> {
        self.records.iter().filter_map(|r| match r {
            Record::Store(e) => Some(e),
            _ => None,
        })
    }

    /// Reads a `history.jsonl` written by a [`Recorder`].
    pub fn from_jsonl(text: &str) -> Result<Self, serde_json::Error> {
        let records = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()?;
        Ok(Self { records })
    }
}

/// Hands out timestamps and takes records from any task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Recorder {
    start: Instant,
    tx: mpsc::UnboundedSender<Record>,
    operations: Arc<AtomicU64>,
}

/// The task that writes records; [`HistoryWriter::finish`] says how many it wrote.
#[derive(Debug)]
pub struct HistoryWriter {
    task: JoinHandle<std::io::Result<u64>>,
}

impl Recorder {
    /// Starts a writer streaming to `path`; the clock starts now.
    pub fn create(path: &Path) -> std::io::Result<(Self, HistoryWriter)> {
        Self::create_redacting(path, Redactor::default())
    }

    /// Starts a writer streaming to `path` that writes `redactor`'s secret nowhere: an app's
    /// answer or error that holds the password is recorded with it redacted.
    pub fn create_redacting(
        path: &Path,
        redactor: Redactor,
    ) -> std::io::Result<(Self, HistoryWriter)> {
        let file = std::fs::File::create(path)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<Record>();
        let task = tokio::task::spawn_blocking(move || {
            // Straight to disk: a long run's history is never held in memory.
            let mut out = std::io::BufWriter::new(file);
            let mut written = 0;
            while let Some(record) = rx.blocking_recv() {
                out.write_all(redactor.json_line(&record)?.as_bytes())?;
                out.write_all(b"\n")?;
                written += 1;
            }
            out.flush()?;
            Ok(written)
        });
        Ok((
            Self {
                start: Instant::now(),
                tx,
                operations: Arc::default(),
            },
            HistoryWriter { task },
        ))
    }

    /// Now, in run time.
    pub fn now(&self) -> Micros {
        self.at(Instant::now())
    }

    /// The instant of run time `at`.
    pub fn instant_of(&self, at: Micros) -> Instant {
        self.start + std::time::Duration::from_micros(at)
    }

    /// `instant` in run time; instants before the start count as 0.
    pub fn at(&self, instant: Instant) -> Micros {
        let micros = instant.saturating_duration_since(self.start).as_micros();
        Micros::try_from(micros).unwrap_or(Micros::MAX)
    }

    /// Adds a record. After the writer has finished, records are dropped: only tasks that outlive
    /// the run can hit that, and their records would describe teardown, not the drill.
    pub fn record(&self, record: Record) {
        if matches!(record, Record::Operation(_)) {
            self.operations.fetch_add(1, Ordering::Relaxed);
        }
        let _ = self.tx.send(record);
    }

    /// Operations recorded so far, for progress.
    pub fn operations_recorded(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }
}

impl HistoryWriter {
    /// Waits until every recorder clone is dropped and every record is on disk; returns how many
    /// records were written.
    pub async fn finish(self) -> std::io::Result<u64> {
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// The user name virtual user `user` logs in as; checkers use it to spot another user's session.
pub fn user_name(user: u32) -> String {
    format!("user-{user}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn streams_records_and_reads_them_back() {
        let path = std::env::temp_dir().join(format!("fd-history-{}.jsonl", std::process::id()));
        let (recorder, writer) = Recorder::create(&path).unwrap();
        let event = Record::Sentinel(SentinelEvent::heard(
            recorder.now(),
            "sentinel-1",
            "+switch-master",
            "mymaster 10.0.0.2 6379 10.0.0.3 6379",
        ));
        recorder.record(event.clone());
        drop(recorder);
        assert_eq!(writer.finish().await.unwrap(), 1);
        let on_disk = History::from_jsonl(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(on_disk.records, vec![event]);
        std::fs::remove_file(path).unwrap();
    }
}
