//! One fault of a running schedule, the same loop for every kind: wait for its time, resolve its
//! target, apply, record the start, wait its duration, heal, record the heal, wait until the
//! healed nodes are back in their place and record that too; again at each repetition's time
//! (moved by its jitter), never before the repetition before has settled. A node that does not
//! come back in its place within the cluster's wait is recorded as never settled, and the
//! fault's later repetitions are not run: the run goes on to its final reads and its verdict,
//! which names it.
//!
//! It owns timing and recording; what a fault does is its kind's (see `fault`).

use std::time::{Duration, Instant};

use rand::Rng;

use super::fault::{Applied, Fault, Scene, Subject};
use super::{targets, NemesisError};
use crate::cluster::node::Node;
use crate::cluster::ClusterError;
use crate::history::{FaultEvent, FaultPhase, Micros, PhaseMark, Record, Recorder, RunPhase};
use crate::scenario::FaultSpec;

/// One fault of a running schedule.
pub(super) struct ScheduledFault<'a> {
    pub(super) index: usize,
    pub(super) spec: &'a FaultSpec,
    pub(super) scene: &'a Scene<'a>,
    pub(super) recorder: &'a Recorder,
    pub(super) progress: &'a (dyn Fn(&str) + Sync),
}

/// How a fault's start or heal came about: since when it was being applied, and for a start timed
/// to the workload, how many requests were in flight when it applied.
#[derive(Debug, Clone, Copy)]
struct Applying {
    since: Micros,
    in_flight: Option<u32>,
}

/// `due` moved by a random offset within `jitter` either way, never before 0.
fn jittered(due: Duration, jitter: Option<Duration>) -> Duration {
    let Some(jitter) = jitter.filter(|j| !j.is_zero()) else {
        return due;
    };
    let span = u64::try_from(jitter.as_micros()).unwrap_or(u64::MAX / 2);
    let offset = rand::thread_rng().gen_range(0..=span.saturating_mul(2));
    (due + Duration::from_micros(offset)).saturating_sub(jitter)
}

impl ScheduledFault<'_> {
    /// Waits for each repetition's time and runs it with `kind`, the spec's own action, until
    /// one does not settle.
    pub(super) async fn run<K: Fault>(&self, kind: &K, start: Instant) -> Result<(), NemesisError> {
        for due in self.spec.starts() {
            // A repetition whose time has passed while the one before settled starts at once.
            tokio::time::sleep_until((start + jittered(due, self.spec.jitter)).into()).await;
            if self.once(kind).await? == Settled::Never {
                (self.progress)(&format!(
                    "fault {} ({}): its later repetitions are not run on a topology that did not settle",
                    self.index,
                    self.spec.kind()
                ));
                break;
            }
        }
        Ok(())
    }

    async fn once<K: Fault>(&self, kind: &K) -> Result<Settled, NemesisError> {
        let scene = self.scene;
        let nodes = targets::resolve(scene.cluster, self.index, self.spec).await?;
        let subjects = kind.subjects(scene, &nodes);
        // A kill takes effect during the engine's call, not after it answers: requests failing in
        // between are the fault's. So are requests held by a freeze before it.
        let since = self.recorder.now();
        let Applied { guard, in_flight } = kind.apply(scene, &nodes).await?;
        self.record(
            &subjects,
            FaultPhase::Start,
            Some(Applying { since, in_flight }),
        );
        // Likewise a restarted node can answer before the engine's call returns. A fault that
        // ends by itself was ending from the moment it applied.
        let healing = if self.spec.kind().lasts() {
            tokio::time::sleep(self.spec.duration).await;
            self.recorder.now()
        } else {
            since
        };
        kind.heal(scene, &nodes, guard).await?;
        let healing = Applying {
            since: healing,
            in_flight: None,
        };
        self.record(&subjects, FaultPhase::Heal, Some(healing));
        self.settle(&nodes, &subjects).await
    }

    /// Records `phase` on every node now; a start or a heal also says how it was applied.
    fn record(&self, subjects: &[Subject], phase: FaultPhase, applying: Option<Applying>) {
        let at = self.recorder.now();
        let kind = self.spec.kind();
        for subject in subjects {
            self.recorder.record(Record::Fault(FaultEvent {
                at,
                applying_since: applying.map(|a| a.since),
                in_flight: applying.and_then(|a| a.in_flight),
                fault: kind,
                phase,
                node: subject.name.clone(),
                addr: subject.addr.clone(),
                cut: self.spec.action.cut(),
            }));
        }
        let names: Vec<&str> = subjects.iter().map(|s| s.name.as_str()).collect();
        let what = match phase {
            FaultPhase::Start => "started on",
            FaultPhase::Heal => "healed on",
            FaultPhase::Rejoined => "settled:",
        };
        let in_flight = match applying.and_then(|a| a.in_flight) {
            Some(n) => format!(" with {n} requests in flight"),
            None => String::new(),
        };
        (self.progress)(&format!(
            "fault {kind} {what} {}{in_flight}",
            names.join(", ")
        ));
    }

    /// Waits until the healed nodes are back in their place (an app instance is back once
    /// healed); a node that is not, within the cluster's wait, is recorded as never settled.
    async fn settle(&self, nodes: &[&Node], subjects: &[Subject]) -> Result<Settled, NemesisError> {
        for node in nodes {
            match self.scene.cluster.wait_settled(node).await {
                Ok(()) => {}
                Err(ClusterError::NotReady {
                    node,
                    waited_ms,
                    report,
                }) => {
                    (self.progress)(&format!(
                        "fault {} did not settle: {node} was not back in its place after {waited_ms} ms ({report})",
                        self.spec.kind()
                    ));
                    self.recorder.record(Record::Phase(PhaseMark {
                        at: self.recorder.now(),
                        phase: RunPhase::Unsettled {
                            node,
                            waited_ms: u64::try_from(waited_ms).unwrap_or(u64::MAX),
                            report,
                        },
                    }));
                    return Ok(Settled::Never);
                }
                Err(other) => return Err(other.into()),
            }
        }
        self.record(subjects, FaultPhase::Rejoined, None);
        Ok(Settled::Back)
    }
}

/// Whether a repetition's nodes came back in their place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    /// Every one did.
    Back,
    /// One did not within the cluster's wait.
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_moves_a_start_within_its_bounds_and_never_before_zero() {
        let due = Duration::from_secs(10);
        assert_eq!(jittered(due, None), due);
        let jitter = Some(Duration::from_secs(2));
        let starts: Vec<Duration> = (0..200).map(|_| jittered(due, jitter)).collect();
        assert!(starts
            .iter()
            .all(|s| (Duration::from_secs(8)..=Duration::from_secs(12)).contains(s)));
        assert!(
            starts.iter().any(|s| *s < due) && starts.iter().any(|s| *s > due),
            "both ways"
        );
        assert!((0..50).all(|_| jittered(Duration::from_secs(1), jitter) <= Duration::from_secs(3)));
    }
}
