//! The server binary as a process of its own, on any database, for tests that
//! kill it, signal it, or run several instances side by side. Its log goes to a
//! file that is printed when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use client::Client;

/// A running server process; killed when dropped.
pub struct Instance {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    log: PathBuf,
}

impl Instance {
    /// Starts the server binary on `database_url`, listening on `port`, logging
    /// into `log_dir`.
    pub fn start(database_url: &str, port: u16, log_dir: &Path) -> Self {
        let log = log_dir.join(format!("server-{port}.log"));
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("BOOKING_LISTEN", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .envs(super::lenient_env())
            .env("BOOKING_STATIC_DIR", log_dir)
            .env("RUST_LOG", "info,tower_http=warn")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("the server binary starts");
        Self { child, port, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    /// Waits until it takes connections; a connected client and its schedule.
    pub async fn connect(&self) -> (Client, protocol::Schedule) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut client) = Client::connect(&self.ws_url()).await
                && let Ok(protocol::ServerMessage::InitialState(schedule)) = client.recv().await
            {
                return (client, schedule);
            }
            assert!(Instant::now() < deadline, "the server on port {} did not come up", self.port);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// How it ended, if it has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("the server process can be waited for")
    }

    /// Kills it with SIGKILL and waits until it is gone; how it ended.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Also when a test fails half-way: no server outlives its test.
        self.kill();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- the last lines of the server on port {} ---", self.port);
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}
