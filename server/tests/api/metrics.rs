//! `/metrics`: served on its own address (and not on the public one), behind
//! its token when one is set, and moving as a scenario over real sockets says
//! it should. The recorder is the process's, shared by every server this test
//! binary starts, so the checks compare what the scenario added with at least
//! what it did: other tests running meanwhile may add more, never less.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use client::{BookingReply, Client};
use protocol::{BookingFailure, ClientMessage, ServerMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::common::*;

/// A scrape of `/metrics`: every sample by its name and labels.
#[derive(Debug, Default)]
struct Scrape {
    samples: BTreeMap<(String, BTreeMap<String, String>), f64>,
    text: String,
}

impl Scrape {
    fn parse(text: String) -> Self {
        let mut samples = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("a label");
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            samples.insert((name.to_owned(), labels), value.parse().expect("a number"));
        }
        Self { samples, text }
    }

    /// The sum of the samples of `name` that carry all of `labels` (0 when
    /// there are none).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|((n, l), _)| {
                n == name && labels.iter().all(|(k, v)| l.get(*k).is_some_and(|have| have == v))
            })
            .map(|(_, v)| v)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        self.samples.keys().any(|(n, _)| n == name)
    }
}

/// A GET of `/metrics` at `addr`, with `token` as its bearer token.
async fn get_metrics(addr: SocketAddr, token: Option<&str>) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("the metrics listener answers");
    let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request =
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n{authorization}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).expect("UTF-8");
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    (status, body.to_owned())
}

async fn scrape(addr: SocketAddr) -> Scrape {
    let (status, body) = get_metrics(addr, None).await;
    assert_eq!(status, 200, "{body}");
    Scrape::parse(body)
}

/// A server whose `/metrics` is served at a free local address; the address.
async fn spawn_with_metrics(limits: server::Limits, token: Option<&str>) -> (TestApp, SocketAddr) {
    let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let options =
        Options { limits, metrics: Some((metrics, token.map(str::to_owned))), ..Options::default() };
    (spawn_with(options).await, metrics)
}

