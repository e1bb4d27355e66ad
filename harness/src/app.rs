//! The app under test: the sample app, run inside the harness process on a loopback port, with its
//! store's master changes fed into the history; the caller's own axum `Router`, also in process
//! ([`RouterApp`]); or any app started from a command line ([`external`]) or from a container
//! image ([`container`]).
//!
//! It owns starting, health-waiting, reading `/metrics` and stopping the app. It must not drive load.

pub mod container;
pub mod external;
mod fleet;
mod router;

pub use fleet::{AppFleet, FleetLaunch};
pub(crate) use router::check_spec as check_router_spec;
pub use router::{BoxError, RouterApp, StoreLocation};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sample_app::store::{
    Durability, NodeAddr, Password, SentinelStore, StoreConfig, StoreEventKind,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::history::{Record, Recorder, StoreChange, StoreEvent};
use crate::http_get;
use crate::scenario::AppSpec;

/// How long the in-process sample app keeps an unused session when the scenario names no
/// `app.contract.session_ttl`: an hour, longer than any drill.
const SAMPLE_APP_SESSION_TTL: Duration = Duration::from_secs(3600);

/// What can go wrong with the app under test.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The configured port is taken.
    #[error("cannot listen on {addr}: {source}; pick another port in the scenario's [app] port, or 0 for a free one")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `/healthz` never answered 200.
    #[error("the app at {url} did not become healthy in {waited_ms} ms: {last}")]
    Unhealthy {
        /// Its base URL.
        url: String,
        /// How long the harness waited.
        waited_ms: u128,
        /// The last answer or error.
        last: String,
    },
    /// The app command could not be started.
    #[error("cannot start the app command `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file for the app's output could not be created.
    #[error("cannot create the app's log {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The app command exited before it became healthy.
    #[error("{0}")]
    Exited(String),
    /// An app image on a backend without a Docker engine.
    #[error("app.image ({image}) runs the app in a container, which needs the Docker backend; give the app as app.command instead")]
    NeedsDocker {
        /// The image.
        image: String,
    },
    /// The caller's closure could not build its router.
    #[error("the app's router for instance {instance} could not be built: {message}")]
    RouterBuild {
        /// The instance.
        instance: u32,
        /// The closure's error.
        message: String,
    },
    /// The scenario chooses another app while the caller gave a router.
    #[error("the drill runs the router it was given, so the scenario must not set app.{field}; remove it")]
    RouterConflict {
        /// The field that chooses another app.
        field: &'static str,
    },
    /// An instance that does not exist.
    #[error("no app instance {instance}: the scenario starts {instances} (app.instances), numbered from 0")]
    NoInstance {
        /// The instance asked for.
        instance: u32,
        /// How many there are.
        instances: usize,
    },
    /// An instance with no loopback port to start on.
    #[error("app instance {instance} has no port to start on")]
    NoPort {
        /// The instance.
        instance: u32,
    },
    /// An app in a container cannot be killed and started again at its address.
    #[error("app instance {instance} runs from app.image; killing it and starting it again would give it another address: run the app with app.command to crash it")]
    CannotKill {
        /// The instance.
        instance: u32,
    },
}

/// A running app.
pub struct AppUnderTest {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    running: Running,
}

/// How the app runs.
enum Running {
    InProcess {
        shutdown: Option<oneshot::Sender<()>>,
        server: JoinHandle<std::io::Result<()>>,
        /// Feeds the sample app's store events into the history; a caller's router has none.
        forwarder: Option<JoinHandle<()>>,
    },
    External(external::ExternalApp),
    Container(Box<container::ContainerApp>),
}

/// The app's port, taken before anything else starts so a busy port fails the run at once.
#[derive(Debug)]
pub struct BoundPort {
    listener: tokio::net::TcpListener,
    local: SocketAddr,
}

impl BoundPort {
    /// Binds one port for each app instance: `127.0.0.1:<spec.port + i>`, or free ports for 0.
    pub async fn bind_all(spec: &AppSpec) -> Result<Vec<Self>, AppError> {
        let mut ports = Vec::new();
        for i in 0..spec.instances {
            let port = match spec.port {
                0 => 0,
                first => first.saturating_add(u16::try_from(i).unwrap_or(u16::MAX)),
            };
            ports.push(Self::bind(port).await?);
        }
        Ok(ports)
    }

    async fn bind(port: u16) -> Result<Self, AppError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| AppError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| AppError::Bind { addr, source })?;
        Ok(Self { listener, local })
    }
}

/// How the app reaches the session store: the sentinels, the master name, and the password when
/// the nodes require one.
#[derive(Debug, Clone)]
pub struct StoreAccess {
    /// Sentinel addresses.
    pub sentinels: Vec<NodeAddr>,
    /// The master name they monitor.
    pub master_name: String,
    /// The sentinels' and nodes' password.
    pub password: Option<Password>,
}

