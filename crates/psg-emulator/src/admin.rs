//! `/__emulator/*`: statistics, catalog and reset, for tests and demos. No
//! authentication, so only loopback peers are served.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use crate::Shared;

/// Counters kept by the emulator.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Requests per route (`METHOD /template`) and status.
    pub requests: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Injected faults per kind (`500`, `reset`, ...).
    pub faults: BTreeMap<String, u64>,
    /// 429 answers sent by the rate limiter (not by fault injection).
    pub rate_limited: u64,
    /// Successful creates, updates and deletes.
    pub writes: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
}

/// The admin routes, nested under `/__emulator`; loopback peers only.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/stats", get(stats))
        .route("/catalog", get(catalog))
        .route("/reset", post(reset))
        .route_layer(axum::middleware::from_fn(loopback_only))
}

async fn loopback_only(
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match peer {
        Some(Extension(ConnectInfo(addr))) if addr.ip().is_loopback() => next.run(req).await,
        _ => (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "admin routes serve loopback peers only"})),
        )
            .into_response(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatsView {
    #[serde(flatten)]
    stats: Stats,
    groups: usize,
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    let groups = s.store.lock().expect("store lock").groups().len();
    let stats = s.stats.lock().expect("stats lock").clone();
    Json(StatsView { stats, groups }).into_response()
}

async fn catalog(State(s): State<Arc<Shared>>) -> Response {
    Json(s.catalog.clone()).into_response()
}

async fn reset(State(s): State<Arc<Shared>>) -> Response {
    match s.reset() {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({"error": e}))).into_response(),
    }
}
