//! The plain HTTP surface: health, the schedule snapshot, and the built frontend.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;

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

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let version = state.engine.snapshot().version();
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "status": "ok", "version": version })),
    )
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
