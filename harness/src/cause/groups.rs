//! Findings gathered as they stream out of the checkers: counted per class and per (class, cause),
//! each group with its earliest finding as the witness, and the earliest findings of each class
//! kept with their causes. Memory grows with the number of groups, not of findings. It must not
//! decide causes, only count them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Cause, CauseKind};
use crate::checker::{Class, Finding, MAX_FINDINGS};

/// A finding with its cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explained {
    /// What was found.
    #[serde(flatten)]
    pub finding: Finding,
    /// Why.
    pub cause: Cause,
}

/// Findings of one class that share a cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingGroup {
    /// Their class.
    pub class: Class,
    /// Their cause's kind.
    pub kind: CauseKind,
    /// Their cause in plain words.
    pub summary: String,
    /// How many.
    pub count: u64,
    /// The earliest of them, with its operations and its own cause's detail.
    pub witness: Explained,
}

/// Every finding of a run, by class and cause.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// How many of each class (every class listed, 0 when none).
    pub counts: BTreeMap<Class, u64>,
    /// How many of the users' values the findings of each class concern (every class listed).
    pub values: BTreeMap<Class, u64>,
    /// Per class and cause, in class order, the largest group first.
    pub groups: Vec<FindingGroup>,
    /// The earliest findings of each class (at most [`MAX_FINDINGS`] each), with their causes.
    pub earliest: BTreeMap<Class, Vec<Explained>>,
}

impl Findings {
    /// No findings yet; every class counted at 0.
    pub fn new() -> Self {
        Self {
            counts: Class::ALL.into_iter().map(|c| (c, 0)).collect(),
            values: Class::ALL.into_iter().map(|c| (c, 0)).collect(),
            ..Self::default()
        }
    }

    /// Takes one finding and its cause.
    pub fn add(&mut self, finding: Finding, cause: Cause) {
        let class = finding.class;
        *self.counts.entry(class).or_default() += 1;
        *self.values.entry(class).or_default() += finding.values;
        let explained = Explained { finding, cause };
        let earlier = |a: &Explained, b: &Explained| a.finding.sort_key() < b.finding.sort_key();
        match self
            .groups
            .iter_mut()
            .find(|g| g.class == class && g.summary == explained.cause.summary)
        {
            Some(group) => {
                group.count += 1;
                if earlier(&explained, &group.witness) {
                    group.witness = explained.clone();
                }
            }
            None => self.groups.push(FindingGroup {
                class,
                kind: explained.cause.kind,
                summary: explained.cause.summary.clone(),
                count: 1,
                witness: explained.clone(),
            }),
        }
        let kept = self.earliest.entry(class).or_default();
        if kept.len() < MAX_FINDINGS || kept.last().is_some_and(|l| earlier(&explained, l)) {
            let at = kept.partition_point(|k| !earlier(&explained, k));
            kept.insert(at, explained);
            kept.truncate(MAX_FINDINGS);
        }
    }

    /// Orders the groups for reading: by class, the largest first; ties by summary.
    pub fn finish(mut self) -> Self {
        self.groups.sort_by(|a, b| {
            (a.class, std::cmp::Reverse(a.count), &a.summary).cmp(&(
                b.class,
                std::cmp::Reverse(b.count),
                &b.summary,
            ))
        });
        self
    }

    /// How many findings of `class`.
    pub fn count(&self, class: Class) -> u64 {
        self.counts.get(&class).copied().unwrap_or(0)
    }

    /// How many values the findings of `class` concern.
    pub fn values(&self, class: Class) -> u64 {
        self.values.get(&class).copied().unwrap_or(0)
    }

    /// The groups of `class`.
    pub fn of(&self, class: Class) -> impl Iterator<Item = &FindingGroup> {
        self.groups.iter().filter(move |g| g.class == class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::Moment;

    fn finding(at: u64, user: u32) -> Finding {
        Finding {
            class: Class::LostWrite,
            at,
            user: Some(user),
            message: format!("lost at {at}"),
            witness: Vec::new(),
            relied: None,
            answered: Moment::default(),
            values: 1,
        }
    }

    fn because(summary: &str) -> Cause {
        Cause {
            kind: CauseKind::Unknown,
            summary: summary.into(),
            detail: String::new(),
        }
    }

    #[test]
    fn groups_count_per_cause_and_keep_the_earliest_witness_whatever_the_order() {
        let mut forward = Findings::new();
        let mut backward = Findings::new();
        let all: Vec<(Finding, Cause)> = (0..120)
            .map(|i| {
                (
                    finding(i * 10, (i % 3) as u32),
                    because(if i % 4 == 0 { "a" } else { "b" }),
                )
            })
            .collect();
        for (f, c) in all.iter().cloned() {
            forward.add(f, c);
        }
        for (f, c) in all.into_iter().rev() {
            backward.add(f, c);
        }
        let (forward, backward) = (forward.finish(), backward.finish());
        assert_eq!(forward, backward);
        assert_eq!(forward.count(Class::LostWrite), 120);
        assert_eq!(forward.count(Class::Rollback), 0);
        let sizes: Vec<(&str, u64)> = forward
            .groups
            .iter()
            .map(|g| (g.summary.as_str(), g.count))
            .collect();
        assert_eq!(sizes, [("b", 90), ("a", 30)]);
        assert_eq!(forward.groups[1].witness.finding.at, 0);
        let kept = &forward.earliest[&Class::LostWrite];
        assert_eq!(kept.len(), MAX_FINDINGS);
        assert_eq!(kept[MAX_FINDINGS - 1].finding.at, 490);
    }
}
