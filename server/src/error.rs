//! The server's one error type and how each kind reaches a client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;

/// Everything that can fail inside the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The clinic configuration is unusable.
    #[error("clinic configuration: {0}")]
    Config(String),
    /// A setting is unusable (such as a weak admin token).
    #[error("{0}")]
    Setting(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Binding or serving the listening socket failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// An invariant of the server's own failed.
    #[error("internal: {0}")]
    Internal(&'static str),
    /// The engine task has stopped, so no command can be carried out.
    #[error("the booking engine has stopped")]
    EngineGone,
}

/// The server's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The wire error code for this failure. Every kind here is the server's own
    /// fault, so clients only ever learn that it was internal.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }

    /// What a client is told; details stay in the log.
    pub fn public_message(&self) -> &'static str {
        "The server could not process this request; please try again."
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "request failed");
        (StatusCode::INTERNAL_SERVER_ERROR, self.public_message()).into_response()
    }
}
