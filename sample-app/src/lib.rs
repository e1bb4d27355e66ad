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
//! 503 with `Retry-After`; any other failure (a record that does not decode, a bug) stays a 500.

pub mod metrics;
pub mod routes;
pub mod store;

use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_sessions::{Expiry, SessionManagerLayer};

use metrics::Metrics;
use store::SentinelStore;

tokio::task_local! {
    /// Whether the store gave up on a call of the request being served, as unavailable.
    static STORE_GAVE_UP: Cell<bool>;
}

/// Notes, for the request being served, that the store gave up on a call as unavailable.
pub(crate) fn note_store_gave_up() {
    // Outside a request (a direct use of the store) there is no answer to change.
    let _ = STORE_GAVE_UP.try_with(|gave_up| gave_up.set(true));
}

/// Turns a 500 into the app's 503 with `Retry-After` when the store gave up on a call of that
/// request as unavailable: a save the session layer could not make (it answers a bare 500), or a
/// handler's own store error. Any other 500 is a bug, and stays one.
async fn store_failure_as_unavailable(metrics: Arc<Metrics>, req: Request, next: Next) -> Response {
    let (mut res, gave_up) = STORE_GAVE_UP
        .scope(Cell::new(false), async move {
            let res = next.run(req).await;
            (res, STORE_GAVE_UP.with(Cell::get))
        })
        .await;
    if gave_up && res.status() == StatusCode::INTERNAL_SERVER_ERROR {
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
    let login = match store.mutant() {
        Some(store::Mutant::FixedId) => post(routes::login_keeping_id),
        _ => post(routes::login_create),
    };
    let logout = match store.mutant() {
        Some(store::Mutant::LogoutUnacked) => post(routes::logout_unacked),
        _ => post(routes::logout_delete),
    };
    let sessions = SessionManagerLayer::new(store)
        // The harness talks plain HTTP on loopback; a Secure cookie would never be sent back.
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(session_ttl));
    let for_mapping = metrics.clone();
    Router::new()
        .route("/login", login)
        .route("/session/items", post(routes::items_append))
        .route("/session", get(routes::session_show))
        .route("/logout", logout)
        .layer(sessions)
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                store_failure_as_unavailable(for_mapping.clone(), req, next)
            },
        ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    async fn status_of(route: Router, path: &str) -> (StatusCode, bool) {
        let metrics = Arc::new(Metrics::default());
        let app = route.layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                store_failure_as_unavailable(metrics.clone(), req, next)
            },
        ));
        let res = app
            .oneshot(
                Request::get(path)
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("answer");
        (
            res.status(),
            res.headers().contains_key(header::RETRY_AFTER),
        )
    }

    #[tokio::test]
    async fn only_a_store_that_gave_up_turns_a_500_into_a_503() {
        let routes = Router::new()
            .route("/bug", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
            .route(
                "/down",
                get(|| async {
                    note_store_gave_up();
                    StatusCode::INTERNAL_SERVER_ERROR
                }),
            );
        assert_eq!(
            status_of(routes.clone(), "/down").await,
            (StatusCode::SERVICE_UNAVAILABLE, true)
        );
        assert_eq!(
            status_of(routes, "/bug").await,
            (StatusCode::INTERNAL_SERVER_ERROR, false),
            "a bug stays a 500"
        );
    }
}
