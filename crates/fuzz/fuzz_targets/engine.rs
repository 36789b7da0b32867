//! Sessions of messages fed through a connection to a live engine on a real
//! database: every kind of request with fuzzed slots, patients, secrets and
//! versions, mixed with raw text. Nothing may panic or hang, every reply must be
//! a protocol message, none may be an internal error, and the database must
//! never hold two active bookings of one slot.

#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use futures_util::{SinkExt, StreamExt};
use libfuzzer_sys::fuzz_target;
use protocol::{ClientMessage, ErrorCode, Patient, ServerMessage, SlotId, StaffRole};
use server::store::{SqlStore, Store};
use server::{AppState, Limits, Server, Settings};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

/// The password of the fuzzer's admin account.
const ADMIN_PASSWORD: &str = "fuzz-admin-password-2b8e6d4c";

/// The server every session talks to, made once per fuzzing process.
struct World {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    reader: SqlStore,
    slots: Vec<SlotId>,
    tokens: Vec<String>,
    _server: Server,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        // A panic anywhere, in the engine's task too, is a finding.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("{info}");
            std::process::abort();
        }));
        // In memory when possible: the fuzzer wants speed, not durability.
        let dir = tempfile::Builder::new()
            .tempdir_in(if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" })
            .unwrap();
        let url = format!("sqlite://{}/fuzz.db", dir.path().display());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (server, reader) = runtime.block_on(async {
            let settings = Settings {
                // The budgets per client would soon refuse everything one address
                // asks, and the fuzzer wants to reach every path; the proof of
                // work is off for the same reason (it has its own tests).
                limits: Limits {
                    messages_per_sec: 1_000_000,
                    failed_secrets_per_min: u32::MAX,
                    failed_secrets_per_min_total: u32::MAX,
                    failed_staff_logins_per_min: u32::MAX,
                    failed_staff_logins_per_min_total: u32::MAX,
                    holds_per_address: usize::MAX,
                    holds_per_address_per_min: u32::MAX,
                    hold_cooldown: Duration::ZERO,
                    bookings_per_phone: usize::MAX,
                    bookings_per_address_per_hour: u32::MAX,
                    challenge_work: 0,
                    ..Limits::default()
                },
                ..Settings::local(url.clone())
            };
            let server = Server::bind(settings).await.unwrap();
            let state = server.state();
            let origin = server::audit::Origin::system();
            let made =
                state.staff().add("admin", StaffRole::Admin, ADMIN_PASSWORD, state.now(), &origin).await;
            made.unwrap().unwrap();
            (server, SqlStore::open(&url).await.unwrap())
        });
        let state = server.state();
        let from = chrono::Utc::now() + chrono::Duration::hours(1);
        let schedule = runtime.block_on(converse(&state, None, Vec::new()));
        let Some(ServerMessage::InitialState(schedule)) = schedule.into_iter().next() else {
            panic!("no schedule")
        };
        let slots: Vec<SlotId> = schedule.slots.iter().map(|s| s.id.clone()).collect();
        // A few real bookings, so that sessions can use real manage links.
        let bookable = schedule.slots.iter().filter(|s| s.start > from).take(4);
        let frames = bookable
            .enumerate()
            .map(|(i, s)| {
                let patient = Patient { name: "Fuzz".into(), phone: "+7 900 000-00-00".into() };
                text(&ClientMessage::Book {
                    request_id: format!("seed-{i}"),
                    slot_id: s.id.clone(),
                    patient,
                    proof: None,
                })
            })
            .collect();
        let tokens = runtime
            .block_on(converse(&state, None, frames))
            .into_iter()
            .filter_map(|m| match m {
                ServerMessage::BookingResult { manage_token: Some(token), .. } => Some(token),
                _ => None,
            })
            .collect();
        World { runtime, state, reader, slots, tokens, _server: server, _dir: dir }
    })
}

fn text(message: &ClientMessage) -> Message {
    Message::text(serde_json::to_string(message).unwrap())
}

/// Runs one connection through `frames` and returns everything it was sent.
/// The connection is a real loopback socket: the fuzzer writes every frame,
/// then ends its side, and reads until the server ends the connection.
async fn converse(state: &AppState, resume: Option<u64>, frames: Vec<Message>) -> Vec<ServerMessage> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server_side = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (client_side, _) = listener.accept().await.unwrap();
    let peer = server::ClientKey::of(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    let connection =
        tokio::spawn(server::ws::serve_connection(server_side, Default::default(), state.clone(), peer, resume));
    let mut client = WebSocketStream::from_raw_socket(client_side, Role::Client, None).await;
    let session = async {
        for frame in frames {
            // The server may close first, on a frame it does not accept.
            if client.feed(frame).await.is_err() {
                break;
            }
        }
        let _ = client.flush().await;
        let _ = client.get_mut().shutdown().await;
        let mut sent = Vec::new();
        while let Some(Ok(message)) = client.next().await {
            let Message::Text(text) = message else { continue };
            let message: ServerMessage =
                serde_json::from_str(text.as_str()).expect("every reply is a protocol message");
            if let ServerMessage::Error { code: ErrorCode::Internal, message, .. } = &message {
                panic!("an internal error: {message}");
            }
            sent.push(message);
        }
        sent
    };
    let sent = tokio::time::timeout(Duration::from_secs(20), session).await.expect("a session never hangs");
    tokio::time::timeout(Duration::from_secs(20), connection)
        .await
        .expect("a session never hangs")
        .expect("the connection never panics");
    sent
}

