//! The `failover-drill` command line.
//!
//! Run with: `cargo run --release -p failover-drill -- run kill-master`

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use failover_drill::cluster::{engine, external};
use failover_drill::drills::{self, DrillsOptions};
use failover_drill::matrix::{Matrix, MatrixOutcome, Shard};
use failover_drill::run::{run, RunOptions};
use failover_drill::scenario::Catalogue;
use failover_drill::{compare, leftovers};

/// Chaos / failover drills for web sessions kept in Redis behind Sentinel.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Directory of scenario files laid over the built-in ones: its files add names, or replace
    /// the built-in scenario of the same file name [default: $FAILOVER_DRILL_SCENARIOS, else
    /// ./scenarios when it exists]
    #[arg(long, global = true)]
    scenarios_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios by name or path; exits 1 when an expectation fails. More than one drill
    /// (several scenarios, --repeat, --jobs or --shard) runs as a one-row matrix, with its grid in
    /// <out>/<name>-matrix-<id>, and exits as `matrix` does.
    Run {
        /// Scenario names (see `list`) or paths to scenario files.
        #[arg(required = true, value_name = "SCENARIO")]
        scenarios: Vec<String>,
        /// Directory that receives one run directory per run.
        #[arg(long, default_value = "drill-runs")]
        out: PathBuf,
        /// Print only the summary, no progress.
        #[arg(long)]
        quiet: bool,
        /// Also write the JUnit XML to FILE: the run's expectations, or for more than one drill
        /// a copy of the matrix's junit.xml.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// TEST ONLY: give the sample app's store a known bug (pinned, no-retry, stale-read,
        /// lossy-ack, stale-reconnect, error-as-logout, instance-cache, fixed-id, logout-unacked,
        /// ttl-dropped) and see the drill fail it; overrides the scenario's [app] mutant.
        #[arg(long, value_name = "MUTANT")]
        mutant: Option<sample_app::store::Mutant>,
        /// Drill this app instead of the in-process sample app: a command line run with `sh -c`,
        /// told where to listen and where the sentinels are in FAILOVER_DRILL_LISTEN,
        /// FAILOVER_DRILL_PORT, FAILOVER_DRILL_SENTINELS, FAILOVER_DRILL_MASTER_NAME and
        /// FAILOVER_DRILL_INSTANCE; overrides the scenario's [app] command.
        #[arg(long, value_name = "COMMAND", conflicts_with = "app_image")]
        app_cmd: Option<String>,
        /// Drill this image instead (already on the Docker engine): it runs on the run's network
        /// with the same variables and listens on port 8080; overrides the scenario's [app] image.
        #[arg(long, value_name = "IMAGE")]
        app_image: Option<String>,
        /// Where the Redis nodes run: docker, process (local redis-server processes on loopback
        /// ports; no network faults), auto (Docker when an engine answers, else processes, with a
        /// notice), or external (the deployment the scenario's [topology.external] names);
        /// overrides the scenario's topology.backend.
        #[arg(long, value_name = "BACKEND")]
        backend: Option<failover_drill::scenario::BackendChoice>,
        /// Require a password on every node and sentinel (made up for the run, or taken from
        /// FAILOVER_DRILL_REDIS_PASSWORD); the app gets it in FAILOVER_DRILL_REDIS_PASSWORD.
        #[arg(long)]
        require_password: bool,
        /// Drill a deployment the harness did not start (topology.backend = "external") without
        /// asking; without it, the run prints what it will do and asks for the deployment's name
        /// at a terminal, and stops when there is none.
        #[arg(long)]
        yes: bool,
        /// Run each scenario this many times and report per expectation in how many runs it
        /// failed, as a matrix (its grid, matrix.json and junit.xml go to
        /// <out>/<scenario>-matrix-<id>). Exits 1 when any run failed.
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(failover_drill::matrix::MAX_REPEAT)))]
        repeat: u32,
        /// Drills at once when more than one drill runs [default: two per core; 1 runs them one
        /// after another]; a drill mostly waits on Sentinel's timers, so drills share cores well.
        #[arg(long, value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..=failover_drill::drills::MAX_JOBS as i64))]
        jobs: Option<u32>,
        /// Run only slice K of N of the drills (K from 0), for N machines each running one: the
        /// same slice on every machine, balanced by expected time. Put the shards' directories
        /// together with `failover-drill merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
    },
    /// Drill a matrix file: apps × swept settings × scenarios, in parallel, with one grid
    /// (matrix.html, matrix.md, matrix.json, junit.xml). Exits 1 when a cell failed, 2 when a
    /// drill could not finish.
    Matrix {
        /// The matrix file (see docs/matrices.md).
        file: PathBuf,
        /// Directory that receives the matrix's directory.
        #[arg(long, default_value = "drill-runs")]
        out: PathBuf,
        /// Drills at once [default: two per core].
        #[arg(long, value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..=failover_drill::drills::MAX_JOBS as i64))]
        jobs: Option<u32>,
        /// Print only the grid, no progress.
        #[arg(long)]
        quiet: bool,
        /// Run every cell's nodes on this backend; overrides the scenarios' topology.backend.
        #[arg(long, value_name = "BACKEND")]
        backend: Option<failover_drill::scenario::BackendChoice>,
        /// Run only slice K of N of the drills (K from 0), for N machines each running one: the
        /// same slice on every machine, balanced by expected time. Put the shards' directories
        /// together with `failover-drill merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<Shard>,
    },
    /// Put together the directories of a matrix's shards (`--shard K/N`, one per machine) into
    /// the report the matrix would have written unsharded: grid, matrix.md, matrix.json,
    /// junit.xml, the sweep's plot. Refuses shards of different matrices, a missing shard or one
    /// given twice, naming it. The runs stay where they are; the report links to them. Exits as
    /// `matrix` does, and 2 when some shard stopped before its last drill.
    Merge {
        /// Every shard's directory (each holds the shard's matrix.json).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Directory that receives the merged report's directory.
        #[arg(long, default_value = "drill-runs")]
        out: PathBuf,
    },
    /// Check scenario and matrix files (or scenario names) without starting anything, and
    /// print what each would run: cells, nodes, app, workload, faults (with what they need) and
    /// expectations. Exits 0 when every one is valid, 2 naming the file and field otherwise.
    Check {
        /// Scenario files, matrix files (a file with a `scenarios` list) or scenario names.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
    },
    /// List the named scenarios, one line each.
    List,
    /// Look at a Sentinel deployment the harness did not start, through its sentinels: the
    /// master they name, its replicas and the sentinels, as each answers, and what keeps it from
    /// being drilled. Reads only. Exits 1 when something is wrong, 2 when no sentinel answers.
    /// The password, if the deployment has one, comes from FAILOVER_DRILL_REDIS_PASSWORD.
    Inspect {
        /// The sentinels, comma-separated host:port; the ones they know are asked too.
        #[arg(long, required = true, value_name = "HOST:PORT,...", value_parser = parse_sentinels)]
        sentinels: Vec<Vec<sample_app::store::NodeAddr>>,
        /// The name the sentinels monitor the master under.
        #[arg(long, default_value = "mymaster")]
        master_name: String,
    },
    /// Remove what killed runs left: containers, networks and host rules labelled as the
    /// harness's, processes tagged with a run, and the process backend's directories. Runs remove
    /// their own on every exit they live through; this is for SIGKILL.
    Clean {
        /// Only this run's (its id, as in its directory name).
        #[arg(long)]
        run: Option<String>,
        /// List what would be removed, remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Compare two runs: percentiles, recovery times and loss side by side, with the ratio b/a.
    Compare {
        /// The first run: its directory (holding report.json) or its report.json.
        a: PathBuf,
        /// The second run.
        b: PathBuf,
    },
}

