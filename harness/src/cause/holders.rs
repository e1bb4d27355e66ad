//! Which data nodes may hold what a node held at one moment, by the replication links the samples
//! show: that node, every node seen replicating from it (link up) from then on, every node seen
//! replicating from one of those after it was, and so on.
//!
//! It over-counts on purpose: a link seen up may have carried nothing yet, and a node may since
//! have lost what it got (a restart, a full resync). So a node it leaves out was never seen
//! linked to any node that had the data, which is all a cause may claim from it. It must not read
//! replication offsets: two nodes' offsets count the same stream only while one replicates from
//! the other, and after a flapping failover they often do not.

use std::collections::BTreeMap;

use super::view::{ClusterView, Role, Sample};
use crate::history::Micros;

/// The nodes that may hold what some node held at a moment; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holders {
    /// Each node's address, and from when it may hold the data.
    since: BTreeMap<String, Micros>,
}

impl Holders {
    /// The nodes that may hold, by `until`, what `from` held at `t`. Any of `from` may be the one
    /// that held it (a telling whose master cannot be told apart is given all of its candidates).
    /// A replica whose last answer at or before `t` showed it linked to a holder counts from `t`:
    /// its link may still have been up when the data was written.
    pub fn of(view: &ClusterView, from: &[&str], t: Micros, until: Micros) -> Self {
        let mut since: BTreeMap<String, Micros> =
            from.iter().map(|addr| ((*addr).to_owned(), t)).collect();
        let linked_to_holder = |since: &BTreeMap<String, Micros>, s: &Sample| {
            s.role == (Role::Replica { link_up: true })
                && view
                    .followed(s)
                    .and_then(|master| since.get(master))
                    .is_some_and(|from| *from <= s.at.max(t))
        };
        // Linked at the telling: repeated, since a replica of such a replica is linked too.
        loop {
            let joined: Vec<String> = view
                .tracks()
                .iter()
                .filter(|tr| !since.contains_key(&tr.addr))
                .filter(|tr| {
                    tr.answered_at(t)
                        .is_some_and(|s| linked_to_holder(&since, s))
                })
                .map(|tr| tr.addr.clone())
                .collect();
            if joined.is_empty() {
                break;
            }
            since.extend(joined.into_iter().map(|addr| (addr, t)));
        }
        let mut later: Vec<(&str, &Sample)> = view
            .tracks()
            .iter()
            .flat_map(|tr| {
                tr.between(t.saturating_add(1), until)
                    .iter()
                    .map(move |s| (tr.addr.as_str(), s))
            })
            .collect();
        later.sort_by_key(|(_, s)| s.at);
        for (addr, sample) in later {
            if !since.contains_key(addr) && linked_to_holder(&since, sample) {
                since.insert(addr.to_owned(), sample.at);
            }
        }
        Self { since }
    }

    /// Whether the node at `addr` may hold it.
    pub fn may_hold(&self, addr: &str) -> bool {
        self.since.contains_key(addr)
    }

    /// Every node that may hold it but `except`, with when it was first seen linked to one that
    /// did, in time order.
    pub fn others(&self, except: &[&str]) -> Vec<(&str, Micros)> {
        let mut others: Vec<(&str, Micros)> = self
            .since
            .iter()
            .filter(|(addr, _)| !except.contains(&addr.as_str()))
            .map(|(addr, at)| (addr.as_str(), *at))
            .collect();
        others.sort_by_key(|(_, at)| *at);
        others
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{NodeSample, NodeState, NodeType, Record, Served};

    fn addr(node: &str) -> String {
        format!("10.0.0.{}:6379", &node[6..])
    }

    fn sample(at: f64, node: &str, state: NodeState) -> Record {
        Record::Node(NodeSample {
            at: (at * 1e6) as Micros,
            node: node.into(),
            kind: NodeType::Data,
            addr: addr(node),
            state,
        })
    }

    fn master() -> NodeState {
        NodeState::Master {
            run_id: "m".into(),
            offset: 1_000,
            keys: 20,
            loaded_keys: None,
            replicas: 1,
            served: Served::default(),
        }
    }

    fn replica(of: &str, link_up: bool) -> NodeState {
        NodeState::Replica {
            run_id: "r".into(),
            offset: 1_000,
            keys: 20,
            loaded_keys: None,
            master: addr(of),
            link_up,
            served: Served::default(),
        }
    }

    fn holders(records: &[Record], t: f64) -> Holders {
        let view = ClusterView::new(records);
        Holders::of(&view, &[&addr("redis-1")], (t * 1e6) as Micros, 30_000_000)
    }

    #[test]
    fn a_replica_linked_at_the_telling_or_after_may_hold_it_and_one_never_linked_does_not() {
        let records = [
            sample(1.0, "redis-1", master()),
            sample(1.0, "redis-2", replica("redis-1", true)),
            sample(1.0, "redis-3", replica("redis-1", false)),
            sample(3.0, "redis-3", replica("redis-1", false)),
        ];
        let found = holders(&records, 2.0);
        assert!(found.may_hold(&addr("redis-1")) && found.may_hold(&addr("redis-2")));
        assert!(!found.may_hold(&addr("redis-3")));
        assert_eq!(
            found.others(&[&addr("redis-1")]),
            [(&*addr("redis-2"), 2_000_000)]
        );
    }

    #[test]
    fn a_replica_of_a_holder_may_hold_it_only_from_when_that_one_did() {
        // redis-3 followed redis-2 before redis-2 was linked to redis-1 after the telling, and
        // never again after.
        let records = [
            sample(1.0, "redis-1", master()),
            sample(1.0, "redis-2", replica("redis-1", false)),
            sample(3.0, "redis-3", replica("redis-2", true)),
            sample(4.0, "redis-2", replica("redis-1", true)),
            sample(4.0, "redis-3", replica("redis-1", false)),
        ];
        let found = holders(&records, 2.0);
        assert!(found.may_hold(&addr("redis-2")));
        assert!(!found.may_hold(&addr("redis-3")));
        // Linked to redis-2 after it was: redis-3 may hold it from then.
        let mut later = records.to_vec();
        later.push(sample(5.0, "redis-3", replica("redis-2", true)));
        let found = holders(&later, 2.0);
        assert_eq!(
            found.others(&[&addr("redis-1")]),
            [
                (&*addr("redis-2"), 4_000_000),
                (&*addr("redis-3"), 5_000_000)
            ]
        );
    }
}
