//! Command-line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::address::TrustedProxies;
use crate::limits::Limits;

/// The defaults, written once in `Limits::DEFAULT`.
const D: Limits = Limits::DEFAULT;

/// How to run the booking server. Every flag can also be set by its environment
/// variable.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "server", version, about = "Real-time appointment booking server")]
pub struct Config {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on.
    #[arg(long, env = "BOOKING_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Address to serve Prometheus metrics on, at `/metrics` (such as
    /// `127.0.0.1:9100`), apart from the public listener; off when absent. Keep
    /// it off the public network, or set a metrics token.
    #[arg(long, env = "BOOKING_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Token that scrapes of `/metrics` must send as `Authorization: Bearer
    /// TOKEN` (at least 16 characters); none is asked when absent. Prefer
    /// setting BOOKING_METRICS_TOKEN: a flag's value is shown to every user of
    /// the machine by `ps`.
    #[arg(long, env = "BOOKING_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Database to keep the schedule in: `sqlite://PATH` (a missing file is
    /// created) or `postgres://USER:PASSWORD@HOST/DATABASE`, which several server
    /// instances can share.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/booking.db",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,

    /// Clinic configuration file (TOML); the built-in demo clinic when absent.
    /// `server/clinic.toml` documents the format.
    #[arg(long, env = "BOOKING_CONFIG")]
    pub config: Option<PathBuf>,

    /// Directory of the built frontend, served at `/`.
    #[arg(long, env = "BOOKING_STATIC_DIR", default_value = "frontend/dist")]
    pub static_dir: PathBuf,

    /// Largest WebSocket message accepted, in bytes; a larger one closes the
    /// connection with code 1009.
    #[arg(long, env = "BOOKING_MAX_MESSAGE_BYTES", default_value_t = D.max_message_bytes)]
    pub max_message_bytes: usize,

    /// How many writes a connection may fall behind before it is disconnected
    /// (each carries the updates a fan-out worker had at once, up to 64 KiB).
    #[arg(long, env = "BOOKING_OUTGOING_QUEUE", default_value_t = D.outgoing_queue)]
    pub outgoing_queue: usize,

    /// Threads that write every update to the sockets, each for its share of
    /// the connections; 0 for one per core (at most eight).
    #[arg(long, env = "BOOKING_FANOUT_WORKERS", default_value_t = D.fanout_workers)]
    pub fanout_workers: usize,

    /// Milliseconds a fan-out worker lets pass between two rounds of writes:
    /// changes that come sooner go out together in the next round (the first
    /// after a quiet spell goes at once). 0 writes every change as it comes;
    /// at most 1000.
    #[arg(long, env = "BOOKING_FANOUT_ROUND_MS", default_value_t = D.fanout_round.as_millis() as u64)]
    pub fanout_round_ms: u64,

    /// Seconds a client may take to accept one message before it is disconnected.
    #[arg(long, env = "BOOKING_WRITE_TIMEOUT_SECS", default_value_t = D.write_timeout.as_secs())]
    pub write_timeout_secs: u64,

    /// Kernel send buffer of each WebSocket connection, in KiB (Linux doubles
    /// it for its bookkeeping): the most a client that does not read makes
    /// the kernel hold for it. 0 leaves it to the kernel (up to 4 MiB each).
    #[arg(long, env = "BOOKING_SEND_BUFFER_KIB", default_value_t = D.send_buffer / 1024)]
    pub send_buffer_kib: usize,

    /// Most WebSocket connections at once; more are refused with HTTP 503.
    #[arg(long, env = "BOOKING_MAX_CONNECTIONS", default_value_t = D.max_connections)]
    pub max_connections: usize,

    /// Most WebSocket connections at once from one client address (IPv6: one
    /// /64); more are refused with HTTP 429.
    #[arg(long, env = "BOOKING_CONNECTIONS_PER_ADDRESS", default_value_t = D.connections_per_address)]
    pub connections_per_address: usize,

