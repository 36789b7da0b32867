//! The tests' helpers: a real server on a free port with a fresh database and
//! a staff account, a way to run the `booking` binary and read its output, and
//! a client that books as somebody else would.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use chrono::{Duration as Minutes, Utc};
use client::{BookingReply, Client};
use protocol::{Patient, Schedule, ServerMessage, Slot, SlotStatus, StaffRole};
use server::{Limits, Server, Settings};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The receptionist every test server has.
pub(crate) const RITA: (&str, &str) = ("rita", "rita-password-8d3b6e0f2a");

/// How long a test waits for what should happen at once before it fails; it
/// guards against hanging only.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// A running server.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<server::Result<()>>>,
}

/// The limits of the tests: every client is 127.0.0.1, so the budgets per
/// address are wide open, and the proof of work is as cheap as it gets.
fn limits() -> Limits {
    Limits {
        connections_per_address: 10_000,
        holds_per_address: usize::MAX,
        holds_per_address_per_min: u32::MAX,
        hold_cooldown: Duration::ZERO,
        bookings_per_phone: usize::MAX,
        bookings_per_address_per_hour: u32::MAX,
        challenge_work: 1,
        ..Limits::default()
    }
}

impl TestServer {
    /// A server for the demo clinic on the system clock, with a fresh
    /// database that has the receptionist `RITA`.
    pub(crate) async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut server = Self { addr: SocketAddr::from(([127, 0, 0, 1], 0)), dir, stop: None, task: None };
        server.run().await;
        server
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}/booking.db", self.dir.path().display())
    }

    async fn run(&mut self) {
        let settings =
            Settings { limits: limits(), listen: self.addr, ..Settings::local(self.database_url()) };
        let server = Server::bind(settings).await.expect("the server starts");
        if self.addr.port() == 0 {
            let origin = server::audit::Origin::system();
            let added = server
                .state()
                .staff()
                .add(RITA.0, StaffRole::Receptionist, RITA.1, Utc::now(), &origin)
                .await;
            assert!(matches!(added, Ok(Ok(()))), "the test account is made");
        }
        self.addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.task = Some(tokio::spawn(server.run(async move {
            let _ = stopped.await;
        })));
    }

    /// Stops the server: its connections are closed and its port is free.
    pub(crate) async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server task ends").expect("the server stops cleanly");
        }
    }

    /// Starts the server again on the same port and database.
    pub(crate) async fn restart(&mut self) {
        self.run().await;
    }

    /// The page's address, as people give it to `booking`.
    pub(crate) fn page(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A connection from somebody else, with the schedule it was sent.
    pub(crate) async fn client(&self) -> (Client, Schedule) {
        let mut client = Client::connect(&format!("ws://{}/ws", self.addr)).await.expect("connects");
        loop {
            if let ServerMessage::InitialState(schedule) = client.recv().await.expect("the schedule") {
                return (client, schedule);
            }
        }
    }

    /// Books `slot` as somebody else, and gives the manage link's secret.
    pub(crate) async fn book_elsewhere(&self, slot: &Slot, name: &str) -> String {
        let (mut client, _) = self.client().await;
        let patient = Patient { name: name.into(), phone: "+7 912 345-67-89".into() };
        match client.book(slot.id.clone(), patient).await.expect("an answer") {
            BookingReply::Booked { manage_token, .. } => manage_token.expect("a manage link"),
            BookingReply::Refused(reason) => panic!("booking {} was refused: {reason:?}", slot.id),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The free slots far enough ahead to be booked, soonest first.
pub(crate) fn free_slots(schedule: &Schedule) -> Vec<Slot> {
    let earliest = Utc::now() + Minutes::minutes(i64::from(schedule.clinic.min_notice_minutes) + 60);
    schedule.slots.iter().filter(|s| s.status == SlotStatus::Free && s.start > earliest).cloned().collect()
}

/// What a run of `booking` did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Its stdout as the one JSON object `--json` prints.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("{e}: not JSON: {self:?}"))
    }
}

/// `booking` with these arguments, with no colours and none of the
/// variables that would change what it does.
pub(crate) fn booking(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_booking"));
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("BOOKING_STAFF_PASSWORD")
        .env_remove("BOOKING_URL")
        .env_remove("BOOKING_STAFF_NAME")
        .env_remove("BOOKING_LANG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `booking` to its end, with `input` on its stdin.
pub(crate) async fn run_with(mut command: Command, input: Option<&str>) -> Run {
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("booking starts");
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(input.as_bytes()).await.expect("stdin takes the input");
    }
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("booking ends in time")
        .expect("ran");
    Run {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `booking args` to its end.
pub(crate) async fn run(args: &[&str]) -> Run {
    run_with(booking(args), None).await
}

/// A `booking` that keeps running (`watch`), read line by line.
pub(crate) struct Running {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Running {
    pub(crate) fn spawn(args: &[&str]) -> Self {
        let mut child = booking(args).stdout(Stdio::piped()).spawn().expect("booking starts");
        let stdout = child.stdout.take().expect("piped stdout");
        Self { child, lines: BufReader::new(stdout).lines() }
    }

    /// The next line it prints.
    pub(crate) async fn line(&mut self) -> String {
        match tokio::time::timeout(PATIENCE, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) => panic!("booking ended: {:?}", self.child.try_wait()),
            Ok(Err(e)) => panic!("cannot read booking's output: {e}"),
            Err(_) => panic!("booking printed nothing for {PATIENCE:?}"),
        }
    }

    /// Reads lines until one satisfies `wanted`, and gives it.
    pub(crate) async fn until(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let line = self.line().await;
            if wanted(&line) {
                return line;
            }
        }
    }

    /// The next line, as JSON.
    pub(crate) async fn json(&mut self) -> serde_json::Value {
        let line = self.line().await;
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"))
    }

    /// Reads JSON lines until one satisfies `wanted`, and gives it.
    pub(crate) async fn until_json(
        &mut self,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        loop {
            let value = self.json().await;
            if wanted(&value) {
                return value;
            }
        }
    }
}