impl AppUnderTest {
    /// Starts the sample app in-process on `port`, pointed at the store, and waits until it is
    /// healthy.
    pub async fn start_in_process(
        port: BoundPort,
        spec: &AppSpec,
        store: &StoreAccess,
        recorder: Recorder,
        instance: u32,
    ) -> Result<Self, AppError> {
        let BoundPort { listener, local } = port;
        let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut config = StoreConfig::new(store.sentinels.clone(), store.master_name.clone());
        config.password = store.password.clone();
        config.retry_deadline = spec.store_retry_deadline;
        config.mutant = spec.mutant;
        if spec.wait_replicas > 0 {
            config.durability = Durability::Wait {
                replicas: spec.wait_replicas,
                timeout: spec.wait_timeout,
            };
        }
        let store = SentinelStore::with_events(config, Default::default(), Some(events_tx));
        let ttl = spec.contract.session_ttl.unwrap_or(SAMPLE_APP_SESSION_TTL);
        let router = sample_app::app(store, ttl);
        let forwarder = tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                let (name, master) = match event.kind {
                    StoreEventKind::SwitchAnnounced { master } => {
                        (StoreChange::SwitchAnnounced, master)
                    }
                    StoreEventKind::MasterResolved { master } => {
                        (StoreChange::MasterResolved, master)
                    }
                    StoreEventKind::FirstSuccess { master } => (StoreChange::FirstSuccess, master),
                };
                recorder.record(Record::Store(StoreEvent {
                    at: recorder.at(event.at),
                    instance,
                    event: name,
                    master: master.to_string(),
                }));
            }
        });
        Self::serve_in_process((listener, local), router, Some(forwarder), spec).await
    }

    /// Builds the caller's router for instance `instance`, serves it in-process on `port`, and
    /// waits until it is healthy. The closure gets `spec.health_timeout` to return.
    pub async fn start_router(
        port: BoundPort,
        spec: &AppSpec,
        app: &RouterApp,
        store: &StoreAccess,
        instance: u32,
    ) -> Result<Self, AppError> {
        let location = StoreLocation {
            sentinels: store
                .sentinels
                .iter()
                .map(|a| (a.host.clone(), a.port))
                .collect(),
            master_name: store.master_name.clone(),
            password: store.password.as_ref().map(|p| p.expose().to_owned()),
            instance,
        };
        let router = match tokio::time::timeout(spec.health_timeout, app.build(location)).await {
            Ok(Ok(router)) => router,
            Ok(Err(e)) => {
                return Err(AppError::RouterBuild {
                    instance,
                    message: e.to_string(),
                })
            }
            Err(_) => {
                return Err(AppError::RouterBuild {
                    instance,
                    message: format!(
                        "the closure did not return within {} (app.health_timeout)",
                        humantime::format_duration(spec.health_timeout)
                    ),
                })
            }
        };
        let BoundPort { listener, local } = port;
        Self::serve_in_process((listener, local), router, None, spec).await
    }

    /// Serves `router` on `listener` inside this process, with `forwarder` feeding its store's
    /// events into the history if it has one, and waits until it is healthy.
    async fn serve_in_process(
        (listener, local): (tokio::net::TcpListener, SocketAddr),
        router: axum::Router,
        forwarder: Option<JoinHandle<()>>,
        spec: &AppSpec,
    ) -> Result<Self, AppError> {
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(sample_app::serve(listener, router, async {
            let _ = shutdown_rx.await;
        }));
        let mut app = Self {
            base_url: format!("http://{local}"),
            running: Running::InProcess {
                shutdown: Some(shutdown_tx),
                server,
                forwarder,
            },
        };
        app.wait_healthy(spec).await?;
        Ok(app)
    }

    /// Starts `spec.command` as instance `instance`, listening on `port`, with its output in
    /// `log`, and waits until it is healthy.
    pub async fn start_external(
        port: BoundPort,
        spec: &AppSpec,
        command: &str,
        store: &StoreAccess,
        (instance, run_id): (u32, &str),
        log: PathBuf,
    ) -> Result<Self, AppError> {
        // The app binds the port itself; the harness held it only to fail early when it is taken.
        let port_number = port.local.port();
        drop(port);
        let process = external::ExternalApp::spawn(external::Launch {
            command,
            extra_env: &spec.env,
            session_ttl: spec.contract.session_ttl,
            port: port_number,
            store,
            instance,
            run_id,
            log,
        })?;
        let mut app = Self {
            base_url: format!("http://127.0.0.1:{port_number}"),
            running: Running::External(process),
        };
        app.wait_healthy(spec).await?;
        Ok(app)
    }

    /// Starts instance `instance` of `image` on the run's network, with its output in `log`, and
    /// waits until it is healthy.
    pub async fn start_image(
        spec: &AppSpec,
        image: &str,
        store: &StoreAccess,
        (docker, network): (&bollard::Docker, &str),
        (instance, run_id): (u32, &str),
        log: PathBuf,
    ) -> Result<Self, AppError> {
        let (app, base_url) = container::ContainerApp::start(container::ImageLaunch {
            image,
            extra_env: &spec.env,
            session_ttl: spec.contract.session_ttl,
            store,
            docker,
            network,
            instance,
            run_id,
            log,
        })
        .await?;
        let mut app = Self {
            base_url,
            running: Running::Container(Box::new(app)),
        };
        app.wait_healthy(spec).await?;
        Ok(app)
    }

    async fn wait_healthy(&mut self, spec: &AppSpec) -> Result<(), AppError> {
        let timeout = spec.health_timeout;
        let url = format!("{}{}", self.base_url, spec.health_path);
        let deadline = Instant::now() + timeout;
        loop {
            let exited = match &mut self.running {
                Running::External(process) => process.exited(),
                Running::Container(app) => app.exited().await,
                Running::InProcess { .. } => None,
            };
            if let Some(why) = exited {
                return Err(AppError::Exited(why));
            }
            let last = match http_get::get(&url, Duration::from_secs(1)).await {
                Ok((status, _)) if status.is_success() => return Ok(()),
                Ok((status, _)) => format!("HTTP {status}"),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(AppError::Unhealthy {
                    url,
                    waited_ms: timeout.as_millis(),
                    last,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The app's counters from `GET /metrics`; empty if the app does not answer.
    pub async fn metrics(&self) -> BTreeMap<String, f64> {
        let url = format!("{}/metrics", self.base_url);
        match http_get::get(&url, Duration::from_secs(5)).await {
            Ok((status, text)) if status.is_success() => parse_prometheus(&text),
            _ => BTreeMap::new(),
        }
    }

    /// Kills the app at once, as a crash does: an in-process app's server, store and
    /// connections are dropped mid-request; a command's process group gets SIGKILL.
    pub async fn kill(mut self, instance: u32) -> Result<(), AppError> {
        match &mut self.running {
            Running::InProcess {
                server, forwarder, ..
            } => {
                server.abort();
                if let Some(forwarder) = forwarder {
                    forwarder.abort();
                }
                // Aborted tasks end at their next await; the port is free once they have.
                let _ = server.await;
            }
            Running::External(process) => process.kill().await,
            Running::Container(_) => return Err(AppError::CannotKill { instance }),
        }
        Ok(())
    }

    /// Stops the server and waits for in-flight requests; an external app gets SIGTERM, then
    /// SIGKILL after a grace period.
    pub async fn stop(mut self) {
        match &mut self.running {
            Running::InProcess {
                shutdown,
                server,
                forwarder,
            } => {
                if let Some(tx) = shutdown.take() {
                    let _ = tx.send(());
                }
                let _ = server.await;
                if let Some(forwarder) = forwarder {
                    forwarder.abort();
                }
            }
            Running::External(process) => process.stop().await,
            Running::Container(app) => app.stop().await,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // An external app's own drop kills its process group; a container's removes it.
        if let Running::InProcess {
            server, forwarder, ..
        } = self
        {
            server.abort();
            if let Some(forwarder) = forwarder {
                forwarder.abort();
            }
        }
    }
}

/// The samples of the Prometheus text format, as `name` (with its `{labels}`) to value; comments
/// and lines that do not parse are skipped. A line is `name[{labels}] value [timestamp]`, and
/// label values may hold spaces, so the name ends at the labels' closing brace.
pub fn parse_prometheus(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let name_end = match (l.find('{'), l.rfind('}')) {
                (Some(open), Some(close)) if open < close => close + 1,
                _ => l.find(char::is_whitespace)?,
            };
            let (name, rest) = l.split_at(name_end);
            let value = rest.split_whitespace().next()?.parse().ok()?;
            Some((name.trim().to_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counters_and_skips_comments() {
        let m = parse_prometheus("# HELP a b\n# TYPE a counter\na 3\nb 4.5\nbroken\n");
        assert_eq!(m.get("a"), Some(&3.0));
        assert_eq!(m.get("b"), Some(&4.5));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn a_sample_with_a_timestamp_keeps_its_value_and_labels_may_hold_spaces() {
        let m = parse_prometheus(
            "requests_total 1027 1395066363000\nerrors{path=\"/a b\",code=\"500\"} 3 1395066363000\n",
        );
        assert_eq!(m.get("requests_total"), Some(&1027.0), "{m:?}");
        assert_eq!(
            m.get("errors{path=\"/a b\",code=\"500\"}"),
            Some(&3.0),
            "{m:?}"
        );
        assert_eq!(m.len(), 2);
    }
}
