//! `reset`: answer every TCP packet the peers `cut` names send the target with a reset, for the
//! fault's duration: open connections break at once and new ones are refused.

use super::node_rules::{rule, NetworkRules};
use crate::scenario::kinds::Reset;
use crate::scenario::Cut;

impl NetworkRules for Reset {
    fn cut(&self) -> Cut {
        self.cut
    }

    fn rules(&self, peer: &str) -> Vec<Vec<String>> {
        vec![rule(&[
            "INPUT",
            "-p",
            "tcp",
            "-s",
            peer,
            "-j",
            "REJECT",
            "--reject-with",
            "tcp-reset",
        ])]
    }
}
