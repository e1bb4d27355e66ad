//! The swimlanes of the report: each node's sampled states over the run, merged into spans of one
//! state, and each data node's restarts. Built one node sample at a time, so a long run keeps
//! only the spans, not the samples. It must not draw: `swimlanes` does.

use std::collections::HashMap;

use crate::cause::view::came_back_empty;
use crate::history::{Micros, NodeSample, NodeState};

/// What one span of a lane shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaneState {
    /// The harness got no answer.
    Unreachable,
    /// A data node that said it was master.
    Master,
    /// A data node replicating, link up.
    Replica,
    /// A data node replicating, link down (syncing, or cut off).
    ReplicaLinkDown,
    /// A sentinel naming this node as master (its name, or its address when unknown).
    Names(String),
    /// A sentinel naming no master.
    NamesNone,
}

/// One state from `from` until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// First sample in this state.
    pub from: Micros,
    /// The next sample in another state, or the last sample.
    pub until: Micros,
    /// The state.
    pub state: LaneState,
}

/// One node's lane.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lane {
    /// The node's name.
    pub node: String,
    /// Whether it is a sentinel.
    pub sentinel: bool,
    /// Its spans, in time order.
    pub spans: Vec<Span>,
    /// When it answered as a new process, and whether it came back empty.
    pub restarts: Vec<(Micros, bool)>,
}

/// Every lane of a run.
#[derive(Debug, Clone, Default)]
pub struct Lanes {
    /// Data nodes first, then sentinels, each in name order once [`Lanes::finish`]ed.
    pub lanes: Vec<Lane>,
    names: HashMap<String, String>,
    /// Per node: run id and keys at its last answer.
    last: HashMap<String, (String, u64)>,
}

impl Lanes {
    /// Takes one sample.
    pub fn observe(&mut self, sample: &NodeSample) {
        let sentinel = matches!(sample.state, NodeState::Sentinel { .. })
            || sample.kind == crate::history::NodeType::Sentinel;
        if !sentinel {
            self.names.insert(sample.addr.clone(), sample.node.clone());
        }
        let state = match &sample.state {
            NodeState::Unreachable { .. } => LaneState::Unreachable,
            NodeState::Master { .. } => LaneState::Master,
            NodeState::Replica { link_up: true, .. } => LaneState::Replica,
            NodeState::Replica { .. } => LaneState::ReplicaLinkDown,
            NodeState::Sentinel { master: Some(m) } => {
                LaneState::Names(self.names.get(m).cloned().unwrap_or_else(|| m.clone()))
            }
            NodeState::Sentinel { master: None } => LaneState::NamesNone,
        };
        let index = match self.lanes.iter().position(|l| l.node == sample.node) {
            Some(i) => i,
            None => {
                self.lanes.push(Lane {
                    node: sample.node.clone(),
                    sentinel,
                    ..Lane::default()
                });
                self.lanes.len() - 1
            }
        };
        let lane = &mut self.lanes[index];
        if let (Some(run), Some(keys)) = (sample.state.run_id(), sample.state.keys()) {
            if let Some((before, keys_before)) = self.last.get(&sample.node) {
                if before != run {
                    let empty = came_back_empty(*keys_before, keys, sample.state.loaded_keys());
                    lane.restarts.push((sample.at, empty));
                }
            }
            self.last
                .insert(sample.node.clone(), (run.to_owned(), keys));
        }
        match lane.spans.last_mut() {
            Some(span) if span.state == state => span.until = sample.at,
            Some(span) => {
                span.until = sample.at;
                lane.spans.push(Span {
                    from: sample.at,
                    until: sample.at,
                    state,
                });
            }
            None => lane.spans.push(Span {
                from: sample.at,
                until: sample.at,
                state,
            }),
        }
    }

    /// Orders the lanes: data nodes, then sentinels, each by name.
    pub fn finish(&mut self) {
        self.lanes
            .sort_by(|a, b| (a.sentinel, &a.node).cmp(&(b.sentinel, &b.node)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::NodeType;

    fn sample(at: Micros, node: &str, state: NodeState) -> NodeSample {
        NodeSample {
            at,
            node: node.into(),
            kind: if node.starts_with("sentinel") {
                NodeType::Sentinel
            } else {
                NodeType::Data
            },
            addr: format!("{node}:1"),
            state,
        }
    }

    fn master(run: &str, keys: u64) -> NodeState {
        NodeState::Master {
            run_id: run.into(),
            offset: 0,
            keys,
            loaded_keys: None,
            replicas: 0,
            served: Default::default(),
        }
    }

    #[test]
    fn merges_samples_into_spans_and_marks_restarts() {
        let mut lanes = Lanes::default();
        lanes.observe(&sample(0, "redis-1", master("a", 20)));
        lanes.observe(&sample(100, "redis-1", master("a", 20)));
        lanes.observe(&sample(
            200,
            "sentinel-1",
            NodeState::Sentinel {
                master: Some("redis-1:1".into()),
            },
        ));
        lanes.observe(&sample(
            300,
            "redis-1",
            NodeState::Unreachable { error: "x".into() },
        ));
        lanes.observe(&sample(900, "redis-1", master("b", 0)));
        lanes.finish();
        let redis = &lanes.lanes[0];
        let states: Vec<(&LaneState, Micros, Micros)> = redis
            .spans
            .iter()
            .map(|s| (&s.state, s.from, s.until))
            .collect();
        assert_eq!(
            states,
            [
                (&LaneState::Master, 0, 300),
                (&LaneState::Unreachable, 300, 900),
                (&LaneState::Master, 900, 900)
            ]
        );
        assert_eq!(redis.restarts, [(900, true)]);
        assert_eq!(
            lanes.lanes[1].spans[0].state,
            LaneState::Names("redis-1".into())
        );
    }
}
