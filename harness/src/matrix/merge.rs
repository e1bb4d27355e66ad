//! Shards put together: the directories `--shard K/N` wrote, on as many machines, checked to be
//! the slices of one matrix and merged into the report the matrix would have written unsharded
//! (grid, `matrix.md`, `matrix.json`, `junit.xml`, the sweep's plot, the rates per expectation).
//!
//! It owns the checks (one identity, one shard count, every shard once) and the merged grid; it
//! must not drill, nor change or move a shard's files: the runs stay where their shard put them,
//! and the merged report links to them there.

use std::path::{Path, PathBuf};

use super::outcome::{CellOutcome, MatrixOutcome, MergedShard, WriteError};
use super::shard::Shard;

/// Why shards could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No directory was given.
    #[error("name the directories the shards wrote (each holds a matrix.json)")]
    Nothing,
    /// A shard's `matrix.json` could not be read.
    #[error(
        "cannot read {path}: {source}; give the directory a shard wrote, which holds matrix.json"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A shard's `matrix.json` is not a matrix's.
    #[error("{path} is not a matrix's matrix.json: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A directory holds a whole matrix, not a shard.
    #[error("{dir} holds a matrix drilled whole, not a shard: merge puts together the directories of runs made with --shard K/N")]
    NotShard {
        /// The directory.
        dir: PathBuf,
    },
    /// A directory's shard belongs to another matrix than the first one's.
    #[error("{dir} (shard {shard}) is a shard of another matrix than {first}: {difference}; shards merge only when they were drilled from the same matrix file, with the same command-line overrides, by the same version of failover-drill")]
    OtherMatrix {
        /// The directory.
        dir: PathBuf,
        /// Its shard.
        shard: Shard,
        /// The first directory given.
        first: PathBuf,
        /// Its identity and tool version against the first one's, in words.
        difference: String,
    },
    /// A directory's matrix was split into another number of shards than the first one's.
    #[error("{dir} is shard {shard}, but {first} is shard {first_shard}: every shard of one merge must come from the same --shard K/N split")]
    OtherCount {
        /// The directory.
        dir: PathBuf,
        /// Its shard.
        shard: Shard,
        /// The first directory given.
        first: PathBuf,
        /// The first directory's shard.
        first_shard: Shard,
    },
    /// Two directories hold the same shard.
    #[error("shard {shard} is given twice: {a} and {b}; give each shard's directory once")]
    Twice {
        /// The shard.
        shard: Shard,
        /// One directory.
        a: PathBuf,
        /// The other.
        b: PathBuf,
    },
    /// Some shards were not given.
    #[error("{} missing (given: {given}); give every shard's directory, or run the missing ones again with --shard", missing_words(.missing))]
    Missing {
        /// The shards not given.
        missing: Vec<Shard>,
        /// The shards given and their directories, in words.
        given: String,
    },
    /// The merged report's directory could not be made.
    #[error("cannot create {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the merged report could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

fn missing_words(missing: &[Shard]) -> String {
    let shards: Vec<String> = missing.iter().map(ToString::to_string).collect();
    match shards.as_slice() {
        [one] => format!("shard {one} is"),
        _ => format!("shards {} are", shards.join(", ")),
    }
}

/// One shard's directory and what it wrote.
struct Loaded {
    dir: PathBuf,
    outcome: MatrixOutcome,
    shard: Shard,
}

