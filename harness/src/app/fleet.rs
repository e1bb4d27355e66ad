//! Every instance of the app under test, started the one way the scenario names (the in-process
//! sample app, a command, or an image) or the caller's router, each on its own address. An
//! instance started in this process or from a command can be killed and started again at the same
//! address, for a fault that crashes the app.
//!
//! It owns the instances' lives; it must not drive load or decide when an instance dies.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokio::sync::Mutex;

use super::{AppError, AppUnderTest, BoundPort, RouterApp, StoreAccess};
use crate::history::Recorder;
use crate::scenario::AppSpec;

/// What every instance is started with.
pub struct FleetLaunch<'a> {
    /// The scenario's app section.
    pub spec: &'a AppSpec,
    /// How the app reaches the store.
    pub store: StoreAccess,
    /// The run's history, for the in-process app's store events.
    pub recorder: Recorder,
    /// Where each instance's output goes (`app-<instance>.log`).
    pub run_dir: PathBuf,
    /// The engine and the run's network, on the Docker backend.
    pub docker_network: Option<(bollard::Docker, String)>,
    /// The run's id, handed to the app.
    pub run_id: String,
    /// The caller's router, served in place of the sample app; the scenario then names no
    /// command or image.
    pub router: Option<RouterApp>,
}

/// One instance: running, or killed and not yet started again.
struct Instance {
    app: Option<AppUnderTest>,
    /// Its loopback port (none for an image, which has an address on the run's network).
    port: Option<u16>,
    /// How many times it was started again.
    restarts: u32,
    /// Counters read from its earlier lives, just before each kill.
    carried: BTreeMap<String, f64>,
}

/// Every instance of the app under test.
pub struct AppFleet {
    spec: AppSpec,
    store: StoreAccess,
    recorder: Recorder,
    run_dir: PathBuf,
    docker_network: Option<(bollard::Docker, String)>,
    run_id: String,
    router: Option<RouterApp>,
    base_urls: Vec<String>,
    instances: Vec<Mutex<Instance>>,
}

impl AppFleet {
    /// Starts one instance per port and waits until each is healthy; `progress` hears what is
    /// started.
    pub async fn start(
        launch: FleetLaunch<'_>,
        ports: Vec<BoundPort>,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<Self, AppError> {
        let mut fleet = Self {
            spec: launch.spec.clone(),
            store: launch.store,
            recorder: launch.recorder,
            run_dir: launch.run_dir,
            docker_network: launch.docker_network,
            run_id: launch.run_id,
            router: launch.router,
            base_urls: Vec::new(),
            instances: Vec::new(),
        };
        match (&fleet.spec.command, &fleet.spec.image) {
            (None, Some(image)) => progress(&format!("starting the app image {image}")),
            (Some(command), _) => {
                let shown = crate::secret::Redactor::of(fleet.store.password.as_ref());
                progress(&format!("starting the app: {}", shown.text(command)));
            }
            (None, None) if fleet.router.is_some() => progress("starting the app's router"),
            (None, None) => {}
        }
        for (instance, port) in (0u32..).zip(ports) {
            let number = port.local.port();
            let app = fleet.launch(instance, Some(port), 0).await?;
            fleet.base_urls.push(app.base_url.clone());
            let port = fleet.spec.image.is_none().then_some(number);
            fleet.instances.push(Mutex::new(Instance {
                app: Some(app),
                port,
                restarts: 0,
                carried: BTreeMap::new(),
            }));
        }
        Ok(fleet)
    }

    /// Starts instance `instance` on `port` (bound now, or at the port it had), its output in a
    /// log of its own for each start.
    async fn launch(
        &self,
        instance: u32,
        port: Option<BoundPort>,
        restarts: u32,
    ) -> Result<AppUnderTest, AppError> {
        let log = match restarts {
            0 => self.run_dir.join(format!("app-{instance}.log")),
            n => self.run_dir.join(format!("app-{instance}.restart-{n}.log")),
        };
        let ids = (instance, self.run_id.as_str());
        match (&self.spec.command, &self.spec.image, port) {
            (None, Some(image), _) => {
                let (docker, network) =
                    self.docker_network
                        .as_ref()
                        .ok_or_else(|| AppError::NeedsDocker {
                            image: image.clone(),
                        })?;
                AppUnderTest::start_image(
                    &self.spec,
                    image,
                    &self.store,
                    (docker, network),
                    ids,
                    log,
                )
                .await
            }
            (_, _, None) => Err(AppError::NoPort { instance }),
            (None, None, Some(port)) => match &self.router {
                Some(router) => {
                    AppUnderTest::start_router(port, &self.spec, router, &self.store, instance)
                        .await
                }
                None => {
                    AppUnderTest::start_in_process(
                        port,
                        &self.spec,
                        &self.store,
                        self.recorder.clone(),
                        instance,
                    )
                    .await
                }
            },
            (Some(command), _, Some(port)) => {
                AppUnderTest::start_external(port, &self.spec, command, &self.store, ids, log).await
            }
        }
    }

    /// Each instance's base URL, in instance order.
    pub fn base_urls(&self) -> &[String] {
        &self.base_urls
    }

    fn instance(&self, instance: u32) -> Result<&Mutex<Instance>, AppError> {
        usize::try_from(instance)
            .ok()
            .and_then(|i| self.instances.get(i))
            .ok_or(AppError::NoInstance {
                instance,
                instances: self.instances.len(),
            })
    }

    /// Kills instance `instance` at once: an in-process app drops its server, its store and every
    /// connection; a command's process group gets SIGKILL. An image cannot be killed here: its
    /// address would change when it starts again.
    pub async fn kill(&self, instance: u32) -> Result<(), AppError> {
        let mut held = self.instance(instance)?.lock().await;
        if let Some(app) = held.app.take() {
            // Read a moment before the crash, so its counters still add up in the report.
            for (name, value) in app.metrics().await {
                *held.carried.entry(name).or_insert(0.0) += value;
            }
            app.kill(instance).await?;
        }
        Ok(())
    }

    /// Starts a killed instance again at its address and waits until it is healthy.
    pub async fn restart(&self, instance: u32) -> Result<(), AppError> {
        let mut held = self.instance(instance)?.lock().await;
        if held.app.is_some() {
            return Ok(());
        }
        let port = match held.port {
            Some(port) => Some(BoundPort::bind(port).await?),
            None => None,
        };
        held.restarts += 1;
        held.app = Some(self.launch(instance, port, held.restarts).await?);
        Ok(())
    }

    /// The counters of every running instance, summed, then every instance stopped.
    pub async fn metrics_and_stop(self) -> BTreeMap<String, f64> {
        let mut metrics = BTreeMap::new();
        for instance in self.instances {
            let Instance { app, carried, .. } = instance.into_inner();
            for (name, value) in carried {
                *metrics.entry(name).or_insert(0.0) += value;
            }
            let Some(app) = app else { continue };
            for (name, value) in app.metrics().await {
                *metrics.entry(name).or_insert(0.0) += value;
            }
            app.stop().await;
        }
        metrics
    }
}
