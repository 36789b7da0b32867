//! The plain HTTP surface: health, the schedule snapshot, and the built frontend.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;
use crate::store::Store;

/// What `/` shows when the frontend has not been built.
const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Booking</title>\
<h1>The booking server is running</h1>\
<p>The web page has not been built. Build it with <code>cargo xtask frontend</code> \
(or run everything with <code>cargo xtask run</code>) and reload.</p>\
<p>The schedule is at <a href=/api/schedule>/api/schedule</a>; the live feed at <code>/ws</code>.</p>";

/// Routes for health, the API and the frontend.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/api/schedule", get(schedule)).fallback(frontend)
}

/// How long the health check waits for the database.
const DATABASE_CHECK: Duration = Duration::from_secs(2);

/// Healthy when the database answers: a load balancer then sends clients only to
/// instances that can book. The version is the schedule this instance serves.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let version = state.engine.snapshot().version();
    let problem = match tokio::time::timeout(DATABASE_CHECK, state.store.version()).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("no answer within {DATABASE_CHECK:?}")),
    };
    let (status, body) = match problem {
        None => (StatusCode::OK, serde_json::json!({ "status": "ok", "version": version })),
        Some(problem) => {
            tracing::warn!(%problem, "health check: the database is unavailable");
            let body =
                serde_json::json!({ "status": "unavailable", "version": version, "reason": "database" });
            (StatusCode::SERVICE_UNAVAILABLE, body)
        }
    };
    (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(body))
}

/// The same schedule a new WebSocket client receives in `initialState`.
async fn schedule(State(state): State<AppState>) -> impl IntoResponse {
    let snapshot = state.engine.snapshot();
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(snapshot.schedule().clone()))
}

/// Files of the built frontend; any other path gets `index.html`, so that links
/// into the single-page app work.
async fn frontend(State(state): State<AppState>, request: Request<Body>) -> Response {
    let index = state.static_dir.join("index.html");
    if !tokio::fs::try_exists(&index).await.unwrap_or(false) {
        return (StatusCode::OK, Html(NOT_BUILT)).into_response();
    }
    let files = ServeDir::new(&*state.static_dir).fallback(ServeFile::new(index));
    match files.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}