/// `--sentinels host:port,host:port`.
fn parse_sentinels(text: &str) -> Result<Vec<sample_app::store::NodeAddr>, String> {
    sample_app::store::parse_addr_list(text).map_err(|e| e.to_string())
}

/// The built-in scenarios, with the user's directory over them when there is one.
fn catalogue(flag: Option<PathBuf>) -> Catalogue {
    let dir = flag
        .or_else(|| std::env::var_os("FAILOVER_DRILL_SCENARIOS").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from("scenarios")).filter(|p| p.is_dir()));
    dir.map_or_else(Catalogue::built_in, Catalogue::with_dir)
}

/// A signal that stopped the work: its name, and the exit status shells expect after it
/// (128 + its number: 130 for SIGINT, 143 for SIGTERM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interrupted {
    name: &'static str,
    exit: u8,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

const SIGINT: Interrupted = Interrupted {
    name: "SIGINT",
    exit: 130,
};
const SIGTERM: Interrupted = Interrupted {
    name: "SIGTERM",
    exit: 143,
};

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() -> Interrupted {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return SIGINT;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => SIGINT,
        _ = term.recv() => SIGTERM,
    }
}

async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let catalogue = catalogue(cli.scenarios_dir);
    match cli.command {
        Command::List => {
            let all = catalogue.list().with_context(|| {
                format!("cannot list the scenarios of {}", catalogue.describe())
            })?;
            let width = all.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, description) in all {
                println!("{name:width$}  {description}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { files } => {
            use failover_drill::shown::{printable, printable_lines};
            let mut invalid = 0;
            let mut out = std::io::stdout().lock();
            for file in &files {
                match failover_drill::check::check(file, &catalogue) {
                    Ok(lines) => {
                        let file = printable(file);
                        writeln!(out, "{file}: valid").context("cannot print to stdout")?;
                        for line in lines {
                            writeln!(out, "  {line}").context("cannot print to stdout")?;
                        }
                    }
                    Err(e) => {
                        invalid += 1;
                        let (file, e) = (printable(file), printable_lines(&e.to_string()));
                        writeln!(out, "{file}: invalid: {e}").context("cannot print to stdout")?;
                    }
                }
            }
            if invalid > 0 {
                let _ = writeln!(
                    std::io::stderr(),
                    "{invalid} of {} files cannot be drilled",
                    files.len()
                );
                return Ok(ExitCode::from(2));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Clean { run, dry_run } => {
            let docker = match engine::connect().await {
                Ok(docker) => Some(docker),
                Err(e @ failover_drill::cluster::ClusterError::EngineUnreachable { .. }) => {
                    eprintln!("{e}\nlooking only for processes, directories and host rules");
                    None
                }
                Err(e) => return Err(e.into()),
            };
            let found = leftovers::find(docker.as_ref(), run.as_deref()).await?;
            if found.is_empty() {
                println!("nothing left by failover-drill runs");
                return Ok(ExitCode::SUCCESS);
            }
            let verb = if dry_run { "would remove" } else { "removing" };
            for line in found.describe() {
                println!("{verb} {line}");
            }
            if !dry_run {
                leftovers::remove(docker.as_ref(), &found)
                    .await
                    .context("some leftovers could not be removed; run `failover-drill clean` again, or remove them with docker and iptables")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect {
            sentinels,
            master_name,
        } => {
            let sentinels: Vec<_> = sentinels.into_iter().flatten().collect();
            let password = std::env::var(failover_drill::cluster::PASSWORD_ENV)
                .ok()
                .filter(|p| !p.is_empty())
                .map(sample_app::store::Password::new);
            let deployment = external::inspect(&sentinels, &master_name, password.as_ref())
                .await
                .context("cannot inspect the deployment")?;
            // What the sentinels and nodes said is data from the network: shown escaped.
            use failover_drill::shown::printable;
            for line in deployment.describe() {
                println!("{}", printable(&line));
            }
            let problems = deployment.problems();
            if problems.is_empty() {
                println!("healthy: ready to drill");
                return Ok(ExitCode::SUCCESS);
            }
            for problem in &problems {
                println!("problem: {}", printable(problem));
            }
            Ok(ExitCode::from(1))
        }
        Command::Compare { a, b } => {
            let (a, b) = (compare::load(&a)?, compare::load(&b)?);
            compare::write_comparison(&a, &b, &mut std::io::stdout().lock())
                .context("cannot print the comparison")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge { dirs, out } => {
            let outcome = failover_drill::matrix::merge::merge(&dirs, &out)
                .context("cannot merge the shards")?;
            tell_ci_of_matrix(&outcome, None)?;
            print_escaped(|out| outcome.write_summary(out))?;
            if outcome.done() < outcome.planned {
                let _ = writeln!(
                    std::io::stderr(),
                    "{} of the matrix's {} drills were not run: a shard stopped early; run it again \
                     with its --shard and merge again",
                    outcome.planned - outcome.done(),
                    outcome.planned
                );
                return Ok(ExitCode::from(2));
            }
            Ok(matrix_exit(&outcome))
        }
        Command::Matrix {
            file,
            out,
            jobs,
            quiet,
            backend,
            shard,
        } => {
            let mut matrix = Matrix::from_file(&file, &catalogue)?;
            if let Some(backend) = backend {
                for cell in &mut matrix.cells {
                    cell.scenario.topology.backend = backend;
                    cell.scenario
                        .validate(std::path::Path::new("the command line"))?;
                }
            }
            let options = DrillsOptions {
                out_dir: out,
                jobs: jobs.map_or_else(drills::default_jobs, |j| j as usize),
                progress: !quiet,
                shard,
                yes: false,
            };
            run_matrix(&matrix, &options, None).await
        }
        Command::Run {
            scenarios,
            out,
            quiet,
            mutant,
            app_cmd,
            app_image,
            backend,
            require_password,
            yes,
            repeat,
            jobs,
            junit,
            shard,
        } => {
            let mut loaded = Vec::new();
            for name in &scenarios {
                let mut scenario = catalogue.load(name)?;
                if mutant.is_some() {
                    scenario.app.mutant = mutant;
                }
                if app_cmd.is_some() {
                    scenario.app.command.clone_from(&app_cmd);
                    scenario.app.image = None;
                }
                if app_image.is_some() {
                    scenario.app.image.clone_from(&app_image);
                    scenario.app.command = None;
                }
                if let Some(backend) = backend {
                    scenario.topology.backend = backend;
                }
                scenario.topology.require_password |= require_password;
                scenario.validate(std::path::Path::new("the command line"))?;
                loaded.push(scenario);
            }
            if loaded.len() > 1 || repeat > 1 || jobs.is_some() || shard.is_some() {
                let matrix = Matrix::of_scenarios("run", loaded, repeat);
                let options = DrillsOptions {
                    out_dir: out,
                    jobs: jobs.map_or_else(drills::default_jobs, |j| j as usize),
                    progress: !quiet,
                    shard,
                    yes,
                };
                return run_matrix(&matrix, &options, junit.as_deref()).await;
            }
            let Some(scenario) = loaded.pop() else {
                anyhow::bail!("name at least one scenario; `failover-drill list` shows them");
            };
            let options = RunOptions {
                yes,
                out_dir: out,
                progress: !quiet,
            };
            let report = tokio::select! {
                report = run(&scenario, &options) => report?,
                signal = interrupted() => {
                    // Dropping the run's future removed its nodes and their network or directory.
                    let _ = writeln!(
                        std::io::stderr(),
                        "{signal}: run stopped; its nodes and app processes were removed"
                    );
                    return Ok(ExitCode::from(signal.exit));
                }
            };
            print_escaped(|out| report.write_summary(out))?;
            tell_ci(&report, junit.as_deref())?;
            Ok(if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// What a CI system reads of one run: `--junit`'s file; under GitHub Actions, a Markdown summary
/// appended to `$GITHUB_STEP_SUMMARY` and an `::error` line per failed expectation.
fn tell_ci(report: &failover_drill::report::RunReport, junit: Option<&Path>) -> anyhow::Result<()> {
    if let Some(path) = junit {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write the JUnit XML to {}", path.display()))?;
        report
            .write_junit(std::io::BufWriter::new(file))
            .with_context(|| format!("cannot write the JUnit XML to {}", path.display()))?;
    }
    append_to_step_summary(report.markdown_summary().as_bytes())?;
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let mut out = std::io::stdout().lock();
        for line in report.github_errors() {
            writeln!(out, "{line}").context("cannot print to stdout")?;
        }
    }
    Ok(())
}

/// A matrix's drills (or a shard's), `jobs` at once, then its grid, with a copy of its JUnit XML
/// at `junit` when asked; exit 1 when a cell failed, 2 when a drill could not finish, 130 on
/// SIGINT and 143 on SIGTERM.
async fn run_matrix(
    matrix: &Matrix,
    options: &DrillsOptions,
    junit: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let outcome = tokio::select! {
        outcome = drills::run_matrix(matrix, options) => outcome?,
        signal = interrupted() => {
            let _ = writeln!(
                std::io::stderr(),
                "{signal}: matrix stopped; the drills that finished are in its matrix.json, and \
                 the running drills' nodes and app processes were removed"
            );
            return Ok(ExitCode::from(signal.exit));
        }
    };
    tell_ci_of_matrix(&outcome, junit)?;
    print_escaped(|out| outcome.write_summary(out))?;
    Ok(matrix_exit(&outcome))
}

/// 2 when a drill could not finish, 1 when a cell failed, 0 when every cell passed.
fn matrix_exit(outcome: &MatrixOutcome) -> ExitCode {
    if outcome.any_error() {
        ExitCode::from(2)
    } else if outcome.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What a CI system reads of a matrix: a copy of its JUnit XML at `junit`; under GitHub Actions,
/// its grid in Markdown appended to `$GITHUB_STEP_SUMMARY`.
fn tell_ci_of_matrix(outcome: &MatrixOutcome, junit: Option<&Path>) -> anyhow::Result<()> {
    if let Some(path) = junit {
        std::fs::copy(outcome.dir.join("junit.xml"), path)
            .with_context(|| format!("cannot write the JUnit XML to {}", path.display()))?;
    }
    let mut markdown = Vec::new();
    outcome
        .write_markdown(&mut markdown)
        .context("cannot write the grid")?;
    append_to_step_summary(&markdown)
}

/// Appends `markdown` to the file `$GITHUB_STEP_SUMMARY` names, when it names one (under GitHub
/// Actions).
fn append_to_step_summary(markdown: &[u8]) -> anyhow::Result<()> {
    let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = PathBuf::from(summary);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(markdown))
        .with_context(|| format!("cannot append to GITHUB_STEP_SUMMARY ({})", path.display()))
}

/// Prints what `write` writes with its control characters, but not its line breaks, escaped: a
/// summary quotes the app's answers and what the sentinels said, which are data from outside.
fn print_escaped(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> anyhow::Result<()> {
    let mut text = Vec::new();
    write(&mut text).context("cannot write the summary")?;
    let shown = failover_drill::shown::printable_lines(&String::from_utf8_lossy(&text));
    std::io::stdout()
        .lock()
        .write_all(shown.as_bytes())
        .context("cannot print the summary")
}

/// The error and its causes, each cause once: most messages already quote their cause.
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The in-process app logs every store error it retries; the report counts them.
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                "warn,sample_app=error,tower_sessions=off,tower_sessions_core=off".into()
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let code = match execute(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {}", message(&e));
            ExitCode::from(2)
        }
    };
    // A run cut short (a signal, an error) may still owe a heal, a rule's removal or a paused
    // master's release, each on a thread of its own: the process must not end before them.
    failover_drill::owed::settled().await;
    code
}
