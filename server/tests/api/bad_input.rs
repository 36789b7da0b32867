//! Bad input never panics and never harms anyone: each kind gets its typed error,
//! the same connection then books fine, and an oversized message closes only its
//! own connection with 1009; a client that stops reading is cut off without
//! delaying the others, and the kernel keeps nothing for it afterwards.

use std::time::Duration;

use crate::common::*;
use client::tungstenite::Message;
use client::{BookingReply, Error};
use futures_util::StreamExt;
use protocol::{ErrorCode, ServerMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn expect_error(client: &mut client::Client, frame: Message) -> (ErrorCode, Option<String>) {
    client.send_raw(frame).await.unwrap();
    match recv(client).await {
        ServerMessage::Error { code, request_id, .. } => (code, request_id),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn every_bad_input_gets_its_error_and_the_connection_then_books_fine() {
    let app = spawn_app().await;
    let (mut client, schedule) = app.connect_with_state().await;
    let (mut bystander, _) = app.connect_with_state().await;
    let cases = [
        ("{\"type\": \"book\", ", ErrorCode::InvalidJson),
        ("plain words", ErrorCode::InvalidJson),
        ("42", ErrorCode::InvalidMessage),
        ("{\"payload\": {}}", ErrorCode::InvalidMessage),
        ("{\"type\": \"cancelEverything\", \"payload\": {}}", ErrorCode::UnknownType),
        ("{\"type\": \"book\", \"payload\": {}}", ErrorCode::InvalidMessage),
        ("{\"type\": \"book\"}", ErrorCode::InvalidMessage),
        (
            "{\"type\": \"book\", \"payload\": {\"requestId\": 1, \"slotId\": [], \"patient\": null}}",
            ErrorCode::InvalidMessage,
        ),
        ("{\"type\": \"reset\", \"payload\": {\"adminToken\": 12}}", ErrorCode::InvalidMessage),
        ("{\"type\": \"reset\", \"payload\": {}}", ErrorCode::InvalidMessage),
    ];

    for (text, expected) in cases {
        let (code, _) = expect_error(&mut client, Message::text(text)).await;
        assert_eq!(code, expected, "for {text}");
    }
    let (code, _) = expect_error(&mut client, Message::binary(vec![1, 2, 3])).await;
    assert_eq!(code, ErrorCode::BinaryFrame);
    let (code, request_id) = expect_error(
        &mut client,
        Message::text(r#"{"type":"book","payload":{"requestId":"r-7","slotId":"x"}}"#),
    )
    .await;
    assert_eq!((code, request_id.as_deref()), (ErrorCode::InvalidMessage, Some("r-7")));

    let slot = free_future_slot(&schedule).id;
    let reply = client.book(slot, patient()).await.unwrap();
    assert!(matches!(reply, BookingReply::Booked { .. }), "{reply:?}");
    assert!(matches!(recv(&mut bystander).await, ServerMessage::Update { .. }));
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_only_that_connection_with_1009() {
    let app = spawn_app().await;
    let (mut offender, schedule) = app.connect_with_state().await;
    let (mut bystander, _) = app.connect_with_state().await;

    let huge = format!(r#"{{"type":"reset","payload":{{"adminToken":"{}"}}}}"#, "x".repeat(17 * 1024));
    offender.send_raw(Message::text(huge)).await.unwrap();

    match tokio::time::timeout(Duration::from_secs(5), offender.recv()).await.expect("closes in time") {
        Err(Error::Closed { code, .. }) => assert_eq!(code, Some(1009)),
        other => panic!("expected close 1009, got {other:?}"),
    }
    let reply = bystander.book(free_future_slot(&schedule).id, patient()).await.unwrap();
    assert!(matches!(reply, BookingReply::Booked { .. }));
}

#[tokio::test]
async fn a_client_that_cannot_keep_up_is_disconnected_without_delaying_the_others() {
    let mut options = Options::default();
    options.limits.outgoing_queue = 4;
    // Long enough that the stuck peer is cut off for falling behind, never for a
    // send that timed out.
    options.limits.write_timeout = Duration::from_secs(60);
    // The server's side of the socket gets the smallest send buffer the
    // kernel allows.
    options.limits.send_buffer = 1024;
    options.limits.messages_per_sec = 1000;
    let app = spawn_with(options).await;
    // A peer that reads nothing for now: what the server writes soon stays in
    // the server.
    let (client_side, served) = stuck_peer(&app, None).await;
    let mut stuck = tokio_tungstenite::WebSocketStream::from_raw_socket(
        client_side,
        tokio_tungstenite::tungstenite::protocol::Role::Client,
        None,
    )
    .await;
    let (mut booker, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;

    let slots: Vec<_> = free_future_slots(&schedule).take(40).map(|s| s.id.clone()).collect();
    for slot in slots {
        assert!(matches!(booker.book(slot, patient()).await.unwrap(), BookingReply::Booked { .. }));
    }
    for _ in 0..40 {
        assert!(matches!(recv(&mut watcher).await, ServerMessage::Update { .. }));
    }
    // The others got every update while the stuck peer took nothing: it did
    // not set their pace. Now it reads, and finds it fell too far behind.
    let mut updates = 0;
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stuck.next().await {
                Some(Ok(Message::Text(text))) if text.contains("\"update\"") => updates += 1,
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("stuck peer cut off");
    assert_eq!(close.map(|frame| u16::from(frame.code)), Some(1013));
    tokio::time::timeout(Duration::from_secs(10), served).await.expect("its connection ended").unwrap();
    assert!(updates < 40, "the stuck peer was cut off before receiving everything");
}

/// Reads `stream` to its end: `None` for an orderly one, else the error it
/// ended with.
async fn how_it_ends(stream: &mut tokio::net::TcpStream) -> Option<std::io::ErrorKind> {
    let mut buffer = vec![0; 64 * 1024];
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) => break None,
                Ok(_) => {}
                Err(e) => break Some(e.kind()),
            }
        }
    })
    .await
    .expect("the stream ends")
}

#[tokio::test]
async fn a_client_cut_off_for_not_reading_is_reset_so_the_kernel_drops_what_it_held_for_it() {
    let mut options = Options::default();
    options.limits.write_timeout = Duration::from_millis(300);
    options.limits.send_buffer = 1024;
    let app = spawn_with(options).await;
    // The schedule alone is more than both small buffers together hold: the
    // send stalls, and the connection ends when its write times out.
    let (mut client_side, served) = stuck_peer(&app, None).await;
    tokio::time::timeout(Duration::from_secs(10), served).await.expect("its connection ended").unwrap();

    // Only what reached the peer before the end is there; then the reset. A
    // plain close would have left the rest in the kernel, to be sent and read
    // up to an orderly end.
    assert_eq!(how_it_ends(&mut client_side).await, Some(std::io::ErrorKind::ConnectionReset));
}

#[tokio::test]
async fn a_client_that_leaves_without_reading_what_it_was_sent_leaves_nothing_behind() {
    let mut options = Options::default();
    options.limits.messages_per_sec = 1000;
    let app = spawn_with(options).await;
    let (mut booker, schedule) = app.connect_with_state().await;
    let slots: Vec<_> = free_future_slots(&schedule).take(200).map(|s| s.id.clone()).collect();
    for slot in slots {
        assert!(matches!(booker.book(slot, patient()).await.unwrap(), BookingReply::Booked { .. }));
    }
    // Two peers that read nothing come back from before those 200 updates:
    // their replay (about 40 KB) fills their small receive windows, and the
    // rest waits unsent in the server's kernel, which has room for it, so
    // nothing waits in the server itself. Their tasks read what they send
    // only once the replay is written.
    let (mut closing, closing_served) = stuck_peer(&app, Some(schedule.version)).await;
    let (mut half_closing, half_closing_served) = stuck_peer(&app, Some(schedule.version)).await;
    // And one that has room for everything: it leaves as politely, and gets
    // an orderly end.
    let (mut roomy, roomy_served) = served_peer(&app, Some(schedule.version), 1 << 20).await;

    // One says goodbye with a close frame (code 1000, masked with zeros), the
    // other shuts its side of the stream.
    let goodbye = [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8];
    closing.write_all(&goodbye).await.unwrap();
    half_closing.shutdown().await.unwrap();
    roomy.write_all(&goodbye).await.unwrap();
    for served in [closing_served, half_closing_served, roomy_served] {
        tokio::time::timeout(Duration::from_secs(10), served).await.expect("its connection ended").unwrap();
    }
    // The kernel kept nothing for either: left to it, their updates and a
    // close would have followed, up to an orderly end.
    assert_eq!(how_it_ends(&mut closing).await, Some(std::io::ErrorKind::ConnectionReset));
    assert_eq!(how_it_ends(&mut half_closing).await, Some(std::io::ErrorKind::ConnectionReset));
    assert_eq!(how_it_ends(&mut roomy).await, None, "the polite reader is not reset");
}