    /// Proxies whose `X-Forwarded-For` header names the client
    /// (comma-separated networks or addresses, such as `127.0.0.1,10.0.0.0/8`).
    /// From anybody else these headers are ignored.
    #[arg(long, env = "BOOKING_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,

    /// Pages on other sites allowed to open `/ws` (comma-separated origins such as
    /// `https://clinic.example`). A browser page of this server's own host is
    /// always allowed, and so are clients that send no `Origin` (not browsers).
    #[arg(long, env = "BOOKING_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Seconds without any frame from a client (the server pings every third of
    /// it) before the connection is dropped as dead.
    #[arg(long, env = "BOOKING_IDLE_TIMEOUT_SECS", default_value_t = D.idle_timeout.as_secs())]
    pub idle_timeout_secs: u64,

    /// Frames per second one connection may send on average, pings included
    /// (twice as many in a burst); more get `rateLimited`, and keeping it up
    /// closes the connection.
    #[arg(long, env = "BOOKING_MAX_MESSAGES_PER_SEC", default_value_t = D.messages_per_sec)]
    pub max_messages_per_sec: u32,

    /// Wrong manage links one client address may send per minute before its
    /// further attempts are refused unchecked.
    #[arg(long, env = "BOOKING_MAX_FAILED_SECRETS_PER_MIN", default_value_t = D.failed_secrets_per_min)]
    pub max_failed_secrets_per_min: u32,

    /// Wrong manage links all addresses together may send per minute.
    #[arg(long, env = "BOOKING_MAX_FAILED_SECRETS_PER_MIN_TOTAL", default_value_t = D.failed_secrets_per_min_total)]
    pub max_failed_secrets_per_min_total: u32,

    /// Wrong staff logins (name or password) and wrong staff sessions one client
    /// address may send per minute (counted apart from manage links, so guessing
    /// those never locks staff out).
    #[arg(long, env = "BOOKING_MAX_FAILED_LOGINS_PER_MIN", default_value_t = D.failed_staff_logins_per_min)]
    pub max_failed_logins_per_min: u32,

    /// Wrong staff logins and sessions all addresses together may send per minute.
    #[arg(long, env = "BOOKING_MAX_FAILED_LOGINS_PER_MIN_TOTAL", default_value_t = D.failed_staff_logins_per_min_total)]
    pub max_failed_logins_per_min_total: u32,

    /// Slots one client address may hold at once.
    #[arg(long, env = "BOOKING_HOLDS_PER_ADDRESS", default_value_t = D.holds_per_address)]
    pub holds_per_address: usize,

    /// Holds one client address may take per minute.
    #[arg(long, env = "BOOKING_HOLDS_PER_ADDRESS_PER_MIN", default_value_t = D.holds_per_address_per_min)]
    pub holds_per_address_per_min: u32,

    /// Seconds after a hold ends before the same address may hold that slot again.
    #[arg(long, env = "BOOKING_HOLD_COOLDOWN_SECS", default_value_t = D.hold_cooldown.as_secs())]
    pub hold_cooldown_secs: u64,

    /// How many times a patient may extend one hold of a slot ("more time"),
    /// each time by the clinic's `hold_seconds`.
    #[arg(long, env = "BOOKING_HOLD_EXTENSIONS", default_value_t = D.hold_extensions)]
    pub hold_extensions: u32,

    /// Upcoming appointments one phone number may have, and waitlist entries
    /// it may have waiting.
    #[arg(long, env = "BOOKING_BOOKINGS_PER_PHONE", default_value_t = D.bookings_per_phone)]
    pub bookings_per_phone: usize,

    /// Bookings one client address may make per hour.
    #[arg(long, env = "BOOKING_BOOKINGS_PER_ADDRESS_PER_HOUR", default_value_t = D.bookings_per_address_per_hour)]
    pub bookings_per_address_per_hour: u32,

    /// The proof of work one booking costs a client, in thousands of SHA-256
    /// hashes at most (0 asks for none).
    #[arg(long, env = "BOOKING_CHALLENGE_WORK", default_value_t = D.challenge_work)]
    pub challenge_work: u32,

