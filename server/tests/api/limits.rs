//! The limits that keep one client or one site from harming the rest: the number
//! of connections, pages of other sites, and dead peers.

use std::time::Duration;

use crate::common::*;
use client::tungstenite::Error as WsError;
use client::{Client, ConnectOptions, Error};

async fn connect_as(app: &TestApp, origin: Option<&'static str>) -> Result<Client, Error> {
    Client::connect_with(&app.ws_url(), ConnectOptions { origin, ..ConnectOptions::default() }).await
}

fn http_status(result: Result<Client, Error>) -> Option<u16> {
    match result {
        Err(Error::WebSocket(WsError::Http(response))) => Some(response.status().as_u16()),
        _ => None,
    }
}

#[tokio::test]
async fn connections_over_the_limit_are_refused_with_503_before_the_upgrade() {
    let mut options = Options::default();
    options.limits.max_connections = 3;
    let app = spawn_with(options).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(app.connect_with_state().await.0);
    }

    assert_eq!(http_status(connect_as(&app, None).await), Some(503));

    drop(held.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while connect_as(&app, None).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "a freed place is taken again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn pages_of_other_sites_are_refused_unless_allowed() {
    let app =
        spawn_with(Options { allowed_origins: vec!["https://clinic.example".into()], ..Options::default() })
            .await;
    let own: &'static str = Box::leak(format!("http://{}", app.addr).into_boxed_str());

    assert_eq!(http_status(connect_as(&app, Some("https://evil.example")).await), Some(403));
    assert_eq!(
        http_status(connect_as(&app, Some("http://clinic.example")).await),
        Some(403),
        "scheme counts"
    );
    assert!(connect_as(&app, Some("https://clinic.example")).await.is_ok());
    assert!(connect_as(&app, Some(own)).await.is_ok(), "the server's own pages");
    assert!(connect_as(&app, None).await.is_ok(), "programs that send no Origin");
}

#[tokio::test]
async fn a_peer_that_answers_no_ping_is_dropped_and_a_live_one_stays() {
    let mut options = Options::default();
    options.limits.idle_timeout = Duration::from_millis(600);
    let app = spawn_with(options).await;
    let dead = tokio::spawn(close_code_of_a_silent_peer(app.addr, None));
    let (mut live, _) = app.connect_with_state().await;

    // Reading answers pings (the client library sends the pongs), until the
    // silent peer is gone.
    let (gone, mut until_gone) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        tokio::select! {
            message = live.recv() => panic!("nothing but pings arrives: {message:?}"),
            _ = &mut until_gone => live,
        }
    });
    let code = dead.await.unwrap();
    gone.send(()).unwrap();

    assert_eq!(code, 1001, "the silent peer is closed as gone");
    let mut live = reader.await.unwrap();
    let (mut other, schedule) = app.connect_with_state().await;
    other.book(free_future_slot(&schedule).id, patient()).await.unwrap();
    assert!(matches!(recv(&mut live).await, protocol::ServerMessage::Update { .. }), "still connected");
}

#[tokio::test]
async fn a_flood_gets_rate_limited_and_a_sustained_one_is_closed_with_1008() {
    let mut options = Options::default();
    options.limits.messages_per_sec = 5;
    let app = spawn_with(options).await;
    let (mut flooder, _) = app.connect_with_state().await;
    let (mut bystander, schedule) = app.connect_with_state().await;

    let junk = || client::tungstenite::Message::text("{\"type\":\"nothing\",\"payload\":{}}");
    for _ in 0..10 {
        flooder.send_raw(junk()).await.unwrap();
    }
    flooder.send_raw(junk()).await.unwrap();
    let mut codes = Vec::new();
    for _ in 0..11 {
        if let protocol::ServerMessage::Error { code, .. } = recv(&mut flooder).await {
            codes.push(code);
        }
    }
    assert_eq!(
        codes.iter().filter(|c| **c == protocol::ErrorCode::UnknownType).count(),
        10,
        "the burst is served"
    );
    assert_eq!(codes.last(), Some(&protocol::ErrorCode::RateLimited));

    let closed = loop {
        if flooder.send_raw(junk()).await.is_err() {
            break flooder.recv().await;
        }
        match tokio::time::timeout(Duration::from_millis(1), flooder.recv()).await {
            Ok(Err(e)) => break Err(e),
            _ => continue,
        }
    };
    assert!(matches!(closed, Err(Error::Closed { code: Some(1008), .. })), "{closed:?}");
    let reply = bystander.book(free_future_slot(&schedule).id, patient()).await.unwrap();
    assert!(matches!(reply, client::BookingReply::Booked { .. }), "others are unaffected");
}

