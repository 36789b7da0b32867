//! The plain HTTP surface: health, the schedule snapshot, and the built frontend
//! (`files`); `headers` adds what every response carries.

mod files;
pub(crate) mod headers;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::store::Store;

/// A failure behind an HTTP request: logged, and answered 500 without details.
impl IntoResponse for crate::Error {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "request failed");
        (StatusCode::INTERNAL_SERVER_ERROR, "The server could not process this request; please try again.")
            .into_response()
    }
}

/// Routes for health, the API and the frontend.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/schedule", get(schedule))
        .route("/metrics", get(crate::metrics::not_here))
        .fallback(files::frontend)
}

/// How long the health check waits for the database.
const DATABASE_CHECK: Duration = Duration::from_secs(2);

/// Healthy when the engine runs and the database answers: a load balancer then
/// sends clients only to instances that can book. The version is the schedule
/// this instance serves.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let version = state.engine.snapshot().version();
    let problem = if state.engine.running() {
        match tokio::time::timeout(DATABASE_CHECK, state.store.version()).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(("database", e.to_string())),
            Err(_) => Some(("database", format!("no answer within {DATABASE_CHECK:?}"))),
        }
    } else {
        Some(("engine", "the booking engine has stopped".to_owned()))
    };
    let (status, body) = match problem {
        None => (StatusCode::OK, serde_json::json!({ "status": "ok", "version": version })),
        Some((reason, problem)) => {
            tracing::warn!(%problem, "health check: unavailable");
            let body = serde_json::json!({ "status": "unavailable", "version": version, "reason": reason });
            (StatusCode::SERVICE_UNAVAILABLE, body)
        }
    };
    (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(body))
}

/// The same schedule a new WebSocket client receives in `initialState`, cut
/// from that very frame: serialized once per version, however many ask.
async fn schedule(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.engine.snapshot().schedule_json();
    ([(header::CACHE_CONTROL, "no-store"), (header::CONTENT_TYPE, "application/json")], body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Server, Settings};

    #[tokio::test]
    async fn health_is_unavailable_once_the_engine_has_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/health.db", dir.path().display());
        let mut server = Server::bind(Settings::local(url)).await.unwrap();
        let status = |state| async { healthz(State(state)).await.into_response().status() };
        assert_eq!(status(server.state()).await, StatusCode::OK);
        server.engine_task.abort();
        let _ = (&mut server.engine_task).await;
        assert_eq!(status(server.state()).await, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn the_schedule_is_the_payload_of_the_initial_state_frame() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/schedule.db", dir.path().display());
        let server = Server::bind(Settings::local(url)).await.unwrap();
        let snapshot = server.state().engine.snapshot();
        let served: protocol::Schedule = serde_json::from_slice(&snapshot.schedule_json()).unwrap();
        assert_eq!(&served, snapshot.schedule());
    }
}
