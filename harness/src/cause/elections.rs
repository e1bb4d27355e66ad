//! The sentinels' leader elections as the history heard them: whom each sentinel voted for in each
//! epoch (`+vote-for-leader <run id> <epoch>`), who was elected (`+elected-leader`), and who gave up
//! unelected (`-failover-abort-not-elected`).
//!
//! It owns telling an election that chose no leader, so a cause that says no replica was promoted
//! can say why when the records show it. After a kill the sentinels can start their elections
//! within milliseconds of each other (all three within 10 ms, as heard, in the split votes seen in
//! the test suite's drills); when each starts before another's request for its vote arrives, each
//! votes for itself and none wins. Sentinel then waits twice its `failover-timeout` after its
//! first try before another. It must not guess at an election it did
//! not hear: with no vote or abort recorded it says nothing.

use std::collections::BTreeMap;

use crate::history::{Micros, SentinelEvent};

/// One epoch's election: the votes heard, the sentinels that gave up unelected, and whether one
/// was elected.
#[derive(Debug, Default, Clone, PartialEq)]
struct Epoch {
    /// `(heard at, run id voted for)`.
    votes: Vec<(Micros, String)>,
    /// `(heard at, sentinel)` for each `-failover-abort-not-elected`.
    aborted: Vec<(Micros, String)>,
    /// A sentinel announced `+elected-leader`.
    elected: bool,
}

/// Every election the history heard, by epoch.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Elections {
    epochs: BTreeMap<u64, Epoch>,
    /// Each sentinel's latest epoch: its abort and its election name no epoch of their own.
    current: BTreeMap<String, u64>,
}

impl Elections {
    /// Takes in one sentinel event, heard after those before it; any other event is passed over.
    pub fn hear(&mut self, e: &SentinelEvent) {
        match e.channel.as_str() {
            "+vote-for-leader" => {
                let mut words = e.message.split_whitespace();
                let (Some(leader), Some(Ok(epoch))) =
                    (words.next(), words.next().map(str::parse::<u64>))
                else {
                    return;
                };
                self.current.insert(e.sentinel.clone(), epoch);
                self.epochs
                    .entry(epoch)
                    .or_default()
                    .votes
                    .push((e.at, leader.to_owned()));
            }
            "+new-epoch" => {
                if let Ok(epoch) = e.message.trim().parse::<u64>() {
                    self.current.insert(e.sentinel.clone(), epoch);
                }
            }
            "-failover-abort-not-elected" => {
                if let Some(epoch) = self.current.get(&e.sentinel) {
                    let entry = self.epochs.entry(*epoch).or_default();
                    entry.aborted.push((e.at, e.sentinel.clone()));
                }
            }
            "+elected-leader" => {
                if let Some(epoch) = self.current.get(&e.sentinel) {
                    self.epochs.entry(*epoch).or_default().elected = true;
                }
            }
            _ => {}
        }
    }

    /// The last election begun before `t`, when it chose no leader (its sentinels gave up, at `t`
    /// or later, and none was elected), in words: its epoch, how the votes went, and when the
    /// sentinels gave up. `None` when that election elected a leader or was not given up, or none
    /// was heard.
    pub fn unelected_before(&self, t: Micros) -> Option<String> {
        let (epoch, election) = self
            .epochs
            .iter()
            .rev()
            .find(|(_, e)| e.votes.iter().any(|(at, _)| *at <= t))?;
        if election.elected || election.aborted.is_empty() {
            return None;
        }
        let mut candidates: Vec<&str> = election
            .votes
            .iter()
            .map(|(_, leader)| leader.as_str())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let voters = election.votes.len();
        let votes = if voters > 1 && candidates.len() == voters {
            format!("its {voters} votes went to {voters} different sentinels (a split vote)")
        } else {
            format!(
                "{voters} {} heard, for {} {}",
                if voters == 1 {
                    "vote was"
                } else {
                    "votes were"
                },
                candidates.len(),
                if candidates.len() == 1 {
                    "sentinel"
                } else {
                    "sentinels"
                }
            )
        };
        let gave_up: Vec<&str> = election.aborted.iter().map(|(_, s)| s.as_str()).collect();
        let first = election.aborted.iter().map(|(at, _)| *at).min()?;
        let last = election.aborted.iter().map(|(at, _)| *at).max()?;
        let when = if first == last {
            format!("at {}", secs(first))
        } else {
            format!("between {} and {}", secs(first), secs(last))
        };
        Some(format!(
            "the sentinels' election in epoch {epoch} chose no leader: {votes}, and {} gave up {when} \
             (-failover-abort-not-elected); a sentinel tries again only twice its failover-timeout \
             after its first try",
            gave_up.join(", ")
        ))
    }
}

