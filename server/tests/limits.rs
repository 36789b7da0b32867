//! The limits that keep one client or one site from harming the rest: the number
//! of connections, pages of other sites, and dead peers.

mod common;

use std::time::Duration;

use client::tungstenite::Error as WsError;
use client::{Client, ConnectOptions, Error};
use common::*;

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
    let (mut dead, _) = app.connect_with_state().await;
    let (mut live, _) = app.connect_with_state().await;

    // Reading answers pings (the client library sends the pongs); not reading
    // for a while leaves them unanswered.
    let reader = tokio::spawn(async move {
        let quiet = tokio::time::timeout(Duration::from_millis(1500), live.recv()).await;
        assert!(quiet.is_err(), "nothing but pings arrives: {quiet:?}");
        live
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let closed = tokio::time::timeout(Duration::from_secs(2), dead.recv()).await.expect("an answer");

    assert!(
        matches!(closed, Err(Error::Closed { code: Some(1001), .. }) | Err(Error::WebSocket(_))),
        "{closed:?}"
    );
    let mut live = reader.await.unwrap();
    let (mut other, schedule) = app.connect_with_state().await;
    other.book(free_future_slot(&schedule).id, patient()).await.unwrap();
    assert!(matches!(recv(&mut live).await, protocol::ServerMessage::Update { .. }), "still connected");
}
