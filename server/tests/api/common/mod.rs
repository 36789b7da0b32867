//! Helpers shared by the integration tests: a real server on port 0 with a fresh
//! database, and clients connected to it over real sockets.

#![allow(dead_code, unreachable_pub)]

pub mod instance;
pub mod postgres;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use client::Client;
use protocol::{Patient, Schedule, ServerMessage, Slot, SlotStatus, StaffRole};
use server::clinic::ClinicConfig;
use server::{Limits, Server, Settings};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The test staff, made on every test server's database: an admin and two
/// receptionists, each with a password.
pub const ADMIN: (&str, &str) = ("admin", "admin-password-4f9c2a7e1b");
pub const RITA: (&str, &str) = ("rita", "rita-password-8d3b6e0f2a");
pub const REMY: (&str, &str) = ("remy", "remy-password-1c7a9f4e5d");

/// Makes the test staff's accounts (those that exist already, as on a
/// restarted server or a database that another instance shares, stay).
pub async fn make_test_staff(staff: &server::staff::Staff) {
    let origin = server::audit::Origin::system();
    let accounts =
        [(ADMIN, StaffRole::Admin), (RITA, StaffRole::Receptionist), (REMY, StaffRole::Receptionist)];
    for ((name, password), role) in accounts {
        match staff.add(name, role, password, test_now(), &origin).await.expect("the staff table is writable")
        {
            Ok(()) | Err(server::staff::Refusal::Exists) => {}
            Err(refusal) => panic!("test account {name}: {refusal}"),
        }
    }
}

/// Makes the test staff's accounts on the database at `database_url`, for
/// servers that run as processes of their own.
pub async fn make_test_staff_at(database_url: &str) {
    let store = server::store::SqlStore::open(database_url).await.expect("the database opens");
    make_test_staff(&server::staff::Staff::new(&store)).await;
    store.close().await;
}

/// The instant the tests' clock shows: 10:10 in Moscow on a Tuesday, so the
/// morning's first slots have already started.
pub fn test_now() -> DateTime<Utc> {
    "2026-11-24T07:10:00Z".parse().unwrap()
}

/// A running server and what is needed to reach, stop and restart it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub data_dir: Arc<tempfile::TempDir>,
    pub now: Arc<Mutex<DateTime<Utc>>>,
    state: Option<server::AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<server::Result<()>>>,
}

/// Options for `spawn_with`.
#[derive(Clone)]
pub struct Options {
    pub limits: Limits,
    pub static_dir: PathBuf,
    pub clinic: ClinicConfig,
    pub allowed_origins: Vec<String>,
    pub trusted_proxies: server::TrustedProxies,
    /// The port to listen on; any free one when `None`.
    pub port: Option<u16>,
    /// Where to serve `/metrics`, and the token it asks for.
    pub metrics: Option<(SocketAddr, Option<String>)>,
}

/// The limits of most tests: the defaults, except that the budgets per address
/// are wide open, since every test client connects from 127.0.0.1, and the proof
/// of work is as cheap as it gets. `tests/hostile.rs` runs on the defaults.
pub fn test_limits() -> Limits {
    Limits {
        write_timeout: Duration::from_secs(5),
        connections_per_address: 100_000,
        holds_per_address: usize::MAX,
        holds_per_address_per_min: u32::MAX,
        hold_cooldown: Duration::ZERO,
        bookings_per_phone: usize::MAX,
        bookings_per_address_per_hour: u32::MAX,
        challenge_work: 1,
        ..Limits::default()
    }
}

/// The same for the server binary, as its environment, made from
/// `test_limits` so the two cannot differ; these tests also book as fast as they
/// can from one connection, so the message rate is wide open too.
pub fn lenient_env() -> Vec<(&'static str, String)> {
    let limits = test_limits();
    vec![
        ("BOOKING_MAX_MESSAGES_PER_SEC", "100000".to_owned()),
        ("BOOKING_CONNECTIONS_PER_ADDRESS", limits.connections_per_address.to_string()),
        ("BOOKING_HOLDS_PER_ADDRESS", limits.holds_per_address.to_string()),
        ("BOOKING_HOLDS_PER_ADDRESS_PER_MIN", limits.holds_per_address_per_min.to_string()),
        ("BOOKING_HOLD_COOLDOWN_SECS", limits.hold_cooldown.as_secs().to_string()),
        ("BOOKING_BOOKINGS_PER_PHONE", limits.bookings_per_phone.to_string()),
        ("BOOKING_BOOKINGS_PER_ADDRESS_PER_HOUR", limits.bookings_per_address_per_hour.to_string()),
        ("BOOKING_CHALLENGE_WORK", limits.challenge_work.to_string()),
    ]
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: test_limits(),
            static_dir: PathBuf::from("/nonexistent-frontend-dist"),
            clinic: ClinicConfig::demo(),
            allowed_origins: Vec::new(),
            trusted_proxies: server::TrustedProxies::none(),
            port: None,
            metrics: None,
        }
    }
}

