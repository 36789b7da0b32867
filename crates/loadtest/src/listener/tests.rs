//! A listener against a scripted server on an in-memory pipe: the handshake, a
//! fragmented `initialState`, updates in and out of order, a `ping`, the close
//! and the stop signal.

use std::time::{Duration, Instant};

use protocol::{Clinic, DoctorId, Schedule, ServerMessage, Slot, SlotId, SlotStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

use super::*;
use crate::floor::text_frame;

const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

fn slot(id: &str) -> Slot {
    Slot {
        id: SlotId(id.into()),
        doctor_id: DoctorId("d01".into()),
        start: "2025-12-01T09:30:00Z".parse().unwrap(),
        end: "2025-12-01T09:45:00Z".parse().unwrap(),
        status: SlotStatus::Booked,
        held_until: None,
    }
}

/// A real `initialState` of `version`, large enough to need many fragments.
fn initial_state(version: u64) -> String {
    let clinic = Clinic {
        name: "Benchmark Clinic".into(),
        time_zone: "UTC".into(),
        min_notice_minutes: 0,
        hold_seconds: 300,
        hold_extensions: 2,
        offer_seconds: 600,
        default_language: "en".into(),
        names: Default::default(),
    };
    let slots = (0..100).map(|i| slot(&format!("d01-{i}"))).collect();
    let schedule = Schedule { version, clinic, doctors: Vec::new(), slots };
    serde_json::to_string(&ServerMessage::InitialState(schedule)).unwrap()
}

/// `text` sent as continuation fragments of `size` bytes, as the server sends
/// a large message.
fn fragmented(text: &str, size: usize) -> Vec<u8> {
    let chunks: Vec<&str> = text.as_bytes().chunks(size).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let mut bytes = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut frame = text_frame(chunk);
        let fin = if i + 1 == chunks.len() { 0x80 } else { 0 };
        frame[0] = fin | if i == 0 { 0x01 } else { 0x00 };
        bytes.extend(frame);
    }
    bytes
}

fn update(version: u64, id: &str) -> Vec<u8> {
    text_frame(&serde_json::to_string(&ServerMessage::Update { version, slot: slot(id) }).unwrap())
}

/// Reads the listener's handshake request on the server's end and checks it.
async fn read_request(server: &mut DuplexStream) -> String {
    let mut request = Vec::new();
    while !request.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        server.read_exact(&mut byte).await.unwrap();
        request.push(byte[0]);
    }
    String::from_utf8(request).unwrap()
}

fn send_times(slots: &[&str]) -> Arc<SendTimes> {
    Arc::new(SendTimes {
        epoch: Instant::now(),
        index: slots.iter().enumerate().map(|(i, s)| (s.as_bytes().into(), i)).collect(),
        sent_us: slots.iter().map(|_| AtomicU64::new(0)).collect(),
    })
}

