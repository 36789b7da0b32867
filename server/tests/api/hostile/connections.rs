//! Connections: one address gets a few, refused before the upgrade while other
//! addresses are served, and every frame it sends counts against its rate,
//! pings included.

use client::tungstenite::{Error as WsError, Message};
use client::{ConnectOptions, Error};

use super::*;

#[tokio::test]
async fn one_address_gets_a_few_connections_and_the_rest_429_while_others_connect() {
    let app = spawn_defaults().await;
    let options = ConnectOptions { local_ip: Some(address(MALLORY)), ..ConnectOptions::default() };
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..600 {
        match Client::connect_with(&app.ws_url(), options).await {
            Ok(client) => open.push(client),
            Err(Error::WebSocket(WsError::Http(response))) => {
                assert_eq!(response.status().as_u16(), 429);
                refused += 1;
            }
            Err(e) => panic!("expected a connection or a 429, got {e}"),
        }
    }
    assert_eq!(open.len(), Limits::DEFAULT.connections_per_address);
    assert_eq!(refused, 600 - open.len());
    // Somebody else connects and books as usual.
    let mut patient = connect_from(&app, 13).await;
    let slot = bookable(&app).await[0].clone();
    assert!(matches!(patient.book(slot, someone(1)).await.unwrap(), client::BookingReply::Booked { .. }));
    // A closed connection frees its place.
    drop(open.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while Client::connect_with(&app.ws_url(), options).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "a freed place is taken again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_flood_of_pings_is_cut_off_like_any_other_flood() {
    let app = spawn_defaults().await;
    let mut flooder = connect_from(&app, MALLORY).await;
    for _ in 0..500 {
        if flooder.send_raw(Message::Ping(Default::default())).await.is_err() {
            break;
        }
    }
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(5), flooder.recv()).await.expect("closed in time") {
            Ok(_) => {}
            Err(Error::Closed { code, .. }) => break code,
            Err(e) => panic!("expected a close frame, got {e}"),
        }
    };
    assert_eq!(code, Some(1008));
}
