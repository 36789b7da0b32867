//! Command-line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How to run the booking server. Every flag can also be set by its environment
/// variable.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "server", version, about = "Real-time appointment booking server")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BOOKING_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Database to keep the schedule in: `sqlite://PATH` (a missing file is
    /// created) or `postgres://USER:PASSWORD@HOST/DATABASE`, which several server
    /// instances can share.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/booking.db", hide_env_values = true)]
    pub database_url: String,

    /// Clinic configuration file (TOML); the built-in demo clinic when absent.
    /// `server/clinic.toml` documents the format.
    #[arg(long, env = "BOOKING_CONFIG")]
    pub config: Option<PathBuf>,

    /// Token that staff give to reset the schedule. When absent, a random token is
    /// generated at start and printed once.
    #[arg(long, env = "BOOKING_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Directory of the built frontend, served at `/`.
    #[arg(long, env = "BOOKING_STATIC_DIR", default_value = "frontend/dist")]
    pub static_dir: PathBuf,

    /// Largest WebSocket message accepted, in bytes; a larger one closes the
    /// connection with code 1009.
    #[arg(long, env = "BOOKING_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024)]
    pub max_message_bytes: usize,

    /// How many updates a connection may fall behind before it is disconnected.
    #[arg(long, env = "BOOKING_OUTGOING_QUEUE", default_value_t = 256)]
    pub outgoing_queue: usize,

    /// Seconds a client may take to accept one message before it is disconnected.
    #[arg(long, env = "BOOKING_WRITE_TIMEOUT_SECS", default_value_t = 10)]
    pub write_timeout_secs: u64,

    /// Most WebSocket connections at once; more are refused with HTTP 503.
    #[arg(long, env = "BOOKING_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Pages on other sites allowed to open `/ws` (comma-separated origins such as
    /// `https://clinic.example`). A browser page of this server's own host is
    /// always allowed, and so are clients that send no `Origin` (not browsers).
    #[arg(long, env = "BOOKING_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Seconds without any frame from a client (the server pings every third of
    /// it) before the connection is dropped as dead.
    #[arg(long, env = "BOOKING_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,

    /// Messages per second one connection may send on average (twice as many in
    /// a burst); more get `rateLimited`, and keeping it up closes the connection.
    #[arg(long, env = "BOOKING_MAX_MESSAGES_PER_SEC", default_value_t = 20)]
    pub max_messages_per_sec: u32,

    /// Wrong manage-link secrets or admin tokens one address may send per minute
    /// before its further attempts are refused unchecked.
    #[arg(long, env = "BOOKING_MAX_FAILED_SECRETS_PER_MIN", default_value_t = 10)]
    pub max_failed_secrets_per_min: u32,

    /// How many recent updates are kept for clients that reconnect, so that they
    /// get only what they missed; a client further behind gets the whole schedule.
    #[arg(long, env = "BOOKING_REPLAY_LOG", default_value_t = 4096)]
    pub replay_log: usize,
}