#[tokio::test]
async fn guessing_manage_links_is_stopped_for_the_address_and_staff_logins_counted_apart() {
    let mut options = Options::default();
    options.limits.failed_secrets_per_min = 5;
    let app = spawn_with(options).await;
    let (mut owner, schedule) = app.connect_with_state().await;
    let token = match owner.book(free_future_slot(&schedule).id, patient()).await.unwrap() {
        client::BookingReply::Booked { manage_token: Some(token), .. } => token,
        other => panic!("{other:?}"),
    };
    let mut guesser = app.connect_ws().await;

    for i in 0..5 {
        let request_id = guesser.request_id();
        let guess = format!("{:064x}", i);
        let reply =
            guesser.call(protocol::ClientMessage::Lookup { request_id, manage_token: guess }).await.unwrap();
        assert!(matches!(reply, protocol::ServerMessage::ActionResult { ok: false, .. }), "{reply:?}");
    }
    // A new connection from the same address does not start afresh, and even
    // the right secret is not checked for now.
    let mut again = app.connect_ws().await;
    let request_id = again.request_id();
    let reply =
        again.call(protocol::ClientMessage::Lookup { request_id, manage_token: token }).await.unwrap();
    assert!(
        matches!(reply, protocol::ServerMessage::Error { code: protocol::ErrorCode::RateLimited, .. }),
        "{reply:?}"
    );
    // Staff logins have a budget of their own: this one is still checked.
    again
        .send(&protocol::ClientMessage::StaffLogin {
            request_id: "login".into(),
            name: "admin".into(),
            password: "wrong".into(),
        })
        .await
        .unwrap();
    let reply = loop {
        if let error @ protocol::ServerMessage::Error { .. } = recv(&mut again).await {
            break error;
        }
    };
    assert!(matches!(reply, protocol::ServerMessage::Error { code: protocol::ErrorCode::Forbidden, .. }));
}

#[tokio::test]
async fn moving_a_booking_to_a_slot_that_does_not_exist_is_not_counted_as_a_guess() {
    let mut options = Options::default();
    options.limits.failed_secrets_per_min = 2;
    let app = spawn_with(options).await;
    let (mut owner, schedule) = app.connect_with_state().await;
    let token = match owner.book(free_future_slot(&schedule).id, patient()).await.unwrap() {
        client::BookingReply::Booked { manage_token: Some(token), .. } => token,
        other => panic!("{other:?}"),
    };

    for _ in 0..5 {
        let request_id = owner.request_id();
        let manage_token = token.clone();
        let slot_id = protocol::SlotId("therapist-19990101-0900".into());
        let reply = owner
            .call(protocol::ClientMessage::Reschedule { request_id, manage_token, slot_id })
            .await
            .unwrap();
        assert!(
            matches!(
                reply,
                protocol::ServerMessage::ActionResult {
                    ok: false,
                    reason: Some(protocol::BookingFailure::NotFound),
                    ..
                }
            ),
            "{reply:?}"
        );
    }

    let request_id = owner.request_id();
    let reply =
        owner.call(protocol::ClientMessage::Lookup { request_id, manage_token: token }).await.unwrap();
    assert!(
        matches!(reply, protocol::ServerMessage::Booking { .. }),
        "the patient is not locked out: {reply:?}"
    );
}