#[derive(Debug, Arbitrary)]
enum Action {
    Raw(String),
    Book { slot: u8, name: String, phone: String, request: u8 },
    Hold { slot: u8, request: u8 },
    Release { slot: u8 },
    Lookup { token: u8, request: u8 },
    Cancel { token: u8, request: u8 },
    Reschedule { token: u8, slot: u8, request: u8 },
    StaffLogin { right: bool },
    StaffResume { session: String },
    StaffLogout,
    StaffAccounts,
    AddStaff { name: String, admin: bool, password: String },
    RemoveStaff { name: u8 },
    StaffCancel { slot: u8 },
    Block { slot: u8 },
    Unblock { slot: u8 },
    EndHold { slot: u8 },
    Challenge { request: u8 },
    Reset { request: u8 },
    Hello { last_version: u64 },
}

#[derive(Debug, Arbitrary)]
struct Session {
    resume: Option<u64>,
    actions: Vec<Action>,
}

impl World {
    fn slot(&self, n: u8) -> SlotId {
        let n = usize::from(n) % (self.slots.len() + 1);
        self.slots.get(n).cloned().unwrap_or_else(|| SlotId(format!("made-up-{n}")))
    }

    fn token(&self, n: u8) -> String {
        let n = usize::from(n) % (self.tokens.len() + 1);
        self.tokens.get(n).cloned().unwrap_or_else(|| format!("{n:064x}"))
    }

    fn frame(&self, action: Action) -> Message {
        let id = |n: u8| format!("q-{n}");
        let admin = |right: bool| if right { ADMIN_PASSWORD.to_owned() } else { "wrong".to_owned() };
        // The names of real accounts, now and then.
        let staff_name = |n: u8| ["admin", "rita", "nobody"][usize::from(n) % 3].to_owned();
        text(&match action {
            Action::Raw(raw) => return Message::text(raw),
            Action::Book { slot, name, phone, request } => ClientMessage::Book {
                request_id: id(request),
                slot_id: self.slot(slot),
                patient: Patient { name, phone },
                proof: None,
            },
            Action::Hold { slot, request } => {
                ClientMessage::Hold { request_id: id(request), slot_id: self.slot(slot) }
            }
            Action::Release { slot } => ClientMessage::Release { slot_id: self.slot(slot) },
            Action::Lookup { token, request } => {
                ClientMessage::Lookup { request_id: id(request), manage_token: self.token(token) }
            }
            Action::Cancel { token, request } => {
                ClientMessage::Cancel { request_id: id(request), manage_token: self.token(token) }
            }
            Action::Reschedule { token, slot, request } => ClientMessage::Reschedule {
                request_id: id(request),
                manage_token: self.token(token),
                slot_id: self.slot(slot),
            },
            Action::StaffLogin { right } => ClientMessage::StaffLogin {
                request_id: "login".into(),
                name: "admin".into(),
                password: admin(right),
            },
            Action::StaffResume { session } => ClientMessage::StaffResume { request_id: id(0), session },
            Action::StaffLogout => ClientMessage::StaffLogout { request_id: id(0) },
            Action::StaffAccounts => ClientMessage::StaffAccounts { request_id: id(0) },
            Action::AddStaff { name, admin, password } => ClientMessage::AddStaff {
                request_id: id(0),
                name,
                role: if admin { StaffRole::Admin } else { StaffRole::Receptionist },
                password,
            },
            Action::RemoveStaff { name } => {
                ClientMessage::RemoveStaff { request_id: id(0), name: staff_name(name) }
            }
            Action::StaffCancel { slot } => {
                ClientMessage::StaffCancel { request_id: id(0), slot_id: self.slot(slot) }
            }
            Action::Block { slot } => ClientMessage::Block { request_id: id(0), slot_id: self.slot(slot) },
            Action::Unblock { slot } => {
                ClientMessage::Unblock { request_id: id(0), slot_id: self.slot(slot) }
            }
            Action::EndHold { slot } => {
                ClientMessage::EndHold { request_id: id(0), slot_id: self.slot(slot) }
            }
            Action::Challenge { request } => ClientMessage::Challenge { request_id: id(request) },
            Action::Reset { request } => ClientMessage::Reset { request_id: id(request) },
            Action::Hello { last_version } => ClientMessage::Hello { last_version },
        })
    }
}

fuzz_target!(|session: Session| {
    let world = world();
    let frames: Vec<Message> = session.actions.into_iter().take(32).map(|a| world.frame(a)).collect();
    world.runtime.block_on(async {
        converse(&world.state, session.resume, frames).await;
        let loaded = world.reader.load(chrono::Utc::now() - chrono::Duration::days(1)).await.unwrap();
        let mut booked = std::collections::HashSet::new();
        for booking in &loaded.bookings {
            assert!(booked.insert(&booking.slot_id), "two active bookings of {}", booking.slot_id);
        }
    });
});
