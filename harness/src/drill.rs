//! Drilling from code, in the style of testcontainers: a [`Drill`] holds a scenario, optionally
//! the caller's own axum `Router` as the app under test, and where the run writes; [`Drill::run`]
//! drills it and returns the report. Everything the run started is gone when `run` returns, and
//! when its future is dropped or the test panics.
//!
//! It owns that assembly only; the phases are [`run`](crate::run)'s.
//!
//! ```no_run
//! use std::time::Duration;
//! use failover_drill::drill::Drill;
//! use failover_drill::scenario::Scenario;
//! use sample_app::store::{NodeAddr, Password, SentinelStore, StoreConfig};
//!
//! # async fn drill() -> Result<(), Box<dyn std::error::Error>> {
//! let scenario = Scenario::named("kill-master")?;
//! let report = Drill::new(scenario)
//!     // Your app, built from where the store is. Here, the sample app's router; yours would
//!     // connect your session store to the sentinels and master name it is given.
//!     .router(|store| async move {
//!         let sentinels = store
//!             .sentinels
//!             .iter()
//!             .map(|(host, port)| NodeAddr::new(host.clone(), *port))
//!             .collect();
//!         let mut config = StoreConfig::new(sentinels, store.master_name);
//!         config.password = store.password.map(Password::new);
//!         let session_store = SentinelStore::new(config, Default::default());
//!         Ok::<_, std::convert::Infallible>(sample_app::app(
//!             session_store,
//!             Duration::from_secs(3600),
//!         ))
//!     })
//!     .out_dir(std::env::temp_dir().join("drill-runs"))
//!     .run()
//!     .await?;
//! assert!(report.passed, "{}", report.failed_expectations().join("\n"));
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::path::PathBuf;

use crate::app::{BoxError, RouterApp, StoreLocation};
use crate::report::RunReport;
use crate::run::{self, RunError, RunOptions};
use crate::scenario::Scenario;

/// One drill to run from code.
#[derive(Debug, Clone)]
pub struct Drill {
    scenario: Scenario,
    router: Option<RouterApp>,
    options: RunOptions,
}

impl Drill {
    /// A drill of `scenario` against the app it names (the in-process sample app by default),
    /// writing under `./drill-runs`, quietly.
    pub fn new(scenario: Scenario) -> Self {
        Self {
            scenario,
            router: None,
            options: RunOptions {
                yes: false,
                out_dir: PathBuf::from("drill-runs"),
                progress: false,
            },
        }
    }

    /// Drills a deployment the harness did not start (`topology.backend = "external"`) without
    /// asking for its name at a terminal: the plan is still printed when progress is on.
    pub fn yes(mut self) -> Self {
        self.options.yes = true;
        self
    }

    /// Drills the caller's own app instead: `build` is called with where the store is, once for
    /// each instance (`app.instances`) and again when a fault crashed one, and must return the
    /// app's `Router` within `app.health_timeout`. The router is served on the instance's port
    /// and must answer the scenario's HTTP contract (`app.contract`; the sample app's routes by
    /// default). The scenario must not name another app (`app.command`, `app.image`,
    /// `app.mutant`).
    pub fn router<F, Fut, E>(mut self, build: F) -> Self
    where
        F: Fn(StoreLocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<axum::Router, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.router = Some(RouterApp::new(build));
        self
    }

    /// The parent of the run's directory (history, report, logs).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options.out_dir = dir.into();
        self
    }

    /// Prints the drill's progress on stderr, as the command line does.
    pub fn progress(mut self, show: bool) -> Self {
        self.options.progress = show;
        self
    }

    /// Runs the drill and returns its report; `report.passed` says whether every expectation
    /// held. An error means no verdict could be reached (the cluster or the app did not start).
    pub async fn run(&self) -> Result<RunReport, RunError> {
        let ran = run::run_app(&self.scenario, &self.options, self.router.as_ref()).await;
        crate::owed::settled().await;
        ran
    }
}
