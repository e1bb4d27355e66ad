//! Container starts cut short, and making sure none of them lands after the run is removed.
//!
//! A node's start is a future. Dropping it (Ctrl-C while the topology starts, or a sibling node's
//! start failing) closes its engine connection, but Docker 20.10 finishes a create whose client has
//! left. The container is then listed while the engine is still creating it, and its removal is
//! answered "No such container" (seen here: a `created` container left by a run stopped while its
//! master started); or, not listed yet when the run looks for what to remove, it shows up after.
//!
//! So every start is marked in flight until its future ends, and the names still marked when the
//! run's network goes are settled by claiming each with a placeholder container. The engine holds
//! a container's name from the beginning of its create, so a refused claim means a container of
//! that name exists or is being created: it is awaited and removed, and the name claimed again. A
//! claim the engine accepts means no create of that name is left; the placeholder is removed.
//!
//! It owns that bookkeeping and the claim; it must not start nodes or remove the network.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bollard::errors::Error as EngineError;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::CreateContainerOptionsBuilder;
use bollard::Docker;

use super::image::SERVER_PATH;
use crate::marks::RUN_LABEL;

/// How long one name may stay held by a create that has not finished.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a held name is looked at again.
const SETTLE_POLL: Duration = Duration::from_millis(20);

/// The container names of one run whose start began and has not ended.
#[derive(Debug, Clone, Default)]
pub struct StartsInFlight(Arc<Mutex<BTreeSet<String>>>);

/// One start in flight: [`StartMark::ended`] when its future ends, either way. A mark dropped
/// without that keeps the name in flight, since the engine may still be creating the container.
#[derive(Debug)]
#[must_use = "a start's mark is ended when its future ends"]
pub struct StartMark {
    starts: StartsInFlight,
    name: String,
}

impl StartsInFlight {
    /// Marks the container `name` in flight.
    pub fn begin(&self, name: &str) -> StartMark {
        self.names_mut().insert(name.to_owned());
        StartMark {
            starts: self.clone(),
            name: name.to_owned(),
        }
    }

    /// The names still in flight.
    pub fn names(&self) -> Vec<String> {
        self.names_mut().iter().cloned().collect()
    }

    fn names_mut(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // A set of names stays whole whatever panicked while it was held.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StartMark {
    /// The start's future ended: the engine answered its create, so nothing of it is in flight.
    pub fn ended(self) {
        self.starts.names_mut().remove(&self.name);
    }
}

fn status(e: &EngineError) -> Option<u16> {
    match e {
        EngineError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// Makes sure no container named in `names` exists or is still being created: each is removed,
/// and each name is claimed once with a placeholder of `image`, labelled as run `run_id`'s (so
/// `clean` finds one a killed run left), which is removed at once. Returns what could not be
/// settled, one line per name.
pub async fn settle(docker: &Docker, image: &str, run_id: &str, names: &[String]) -> Vec<String> {
    let mut unsettled = Vec::new();
    for name in names {
        if let Err(e) = settle_one(docker, image, run_id, name).await {
            unsettled.push(format!("container {name}: {e}"));
        }
    }
    unsettled
}

async fn settle_one(docker: &Docker, image: &str, run_id: &str, name: &str) -> Result<(), String> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let placeholder = ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint: Some(vec![SERVER_PATH.to_owned()]),
        labels: Some(HashMap::from([(RUN_LABEL.to_owned(), run_id.to_owned())])),
        ..Default::default()
    };
    loop {
        let claim = docker
            .create_container(
                Some(CreateContainerOptionsBuilder::new().name(name).build()),
                placeholder.clone(),
            )
            .await;
        match claim {
            Ok(created) => {
                return super::engine::remove_container(docker, &created.id, false)
                    .await
                    .map_err(|(_, e)| format!("remove its placeholder: {e}"));
            }
            // The name is held: by a container, or by a create the engine has not finished.
            Err(e) if status(&e) == Some(409) => match docker.inspect_container(name, None).await {
                Ok(found) => {
                    tracing::debug!("container {name}: found after its start was cut short");
                    let paused = found.state.and_then(|s| s.paused) == Some(true);
                    // A removal already under way is answered with an error; the next claim
                    // shows whether the name is free.
                    let _ = super::engine::remove_container(docker, name, paused).await;
                }
                Err(e) if status(&e) == Some(404) => {
                    tracing::debug!("container {name}: its create is still under way");
                }
                Err(e) => return Err(format!("look at it: {e}")),
            },
            Err(e) => return Err(format!("claim its name: {e}")),
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "its name was still held after {} s; `failover-drill clean` removes it once the \
                 engine has created it",
                SETTLE_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_stays_in_flight_until_its_start_ends() {
        let starts = StartsInFlight::default();
        let master = starts.begin("fd-x-redis-1");
        let replica = starts.begin("fd-x-redis-2");
        assert_eq!(starts.names(), ["fd-x-redis-1", "fd-x-redis-2"]);
        master.ended();
        // A start whose future was dropped leaves its name: the engine may still create it.
        drop(replica);
        assert_eq!(starts.names(), ["fd-x-redis-2"]);
    }
}
