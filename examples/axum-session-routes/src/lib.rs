//! The routes failover-drill's default contract asks of an app, over any `tower-sessions` store,
//! and the settings the harness hands the app in its environment. The Rust example apps differ
//! only in their store; everything an axum user writes around it lives here once.
//!
//! This crate owns the HTTP side: routes, the session layer, errors as answers. It must not know
//! which Redis client sits behind the store.

mod env;
mod routes;

pub use env::{DrillEnv, EnvError};
pub use routes::{router, serve, SessionData};
