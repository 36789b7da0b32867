//! `floor`: the kernel's floor for fan-out on this machine. One thread writes a
//! ~200-byte WebSocket `update` frame to each of many loopback connections held
//! by a second process (this same binary, started with `--reader`), back to back
//! (`burst`) and then one round every half second (`paced`), and prints one
//! summary line per mode (and, with `--json`, writes them as JSON).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use loadtest::floor::{FloorOptions, run_floor, run_reader};
use loadtest::raise_open_file_limit;

/// The kernel's floor for fan-out: one thread writing frames to many sockets.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Loopback connections to write to.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Rounds sent back to back; 0 skips the burst.
    #[arg(long, default_value_t = 60)]
    rounds: usize,
    /// Rounds sent one every --pace-ms; 0 skips the paced mode.
    #[arg(long, default_value_t = 20)]
    paced_rounds: usize,
    /// Milliseconds between two paced rounds.
    #[arg(long, default_value_t = 500)]
    pace_ms: u64,
    /// Spread the reader's connections over 127.0.0.1 … 127.0.0.N.
    #[arg(long, default_value_t = 8)]
    sources: u8,
    /// Leave Nagle's algorithm on. The server sets TCP_NODELAY on its WebSocket
    /// connections, and so does the writer unless this is given.
    #[arg(long)]
    nagle: bool,
    /// Also write the summaries as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Be the reading process (the writer starts it).
    #[arg(long, hide = true, requires = "connect")]
    reader: bool,
    /// The writer's address, for the reading process.
    #[arg(long, hide = true)]
    connect: Option<SocketAddr>,
    /// Bytes read in all at which the reading process reports, comma-separated.
    #[arg(long, hide = true, value_delimiter = ',')]
    targets: Vec<u64>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let limit = raise_open_file_limit();
    if limit < args.connections as u64 + 100 {
        eprintln!(
            "warning: the open-file limit is {limit}; raise it (ulimit -n) for {} connections",
            args.connections
        );
    }
    if args.reader {
        let addr = args.connect.context("--reader needs --connect")?;
        return run_reader(addr, args.connections, args.sources, args.targets);
    }
    let summaries = run_floor(&FloorOptions {
        connections: args.connections,
        rounds: args.rounds,
        paced_rounds: args.paced_rounds,
        pace: Duration::from_millis(args.pace_ms),
        sources: args.sources,
        nodelay: !args.nagle,
    })?;
    let mut json = serde_json::Map::new();
    for summary in &summaries {
        println!("{}", summary.line());
        json.insert(summary.mode.clone(), serde_json::to_value(summary)?);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    }
    Ok(())
}
