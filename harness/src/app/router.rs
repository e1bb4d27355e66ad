//! The caller's own axum `Router` as the app under test: a closure of theirs builds it from where
//! the store is (the sentinels, the master name, the password), once per instance and again after
//! each crash, and the harness serves it in its own process on the instance's port.
//!
//! It owns the closure and what is handed to it; serving, health and stopping are
//! [`AppUnderTest`](super::AppUnderTest)'s, as for the sample app.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::AppError;
use crate::scenario::AppSpec;

/// Any error the closure returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type BuildFuture = Pin<Box<dyn Future<Output = Result<axum::Router, BoxError>> + Send>>;
type Build = dyn Fn(StoreLocation) -> BuildFuture + Send + Sync;

/// Where the app finds its session store, as the closure gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLocation {
    /// Each sentinel as host and port.
    pub sentinels: Vec<(String, u16)>,
    /// The name the sentinels monitor the master under.
    pub master_name: String,
    /// The nodes' and sentinels' password, when the topology requires one.
    pub password: Option<String>,
    /// Which app instance is being built, from 0 (`app.instances` start side by side).
    pub instance: u32,
}

/// A closure that builds the app's `Router`; cheap to clone.
#[derive(Clone)]
pub struct RouterApp {
    build: Arc<Build>,
}

impl RouterApp {
    /// Wraps `build`, which is called for each instance start with where the store is.
    pub fn new<F, Fut, E>(build: F) -> Self
    where
        F: Fn(StoreLocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<axum::Router, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let build = move |location| -> BuildFuture {
            let built = build(location);
            Box::pin(async move { built.await.map_err(Into::into) })
        };
        Self {
            build: Arc::new(build),
        }
    }

    /// Builds the router for one instance.
    pub(crate) async fn build(&self, location: StoreLocation) -> Result<axum::Router, BoxError> {
        (self.build)(location).await
    }
}

/// Refuses an `[app]` section that chooses another app than the caller's router: a command, an
/// image or a sample-app mutant.
pub(crate) fn check_spec(spec: &AppSpec) -> Result<(), AppError> {
    for (field, set) in [
        ("command", spec.command.is_some()),
        ("image", spec.image.is_some()),
        ("mutant", spec.mutant.is_some()),
    ] {
        if set {
            return Err(AppError::RouterConflict { field });
        }
    }
    Ok(())
}

impl std::fmt::Debug for RouterApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RouterApp(..)")
    }
}
