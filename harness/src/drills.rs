//! Every request for more than one drill, on one machine: a matrix's cells, several scenarios
//! named to `run`, a repeat, or one shard of any of them. A drill spends most of its time waiting
//! on Sentinel's timers, so several share a machine; each already has its own cluster, network,
//! ports and run directory.
//!
//! It owns the concurrency, the progress lines and the matrix's directory. It must not judge a
//! run (each report carries its own verdict), start nodes itself (`run` does) nor choose a
//! shard's drills (`matrix::shard` does). Dropping its future drops every running drill, which
//! removes what each started.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};

use crate::matrix::outcome::WriteError;
use crate::matrix::{CellRun, Drill, Matrix, MatrixOutcome, Shard};
use crate::run::{run, RunError, RunOptions};

/// Most drills at once.
pub const MAX_JOBS: usize = 32;

/// Why a matrix stopped before its last drill.
#[derive(Debug, thiserror::Error)]
pub enum DrillsError {
    /// `jobs` is out of range.
    #[error("--jobs {0}: must be between 1 and {MAX_JOBS}")]
    Jobs(usize),
    /// The matrix's directory could not be made.
    #[error("cannot create {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the matrix could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A cell drills a deployment the harness did not start, beside other drills.
    #[error("cell {cell} drills the external deployment '{deployment}': a deployment someone runs is drilled one drill at a time and alone; drill it with `failover-drill run` (with --repeat and --jobs 1 for several runs, not sharded), which prints its plan and asks before the first fault")]
    External {
        /// The cell's label.
        cell: String,
        /// The deployment's name.
        deployment: String,
    },
    /// The first drill of an external deployment was not confirmed; nothing was drilled.
    #[error(transparent)]
    NotConfirmed(Box<RunError>),
}

/// How many drills at once and where they write.
#[derive(Debug, Clone)]
pub struct DrillsOptions {
    /// Parent of the matrix's directory.
    pub out_dir: PathBuf,
    /// Drills at once.
    pub jobs: usize,
    /// Print a line as each drill starts and ends.
    pub progress: bool,
    /// Run only this slice of the drills (`--shard K/N`).
    pub shard: Option<Shard>,
    /// Drill an external deployment without asking (`--yes`); only a one-cell matrix drilled one
    /// drill at a time may drill one.
    pub yes: bool,
}

/// Drills at once when none is asked for: two per core, as a drill mostly waits on Sentinel's
/// timers.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get() * 2)
        .clamp(1, MAX_JOBS)
}

/// Runs every cell of `matrix` `repeat` times (or the shard's slice of those drills), `jobs` at
/// once, into `<out>/<matrix>-matrix-<id>/` (`...-shard-<K>-of-<N>` for a shard); the grid's
/// files are rewritten after every drill. A drill that cannot finish is recorded as such and the
/// others go on.
pub async fn run_matrix(
    matrix: &Matrix,
    options: &DrillsOptions,
) -> Result<MatrixOutcome, DrillsError> {
    if options.jobs == 0 || options.jobs > MAX_JOBS {
        return Err(DrillsError::Jobs(options.jobs));
    }
    // Drills at once share no terminal to confirm each plan at, and a deployment someone runs is
    // not a grid's cell: one cell, one drill at a time, on one machine.
    let alone = matrix.cells.len() == 1 && options.jobs == 1 && options.shard.is_none();
    if let Some((cell, external)) = matrix.cells.iter().find_map(|cell| {
        let external = cell.scenario.topology.external.as_ref()?;
        Some((cell, external))
    }) {
        if !alone {
            return Err(DrillsError::External {
                cell: cell.scenario.name.clone(),
                deployment: external.name.clone(),
            });
        }
    }
    let began = Instant::now();
    let mut name = format!("{}-matrix-{}", matrix.name, crate::run::new_run_id());
    if let Some(shard) = options.shard {
        name.push_str(&format!("-shard-{}-of-{}", shard.index, shard.count));
    }
    let dir = options.out_dir.join(name);
    let row_dirs: Vec<PathBuf> = if matrix.rows.len() == 1 {
        vec![dir.clone()]
    } else {
        matrix
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| dir.join(format!("{:02}-{}", i + 1, row.slug())))
            .collect()
    };
    for path in std::iter::once(&dir).chain(&row_dirs) {
        std::fs::create_dir_all(path).map_err(|source| DrillsError::Dir {
            path: path.clone(),
            source,
        })?;
    }
    let drills = matrix.plan(options.shard);
    let mut outcome = MatrixOutcome::new(matrix, dir, options.jobs, &drills, options.shard);
    outcome.write_files()?;
    let planned = drills.len();
    let mut plan = drills.into_iter();
    // Once a person (or --yes) has said yes to the deployment, its later drills do not ask again.
    let mut confirmed = options.yes;
    let label = |cell: usize, repetition: u32| {
        let c = &matrix.cells[cell];
        let row = &matrix.rows[c.row];
        let mut text = matrix.columns[c.column].clone();
        if matrix.rows.len() > 1 || row.app != crate::matrix::SCENARIO_APP {
            text.push_str(&format!(" × {}", row.label()));
        }
        if matrix.repeat > 1 {
            text.push_str(&format!(" (run {repetition} of {})", matrix.repeat));
        }
        text
    };
    let say = |line: String| {
        if options.progress {
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{:7.1}s] {line}",
                began.elapsed().as_secs_f64()
            );
        }
    };
    let mut running = FuturesUnordered::new();
    let mut done = 0usize;
    loop {
        while running.len() < options.jobs {
            let Some(drill) = plan.next() else {
                break;
            };
            say(format!(
                "{done} done, {} running, {} left: starting {}",
                running.len() + 1,
                planned - done - running.len() - 1,
                label(drill.cell, drill.repetition)
            ));
            let options = RunOptions {
                yes: confirmed,
                out_dir: row_dirs[matrix.cells[drill.cell].row].clone(),
                progress: false,
            };
            running.push(async move {
                let started = Instant::now();
                let result = run(&matrix.cells[drill.cell].scenario, &options).await;
                (drill, result, started.elapsed().as_secs_f64())
            });
        }
        let Some((drill, result, took_s)) = running.next().await else {
            break;
        };
        let Drill { cell, repetition } = drill;
        done += 1;
        let (verdict, cell_run) = match result {
            Err(RunError::Guard(e)) => {
                return Err(DrillsError::NotConfirmed(Box::new(RunError::Guard(e))))
            }
            Ok(report) => {
                let verdict = if report.passed { "passed" } else { "FAILED" };
                confirmed = true;
                (verdict.to_owned(), CellRun::of(&report, repetition, took_s))
            }
            Err(e) => (
                format!("could not finish: {e}"),
                CellRun::failed_to_finish(e.to_string(), repetition, took_s),
            ),
        };
        outcome.add(cell, cell_run);
        outcome.wall_s = began.elapsed().as_secs_f64();
        outcome.write_files()?;
        say(format!(
            "{done} done, {} running, {} left: {} {verdict} in {took_s:.0} s",
            running.len(),
            planned - done - running.len(),
            label(cell, repetition)
        ));
    }
    Ok(outcome)
}
