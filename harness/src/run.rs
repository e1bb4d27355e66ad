//! One run of a scenario, phase by phase: cluster up, app up, workload with faults and sentinel
//! monitor, everything down, then checkers, verdict and report. It orders the phases and owns
//! nothing else.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::app::{self, AppError, AppFleet, BoundPort, FleetLaunch, RouterApp, StoreAccess};
use crate::assess::{assess_file, AssessError, RunFacts};
use crate::cluster::node::NodeKind;
use crate::cluster::{backend, Cluster, ClusterError};
use crate::guard::{self, GuardError};
use crate::history::{PhaseMark, Record, Recorder, RunPhase};
use crate::monitor::{MonitorError, SentinelMonitor};
use crate::nemesis::{self, NemesisError, Operator, Scene};
use crate::progress::Progress;
use crate::report::{ReportError, RunReport};
use crate::sampler::NodeSampler;
use crate::scenario::{BackendChoice, Scenario};
use crate::workload::{self, WorkloadError};

/// Why a run could not produce a verdict.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The topology failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The app under test failed.
    #[error(transparent)]
    App(#[from] AppError),
    /// The workload could not start.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// A fault could not be applied or healed.
    #[error(transparent)]
    Nemesis(#[from] NemesisError),
    /// The sentinel monitor could not subscribe.
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    /// The history could not be read back.
    #[error(transparent)]
    Assess(#[from] AssessError),
    /// The report could not be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// An external deployment was not confirmed.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// The run directory or a file in it could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where a run writes and how much it tells.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Parent of the run directories.
    pub out_dir: PathBuf,
    /// Print progress to stderr.
    pub progress: bool,
    /// Drill a deployment the harness did not start (`topology.backend = "external"`) without
    /// asking (`--yes`). Without it the deployment's name must be typed back at a terminal.
    pub yes: bool,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A short id, unique enough to tell runs on one engine apart: the clock, the process and a
/// count of the process's runs, mixed into 40 bits, so two runs started in the same clock tick
/// (in one process or two) differ.
pub(crate) fn new_run_id() -> String {
    static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    run_id_of(nanos as u64, std::process::id(), count)
}

/// The id of the `count`th run a process `pid` started at `nanos`.
fn run_id_of(nanos: u64, pid: u32, count: u64) -> String {
    // Odd multipliers spread the pid and the count over every bit before the mask keeps 40.
    let mixed = nanos
        ^ u64::from(pid).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ count.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    format!("{:010x}", mixed & 0xff_ffff_ffff)
}

/// Runs `scenario` and returns its report; the report says whether expectations held. Every
/// container and network it started is gone when this returns, and also when its future is
/// dropped; the cleanups that wait on a command (an operator's heal, a network rule) then run on
/// threads of their own, which [`crate::owed::settle`] waits for: call it before the process ends.
pub async fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunReport, RunError> {
    let ran = run_app(scenario, options, None).await;
    // A fault that failed left its guard to clean up behind it.
    crate::owed::settled().await;
    ran
}

/// What the report and `scenario.toml` say of an app the scenario does not name.
const ROUTER_APP: &str = "the caller's axum Router, in process";

/// [`run`], with the caller's router as the app under test when `router` is given (see
/// [`crate::drill::Drill`]).
pub(crate) async fn run_app(
    scenario: &Scenario,
    options: &RunOptions,
    router: Option<&RouterApp>,
) -> Result<RunReport, RunError> {
    if router.is_some() {
        app::check_router_spec(&scenario.app)?;
    }
    let watcher = Progress::new(options.progress);
    let progress = |msg: &str| watcher.line(msg);
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    // Everything that can fail without side effects comes before the run directory and the cluster.
    nemesis::check_app_reach(&scenario.faults, scenario.app.image.is_some())?;
    let run_id = new_run_id();
    let run_dir = options.out_dir.join(format!("{}-{run_id}", scenario.name));
    let create_run_dir = || -> Result<(), RunError> {
        std::fs::create_dir_all(&run_dir).map_err(io_error(&run_dir))?;
        progress(&format!("run {run_id}: writing to {}", run_dir.display()));
        Ok(())
    };
    let external = scenario.topology.external.as_ref();
    let (cluster, ports) = if scenario.topology.backend == BackendChoice::External {
        if scenario.app.image.is_some() {
            return Err(ClusterError::Unsupported {
                backend: "external",
                detail: "app.image runs the app on the harness's own Docker network, which an \
                         external deployment does not have; give the app as app.command \
                         (--app-cmd) instead"
                    .to_owned(),
            }
            .into());
        }
        if let Some(deployment) = external {
            nemesis::check_external(&scenario.faults, deployment)?;
        }
        let ports = BoundPort::bind_all(&scenario.app).await?;
        let cluster = attach_confirmed(scenario, options, &run_id, &watcher).await?;
        create_run_dir()?;
        (cluster, ports)
    } else {
        let refuse = |capabilities| nemesis::refusal(&scenario.faults, capabilities);
        let backend = backend::choose(scenario.topology.backend, &refuse, &|msg| {
            watcher.notice(msg);
        })
        .await?;
        if matches!(backend, backend::Backend::Process) && scenario.app.image.is_some() {
            return Err(ClusterError::Unsupported {
                backend: "process",
                detail: "app.image runs the app in a container, which needs a Docker engine; \
                         give the app as app.command (--app-cmd) instead"
                    .to_owned(),
            }
            .into());
        }
        nemesis::check_privileges(&scenario.faults)?;
        let ports = BoundPort::bind_all(&scenario.app).await?;
        create_run_dir()?;
        let cluster = Cluster::start(backend, &scenario.topology, &run_id, &progress).await?;
        (cluster, ports)
    };
    progress(&format!(
        "cluster ready in {:.1}s",
        cluster.startup.as_secs_f64()
    ));
    let driven = drive(scenario, router, ports, &cluster, &run_dir, &watcher).await;
    let image = cluster.runs_on.clone();
    let startup = cluster.startup;
    let redactor = cluster.redactor();
    progress("removing the cluster");
    let removed = cluster.shutdown().await;
    let (app_metrics, workload) = driven?;
    removed?;
    progress("checking the history");

    let history_path = run_dir.join("history.jsonl");
    let facts = RunFacts {
        run_id,
        run_dir,
        image,
        startup,
        app_metrics,
        not_started: workload.not_started,
    };
    // Checking is CPU work: on a blocking thread it does not hold up the drills running beside
    // this one on the same runtime.
    let scenario = scenario.clone();
    let checked = history_path.clone();
    let router_note = router.map(|_| ROUTER_APP);
    let assessed = tokio::task::spawn_blocking(move || -> Result<RunReport, RunError> {
        let mut assessment = assess_file(&scenario, &history_path, facts)?;
        let mut settings = scenario.settings();
        redactor.toml(&mut settings);
        let as_toml = assessment.report.run_dir.join("scenario.toml");
        let mut text = toml::to_string(&settings).unwrap_or_default();
        if let Some(note) = router_note {
            // Not a field: the file stays a scenario that runs as it is, with the sample app.
            text = format!("# app: {note}\n{text}");
            assessment.report.app_command = Some(note.to_owned());
        }
        std::fs::write(&as_toml, text).map_err(io_error(&as_toml))?;
        assessment.report.settings = serde_json::to_value(&settings).ok();
        assessment.report.started_at = Some(started_at);
        // A password written inline in app.command, or quoted by the app in an error, is in the
        // report's strings: none of them reaches report.json, report.html or the summary.
        assessment.report = redactor.redacted(assessment.report);
        assessment.write_files()?;
        Ok(assessment.report)
    })
    .await;
    match assessed {
        Ok(report) => report,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(RunError::Io {
            path: checked,
            source: std::io::Error::other(format!("the check of the history stopped: {e}")),
        }),
    }
}

/// The deployment `scenario.topology.external` names, once the user has confirmed the plan. It
/// is only read until then.
async fn attach_confirmed(
    scenario: &Scenario,
    options: &RunOptions,
    run_id: &str,
    watcher: &Progress,
) -> Result<Cluster, RunError> {
    let cluster = Cluster::attach(&scenario.topology, run_id, &|msg| watcher.line(msg)).await?;
    if let Some(deployment) = &scenario.topology.external {
        let redactor = cluster.redactor();
        for line in guard::plan(scenario, deployment, &cluster) {
            watcher.notice(&redactor.text(&line));
        }
        guard::confirm(deployment, options.yes).await?;
    }
    Ok(cluster)
}

type Driven = (std::collections::BTreeMap<String, f64>, workload::Outcome);

/// App, monitor, workload and faults against a ready cluster, streaming the history to disk; the
/// app's counters and the workload's outcome when all are done.
async fn drive(
    scenario: &Scenario,
    router: Option<&RouterApp>,
    ports: Vec<BoundPort>,
    cluster: &Cluster,
    run_dir: &Path,
    watcher: &Progress,
) -> Result<Driven, RunError> {
    let progress = &|msg: &str| watcher.line(msg);
    let history_path = run_dir.join("history.jsonl");
    let (recorder, writer) = Recorder::create_redacting(&history_path, cluster.redactor())
        .map_err(io_error(&history_path))?;
    // The sampler starts first, so the cluster's state before anything happens is on record.
    let (mut sampler, pull) = NodeSampler::start(
        cluster.nodes(),
        cluster.master_name(),
        scenario.sampler.period,
        &recorder,
    );
    let monitor =
        SentinelMonitor::start(cluster.nodes_of(NodeKind::Sentinel), &recorder, move |_| {
            pull.pull();
        })
        .await?;
    let store = StoreAccess {
        sentinels: cluster.sentinel_addrs(),
        master_name: cluster.master_name().to_owned(),
        password: cluster.password().cloned(),
    };
    let launch = FleetLaunch {
        spec: &scenario.app,
        store,
        recorder: recorder.clone(),
        run_dir: run_dir.to_owned(),
        docker_network: cluster
            .docker_network()
            .map(|(docker, network)| (docker.clone(), network.to_owned())),
        run_id: cluster.run_id().to_owned(),
        router: router.cloned(),
    };
    let apps = AppFleet::start(launch, ports, progress).await?;
    let base_urls = apps.base_urls().to_vec();
    let w = &scenario.workload;
    progress(&format!(
        "app at {}; {} users at {} req/s for {}",
        base_urls.join(", "),
        w.users,
        w.rate,
        humantime::format_duration(w.duration)
    ));
    let start = Instant::now();
    watcher.start_workload(w.duration);
    let commands_log = run_dir.join("commands.log");
    let redactor = cluster.redactor();
    let in_flight = workload::InFlight::default();
    let count_in_flight = || in_flight.now();
    let (ops, faults) = {
        let work = async {
            tokio::join!(
                async {
                    let done = workload::run(
                        w,
                        &scenario.app.contract,
                        &base_urls,
                        &recorder,
                        &in_flight,
                        start,
                    )
                    .await;
                    recorder.record(Record::Phase(PhaseMark {
                        at: recorder.now(),
                        phase: RunPhase::WorkloadEnded,
                    }));
                    done
                },
                nemesis::run_schedule(
                    &scenario.faults,
                    Scene {
                        cluster,
                        app: &apps,
                        in_flight: &count_in_flight,
                        operator: scenario
                            .topology
                            .external
                            .as_ref()
                            .filter(|_| cluster.is_external())
                            .map(|deployment| Operator {
                                deployment,
                                log: &commands_log,
                                redactor: &redactor,
                            }),
                    },
                    &recorder,
                    start,
                    progress
                ),
            )
        };
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => break done,
                _ = tokio::time::sleep(Duration::from_millis(250)) => watcher.workload_tick(
                    start.elapsed(),
                    w.duration,
                    recorder.operations_recorded(),
                ),
            }
        }
    };
    watcher.finish_workload();
    // Every fault has healed and its nodes are back in place (or were found never to be): what
    // the users were told is read once more, so a loss that came after their last request shows.
    let workload = match (ops, &faults) {
        (Ok((outcome, users)), Ok(())) => {
            progress(&format!(
                "workload done: {} operations; final reads: every user reads its session once more",
                outcome.operations
            ));
            recorder.record(Record::Phase(PhaseMark {
                at: recorder.now(),
                phase: RunPhase::FinalReads,
            }));
            let read = users.final_reads().await.map(|()| outcome);
            // The nodes as the final reads left them: a cause placed on a final read needs a
            // sample after it.
            sampler.sample_once_more().await;
            read
        }
        (ops, _) => ops.map(|(outcome, _)| outcome),
    };
    // Counters summed over the instances.
    let app_metrics = apps.metrics_and_stop().await;
    drop(monitor);
    drop(sampler);
    drop(recorder);
    writer.finish().await.map_err(io_error(&history_path))?;
    faults?;
    let workload = workload?;
    progress("final reads done");
    Ok((app_metrics, workload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_started_in_one_clock_tick_get_different_ids() {
        let tick = 1_796_000_000_123_456_789;
        let ids: std::collections::BTreeSet<String> = (1..=200)
            .flat_map(|pid| (0..5).map(move |count| run_id_of(tick, pid, count)))
            .collect();
        assert_eq!(
            ids.len(),
            1000,
            "two processes or two runs in one tick collided"
        );
        assert!(ids.iter().all(|id| id.len() == 10));
        assert_ne!(new_run_id(), new_run_id());
    }
}
