//! Shards: one matrix's drills split over machines that share nothing but the matrix file and
//! the tool, each told only `--shard K/N`. Every machine computes the same split from the expanded
//! matrix alone, and writes the matrix's identity beside its results so `merge` can tell the
//! shards of one matrix from another's.
//!
//! It owns the `K/N` notation, the identity, each drill's expected duration and which drills a
//! shard runs; it must not run drills (`drills` does) nor combine results (`merge` does).
//!
//! The split is written by hand: it is the product's own rule (balanced by each drill's expected
//! time, repeats of one cell spread over the shards), and greedy longest-first assignment is a
//! dozen lines.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Matrix;
use crate::scenario::{BackendChoice, Scenario};

/// Most shards one matrix may be split into.
pub const MAX_SHARDS: u32 = 1000;

/// One of `count` slices of a matrix's drills; `index` counts from 0, as a Kubernetes Indexed
/// Job's `JOB_COMPLETION_INDEX` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    /// Which slice, from 0 to `count - 1`.
    pub index: u32,
    /// How many slices the matrix is split into.
    pub count: u32,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `K/N`, with K from 0 to N-1 and N from 1 to [`MAX_SHARDS`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!(
                "'{text}' is not K/N: give the shard's index from 0 and the number of shards, \
                 as 0/3, 1/3 and 2/3 for three machines"
            )
        };
        let (index, count) = text.trim().split_once('/').ok_or_else(usage)?;
        let (Ok(index), Ok(count)) = (index.trim().parse::<u32>(), count.trim().parse::<u32>())
        else {
            return Err(usage());
        };
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "'{text}': the number of shards must be between 1 and {MAX_SHARDS}"
            ));
        }
        if index >= count {
            return Err(format!(
                "'{text}': the index counts from 0, so with {count} shards it is 0 to {}",
                count - 1
            ));
        }
        Ok(Self { index, count })
    }
}

/// One drill of a matrix: a cell and which of its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Drill {
    /// An index into the matrix's cells.
    pub cell: usize,
    /// Which run of the cell, from 1 to the matrix's `repeat`.
    pub repetition: u32,
}

/// Time to start and remove a drill's nodes and app beyond its workload, by backend: containers
/// take longer than local processes, and a deployment someone else runs is only attached to.
fn setup_time(backend: BackendChoice) -> Duration {
    match backend {
        BackendChoice::Auto | BackendChoice::Docker => Duration::from_secs(12),
        BackendChoice::Process => Duration::from_secs(4),
        BackendChoice::External => Duration::from_secs(3),
    }
}

/// How long a drill of `scenario` is expected to take, from its own timings: the workload, or the
/// last fault's end when that comes later, and its backend's start-up and removal.
pub fn expected_duration(scenario: &Scenario) -> Duration {
    let faults_end = scenario
        .faults
        .iter()
        .map(|f| f.last_start() + f.duration)
        .max()
        .unwrap_or_default();
    scenario.workload.duration.max(faults_end) + setup_time(scenario.topology.backend)
}