fn secs(t: Micros) -> String {
    format!("{:.2} s", t as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Record;

    impl Elections {
        fn new(records: &[Record]) -> Self {
            let mut elections = Self::default();
            for record in records {
                if let Record::Sentinel(e) = record {
                    elections.hear(e);
                }
            }
            elections
        }
    }

    /// `sentinel` giving up its election, unelected.
    fn gives_up(at_ms: u64, sentinel: &str) -> Record {
        heard(
            at_ms,
            sentinel,
            "-failover-abort-not-elected",
            "master mymaster 10.0.0.2 6379",
        )
    }

    fn heard(at_ms: u64, sentinel: &str, channel: &str, message: &str) -> Record {
        Record::Sentinel(SentinelEvent::heard(
            at_ms * 1000,
            sentinel,
            channel,
            message,
        ))
    }

    /// The first try of `sentinel` in `epoch`: a new epoch and a vote for itself.
    fn tries(at_ms: u64, sentinel: &str, epoch: u64) -> [Record; 2] {
        [
            heard(at_ms, sentinel, "+new-epoch", &epoch.to_string()),
            heard(
                at_ms,
                sentinel,
                "+vote-for-leader",
                &format!("id-{sentinel} {epoch}"),
            ),
        ]
    }

    #[test]
    fn a_split_vote_is_told_with_its_epoch_and_when_each_sentinel_gave_up() {
        let mut records = Vec::new();
        for (i, s) in ["sentinel-2", "sentinel-1", "sentinel-3"]
            .iter()
            .enumerate()
        {
            records.extend(tries(6_200 + i as u64 * 5, s, 1));
        }
        for (at, s) in [
            (16_268, "sentinel-1"),
            (16_369, "sentinel-3"),
            (16_557, "sentinel-2"),
        ] {
            records.push(gives_up(at, s));
        }
        let elections = Elections::new(&records);
        assert_eq!(elections.unelected_before(6_000_000), None, "not begun");
        // A node back before the sentinels gave up met the same election.
        let told = elections.unelected_before(10_000_000).expect("told");
        assert!(told.starts_with("the sentinels' election in epoch 1 chose no leader: its 3 votes went to 3 different sentinels (a split vote), and sentinel-1, sentinel-3, sentinel-2 gave up between 16.27 s and 16.56 s"), "{told}");
    }

    #[test]
    fn an_election_that_chose_a_leader_is_not_told() {
        let mut records = Vec::new();
        records.extend(tries(6_200, "sentinel-1", 2));
        records.push(heard(
            6_205,
            "sentinel-2",
            "+vote-for-leader",
            "id-sentinel-1 2",
        ));
        records.push(heard(
            6_300,
            "sentinel-1",
            "+elected-leader",
            "master mymaster 10.0.0.2 6379",
        ));
        assert_eq!(Elections::new(&records).unelected_before(u64::MAX), None);
        assert_eq!(Elections::new(&[]).unelected_before(u64::MAX), None);
        // A split vote in epoch 1 is not the reason for what came after epoch 2's election.
        let mut split = Vec::new();
        for s in ["sentinel-1", "sentinel-2", "sentinel-3"] {
            split.extend(tries(1_000, s, 1));
            split.push(gives_up(11_000, s));
        }
        split.extend(records);
        let elections = Elections::new(&split);
        assert!(elections.unelected_before(5_000_000).is_some());
        assert_eq!(elections.unelected_before(7_000_000), None);
    }

    #[test]
    fn votes_that_were_not_split_are_counted_not_called_a_split() {
        let mut records = Vec::new();
        records.extend(tries(6_200, "sentinel-1", 1));
        records.push(gives_up(16_300, "sentinel-1"));
        let told = Elections::new(&records)
            .unelected_before(u64::MAX)
            .expect("told");
        assert!(
            told.contains("1 vote was heard, for 1 sentinel, and sentinel-1 gave up at 16.30 s"),
            "{told}"
        );
    }
}