/// A server with a fresh database and default options.
pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

/// A server with a fresh database and the given options.
pub async fn spawn_with(options: Options) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    start(dir, Arc::new(Mutex::new(test_now())), options).await
}

async fn start(
    data_dir: Arc<tempfile::TempDir>,
    now: Arc<Mutex<DateTime<Utc>>>,
    options: Options,
) -> TestApp {
    let url = database_url(data_dir.path());
    start_at(data_dir, url, now, options).await
}

/// A server on the database at `url`, keeping `data_dir` for as long as it runs.
async fn start_at(
    data_dir: Arc<tempfile::TempDir>,
    url: String,
    now: Arc<Mutex<DateTime<Utc>>>,
    options: Options,
) -> TestApp {
    let clock_now = now.clone();
    let settings = Settings {
        static_dir: options.static_dir,
        limits: options.limits,
        clinic: options.clinic,
        allowed_origins: options.allowed_origins,
        trusted_proxies: options.trusted_proxies,
        clock: Arc::new(move || *clock_now.lock().unwrap()),
        listen: SocketAddr::from(([127, 0, 0, 1], options.port.unwrap_or(0))),
        metrics_listen: options.metrics.as_ref().map(|(addr, _)| *addr),
        metrics_token: options.metrics.and_then(|(_, token)| token),
        ..Settings::local(url)
    };
    let server = Server::bind(settings).await.expect("server starts");
    make_test_staff(server.state().staff()).await;
    let addr = server.local_addr();
    let state = Some(server.state());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    TestApp { addr, data_dir, now, state, stop: Some(stop), task: Some(task) }
}

/// What a store needs to free a slot at `now`: offers to the waitlist run ten
/// minutes, for slots starting after `now`, in UTC.
pub fn offering(now: DateTime<Utc>) -> server::store::Offering {
    server::store::Offering {
        now,
        until: now + chrono::Duration::minutes(10),
        earliest: now,
        zone: chrono_tz::UTC,
    }
}

pub fn database_url(dir: &Path) -> String {
    format!("sqlite://{}/booking.db", dir.display())
}

impl TestApp {
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// A connected client.
    pub async fn connect_ws(&self) -> Client {
        Client::connect(&self.ws_url()).await.expect("connects")
    }

    /// A connected client and the `initialState` it was sent first.
    pub async fn connect_with_state(&self) -> (Client, Schedule) {
        let mut client = self.connect_ws().await;
        let state = match recv(&mut client).await {
            ServerMessage::InitialState(s) => s,
            other => panic!("expected initialState first, got {other:?}"),
        };
        (client, state)
    }

    /// Stops the server gracefully and waits until it has.
    pub async fn stop(mut self) -> Arc<tempfile::TempDir> {
        self.shutdown().await;
        self.data_dir.clone()
    }

    /// The server's shared state, for serving a hand-made connection.
    pub fn state(&self) -> server::AppState {
        self.state.clone().expect("running")
    }

    async fn shutdown(&mut self) {
        // The engine stops only when nothing holds its handle any more.
        self.state = None;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server stops cleanly");
        }
    }

    /// Starts a new server on this one's database after it was stopped.
    pub async fn restart(data_dir: Arc<tempfile::TempDir>) -> TestApp {
        Self::restart_with(data_dir, Options::default()).await
    }

    /// Starts a new server with other options on this one's database after it was
    /// stopped.
    pub async fn restart_with(data_dir: Arc<tempfile::TempDir>, options: Options) -> TestApp {
        start(data_dir, Arc::new(Mutex::new(test_now())), options).await
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        *self.now.lock().unwrap() += by;
    }
}

/// The next message, failing the test when none comes within five seconds.
pub async fn recv(client: &mut Client) -> ServerMessage {
    tokio::time::timeout(Duration::from_secs(5), client.recv())
        .await
        .expect("a message within 5 s")
        .expect("a message")
}

pub fn patient() -> Patient {
    Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() }
}

/// The next message that is an `update`, skipping others.
pub async fn next_update(client: &mut Client) -> protocol::Slot {
    loop {
        if let ServerMessage::Update { slot, .. } = recv(client).await {
            return slot;
        }
    }
}

/// The first slot that is free and bookable at `test_now()` (past the demo
/// clinic's 30 minutes of minimum notice).
pub fn free_future_slot(schedule: &Schedule) -> Slot {
    free_future_slots(schedule).next().expect("a free future slot").clone()
}

pub fn free_future_slots(schedule: &Schedule) -> impl Iterator<Item = &Slot> {
    let bookable_from = test_now() + chrono::Duration::hours(1);
    schedule.slots.iter().filter(move |s| s.status == SlotStatus::Free && s.start > bookable_from)
}

