//! The server's one error type. It knows nothing of HTTP or WebSocket: how a
//! failure reaches a client is the edge's business (`http`, `ws`).

/// Everything that can fail inside the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The clinic configuration is unusable.
    #[error("clinic configuration: {0}")]
    Config(String),
    /// A setting is unusable, or a command was refused (such as a staff
    /// account whose name is in use).
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