fn load(dir: &Path) -> Result<Loaded, MergeError> {
    let path = dir.join("matrix.json");
    let text = std::fs::read_to_string(&path).map_err(|source| MergeError::Read {
        path: path.clone(),
        source,
    })?;
    let outcome: MatrixOutcome = serde_json::from_str(&text).map_err(|e| MergeError::Parse {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let Some(shard) = outcome.shard else {
        return Err(MergeError::NotShard {
            dir: dir.to_owned(),
        });
    };
    // Absolute, so the merged report's links reach the runs from wherever it is written.
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    Ok(Loaded {
        dir,
        outcome,
        shard,
    })
}

/// Checks that `loaded` are every shard of one matrix, each once.
fn check(loaded: &[Loaded]) -> Result<(), MergeError> {
    let Some(first) = loaded.first() else {
        return Err(MergeError::Nothing);
    };
    for other in &loaded[1..] {
        if other.outcome.identity != first.outcome.identity {
            let (this, that) = (&other.outcome, &first.outcome);
            return Err(MergeError::OtherMatrix {
                dir: other.dir.clone(),
                shard: other.shard,
                first: first.dir.clone(),
                difference: if this.tool_version == that.tool_version {
                    format!(
                        "its identity is {:.12}, not {:.12}, from the same version of \
                         failover-drill, so the matrix files or their overrides differ",
                        this.identity, that.identity
                    )
                } else {
                    format!(
                        "its identity is {:.12}, not {:.12}: drilled by failover-drill {}, not {}",
                        this.identity, that.identity, this.tool_version, that.tool_version
                    )
                },
            });
        }
        if other.shard.count != first.shard.count {
            return Err(MergeError::OtherCount {
                dir: other.dir.clone(),
                shard: other.shard,
                first: first.dir.clone(),
                first_shard: first.shard,
            });
        }
    }
    let mut by_index: Vec<Option<&Loaded>> = vec![None; first.shard.count as usize];
    for one in loaded {
        let slot = &mut by_index[one.shard.index as usize];
        if let Some(earlier) = slot {
            return Err(MergeError::Twice {
                shard: one.shard,
                a: earlier.dir.clone(),
                b: one.dir.clone(),
            });
        }
        *slot = Some(one);
    }
    let missing: Vec<Shard> = (0..first.shard.count)
        .filter(|&index| by_index[index as usize].is_none())
        .map(|index| Shard {
            index,
            count: first.shard.count,
        })
        .collect();
    if !missing.is_empty() {
        let given: Vec<String> = by_index
            .iter()
            .flatten()
            .map(|l| format!("{} in {}", l.shard, l.dir.display()))
            .collect();
        return Err(MergeError::Missing {
            missing,
            given: given.join(", "),
        });
    }
    Ok(())
}

/// Where a run a shard recorded at `run_dir` is now that its shard's directory is `now` (it was
/// at `then` when the shard ran, perhaps on another machine).
fn moved(run_dir: &Path, then: &Path, now: &Path) -> PathBuf {
    match run_dir.strip_prefix(then) {
        Ok(inside) if !run_dir.as_os_str().is_empty() => now.join(inside),
        _ => run_dir.to_owned(),
    }
}

/// Reads the shards' directories, checks they are every shard of one matrix once, and writes the
/// merged report into `<out>/<matrix>-matrix-<id>-merged/`; returns it.
pub fn merge(dirs: &[PathBuf], out_dir: &Path) -> Result<MatrixOutcome, MergeError> {
    let mut loaded = Vec::with_capacity(dirs.len());
    for dir in dirs {
        loaded.push(load(dir)?);
    }
    check(&loaded)?;
    loaded.sort_by_key(|l| l.shard.index);
    let first = &loaded[0].outcome;
    let name = format!("{}-matrix-{}-merged", first.name, crate::run::new_run_id());
    let dir = out_dir.join(name);
    std::fs::create_dir_all(&dir).map_err(|source| MergeError::Dir {
        path: dir.clone(),
        source,
    })?;
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let mut merged = MatrixOutcome {
        dir,
        jobs: loaded.iter().map(|l| l.outcome.jobs).sum(),
        cells: first
            .cells
            .iter()
            .map(|c| CellOutcome {
                row: c.row,
                column: c.column,
                planned: 0,
                runs: Vec::new(),
                rates: Vec::new(),
            })
            .collect(),
        wall_s: loaded.iter().map(|l| l.outcome.wall_s).fold(0.0, f64::max),
        planned: loaded.iter().map(|l| l.outcome.planned).sum(),
        shard: None,
        merged: loaded
            .iter()
            .map(|l| MergedShard {
                shard: l.shard,
                dir: l.dir.clone(),
                jobs: l.outcome.jobs,
                wall_s: l.outcome.wall_s,
            })
            .collect(),
        ..first.clone()
    };
    for one in &loaded {
        for (index, cell) in one.outcome.cells.iter().enumerate() {
            let Some(into) = merged.cells.get_mut(index) else {
                continue;
            };
            into.planned += cell.planned;
            for run in &cell.runs {
                let mut run = run.clone();
                run.run_dir = moved(&run.run_dir, &one.outcome.dir, &one.dir);
                into.add(run);
            }
        }
    }
    merged.write_files()?;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::outcome::tests::run;

    fn shard_dir(root: &Path, index: u32, count: u32, identity: &str) -> PathBuf {
        let dir = root.join(format!("shard-{index}"));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut runs = vec![run(true, 1.0, 0)];
        runs[0].repetition = index + 1;
        runs[0].run_dir = dir.join("kill-master-r");
        let outcome = MatrixOutcome {
            name: "m".into(),
            description: String::new(),
            dir: dir.clone(),
            repeat: count,
            fixed: Vec::new(),
            jobs: 2,
            rows: vec![crate::matrix::Row {
                app: "sample app".into(),
                settings: Vec::new(),
            }],
            columns: vec!["kill-master".into()],
            cells: vec![CellOutcome {
                row: 0,
                column: 0,
                planned: 1,
                runs,
                rates: Vec::new(),
            }],
            wall_s: 10.0 + f64::from(index),
            planned: 1,
            identity: identity.into(),
            tool_version: "0.1.0".into(),
            shard: Some(Shard { index, count }),
            merged: Vec::new(),
        };
        std::fs::write(
            dir.join("matrix.json"),
            serde_json::to_string(&outcome).expect("json"),
        )
        .expect("write");
        dir
    }

    fn root(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("merge-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        root
    }

    #[test]
    fn merges_every_shard_into_one_grid_with_runs_in_order() {
        let root = root("whole");
        let dirs: Vec<PathBuf> = [2, 0, 1]
            .iter()
            .map(|&i| shard_dir(&root, i, 3, "abc"))
            .collect();
        let merged = merge(&dirs, &root.join("out")).expect("merged");
        let cell = &merged.cells[0];
        let order: Vec<u32> = cell.runs.iter().map(|r| r.repetition).collect();
        assert_eq!(order, [1, 2, 3]);
        assert_eq!((cell.planned, merged.planned, merged.done()), (3, 3, 3));
        assert_eq!(merged.wall_s, 12.0);
        assert!(merged.shard.is_none() && merged.merged.len() == 3);
        // The links lead from the merged directory to the shards' runs, beside it.
        let link = merged.relative(&cell.runs[0].run_dir);
        assert_eq!(link, "../../shard-0/kill-master-r");
        assert!(merged.dir.join("matrix.html").is_file());
        std::fs::remove_dir_all(&root).expect("clean up");
    }

    #[test]
    fn names_the_missing_the_doubled_and_the_foreign_shard() {
        let root = root("wrong");
        let zero = shard_dir(&root, 0, 3, "abc");
        let two = shard_dir(&root, 2, 3, "abc");
        let error = |dirs: &[PathBuf]| {
            merge(dirs, &root.join("out"))
                .expect_err("refused")
                .to_string()
        };
        let missing = error(&[zero.clone(), two.clone()]);
        assert!(missing.starts_with("shard 1/3 is missing"), "{missing}");
        assert!(missing.contains("0/3 in ") && missing.contains("2/3 in "));
        let twice = error(&[zero.clone(), two.clone(), zero.clone()]);
        assert!(twice.starts_with("shard 0/3 is given twice"), "{twice}");
        let other = root.join("other");
        std::fs::create_dir_all(&other).expect("dir");
        let foreign = shard_dir(&other, 1, 3, "def");
        let wrong = error(&[zero.clone(), foreign, two.clone()]);
        assert!(wrong.contains("is a shard of another matrix"), "{wrong}");
        let four = shard_dir(&other, 1, 4, "abc");
        let count = error(&[zero.clone(), four]);
        assert!(count.contains("same --shard K/N split"), "{count}");
        let none = error(&[root.join("nowhere")]);
        assert!(none.contains("matrix.json"), "{none}");
        std::fs::remove_dir_all(&root).expect("clean up");
    }
}