/// A raw HTTP/1.1 GET; returns the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    (status, if chunked { dechunk(body) } else { body.to_owned() })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// A free local port (taken and released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Reads from `follower` until it holds `version`; what it saw on the way.
pub async fn follow_to(follower: &mut client::Follower, version: protocol::Version) -> Vec<client::Followed> {
    let mut seen = Vec::new();
    while follower.version() < version {
        let next = tokio::time::timeout(Duration::from_secs(10), follower.next()).await;
        seen.push(next.expect("the follower keeps up").expect("follows"));
    }
    seen
}

/// A peer that completes the WebSocket handshake (from `local_ip`, when given) and
/// then never
/// sends another byte, so it answers no ping; the code of the close frame the
/// server sent it before hanging up. Sending nothing also means nothing can reset
/// the socket and lose that frame, however late it is read.
pub async fn close_code_of_a_silent_peer(addr: SocketAddr, local_ip: Option<IpAddr>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(local_ip) = local_ip {
        socket.bind(SocketAddr::new(local_ip, 0)).unwrap();
    }
    let mut tcp = socket.connect(addr).await.unwrap();
    let handshake = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(handshake.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut received))
        .await
        .expect("the server hangs up on a silent peer")
        .unwrap();
    let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").expect("a handshake answer");
    assert!(received.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&received[..head_end]));
    // The server's frames are unmasked: opcode, length (7 bits, or 126 and 16
    // bits, or 127 and 64 bits), payload.
    let mut frames = &received[head_end + 4..];
    while frames.len() >= 2 {
        let (length, header) = match frames[1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([frames[2], frames[3]])), 4),
            127 => (usize::try_from(u64::from_be_bytes(frames[2..10].try_into().unwrap())).unwrap(), 10),
            short => (usize::from(short), 2),
        };
        let payload = &frames[header..header + length];
        if frames[0] & 0x0f == 0x8 {
            assert!(payload.len() >= 2, "a close frame without a code");
            return u16::from_be_bytes([payload[0], payload[1]]);
        }
        frames = &frames[header + length..];
    }
    panic!("the server hung up without a close frame")
}

/// A server on the database at `database_url` (a PostgreSQL database that other
/// servers of the test share, say), reading the time from `now`: servers given
/// the same `now` move on together.
pub async fn spawn_on(database_url: &str, now: Arc<Mutex<DateTime<Utc>>>, options: Options) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    start_at(dir, database_url.to_owned(), now, options).await
}

/// Logs `client` in as the test admin and reads its staff state.
pub async fn log_in_admin(client: &mut Client) -> client::StaffSession {
    log_in(client, ADMIN).await
}

/// Logs `client` in as the member of staff `(name, password)` and reads its
/// staff state; the session it got.
pub async fn log_in(client: &mut Client, (name, password): (&str, &str)) -> client::StaffSession {
    let session = client.staff_login(name, password).await.expect("the test staff can log in");
    staff_state(client).await;
    session
}

/// Reads until the staff state, skipping schedule updates.
pub async fn staff_state(client: &mut Client) -> (protocol::Version, Vec<protocol::StaffBooking>) {
    loop {
        match recv(client).await {
            ServerMessage::StaffState { version, bookings } => return (version, bookings),
            ServerMessage::Update { .. } | ServerMessage::StaffUpdate { .. } => {}
            other => panic!("expected the staff state, got {other:?}"),
        }
    }
}

/// A connection to `app`, served in this process, whose client reads nothing
/// for now: its receive buffer is as small as the kernel allows (on loopback
/// it would otherwise take megabytes), so with a small `limits.send_buffer`
/// what the server writes soon stays in the server. The client's side of the
/// socket, and the task serving the connection; `resume` as `lastVersion`.
pub async fn stuck_peer(
    app: &TestApp,
    resume: Option<protocol::Version>,
) -> (tokio::net::TcpStream, tokio::task::JoinHandle<()>) {
    served_peer(app, resume, 1024).await
}

/// The same with a client's receive buffer of `receive_buffer` bytes (the
/// kernel makes it at least about 2 KB).
pub async fn served_peer(
    app: &TestApp,
    resume: Option<protocol::Version>,
    receive_buffer: u32,
) -> (tokio::net::TcpStream, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpSocket::new_v4().unwrap();
    listener.set_recv_buffer_size(receive_buffer).unwrap();
    listener.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = listener.listen(1).unwrap();
    let server_side = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (client_side, _) = listener.accept().await.unwrap();
    let peer = server::ClientKey::of(std::net::Ipv4Addr::LOCALHOST.into());
    let served = tokio::spawn(server::ws::serve_connection(
        server_side,
        Default::default(),
        app.state(),
        peer,
        resume,
    ));
    (client_side, served)
}