impl Matrix {
    /// What makes this matrix the same one on every machine: a SHA-256 of the expanded matrix
    /// (every cell's scenario with the file's apps, sweep and the command line's overrides laid
    /// over it, the repeat count) and the tool's version, in hex. Shards with the same identity
    /// drill the same drills the same way.
    pub fn identity(&self) -> String {
        let cells: Vec<serde_json::Value> = self
            .cells
            .iter()
            .map(|c| serde_json::json!({"row": c.row, "column": c.column, "scenario": c.scenario}))
            .collect();
        let resolved = serde_json::json!({
            "tool": env!("CARGO_PKG_VERSION"),
            "name": self.name,
            "repeat": self.repeat,
            "fixed": self.fixed,
            "rows": self.rows,
            "columns": self.columns,
            "cells": cells,
        });
        let digest = Sha256::digest(resolved.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The drills to run, run by run so an early stop still covers the grid: all of them, or the
    /// slice `shard` owns.
    pub fn plan(&self, shard: Option<Shard>) -> Vec<Drill> {
        let all = (1..=self.repeat).flat_map(|repetition| {
            (0..self.cells.len()).map(move |cell| Drill { cell, repetition })
        });
        let Some(shard) = shard else {
            return all.collect();
        };
        let owners = self.owners(shard.count);
        all.filter(|d| owners[d.cell][d.repetition as usize - 1] == shard.index)
            .collect()
    }

    /// Which shard runs each drill, as `[cell][repetition - 1]`: the longest drills first, each
    /// to the shard with the least expected time so far (the lowest index on a tie). A cell's
    /// repeats come one after another in that order, so each lands on a different shard while
    /// the loads are even.
    fn owners(&self, count: u32) -> Vec<Vec<u32>> {
        let millis: Vec<u128> = self
            .cells
            .iter()
            .map(|c| expected_duration(&c.scenario).as_millis())
            .collect();
        let mut order: Vec<Drill> = (0..self.cells.len())
            .flat_map(|cell| (1..=self.repeat).map(move |repetition| Drill { cell, repetition }))
            .collect();
        order.sort_by(|a, b| millis[b.cell].cmp(&millis[a.cell]).then(a.cmp(b)));
        let mut load = vec![0u128; count as usize];
        let mut owners = vec![vec![0u32; self.repeat as usize]; self.cells.len()];
        for drill in order {
            let (least, _) = load
                .iter()
                .enumerate()
                .min_by_key(|&(index, load)| (*load, index))
                .unwrap_or((0, &0));
            load[least] += millis[drill.cell];
            owners[drill.cell][drill.repetition as usize - 1] = least as u32;
        }
        owners
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::Catalogue;

    fn matrix(text: &str) -> Matrix {
        Matrix::parse(text, Path::new("m.toml"), &Catalogue::built_in()).expect("valid")
    }

    const GRID: &str = r#"
name = "grid"
scenarios = ["kill-master", "pause-master", "flapping"]
repeat = 5

[[apps]]
name = "sample"

[[apps]]
name = "pinned"
mutant = "pinned"
"#;

    #[test]
    fn shards_are_read_as_index_from_zero_over_count() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(" 0 / 1 ".parse(), Ok(Shard { index: 0, count: 1 }));
        let refused = |text: &str| text.parse::<Shard>().expect_err(text);
        assert!(refused("3/3").contains("0 to 2"), "{}", refused("3/3"));
        assert!(refused("1/0").contains("between 1 and"));
        assert!(refused("1of3").contains("0/3, 1/3 and 2/3"));
        assert!(refused("-1/3").contains("is not K/N"));
    }

    #[test]
    fn the_shards_cover_every_drill_once_and_the_same_way_each_time() {
        let m = matrix(GRID);
        let whole = m.plan(None);
        assert_eq!(whole.len(), m.drills());
        let mut union: Vec<Drill> = (0..4)
            .flat_map(|index| m.plan(Some(Shard { index, count: 4 })))
            .collect();
        union.sort();
        let mut sorted = whole.clone();
        sorted.sort();
        assert_eq!(union, sorted, "every drill in exactly one shard");
        // Another process reading the same file splits it the same way.
        let again = matrix(GRID);
        assert_eq!(again.identity(), m.identity());
        for index in 0..4 {
            let shard = Some(Shard { index, count: 4 });
            assert_eq!(again.plan(shard), m.plan(shard));
        }
    }

    #[test]
    fn shards_are_balanced_by_expected_time_not_by_count() {
        let m = matrix(GRID);
        let millis =
            |m: &Matrix, d: &Drill| expected_duration(&m.cells[d.cell].scenario).as_millis();
        let longest = m
            .plan(None)
            .iter()
            .map(|d| millis(&m, d))
            .max()
            .expect("drills");
        let loads: Vec<u128> = (0..3)
            .map(|index| {
                let shard = Some(Shard { index, count: 3 });
                m.plan(shard).iter().map(|d| millis(&m, d)).sum()
            })
            .collect();
        let (least, most) = (loads.iter().min(), loads.iter().max());
        let spread = most.expect("loads") - least.expect("loads");
        assert!(spread <= longest, "{loads:?}, longest drill {longest} ms");
        // Four long drills and four short ones on three shards: the shard with two long drills
        // gets no short one, so the counts differ where the times are near.
        let uneven = matrix(
            "scenarios = [\"kill-master\"]\nrepeat = 4\n\
             [sweep]\nworkload.duration = [\"8s\", \"60s\"]\n",
        );
        let counts: Vec<usize> = (0..3)
            .map(|index| uneven.plan(Some(Shard { index, count: 3 })).len())
            .collect();
        assert_eq!(counts, [2, 3, 3]);
    }

    #[test]
    fn a_cells_repeats_are_spread_over_the_shards() {
        let m = matrix(GRID);
        for cell in 0..m.cells.len() {
            let shards: std::collections::BTreeSet<u32> = (0..3)
                .filter(|&index| {
                    m.plan(Some(Shard { index, count: 3 }))
                        .iter()
                        .any(|d| d.cell == cell)
                })
                .collect();
            assert_eq!(shards.len(), 3, "cell {cell}'s 5 runs on {shards:?}");
        }
    }

    #[test]
    fn the_identity_changes_with_any_cell_or_the_repeat_count() {
        let m = matrix(GRID);
        let more = matrix(&GRID.replace("repeat = 5", "repeat = 6"));
        let other_app = matrix(&GRID.replace("\"pinned\"\n", "\"no-retry\"\n"));
        assert_eq!(m.identity().len(), 64);
        assert_ne!(m.identity(), more.identity());
        assert_ne!(m.identity(), other_app.identity());
        let mut overridden = m.clone();
        overridden.cells[0].scenario.topology.backend = BackendChoice::Process;
        assert_ne!(m.identity(), overridden.identity());
    }
}
