//! What the latency figures and plots need of a history, kept compactly (16 bytes an operation
//! and 16 an attempt), so a run of a million operations is reported without holding its history.

use super::lanes::Lanes;
use super::latency::LATE_AFTER_MICROS;
use crate::history::{FaultEvent, Micros, OpKind, Operation};

/// An operation: when it was due, how long it took from then, and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpSample {
    /// Intended start.
    pub intended_at: Micros,
    /// From the intended start to the last attempt's end, in µs (saturating at about 71 min).
    pub latency: u32,
    /// 0 login, 1 write, 2 read.
    pub kind: u8,
}

/// An HTTP attempt: when it started, how long it took, whether it succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptSample {
    /// Start.
    pub started_at: Micros,
    /// Send to answer, in µs.
    pub latency: u32,
    /// A 2xx with a usable body.
    pub ok: bool,
}

impl AttemptSample {
    /// When it ended.
    pub fn ended_at(&self) -> Micros {
        self.started_at + Micros::from(self.latency)
    }
}

fn kind_index(kind: &OpKind) -> u8 {
    match kind {
        OpKind::Login => 0,
        // A logout deletes the session: a write to the store.
        OpKind::Write { .. } | OpKind::Logout => 1,
        OpKind::Read | OpKind::Replay { .. } => 2,
    }
}

fn micros_u32(us: Micros) -> u32 {
    u32::try_from(us).unwrap_or(u32::MAX)
}

/// Samples of a whole run, gathered one record at a time.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Every operation.
    pub ops: Vec<OpSample>,
    /// Every HTTP attempt.
    pub attempts: Vec<AttemptSample>,
    /// Every fault event, for the shaded windows.
    pub faults: Vec<FaultEvent>,
    /// Operations whose first attempt started more than [`LATE_AFTER_MICROS`] after it was due.
    pub late_starts: u64,
    /// Every node's sampled states, for the swimlanes.
    pub lanes: Lanes,
}

impl Samples {
    /// Takes one operation.
    pub fn observe(&mut self, op: &Operation) {
        // Final reads check the sessions after the workload; they are not its load.
        if op.final_read {
            return;
        }
        if op
            .attempts
            .first()
            .is_some_and(|a| a.started_at > op.intended_at + LATE_AFTER_MICROS)
        {
            self.late_starts += 1;
        }
        self.ops.push(OpSample {
            intended_at: op.intended_at,
            latency: micros_u32(op.ended_at.saturating_sub(op.intended_at)),
            kind: kind_index(&op.kind),
        });
        self.attempts
            .extend(op.attempts.iter().map(|a| AttemptSample {
                started_at: a.started_at,
                latency: micros_u32(a.ended_at.saturating_sub(a.started_at)),
                ok: a.succeeded(),
            }));
    }

    /// Takes one fault event.
    pub fn observe_fault(&mut self, fault: &FaultEvent) {
        self.faults.push(fault.clone());
    }

    /// The last moment an operation ended, in µs.
    pub fn end(&self) -> Micros {
        self.ops
            .iter()
            .map(|o| o.intended_at + Micros::from(o.latency))
            .max()
            .unwrap_or(0)
    }
}