#[tokio::test]
async fn a_scenario_moves_the_counters_and_histograms_as_it_should() {
    let limits = server::Limits { connections_per_address: 3, ..test_limits() };
    let (app, metrics) = spawn_with_metrics(limits, None).await;
    let before = scrape(metrics).await;

    // Two pages; the first holds a slot and books it, the second tries the
    // same slot and is refused.
    let (mut first, schedule) = app.connect_with_state().await;
    let (mut second, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule);
    let request_id = first.request_id();
    let held = first.call(ClientMessage::Hold { request_id, slot_id: slot.id.clone() }).await.unwrap();
    assert!(matches!(held, ServerMessage::HoldResult { ok: true, .. }), "{held:?}");
    let booked = first.book(slot.id.clone(), patient()).await.unwrap();
    assert!(matches!(booked, BookingReply::Booked { .. }), "{booked:?}");
    let refused = second.book(slot.id.clone(), patient()).await.unwrap();
    assert_eq!(refused, BookingReply::Refused(BookingFailure::AlreadyBooked));
    second.send_raw(Message::text("{not json")).await.unwrap();
    // The updates of the hold and the booking come first.
    while !matches!(recv(&mut second).await, ServerMessage::Error { .. }) {}

    // A page that comes back holding the version it had resumes.
    let mut third = Client::connect_resuming(&app.ws_url(), schedule.version).await.unwrap();
    assert!(matches!(recv(&mut third).await, ServerMessage::Resumed { .. }));

    // A fourth page from the same address is one too many.
    assert!(Client::connect(&app.ws_url()).await.is_err(), "over the limit per address");

    // The first closes politely, the second sends more than a message may
    // hold and is closed by the server with 1009, the third vanishes.
    first
        .send_raw(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })))
        .await
        .unwrap();
    second.send_raw(Message::text("x".repeat(limits.max_message_bytes + 1))).await.unwrap();
    drop(third);

    // The closes are counted as the server notices them.
    let closed = |scrape: &Scrape, code: &str, by: &str| {
        scrape.get("booking_connections_closed_total", &[("code", code), ("by", by)])
            - before.get("booking_connections_closed_total", &[("code", code), ("by", by)])
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        let now = scrape(metrics).await;
        let counted = closed(&now, "1000", "client") >= 1.0
            && closed(&now, "1009", "server") >= 1.0
            && closed(&now, "gone", "client") >= 1.0;
        if counted || tokio::time::Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let added = |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);

    assert!(closed(&after, "1000", "client") >= 1.0, "the polite close:\n{}", after.text);
    assert!(closed(&after, "1009", "server") >= 1.0, "the message too large:\n{}", after.text);
    assert!(closed(&after, "gone", "client") >= 1.0, "the page that vanished:\n{}", after.text);
    assert!(added("booking_connections_total", &[]) >= 3.0);
    assert!(added("booking_connections_refused_total", &[("reason", "per_address")]) >= 1.0);
    assert!(added("booking_messages_received_total", &[("type", "hold")]) >= 1.0);
    assert!(added("booking_messages_received_total", &[("type", "challenge")]) >= 2.0);
    assert!(added("booking_messages_received_total", &[("type", "book")]) >= 2.0);
    assert!(added("booking_messages_received_total", &[("type", "invalid")]) >= 1.0);
    let attempts = "booking_attempts_total";
    assert!(added(attempts, &[("outcome", "booked"), ("via", "book")]) >= 1.0);
    assert!(added(attempts, &[("outcome", "alreadyBooked"), ("via", "book")]) >= 1.0);
    assert!(added("booking_resyncs_total", &[("kind", "resumed")]) >= 1.0);
    assert!(added("booking_resyncs_total", &[("kind", "full")]) >= 2.0);
    // The hold and the booking were each committed, and the booking went
    // through a group commit of one (alone, or with other tests' bookings).
    assert!(added("booking_commit_duration_seconds_count", &[]) >= 2.0);
    assert!(added("booking_commit_duration_seconds_sum", &[]) > 0.0);
    assert!(added("booking_commit_duration_seconds_bucket", &[("le", "+Inf")]) >= 2.0);
    assert!(added("booking_commit_batch_size_count", &[]) >= 2.0);
    assert!(added("booking_commit_batch_size_bucket", &[("le", "512")]) >= 2.0);
    assert!(added("booking_broadcasts_total", &[]) >= 2.0, "the hold and the booking were published");
    for gauge in ["booking_connections_open", "booking_engine_queue_depth", "booking_holds_live"] {
        assert!(after.has(gauge), "{gauge} is missing:\n{}", after.text);
    }
    for described in ["booking_commit_duration_seconds histogram", "booking_connections_closed_total counter"]
    {
        assert!(after.text.contains(&format!("# TYPE {described}")), "{described}:\n{}", after.text);
    }
    assert!(after.text.contains("# HELP booking_connections_refused_total"));
    drop(second);
}

#[tokio::test]
async fn metrics_are_not_served_on_the_public_listener() {
    let (app, metrics) = spawn_with_metrics(test_limits(), None).await;
    let _page = app.connect_with_state().await;
    let (status, body) = http_get(app.addr, "/metrics").await;
    assert_eq!(status, 404);
    assert!(!body.contains("booking_"), "{body}");
    let (status, body) = get_metrics(metrics, None).await;
    assert_eq!(status, 200);
    assert!(body.contains("# TYPE booking_connections_total counter"), "{body}");
}

#[tokio::test]
async fn a_metrics_token_is_asked_for_and_checked() {
    let token = "metrics-token-7d1e93c4b2a8f605";
    let (app, metrics) = spawn_with_metrics(test_limits(), Some(token)).await;
    let _page = app.connect_with_state().await;
    assert_eq!(get_metrics(metrics, None).await.0, 401);
    assert_eq!(get_metrics(metrics, Some("metrics-token-7d1e93c4b2a8f606")).await.0, 401);
    let (status, body) = get_metrics(metrics, Some(token)).await;
    assert_eq!(status, 200);
    assert!(body.contains("# TYPE booking_connections_total counter"), "{body}");
}
