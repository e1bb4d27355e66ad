//! HTTP handlers of the probe contract: log in, append a value to the session, read it back, log
//! out.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::metrics::Metrics;
use crate::store::mutant::LOGOUT_UNACKED_DELAY;

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
    /// The session could not be loaded or saved. A 500; the app turns it into a 503 with
    /// `Retry-After` when the store gave up on the call as unavailable (see [`crate::app`]),
    /// and leaves it a 500 when something else failed (a record that does not decode).
    #[error("session store failed: {0}")]
    Store(String),
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::Store(err.to_string())
    }
}

/// Seconds a client should wait after a 503; about one Sentinel election.
pub const RETRY_AFTER_SECS: &str = "1";

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.to_string() }));
        match self {
            Self::NoSession => (StatusCode::UNAUTHORIZED, body).into_response(),
            Self::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, body).into_response(),
        }
    }
}

async fn load(session: &Session) -> Result<SessionData, AppError> {
    session
        .get::<SessionData>(DATA_KEY)
        .await?
        .ok_or(AppError::NoSession)
}

/// `POST /login`: starts a new session for `user`, under a new id. A session the request came with
/// is deleted first: keeping its id across a login would let whoever planted that id use the
/// logged-in session (session fixation).
pub async fn login_create(
    session: Session,
    Json(req): Json<LoginRequest>,
) -> Result<Json<VersionResponse>, AppError> {
    let data = SessionData {
        user: req.user,
        ..SessionData::default()
    };
    if session.id().is_some() {
        // Forget its data unread, then give it a new id: the old record is deleted, and the new
        // one is created under the new id when the session is saved.
        session.clear().await;
        session.cycle_id().await?;
    }
    session.insert(DATA_KEY, &data).await?;
    Ok(Json(VersionResponse { version: 0 }))
}

/// `POST /login` of the `fixed-id` mutant: fills the session in under the id its cookie already
/// named, so a live session's id survives the login (session fixation).
pub async fn login_keeping_id(
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

/// `POST /logout`: deletes the session from the store before answering, so a 2xx means the
/// master acknowledged the deletion, and the cookie is expired. A request with no session is
/// answered 200 too: there is nothing left to end.
pub async fn logout_delete(session: Session) -> Result<Json<serde_json::Value>, AppError> {
    session.flush().await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /logout` of the `logout-unacked` mutant: answered at once, while the deletion waits in a
/// queue; it is sent [`LOGOUT_UNACKED_DELAY`] later, once, and its error is ignored.
pub async fn logout_unacked(session: Session) -> Json<serde_json::Value> {
    tokio::spawn(async move {
        tokio::time::sleep(LOGOUT_UNACKED_DELAY).await;
        // The bug: nobody waits for this, so nobody learns it failed.
        let _ignored = session.delete().await;
    });
    Json(serde_json::json!({}))
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt;
    use tower_sessions::SessionManagerLayer;
    use tower_sessions_memory_store::MemoryStore;

    fn routes() -> Router {
        Router::new()
            .route("/login", post(login_create))
            .route("/session", get(session_show))
            .route("/logout", post(logout_delete))
            .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false))
    }

    /// The answer's status and the session cookie it sets, as `id=...`.
    async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Option<String>) {
        let res = app.clone().oneshot(req).await.expect("answer");
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        (res.status(), cookie)
    }

    fn login(cookie: Option<&str>) -> Request<Body> {
        let mut req = Request::post("/login").header(header::CONTENT_TYPE, "application/json");
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        req.body(Body::from(r#"{"user":"u"}"#)).expect("request")
    }

    #[tokio::test]
    async fn a_login_issues_a_new_session_id_and_ends_the_old_session() {
        let app = routes();
        let (status, first) = send(&app, login(None)).await;
        assert_eq!(status, StatusCode::OK);
        let first = first.expect("a session cookie");
        let (status, second) = send(&app, login(Some(&first))).await;
        assert_eq!(status, StatusCode::OK);
        let second = second.expect("a new session cookie");
        assert_ne!(first, second, "the login kept the id it was given");
        let read_old = Request::get("/session")
            .header(header::COOKIE, &first)
            .body(Body::empty())
            .expect("request");
        assert_eq!(send(&app, read_old).await.0, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn a_logout_ends_the_session_for_the_cookie_held_before_it() {
        let app = routes();
        let (_, cookie) = send(&app, login(None)).await;
        let cookie = cookie.expect("a session cookie");
        let logout = Request::post("/logout")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .expect("request");
        assert_eq!(send(&app, logout).await.0, StatusCode::OK);
        let replay = Request::get("/session")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .expect("request");
        assert_eq!(send(&app, replay).await.0, StatusCode::UNAUTHORIZED);
    }
}