#[tokio::test]
async fn a_listener_joins_the_initial_state_counts_updates_and_answers_a_ping() {
    let (client, mut server) = duplex(1 << 20);
    let handshake = tokio::spawn(Listener::handshake(client, "127.0.0.1:8080", "/ws"));
    let request = read_request(&mut server).await;
    assert!(request.starts_with("GET /ws HTTP/1.1\r\n"), "{request}");
    for header in
        ["Host: 127.0.0.1:8080", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"]
    {
        assert!(request.contains(&format!("\r\n{header}\r\n")), "{request}");
    }
    // The response's head arrives in two pieces, and the first frames with its end.
    let state = initial_state(41);
    assert!(state.len() > 8 * 1024);
    server.write_all(&RESPONSE[..20]).await.unwrap();
    server.write_all(&[&RESPONSE[20..], &fragmented(&state, 2048)[..]].concat()).await.unwrap();
    let mut listener = handshake.await.unwrap().unwrap();
    assert_eq!(listener.initial_version().await.unwrap(), 41);

    let times = send_times(&["a", "b"]);
    times.mark(0);
    let (stop_tx, stop) = watch::channel(false);
    let delivered = Arc::new(AtomicU64::new(0));
    let listening = tokio::spawn(listener.listen(41, times, stop, delivered.clone()));
    let resumed = text_frame(&serde_json::to_string(&ServerMessage::Resumed { version: 1 }).unwrap());
    let ping = [0x89, 2, b'h', b'b'];
    server.write_all(&[&update(42, "a")[..], &ping, &resumed, &update(44, "b")].concat()).await.unwrap();

    // The pong is masked and carries the ping's payload.
    let mut pong = [0; 8];
    server.read_exact(&mut pong).await.unwrap();
    assert_eq!(pong[..2], [0x8a, 0x82]);
    let unmasked: Vec<u8> = pong[6..].iter().zip(&pong[2..6]).map(|(b, m)| b ^ m).collect();
    assert_eq!(unmasked, b"hb");

    server.write_all(&[0x88, 0]).await.unwrap();
    let stats = listening.await.unwrap();
    assert_eq!((stats.received, stats.gaps), (2, 1));
    assert_eq!(delivered.load(Ordering::Acquire), 2);
    // Only slot `a` had its `book` sent.
    assert_eq!(stats.latencies_us.len(), 1);
    drop(stop_tx);
}

#[tokio::test]
async fn an_update_is_timed_from_its_book_to_its_arrival() {
    let (client, mut server) = duplex(1 << 20);
    let handshake = tokio::spawn(Listener::handshake(client, "127.0.0.1:8080", "/ws"));
    read_request(&mut server).await;
    server.write_all(&[RESPONSE, &text_frame(&initial_state(1))[..]].concat()).await.unwrap();
    let mut listener = handshake.await.unwrap().unwrap();
    listener.initial_version().await.unwrap();
    let times = send_times(&["a", "b"]);
    let (stop_tx, stop) = watch::channel(false);
    let listening = tokio::spawn(listener.listen(1, times.clone(), stop, Arc::new(AtomicU64::new(0))));
    // The listener waits for its next read meanwhile: the clock is read when
    // the update comes, not when the last read ended.
    for (version, slot) in [(2, "a"), (3, "b")] {
        tokio::time::sleep(Duration::from_millis(20)).await;
        times.mark(usize::from(slot == "b"));
        tokio::time::sleep(Duration::from_millis(30)).await;
        server.write_all(&update(version, slot)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    stop_tx.send(true).unwrap();
    let stats = listening.await.unwrap();
    assert_eq!(stats.latencies_us.len(), 2);
    for us in stats.latencies_us {
        assert!((30_000..1_000_000).contains(&us), "{us} µs");
    }
}

#[tokio::test]
async fn updates_that_came_with_the_initial_state_are_counted() {
    let (client, mut server) = duplex(1 << 20);
    let handshake = tokio::spawn(Listener::handshake(client, "h", "/ws"));
    read_request(&mut server).await;
    let bytes =
        [RESPONSE, text_frame(&initial_state(7)).as_slice(), &update(8, "a"), &update(9, "a")].concat();
    server.write_all(&bytes).await.unwrap();
    let mut listener = handshake.await.unwrap().unwrap();
    assert_eq!(listener.initial_version().await.unwrap(), 7);

    let (stop_tx, stop) = watch::channel(false);
    let delivered = Arc::new(AtomicU64::new(0));
    let listening = tokio::spawn(listener.listen(7, send_times(&["a"]), stop, delivered.clone()));
    while delivered.load(Ordering::Acquire) < 2 {
        tokio::task::yield_now().await;
    }
    stop_tx.send(true).unwrap();
    let stats = listening.await.unwrap();
    assert_eq!((stats.received, stats.gaps), (2, 0));
}

#[tokio::test]
async fn a_refused_upgrade_is_an_error() {
    let (client, mut server) = duplex(1 << 16);
    let handshake = tokio::spawn(Listener::handshake(client, "h", "/ws"));
    read_request(&mut server).await;
    server.write_all(b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 10\r\n\r\n").await.unwrap();
    let error = handshake.await.unwrap().err().unwrap().to_string();
    assert!(error.contains("429 Too Many Requests"), "{error}");
}

#[tokio::test]
async fn a_first_message_other_than_the_initial_state_is_an_error() {
    let (client, mut server) = duplex(1 << 16);
    let handshake = tokio::spawn(Listener::handshake(client, "h", "/ws"));
    read_request(&mut server).await;
    server.write_all(&[RESPONSE, &update(3, "a")].concat()).await.unwrap();
    let mut listener = handshake.await.unwrap().unwrap();
    assert!(listener.initial_version().await.is_err());
}
