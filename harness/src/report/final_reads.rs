//! The final-read phase of a run, from its history: when the workload ended, how long the
//! topology took to settle after the last heal (or that it never did), and what the users' final
//! reads of their sessions found. The checkers judge the reads themselves; this only tells the
//! phase.

use serde::{Deserialize, Serialize};

use crate::history::{FaultPhase, Micros, OkValue, Operation, Outcome, Record, RunPhase};

/// The final-read phase of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalReads {
    /// When the workload's last request ended, seconds into the run.
    pub workload_ended_s: Option<f64>,
    /// When the last fault began to heal, seconds into the run; `None` without a heal.
    pub last_heal_s: Option<f64>,
    /// When the last healed node was back in its place, seconds into the run; `None` without a
    /// heal, or when one never was.
    pub settled_s: Option<f64>,
    /// The nodes that were not back in their place within the wait, each with what it last
    /// said: the topology never settled.
    pub unsettled: Vec<String>,
    /// When the final reads began, seconds into the run; `None` when the run made none (it
    /// stopped before).
    pub started_s: Option<f64>,
    /// When the last of them ended.
    pub ended_s: Option<f64>,
    /// Final reads made: one per user.
    pub reads: u64,
    /// Those that showed a session.
    pub showed_session: u64,
    /// Those answered 401: the session was gone.
    pub session_gone: u64,
    /// Those answered 401 after the app's session TTL had run out since the user's last
    /// request: expired, as they should have.
    #[serde(default)]
    pub expired: u64,
    /// Those that failed otherwise, after the client's retries: the app did not answer the user
    /// again.
    pub failed: u64,
}

fn secs(at: Micros) -> f64 {
    at as f64 / 1e6
}

impl FinalReads {
    /// Takes one record that is not an operation.
    pub fn observe_context(&mut self, record: &Record) {
        match record {
            Record::Fault(f) if f.phase == FaultPhase::Heal => {
                let at = f.applying_since.unwrap_or(f.at).min(f.at);
                self.last_heal_s = Some(self.last_heal_s.map_or(secs(at), |s| s.max(secs(at))));
            }
            Record::Fault(f) if f.phase == FaultPhase::Rejoined => {
                self.settled_s = Some(self.settled_s.map_or(secs(f.at), |s| s.max(secs(f.at))));
            }
            Record::Phase(mark) => match &mark.phase {
                RunPhase::WorkloadEnded => self.workload_ended_s = Some(secs(mark.at)),
                RunPhase::FinalReads => self.started_s = Some(secs(mark.at)),
                RunPhase::Unsettled {
                    node,
                    waited_ms,
                    report,
                } => self.unsettled.push(format!(
                    "{node} was not back in its place after {waited_ms} ms ({report})"
                )),
            },
            _ => {}
        }
    }

    /// Takes one operation; only final reads count.
    pub fn observe(&mut self, op: &Operation) {
        if !op.final_read {
            return;
        }
        self.reads += 1;
        self.ended_s = Some(
            self.ended_s
                .map_or(secs(op.ended_at), |s| s.max(secs(op.ended_at))),
        );
        match &op.outcome {
            Outcome::Ok(OkValue::Read { .. }) => self.showed_session += 1,
            Outcome::Fail {
                session_lost: true, ..
            } if op.session_due_to_expire() => self.expired += 1,
            Outcome::Fail {
                session_lost: true, ..
            } => self.session_gone += 1,
            _ => self.failed += 1,
        }
    }

    /// Whether every fault's nodes came back in their place.
    pub fn settled(&self) -> bool {
        self.unsettled.is_empty()
    }

    /// How long the topology took to settle after the last heal began, in seconds.
    pub fn settling_s(&self) -> Option<f64> {
        match (self.last_heal_s, self.settled_s) {
            (Some(heal), Some(settled)) if self.settled() => Some((settled - heal).max(0.0)),
            _ => None,
        }
    }

    /// The phase in one line, for the summary: `20 users read their session 3.4 s after the
    /// workload ended, once the topology had settled (8.1 s after the last heal): ...`.
    pub fn line(&self) -> String {
        let Some(started) = self.started_s else {
            return "no final reads: the run stopped before them".to_owned();
        };
        let after = self.workload_ended_s.map_or_else(String::new, |ended| {
            format!(" {:.1} s after the workload ended", started - ended)
        });
        let settling = if !self.settled() {
            format!(
                ", though the topology never settled: {}",
                self.unsettled.join("; ")
            )
        } else {
            match self.settling_s() {
                Some(s) => {
                    format!(", once the topology had settled ({s:.1} s after the last heal)")
                }
                None => String::new(),
            }
        };
        let took = self
            .ended_s
            .map_or_else(String::new, |ended| format!(" in {:.2} s", ended - started));
        let expired = if self.expired > 0 {
            format!(", {} found it expired past the session TTL", self.expired)
        } else {
            String::new()
        };
        format!(
            "{} users read their session{after}{settling}{took}: {} showed it, {} answered 401 \
             (session gone){expired}, {} failed after retries",
            self.reads, self.showed_session, self.session_gone, self.failed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{FaultEvent, FaultKind, PhaseMark};

    fn fault(at: Micros, phase: FaultPhase) -> Record {
        Record::Fault(FaultEvent {
            at,
            fault: FaultKind::Kill,
            phase,
            node: "redis-1".into(),
            addr: "10.0.0.2:6379".into(),
            cut: None,
            applying_since: None,
            in_flight: None,
        })
    }

    fn mark(at: Micros, phase: RunPhase) -> Record {
        Record::Phase(PhaseMark { at, phase })
    }

    #[test]
    fn tells_when_the_topology_settled_and_what_the_reads_found() {
        let mut phase = FinalReads::default();
        for record in [
            fault(6_000_000, FaultPhase::Start),
            fault(14_000_000, FaultPhase::Heal),
            mark(20_000_000, RunPhase::WorkloadEnded),
            fault(23_500_000, FaultPhase::Rejoined),
            mark(23_600_000, RunPhase::FinalReads),
        ] {
            phase.observe_context(&record);
        }
        assert!(phase.settled());
        assert_eq!(phase.settling_s(), Some(9.5));
        let line = phase.line();
        assert!(
            line.contains("3.6 s after the workload ended, once the topology had settled (9.5 s after the last heal)"),
            "{line}"
        );
        phase.observe_context(&mark(
            40_000_000,
            RunPhase::Unsettled {
                node: "redis-1".into(),
                waited_ms: 30_000,
                report: "master_link_status is Some(\"down\")".into(),
            },
        ));
        assert!(!phase.settled());
        assert_eq!(phase.settling_s(), None);
        assert!(
            phase.line().contains(
                "the topology never settled: redis-1 was not back in its place after 30000 ms"
            ),
            "{}",
            phase.line()
        );
    }
}
