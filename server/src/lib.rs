//! The booking server as a library: `app()` builds the router that `main.rs`
//! serves and the tests exercise, and `Server` ties it to a socket and a store.

pub mod address;
pub mod audit;
pub mod clinic;
pub mod config;
pub mod engine;
mod error;
pub mod fanout;
mod http;
pub mod hub;
mod limits;
mod metrics;
pub mod pow;
pub mod secret;
pub mod staff;
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
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::trace::TraceLayer;

pub use address::{ClientKey, TrustedProxies};
pub use engine::Clock;
pub use error::{Error, Result};
pub use limits::Limits;

use clinic::ClinicConfig;
use config::Config;
use engine::EngineHandle;
use store::{SqlStore, Store};

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
    connections: Arc<limits::Connections>,
    /// Wrong manage links.
    manage_guesses: limits::Guesses,
    /// Wrong staff logins and sessions.
    staff_guesses: limits::Guesses,
    /// The staff accounts and sessions.
    staff: staff::Staff,
    /// The source of `now`, the engine's too.
    clock: Clock,
    pow: pow::Pow,
    trusted_proxies: TrustedProxies,
    allowed_origins: Arc<[String]>,
    limits: Limits,
    static_dir: Arc<PathBuf>,
    csp: http::headers::Csp,
}

impl Shared {
    /// The engine, for tools and tests that drive it directly (such as running
    /// its periodic work now, after moving a test clock).
    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// The staff accounts and sessions, for tools and tests that make
    /// accounts as `server staff add` does.
    pub fn staff(&self) -> &staff::Staff {
        &self.staff
    }

    /// The time now, by the server's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.clock)()
    }
}

/// The whole HTTP and WebSocket surface.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/ws", get(ws::handler))
        .merge(http::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::headers::add))
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
    /// Directory of the built frontend.
    pub static_dir: PathBuf,
    /// Per-connection limits.
    pub limits: Limits,
    /// Other sites' pages allowed to open `/ws`.
    pub allowed_origins: Vec<String>,
    /// Proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// The source of `now`.
    pub clock: Clock,
    /// Address to serve `/metrics` on, apart from the public listener; none when absent.
    pub metrics_listen: Option<SocketAddr>,
    /// The bearer token a scrape of `/metrics` must send, if any.
    pub metrics_token: Option<String>,
}

impl Settings {
    /// A server for the demo clinic on `database_url`, listening on a free local
    /// port, with default limits, the system clock and no frontend; tests and tools
    /// change what they need.
    pub fn local(database_url: String) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            clinic: ClinicConfig::demo(),
            static_dir: PathBuf::from("/nonexistent-frontend-dist"),
            limits: Limits::default(),
            allowed_origins: Vec::new(),
            trusted_proxies: TrustedProxies::none(),
            clock: engine::system_clock(),
            metrics_listen: None,
            metrics_token: None,
        }
    }

    /// Resolves a `Config`: reads the clinic file.
    pub fn from_config(config: &Config) -> Result<Self> {
        let clinic = match &config.config {
            Some(path) => ClinicConfig::load(path)?,
            None => ClinicConfig::demo(),
        };
        let settings = Self {
            listen: config.listen,
            database_url: config.database_url.clone(),
            clinic,
            static_dir: config.static_dir.clone(),
            allowed_origins: config.allowed_origins.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            limits: config.limits(),
            clock: engine::system_clock(),
            metrics_listen: config.metrics_listen,
            metrics_token: config.metrics_token.clone(),
        };
        Ok(settings)
    }
}

/// A bound, ready server.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    engine_task: JoinHandle<()>,
    store: SqlStore,
    stop: watch::Sender<bool>,
    metrics: Option<crate::metrics::Endpoint>,
}

impl Server {
    /// Opens the store, loads the schedule and binds the listening socket.
    pub async fn bind(settings: Settings) -> Result<Self> {
        // First, so that what the start-up does is counted too.
        let metrics = crate::metrics::Endpoint::bind(settings.metrics_listen, settings.metrics_token).await?;
        let limits = settings.limits;
        let store = SqlStore::open(&settings.database_url).await?;
        let staff = staff::Staff::new(&store);
        if staff.is_empty().await? {
            tracing::warn!(
                "there is no staff account yet, so nobody can log in to the staff console; \
                 make the first admin with: server staff add NAME --role admin"
            );
        }
        let pow = pow::Pow::new(&store.secret("challenge", secret::random_key).await?, limits.challenge_work);
        let clock = settings.clock.clone();
        let options = engine::EngineOptions {
            queue: limits.outgoing_queue,
            replay: limits.replay_log,
            idle_timeout: limits.idle_timeout,
            fanout_workers: limits.fanout_workers,
            fanout_round: limits.fanout_round,
            budgets: engine::Budgets {
                holds_at_once: limits.holds_per_address,
                holds_per_min: limits.holds_per_address_per_min,
                hold_cooldown: limits.hold_cooldown,
                hold_extensions: limits.hold_extensions,
                bookings_per_phone: limits.bookings_per_phone,
                bookings_per_hour: limits.bookings_per_address_per_hour,
            },
            retention_days: limits.retention_days,
        };
        let (engine, engine_task) =
            engine::start(store.clone(), Arc::new(settings.clinic), settings.clock, options).await?;
        let listener = TcpListener::bind(settings.listen).await?;
        match limits.send_buffer_cut() {
            Ok(None) => {}
            Ok(Some(granted)) => tracing::warn!(
                asked_kib = limits.send_buffer / 1024,
                granted_kib = granted / 1024,
                "the kernel gives each socket a smaller send buffer than --send-buffer-kib asks; \
                 raise net.core.wmem_max to allow more"
            ),
            Err(e) => tracing::warn!(error = %e, "could not check the send buffer the kernel grants"),
        }
        let stop = watch::Sender::new(false);
        let state = AppState(Arc::new(Shared {
            engine,
            store: store.clone(),
            next_connection: Default::default(),
            open_connections: Arc::default(),
            connections: Arc::default(),
            manage_guesses: limits::Guesses::new(
                "manage link",
                limits.failed_secrets_per_min,
                limits.failed_secrets_per_min_total,
            ),
            staff_guesses: limits::Guesses::new(
                "staff login",
                limits.failed_staff_logins_per_min,
                limits.failed_staff_logins_per_min_total,
            ),
            staff,
            clock,
            pow,
            trusted_proxies: settings.trusted_proxies,
            allowed_origins: settings.allowed_origins.into(),
            limits: settings.limits,
            csp: http::headers::Csp::new(&settings.static_dir),
            static_dir: Arc::new(settings.static_dir),
        }));
        Ok(Self { listener, state, engine_task, store, stop, metrics })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The address `/metrics` is served on, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(crate::metrics::Endpoint::local_addr)
    }

    /// The state shared by every connection, for serving a connection by hand.
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `signal` completes, then stops taking connections, closes the
    /// open ones with 1001, lets the engine finish what it was given, and closes
    /// the database.
    pub async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let Self { listener, state, engine_task, store, stop, metrics } = self;
        let metrics = metrics.map(|endpoint| endpoint.serve(stop.subscribe()));
        let engine = state.engine.clone();
        let router = app(state);
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                signal.await;
                let _ = stop.send(true);
                engine.stop_connections();
            })
            .await?;
        // The engine stops once the last connection has let go of its handle.
        if tokio::time::timeout(Duration::from_secs(10), engine_task).await.is_err() {
            tracing::warn!("connections did not close in time");
        }
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        store.close().await;
        Ok(())
    }
}
