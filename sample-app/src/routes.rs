//! HTTP handlers of the probe contract: log in, append a value to the session, read it back.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::metrics::Metrics;

/// The session key holding [`SessionData`].
const DATA_KEY: &str = "data";

/// What the app keeps in a user's session.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionData {
    /// Who logged in.
    pub user: String,
    /// Values appended by `POST /session/items`, oldest first.
    pub items: Vec<String>,
    /// Bumped by every append; never goes backwards in a correct store.
    pub version: u64,
}

/// Body of `POST /login`.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    /// The user name to log in as.
    pub user: String,
}

/// Body of `POST /session/items`.
#[derive(Debug, Deserialize)]
pub struct AppendRequest {
    /// The value to append.
    pub value: String,
}

/// Answer of `POST /login` and `POST /session/items`.
#[derive(Debug, Serialize)]
pub struct VersionResponse {
    /// The session's version after the request.
    pub version: u64,
}

/// Errors a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request carried no session the store knows: the user must log in again.
    #[error("no session: log in again with POST /login")]
    NoSession,
    /// The store stayed unavailable for its whole retry deadline.
    #[error("session store unavailable: {0}")]
    StoreUnavailable(String),
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::StoreUnavailable(err.to_string())
    }
}

/// Seconds a client should wait after a 503; about one Sentinel election.
pub const RETRY_AFTER_SECS: &str = "1";

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.to_string() }));
        match self {
            Self::NoSession => (StatusCode::UNAUTHORIZED, body).into_response(),
            Self::StoreUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
                body,
            )
                .into_response(),
        }
    }
}

async fn load(session: &Session) -> Result<SessionData, AppError> {
    session
        .get::<SessionData>(DATA_KEY)
        .await?
        .ok_or(AppError::NoSession)
}

/// `POST /login`: starts a new session for `user`.
pub async fn login_create(
    session: Session,
    Json(req): Json<LoginRequest>,
) -> Result<Json<VersionResponse>, AppError> {
    let data = SessionData {
        user: req.user,
        ..SessionData::default()
    };
    session.insert(DATA_KEY, &data).await?;
    Ok(Json(VersionResponse { version: 0 }))
}

/// `POST /session/items`: appends a value; the session layer saves it before the answer is sent,
/// so a 2xx means the master acknowledged it.
pub async fn items_append(
    session: Session,
    Json(req): Json<AppendRequest>,
) -> Result<Json<VersionResponse>, AppError> {
    let mut data = load(&session).await?;
    data.items.push(req.value);
    data.version += 1;
    session.insert(DATA_KEY, &data).await?;
    Ok(Json(VersionResponse {
        version: data.version,
    }))
}

/// `GET /session`: the session's user, items and version. It changes nothing, so it runs as a
/// read-only request (which only the `stale-read` mutant treats differently).
pub async fn session_show(session: Session) -> Result<Json<SessionData>, AppError> {
    Ok(Json(crate::store::read_only(load(&session)).await?))
}

/// `GET /healthz`: the process is up. It does not touch the store, so a failover never makes the
/// app look dead to an orchestrator.
pub async fn health_show() -> &'static str {
    "ok"
}

/// `GET /metrics`: store and app counters.
pub async fn metrics_show(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}
