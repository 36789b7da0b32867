//! The bad-input catalogue: every kind of abuse the server defends against, sent
//! at once from another address while 50 well-behaved clients keep booking.
//! Each abuse must meet its defence (a typed error, the exact close code, a
//! refused handshake), and the well-behaved clients must see no error and no
//! missed update, and get an answer to every booking. How long those answers
//! took is printed, not asserted: the machine is shared and noisy.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use client::tungstenite::Message;
use client::tungstenite::protocol::frame::Frame;
use client::tungstenite::protocol::frame::coding::{Data, OpCode};
use client::{BookingReply, Client, ConnectOptions, Error};
use protocol::{Applied, ClientMessage, ErrorCode, Replica, ServerMessage, SlotId};
use tokio::io::AsyncWriteExt;

const GOOD_CLIENTS: usize = 50;
const BOOKINGS_EACH: usize = 3;

/// The attackers' address; the well-behaved clients use 127.0.0.1.
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Connections from the attackers' address.
fn attacker() -> ConnectOptions {
    ConnectOptions { local_ip: Some(ATTACKER), ..ConnectOptions::default() }
}

/// Counts the abusive inputs sent, for the report.
#[derive(Default)]
struct Tally(AtomicUsize);

impl Tally {
    fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

async fn attacker_client(app: &TestApp) -> Client {
    let mut client = Client::connect_with(&app.ws_url(), attacker()).await.expect("connects");
    assert!(matches!(recv(&mut client).await, ServerMessage::InitialState(_)));
    client
}

/// The next `error` code, skipping updates from the well-behaved clients.
async fn next_error(client: &mut Client) -> ErrorCode {
    loop {
        match recv(client).await {
            ServerMessage::Error { code, .. } => return code,
            ServerMessage::Update { .. } | ServerMessage::InitialState(_) => {}
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

/// The code of the close frame that ended the connection, waiting past the
/// updates still queued for it. A connection that ends any other way (without a
/// close frame, or with one that has no code) fails the test.
async fn close_code(client: &mut Client) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), client.recv()).await.expect("closes in time") {
            Ok(_) => {}
            Err(Error::Closed { code: Some(code), .. }) => return code,
            Err(other) => panic!("expected a close frame with a code, the connection ended with {other:?}"),
        }
    }
}

