//! `partition`: drop every packet between the target and the peers `cut` names, both ways, for
//! the fault's duration; the peers see silence, then timeouts.

use super::node_rules::{rule, NetworkRules};
use crate::scenario::kinds::Partition;
use crate::scenario::Cut;

impl NetworkRules for Partition {
    fn cut(&self) -> Cut {
        self.cut
    }

    fn rules(&self, peer: &str) -> Vec<Vec<String>> {
        vec![
            rule(&["INPUT", "-s", peer, "-j", "DROP"]),
            rule(&["OUTPUT", "-d", peer, "-j", "DROP"]),
        ]
    }
}
