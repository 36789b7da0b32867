//! `loadtest`: runs the load generator against a running server (`--url`), or
//! starts the server binary itself (`--server-bin`) on a fresh SQLite database or
//! on a given PostgreSQL one, as several instances when asked (`--instances`:
//! bookers use the first, listeners the others), and prints one summary line
//! (and, with `--json`, writes it as JSON).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use loadtest::{Options, raise_open_file_limit, run};

/// Load generator for the booking server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// WebSocket URL of a running server.
    #[arg(long, conflicts_with = "server_bin")]
    url: Option<String>,
    /// Start this server binary on a fresh database instead of using --url.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Clinic configuration for the started server.
    #[arg(long, requires = "server_bin")]
    server_config: Option<PathBuf>,
    /// Database for the started servers (an empty PostgreSQL database, say);
    /// a fresh SQLite file when absent.
    #[arg(long, requires = "server_bin")]
    database_url: Option<String>,
    /// How many server instances to start on that database; with more than one,
    /// the bookers use the first and the listeners the others.
    #[arg(long, default_value_t = 1, requires = "server_bin")]
    instances: usize,
    /// Process id of the server behind --url, for its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Listening connections to hold.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Spread connections over 127.0.0.1 … 127.0.0.N.
    #[arg(long, default_value_t = 8)]
    sources: u8,
    /// Bookings to make.
    #[arg(long, default_value_t = 100)]
    bookings: usize,
    /// Bookings per second over all bookers; 0 for as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Booking connections.
    #[arg(long, default_value_t = 4)]
    bookers: usize,
    /// Connections opened at once during set-up.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Seconds to wait for the last updates.
    #[arg(long, default_value_t = 30)]
    settle_secs: u64,
    /// A label for this run in the JSON.
    #[arg(long, default_value = "run")]
    label: String,
    /// Also write the summary as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// A server started by the load generator; killed on drop.
struct Spawned {
    child: Child,
    _data: tempfile::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(
    bin: &PathBuf,
    config: Option<&PathBuf>,
    database: Option<&str>,
) -> Result<(Spawned, String)> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let data = tempfile::tempdir()?;
    let database =
        database.map_or_else(|| format!("sqlite://{}/booking.db", data.path().display()), str::to_owned);
    let mut command = Command::new(bin);
    command
        .env("BOOKING_LISTEN", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database)
        .env("BOOKING_STATIC_DIR", data.path())
        .env("RUST_LOG", "warn")
        // The limits protect a real server from abuse; here they must not be
        // what the figures measure. Every client shares one address, and the
        // proof of work is made cheap: it costs the clients, not the server,
        // whose check of a solution is the same whatever its cost.
        .env("BOOKING_MAX_CONNECTIONS", "1000000")
        .env("BOOKING_MAX_MESSAGES_PER_SEC", "1000000")
        .env("BOOKING_CONNECTIONS_PER_ADDRESS", "1000000")
        .env("BOOKING_HOLDS_PER_ADDRESS", "1000000")
        .env("BOOKING_HOLDS_PER_ADDRESS_PER_MIN", "1000000000")
        .env("BOOKING_HOLD_COOLDOWN_SECS", "0")
        .env("BOOKING_BOOKINGS_PER_PHONE", "1000000000")
        .env("BOOKING_BOOKINGS_PER_ADDRESS_PER_HOUR", "1000000000")
        .env("BOOKING_CHALLENGE_WORK", "1")
        .stdout(Stdio::null());
    if let Some(config) = config {
        command.env("BOOKING_CONFIG", config);
    }
    let child = command.spawn().with_context(|| format!("starting {}", bin.display()))?;
    let spawned = Spawned { child, _data: data };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the server did not start listening");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((spawned, format!("ws://127.0.0.1:{port}/ws")))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let limit = raise_open_file_limit();
    if limit < args.clients as u64 + args.bookers as u64 + 100 {
        eprintln!(
            "warning: the open-file limit is {limit}; raise it (ulimit -n) for {} clients",
            args.clients
        );
    }
    if args.instances > 1 && args.database_url.is_none() {
        bail!("several instances need a shared database: give --database-url postgres://…");
    }
    let mut spawned = Vec::new();
    let mut urls = Vec::new();
    let pid = match (&args.server_bin, &args.url) {
        (Some(bin), _) => {
            for _ in 0..args.instances.max(1) {
                let (server, url) =
                    spawn_server(bin, args.server_config.as_ref(), args.database_url.as_deref())?;
                spawned.push(server);
                urls.push(url);
            }
            // The memory and CPU figures are those of the instance the listeners
            // use: the first one alone, or the second of several.
            Some(spawned[usize::from(args.instances > 1)].child.id())
        }
        (None, Some(url)) => {
            urls.push(url.clone());
            args.server_pid
        }
        (None, None) => bail!("give --url of a running server or --server-bin to start one"),
    };
    let url = urls[0].clone();
    let options = Options {
        url,
        listen_urls: urls.get(1..).map(<[String]>::to_vec).unwrap_or_default(),
        server_pid: pid,
        clients: args.clients,
        sources: args.sources,
        bookings: args.bookings,
        rate: args.rate,
        bookers: args.bookers,
        connect_concurrency: args.connect_concurrency,
        settle: Duration::from_secs(args.settle_secs),
    };
    let summary = run(&options).await?;
    println!("{} {}", args.label, summary.line());
    if let Some(path) = &args.json {
        let mut value = serde_json::to_value(&summary)?;
        value["label"] = args.label.clone().into();
        std::fs::write(path, serde_json::to_string_pretty(&value)?)?;
    }
    drop(spawned);
    Ok(())
}