/// Malformed, unknown and ill-typed messages, binary frames, long request ids,
/// deep nesting and staff actions without logging in: each gets its own error,
/// and the connection stays usable.
async fn garbage(app: &TestApp, tally: &Tally) {
    let mut client = attacker_client(app).await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let long_id = format!(
        r#"{{"type":"book","payload":{{"requestId":"{}","slotId":"x","patient":{{"name":"a","phone":"12345"}}}}}}"#,
        "r".repeat(200)
    );
    let cases: Vec<(Message, ErrorCode)> = vec![
        (Message::text("{\"type\": \"book\", "), ErrorCode::InvalidJson),
        (Message::text("\u{0}\u{1}garbage"), ErrorCode::InvalidJson),
        (Message::text(deep), ErrorCode::InvalidJson),
        (Message::text("[1,2,3]"), ErrorCode::InvalidMessage),
        (Message::text("{\"type\":\"dropTables\",\"payload\":{}}"), ErrorCode::UnknownType),
        (Message::text("{\"type\":\"book\",\"payload\":{\"slotId\":7}}"), ErrorCode::InvalidMessage),
        (Message::text("{\"type\":\"hello\",\"payload\":{\"lastVersion\":-1}}"), ErrorCode::InvalidMessage),
        (Message::text(long_id), ErrorCode::InvalidMessage),
        (Message::binary(vec![0xde, 0xad, 0xbe, 0xef]), ErrorCode::BinaryFrame),
        (
            Message::text(
                r#"{"type":"block","payload":{"requestId":"b","slotId":"therapist-20261125-1000"}}"#,
            ),
            ErrorCode::Forbidden,
        ),
    ];
    for round in 0..5 {
        for (frame, expected) in &cases {
            client.send_raw(frame.clone()).await.unwrap();
            assert_eq!(next_error(&mut client).await, *expected, "round {round}: {frame:?}");
            tally.add(1);
            // Under the per-connection rate limit: this is about content.
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
    }
}

/// Text that is not UTF-8 breaks the protocol itself: the connection is closed
/// with 1007, the code for data that does not match its frame's type.
async fn invalid_utf8(app: &TestApp, tally: &Tally) {
    let mut client = attacker_client(app).await;
    let frame = Frame::message(vec![0x7b, 0xff, 0xfe, 0x7d], OpCode::Data(Data::Text), true);
    client.send_raw(Message::Frame(frame)).await.unwrap();
    tally.add(1);
    assert_eq!(close_code(&mut client).await, 1007);
}

/// A message over the size limit closes that connection with 1009.
async fn oversized(app: &TestApp, tally: &Tally) {
    for _ in 0..3 {
        let mut client = attacker_client(app).await;
        let huge = format!(r#"{{"type":"reset","payload":{{"adminToken":"{}"}}}}"#, "x".repeat(40 * 1024));
        let _ = client.send_raw(Message::text(huge)).await;
        tally.add(1);
        assert_eq!(close_code(&mut client).await, 1009);
    }
}

/// A flood gets `rateLimited`, and keeping it up closes with 1008.
async fn flood(app: &TestApp, tally: &Tally) {
    let mut client = attacker_client(app).await;
    let junk = || Message::text("{\"type\":\"nothing\",\"payload\":{}}");
    let mut sent = 0;
    let code = loop {
        if client.send_raw(junk()).await.is_err() {
            break close_code(&mut client).await;
        }
        sent += 1;
        match tokio::time::timeout(Duration::from_micros(50), client.recv()).await {
            Ok(Err(Error::Closed { code: Some(code), .. })) => break code,
            Ok(Err(other)) => panic!("expected a close frame with a code, the flood ended with {other:?}"),
            Ok(Ok(_)) | Err(_) => {}
        }
    };
    tally.add(sent);
    assert_eq!(code, 1008);
}

/// Guessing manage links and staff passwords: wrong, then refused unchecked,
/// each kind by its own budget.
async fn guessing(app: &TestApp, tally: &Tally) {
    let mut client = attacker_client(app).await;
    let mut limited = 0;
    for i in 0..30 {
        let request_id = client.request_id();
        let message = match i % 3 {
            0 => ClientMessage::Lookup { request_id, manage_token: format!("{i:064x}") },
            1 => ClientMessage::Cancel { request_id, manage_token: format!("{i:064x}") },
            _ => ClientMessage::StaffLogin {
                request_id: format!("login-{i}"),
                name: "admin".into(),
                password: format!("guess-{i}"),
            },
        };
        client.send(&message).await.unwrap();
        tally.add(1);
        let reply = loop {
            match recv(&mut client).await {
                ServerMessage::Update { .. } => {}
                other => break other,
            }
        };
        match reply {
            ServerMessage::Error { code: ErrorCode::RateLimited, .. } => limited += 1,
            ServerMessage::Error { code: ErrorCode::Forbidden, .. }
            | ServerMessage::ActionResult { ok: false, .. } => {}
            other => panic!("a guess got {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    // Manage links and staff logins have budgets of their own: 20 guessed links
    // of which the budget checks 10, and 10 guessed passwords of which it checks 5.
    let limits = test_limits();
    let expected = (20 - limits.failed_secrets_per_min) + (10 - limits.failed_staff_logins_per_min);
    assert_eq!(limited, expected, "guessing is stopped at each budget: {limited} of 30 refused unchecked");
}

/// Opening connections until the server refuses more with 503.
async fn connection_flood(app: &TestApp, tally: &Tally) {
    let mut held = Vec::new();
    loop {
        match Client::connect_with(&app.ws_url(), attacker()).await {
            Ok(client) => held.push(client),
            Err(Error::WebSocket(client::tungstenite::Error::Http(response))) => {
                assert_eq!(response.status().as_u16(), 503);
                break;
            }
            Err(e) => panic!("unexpected: {e}"),
        }
        tally.add(1);
        assert!(held.len() < 1000, "the connection cap holds");
    }
    // Held a while, then let go.
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Pages of another site, plain requests to /ws, and TCP connections that
/// never send a request.
async fn handshakes(app: &TestApp, tally: &Tally) {
    for _ in 0..10 {
        let evil = ConnectOptions { origin: Some("https://evil.example"), ..attacker() };
        match Client::connect_with(&app.ws_url(), evil).await {
            Err(Error::WebSocket(client::tungstenite::Error::Http(response))) => {
                assert_eq!(response.status().as_u16(), 403);
            }
            other => panic!("a foreign page was let in: {other:?}"),
        }
        let (status, _) = http_get(app.addr, "/ws").await;
        assert_eq!(status, 400);
        tally.add(2);
    }
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(tokio::net::TcpStream::connect(app.addr).await.unwrap());
        tally.add(1);
    }
    let mut half = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    half.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n").await.unwrap();
    tally.add(1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(silent);
}

/// A connection that stops answering pings is closed as dead with 1001.
async fn dead_peer(app: &TestApp, tally: &Tally) {
    tally.add(1);
    assert_eq!(close_code_of_a_silent_peer(app.addr, Some(ATTACKER)).await, 1001, "closed as dead");
}

/// Holding slots and letting go, over and over, on slots nobody else wants.
async fn hold_churn(app: &TestApp, slots: Vec<SlotId>, tally: &Tally) {
    let mut client = attacker_client(app).await;
    for slot in slots.iter().cycle().take(30) {
        let request_id = client.request_id();
        let reply = client.call(ClientMessage::Hold { request_id, slot_id: slot.clone() }).await.unwrap();
        assert!(matches!(reply, ServerMessage::HoldResult { .. }), "{reply:?}");
        client.send(&ClientMessage::Release { slot_id: slot.clone() }).await.unwrap();
        tally.add(2);
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
}

/// One well-behaved client: books its slots one by one, checks every answer and
/// measures how long it took, and follows the schedule from what it receives until it has seen
/// every well-behaved booking. Any error or missed update fails it.
async fn behave(
    mut client: Client,
    mut replica: Replica,
    mine: Vec<SlotId>,
    everyone: Arc<Vec<SlotId>>,
) -> (Replica, Vec<Duration>) {
    let mut waits = Vec::new();
    for slot in mine {
        let started = Instant::now();
        let reply = client.book(slot, patient()).await.expect("a well-behaved booking gets an answer");
        waits.push(started.elapsed());
        assert!(matches!(reply, BookingReply::Booked { .. }), "a well-behaved booking: {reply:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !everyone.iter().all(|slot| replica.status(slot) == Some(protocol::SlotStatus::Booked)) {
        assert!(Instant::now() < deadline, "a well-behaved client never saw every booking");
        let message = tokio::time::timeout(Duration::from_secs(10), client.recv()).await;
        match replica.apply(message.expect("updates keep coming").expect("the connection stays")) {
            Applied::Changed(_) | Applied::Replaced => {}
            other => panic!("a well-behaved client received {other:?}"),
        }
    }
    (replica, waits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_abuse_meets_its_defence_while_fifty_clients_book_undisturbed() {
    let mut options = Options::default();
    options.limits.max_connections = GOOD_CLIENTS + 150;
    options.limits.idle_timeout = Duration::from_secs(3);
    options.limits.outgoing_queue = 1024;
    let app = Arc::new(spawn_with(options).await);
    let (_, schedule) = app.connect_with_state().await;
    let free: Vec<SlotId> = free_future_slots(&schedule).map(|s| s.id.clone()).collect();
    assert!(free.len() >= GOOD_CLIENTS * BOOKINGS_EACH + 5, "enough slots for everyone");
    let (wanted, spare) = free.split_at(GOOD_CLIENTS * BOOKINGS_EACH);
    let tally = Arc::new(Tally::default());

    // Every well-behaved client is connected before the abuse starts (the
    // connection flood takes every place left).
    let everyone = Arc::new(wanted.to_vec());
    let mut good = Vec::new();
    for mine in wanted.chunks(BOOKINGS_EACH) {
        let (client, schedule) = app.connect_with_state().await;
        let mut replica = Replica::default();
        replica.apply(ServerMessage::InitialState(schedule));
        good.push(tokio::spawn(behave(client, replica, mine.to_vec(), everyone.clone())));
    }
    let spare = spare[..5].to_vec();
    let attacks = {
        let (app, tally) = (app.clone(), tally.clone());
        tokio::spawn(async move {
            tokio::join!(
                garbage(&app, &tally),
                invalid_utf8(&app, &tally),
                oversized(&app, &tally),
                flood(&app, &tally),
                guessing(&app, &tally),
                connection_flood(&app, &tally),
                handshakes(&app, &tally),
                dead_peer(&app, &tally),
                hold_churn(&app, spare, &tally),
            );
        })
    };

    let mut waits = Vec::new();
    let mut replicas = Vec::new();
    for client in good {
        let (replica, client_waits) = client.await.expect("a well-behaved client saw no error");
        waits.extend(client_waits);
        replicas.push(replica);
    }
    attacks.await.expect("every abuse met its defence");

    waits.sort();
    let slowest = *waits.last().unwrap();
    let median = waits[waits.len() / 2];
    eprintln!(
        "{} abusive inputs; {} well-behaved bookings, median answer {median:?}, slowest {slowest:?}",
        tally.0.load(Ordering::Relaxed),
        waits.len()
    );
    assert_eq!(waits.len(), GOOD_CLIENTS * BOOKINGS_EACH);
    let (_, body) = http_get(app.addr, "/api/schedule").await;
    let served: protocol::Schedule = serde_json::from_str(&body).unwrap();
    for replica in &replicas {
        assert!(replica.version().unwrap() <= served.version);
    }
}