    /// Hours a staff session lasts after its login (a shift); the console then
    /// logs in again.
    #[arg(long, env = "BOOKING_STAFF_SESSION_HOURS", default_value_t = D.staff_session.as_secs() / 3600)]
    pub staff_session_hours: u64,

    /// How many recent updates are kept for clients that reconnect, so that they
    /// get only what they missed; a client further behind gets the whole schedule.
    #[arg(long, env = "BOOKING_REPLAY_LOG", default_value_t = D.replay_log)]
    pub replay_log: usize,

    /// Days after an appointment ended (or a waitlist entry did) before the
    /// patient's name and phone are erased, by a job that runs hourly; 0 keeps
    /// them. `SECURITY.md` says why the default is what it is.
    #[arg(long, env = "BOOKING_RETENTION_DAYS", default_value_t = D.retention_days)]
    pub retention_days: u32,
}

impl Config {
    /// The limits these flags set.
    pub fn limits(&self) -> Limits {
        Limits {
            max_message_bytes: self.max_message_bytes,
            outgoing_queue: self.outgoing_queue,
            fanout_workers: self.fanout_workers,
            // Longer would hold back pings, joins and shutdown as long.
            fanout_round: Duration::from_millis(self.fanout_round_ms.min(1000)),
            write_timeout: Duration::from_secs(self.write_timeout_secs.max(1)),
            send_buffer: self.send_buffer_kib.saturating_mul(1024),
            max_connections: self.max_connections,
            connections_per_address: self.connections_per_address.max(1),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs.max(1)),
            messages_per_sec: self.max_messages_per_sec.max(1),
            failed_secrets_per_min: self.max_failed_secrets_per_min,
            failed_secrets_per_min_total: self.max_failed_secrets_per_min_total,
            failed_staff_logins_per_min: self.max_failed_logins_per_min,
            failed_staff_logins_per_min_total: self.max_failed_logins_per_min_total,
            holds_per_address: self.holds_per_address,
            holds_per_address_per_min: self.holds_per_address_per_min,
            hold_cooldown: Duration::from_secs(self.hold_cooldown_secs),
            hold_extensions: self.hold_extensions,
            bookings_per_phone: self.bookings_per_phone,
            bookings_per_address_per_hour: self.bookings_per_address_per_hour,
            challenge_work: self.challenge_work,
            replay_log: self.replay_log,
            retention_days: self.retention_days,
            staff_session: Duration::from_secs(self.staff_session_hours.max(1) * 3600),
            ..D
        }
    }
}

/// What the server binary does instead of serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Manage the staff accounts in the database (`--database-url`).
    #[command(subcommand)]
    Staff(StaffCommand),
}

/// The `server staff` commands. A password is read from standard input (one
/// line) when it is not a terminal or `--password-stdin` is given, and asked
/// for twice without echo otherwise.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum StaffCommand {
    /// Make an account, such as the first admin: `server staff add NAME --role admin`.
    Add {
        /// Its login name: 1 to 64 letters, digits, `.`, `_` or `-`.
        name: String,
        /// What it may do.
        #[arg(long, value_enum)]
        role: Role,
        /// Read the password from standard input even from a terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts: name, role, and when each was made.
    List,
    /// Remove an account; its sessions end at once.
    Remove {
        /// Its login name.
        name: String,
        /// Remove the last admin all the same (nobody can manage staff then,
        /// until an admin is added here again).
        #[arg(long)]
        force: bool,
    },
    /// Set an account's password; its sessions end at once.
    Password {
        /// Its login name.
        name: String,
        /// Read the password from standard input even from a terminal.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A staff role, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Sees patients; cancels, blocks and unblocks, ends holds, marks no-shows.
    Receptionist,
    /// All a receptionist may, and also resets, erases and manages staff.
    Admin,
}

impl From<Role> for protocol::StaffRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Receptionist => Self::Receptionist,
            Role::Admin => Self::Admin,
        }
    }
}
