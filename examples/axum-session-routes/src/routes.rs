//! The contract's routes over a `tower-sessions` session, as an axum user writes them: the data
//! lives in the session, the session layer loads it before the handler and saves it after, and a
//! store error becomes a 500 through the handler's error type.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::{Session, SessionManagerLayer, SessionStore};

/// The session key holding [`SessionData`].
const DATA_KEY: &str = "data";

/// What the app keeps in a user's session.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionData {
    /// Who logged in.
    pub user: String,
    /// Values appended by `POST /session/items`, oldest first.
    pub items: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct LoginRequest {
    user: String,
}

#[derive(Debug, Deserialize)]
struct AppendRequest {
    value: String,
}

#[derive(Debug, thiserror::Error)]
enum RouteError {
    #[error("no session: log in again with POST /login")]
    NoSession,
    #[error("session store: {0}")]
    Store(#[from] tower_sessions::session::Error),
}

impl IntoResponse for RouteError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::NoSession => StatusCode::UNAUTHORIZED,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

async fn login(
    session: Session,
    Json(req): Json<LoginRequest>,
) -> Result<Json<serde_json::Value>, RouteError> {
    let data = SessionData {
        user: req.user,
        items: Vec::new(),
    };
    session.insert(DATA_KEY, data).await?;
    Ok(Json(serde_json::json!({})))
}

async fn load(session: &Session) -> Result<SessionData, RouteError> {
    session
        .get::<SessionData>(DATA_KEY)
        .await?
        .ok_or(RouteError::NoSession)
}

async fn items_append(
    session: Session,
    Json(req): Json<AppendRequest>,
) -> Result<Json<serde_json::Value>, RouteError> {
    let mut data = load(&session).await?;
    data.items.push(req.value);
    let items = data.items.len();
    // The session layer saves the record after this handler and answers 500 if it cannot, so a
    // 200 means the store took the write.
    session.insert(DATA_KEY, data).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// Ends the session in the store (`Session::flush` deletes its record) before answering: the
/// cookie held before must not open it again.
async fn logout(session: Session) -> Result<Json<serde_json::Value>, RouteError> {
    session.flush().await?;
    Ok(Json(serde_json::json!({})))
}

async fn session_show(session: Session) -> Result<Json<SessionData>, RouteError> {
    Ok(Json(load(&session).await?))
}

/// The contract's routes (`POST /login`, `POST /session/items`, `GET /session`, `POST /logout`,
/// `GET /healthz`)
/// over `store`, with the session in a cookie that plain HTTP may carry.
pub fn router<S>(store: S) -> Router
where
    S: SessionStore + Clone,
{
    Router::new()
        .route("/login", post(login))
        .route("/session/items", post(items_append))
        .route("/session", get(session_show))
        .route("/logout", post(logout))
        .layer(SessionManagerLayer::new(store).with_secure(false))
        .route("/healthz", get(|| async { "ok" }))
}

/// Serves `router` on `listen` until the process ends.
pub async fn serve(router: Router, listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router).await
}
