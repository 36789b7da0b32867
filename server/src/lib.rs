//! The booking server as a library: `app()` builds the router that `main.rs`
//! serves and the tests exercise, and `Server` ties it to a socket and a store.

pub mod clinic;
pub mod config;
pub mod engine;
mod error;
mod http;
pub mod hub;
mod limits;
pub mod secret;
pub mod store;
pub mod wire;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::trace::TraceLayer;

pub use error::{Error, Result};

use clinic::ClinicConfig;
use config::Config;
use engine::EngineHandle;
use store::SqlStore;

/// Where the engine reads the current time; tests substitute their own.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Limits that keep one client from harming the others.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted WebSocket message in bytes.
    pub max_message_bytes: usize,
    /// How many updates a connection may fall behind before it is cut off.
    pub outgoing_queue: usize,
    /// How long one send to a client may take.
    pub write_timeout: Duration,
    /// Most WebSocket connections at once.
    pub max_connections: usize,
    /// How long a connection may stay silent (pings unanswered) before it is dropped.
    pub idle_timeout: Duration,
    /// Average messages per second one connection may send.
    pub messages_per_sec: u32,
    /// Wrong secrets one address may send per minute.
    pub failed_secrets_per_min: u32,
    /// How many recent updates are kept for clients that come back, so that they
    /// get only what they missed instead of the whole schedule.
    pub replay_log: usize,
}

impl Default for Limits {
    /// The defaults of the command-line flags.
    fn default() -> Self {
        Self {
            max_message_bytes: 16 * 1024,
            outgoing_queue: 256,
            write_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(60),
            messages_per_sec: 20,
            failed_secrets_per_min: 10,
            replay_log: 4096,
        }
    }
}

/// What every request handler and connection shares. Cloning it copies one
/// pointer: each connection holds a clone for its whole life.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of `AppState`.
pub struct Shared {
    engine: EngineHandle,
    store: SqlStore,
    next_connection: std::sync::atomic::AtomicU64,
    open_connections: Arc<std::sync::atomic::AtomicUsize>,
    guesses: Arc<limits::Guesses>,
    allowed_origins: Arc<[String]>,
    admin_token: Arc<str>,
    limits: Limits,
    static_dir: Arc<PathBuf>,
    shutdown: watch::Receiver<bool>,
}

/// The whole HTTP and WebSocket surface.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/ws", get(ws::handler))
        .merge(http::router())
        .with_state(state)
        .layer(TraceLayer::new_for_http())
}

/// Everything needed to start a server, resolved from `Config`.
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Database URL.
    pub database_url: String,
    /// The clinic whose schedule is served.
    pub clinic: ClinicConfig,
    /// The staff token.
    pub admin_token: String,
    /// Directory of the built frontend.
    pub static_dir: PathBuf,
    /// Per-connection limits.
    pub limits: Limits,
    /// Other sites' pages allowed to open `/ws`.
    pub allowed_origins: Vec<String>,
    /// The source of `now`.
    pub clock: Clock,
}

impl Settings {
    /// A server for the demo clinic on `database_url`, listening on a free local
    /// port, with default limits, the system clock and no frontend; tests and tools
    /// change what they need.
    pub fn local(database_url: String, admin_token: &str) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            clinic: ClinicConfig::demo(),
            admin_token: admin_token.to_owned(),
            static_dir: PathBuf::from("/nonexistent-frontend-dist"),
            limits: Limits::default(),
            allowed_origins: Vec::new(),
            clock: engine::system_clock(),
        }
    }

    /// Resolves a `Config`: reads the clinic file and, when no admin token was
    /// given, generates one. The flag says whether it was generated.
    pub fn from_config(config: &Config) -> Result<(Self, bool)> {
        let clinic = match &config.config {
            Some(path) => ClinicConfig::load(path)?,
            None => ClinicConfig::demo(),
        };
        let generated = config.admin_token.is_none();
        let admin_token = config.admin_token.clone().unwrap_or_else(secret::admin_token);
        if admin_token.is_empty() {
            return Err(Error::Config("the admin token must not be empty".into()));
        }
        let settings = Self {
            listen: config.listen,
            database_url: config.database_url.clone(),
            clinic,
            admin_token,
            static_dir: config.static_dir.clone(),
            allowed_origins: config.allowed_origins.clone(),
            limits: Limits {
                max_message_bytes: config.max_message_bytes,
                outgoing_queue: config.outgoing_queue,
                write_timeout: Duration::from_secs(config.write_timeout_secs.max(1)),
                max_connections: config.max_connections,
                idle_timeout: Duration::from_secs(config.idle_timeout_secs.max(1)),
                messages_per_sec: config.max_messages_per_sec.max(1),
                failed_secrets_per_min: config.max_failed_secrets_per_min,
                replay_log: config.replay_log,
            },
            clock: engine::system_clock(),
        };
        Ok((settings, generated))
    }
}

/// A bound, ready server.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    engine_task: JoinHandle<()>,
    store: SqlStore,
    stop: watch::Sender<bool>,
}

impl Server {
    /// Opens the store, loads the schedule and binds the listening socket.
    pub async fn bind(settings: Settings) -> Result<Self> {
        let store = SqlStore::open(&settings.database_url).await?;
        let options = engine::EngineOptions {
            queue: settings.limits.outgoing_queue,
            replay: settings.limits.replay_log,
        };
        let (engine, engine_task) =
            engine::start(store.clone(), Arc::new(settings.clinic), settings.clock, options).await?;
        let listener = TcpListener::bind(settings.listen).await?;
        let (stop, shutdown) = watch::channel(false);
        let state = AppState(Arc::new(Shared {
            engine,
            store: store.clone(),
            next_connection: Default::default(),
            open_connections: Arc::default(),
            guesses: Arc::new(limits::Guesses::new(settings.limits.failed_secrets_per_min)),
            allowed_origins: settings.allowed_origins.into(),
            admin_token: settings.admin_token.into(),
            limits: settings.limits,
            static_dir: Arc::new(settings.static_dir),
            shutdown,
        }));
        Ok(Self { listener, state, engine_task, store, stop })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The state shared by every connection, for serving a connection by hand.
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `signal` completes, then stops taking connections, closes the
    /// open ones with 1001, lets the engine finish what it was given, and closes
    /// the database.
    pub async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let Self { listener, state, engine_task, store, stop } = self;
        let router = app(state);
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                signal.await;
                let _ = stop.send(true);
            })
            .await?;
        // The engine stops once the last connection has let go of its handle.
        if tokio::time::timeout(Duration::from_secs(10), engine_task).await.is_err() {
            tracing::warn!("connections did not close in time");
        }
        store.close().await;
        Ok(())
    }
}
