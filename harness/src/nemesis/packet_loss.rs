//! `packet-loss`: drop a share of the packets between the target and the peers `cut` names, each
//! at random (iptables' `statistic` match), both ways, for the fault's duration. TCP retransmits
//! what is lost, so the peers see a slow, stuttering link rather than a cut one.

use super::node_rules::{rule, NetworkRules};
use crate::scenario::kinds::PacketLoss;
use crate::scenario::Cut;

impl NetworkRules for PacketLoss {
    fn cut(&self) -> Cut {
        self.cut
    }

    /// Each packet either way is dropped with the loss's probability.
    fn rules(&self, peer: &str) -> Vec<Vec<String>> {
        let probability = format!("{:.2}", f64::from(self.loss_percent) / 100.0);
        let lossy = |chain: &str, direction: &str| {
            rule(&[
                chain,
                direction,
                peer,
                "-m",
                "statistic",
                "--mode",
                "random",
                "--probability",
                &probability,
                "-j",
                "DROP",
            ])
        };
        vec![lossy("INPUT", "-s"), lossy("OUTPUT", "-d")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_share_asked_for_both_ways() {
        let loss = PacketLoss {
            cut: Cut::App,
            loss_percent: 30,
        };
        let rules = loss.rules("172.29.0.1");
        assert_eq!(rules.len(), 2);
        for rule in &rules {
            let joined = rule.join(" ");
            assert!(
                joined.contains("-m statistic --mode random --probability 0.30 -j DROP"),
                "{joined}"
            );
        }
        assert_eq!(rules[0][..3], ["INPUT", "-s", "172.29.0.1"]);
        assert_eq!(rules[1][..3], ["OUTPUT", "-d", "172.29.0.1"]);
    }
}
