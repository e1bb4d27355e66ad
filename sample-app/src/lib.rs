//! An axum app whose sessions live in Redis found through Sentinel; the default app under test of
//! `failover-drill`, and a model of a store that survives failover.
//!
//! # Layout
//! - [`store`]: the Sentinel-aware session store (reusable on its own).
//! - [`routes`]: the handlers of the probe contract.
//! - [`metrics`]: retry and rediscovery counters in the Prometheus text format.
//! - [`app`] builds the router; [`serve`] runs it until a shutdown future resolves.
//!
//! # Endpoints
//! | method and path | does |
//! | --- | --- |
//! | `POST /login` `{"user": "..."}` | starts a session (cookie `id`) |
//! | `POST /session/items` `{"value": "..."}` | appends a value, answers `{"version": n}` |
//! | `GET /session` | `{"user", "items", "version"}`; 401 without a live session |
//! | `GET /healthz` | `ok` |
//! | `GET /metrics` | counters |
//!
//! When the store stays unavailable past its retry deadline, every endpoint that touches it answers
//! 503 with `Retry-After`.

pub mod metrics;
pub mod routes;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_sessions::{Expiry, SessionManagerLayer};

use metrics::Metrics;
use store::SentinelStore;

/// Turns the session layer's bare 500 (a save that failed after the store's retry deadline) into the
/// app's 503 with `Retry-After`: the only way the session layer fails here is the store being down.
async fn store_failure_as_unavailable(metrics: Arc<Metrics>, mut res: Response) -> Response {
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR {
        *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(routes::RETRY_AFTER_SECS),
        );
    }
    if res.status() == StatusCode::SERVICE_UNAVAILABLE {
        Metrics::bump(&metrics.unavailable_responses);
    }
    res
}

/// The `no-retry` mutant's app answers a store failure as an Express error handler does: 500,
/// without `Retry-After`.
async fn as_error_handler_would(answers_500: bool, mut res: Response) -> Response {
    if answers_500 && res.status() == StatusCode::SERVICE_UNAVAILABLE {
        *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        res.headers_mut().remove(header::RETRY_AFTER);
    }
    res
}

/// The router, with sessions kept in `store` for `session_ttl`.
pub fn app(store: SentinelStore, session_ttl: std::time::Duration) -> Router {
    let session_ttl = time::Duration::try_from(session_ttl).unwrap_or(time::Duration::MAX);
    let metrics = store.metrics().clone();
    let answers_500 = store.mutant() == Some(store::Mutant::NoRetry);
    let sessions = SessionManagerLayer::new(store)
        // The harness talks plain HTTP on loopback; a Secure cookie would never be sent back.
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(session_ttl));
    let for_mapping = metrics.clone();
    Router::new()
        .route("/login", post(routes::login_create))
        .route("/session/items", post(routes::items_append))
        .route("/session", get(routes::session_show))
        .layer(sessions)
        .layer(axum::middleware::map_response(move |res: Response| {
            store_failure_as_unavailable(for_mapping.clone(), res)
        }))
        .layer(axum::middleware::map_response(move |res: Response| {
            as_error_handler_would(answers_500, res)
        }))
        .route("/healthz", get(routes::health_show))
        .route("/metrics", get(routes::metrics_show))
        .with_state(metrics)
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
