//! Bad input never panics and never harms anyone: each kind gets its typed error,
//! the same connection then books fine, and an oversized message closes only its
//! own connection with 1009.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::common::*;
use client::tungstenite::{Error as WsError, Message};
use client::{BookingReply, Error};
use futures_util::{Sink, Stream};
use protocol::{ErrorCode, ServerMessage};
use tokio::sync::oneshot;

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

/// A socket whose peer reads nothing until `open` fires: no send completes before
/// that, and every send completes at once after it. What was sent is recorded;
/// nothing is ever received from it.
struct StuckPeer {
    open: Option<oneshot::Receiver<()>>,
    sent: Arc<Mutex<Vec<Message>>>,
}

impl Sink<Message> for StuckPeer {
    type Error = WsError;
    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if let Some(open) = self.open.as_mut() {
            if Pin::new(open).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.open = None;
        }
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        self.sent.lock().unwrap().push(item);
        Ok(())
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.poll_ready(cx)
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

impl Stream for StuckPeer {
    type Item = Result<Message, WsError>;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Pending
    }
}

#[tokio::test]
async fn a_client_that_cannot_keep_up_is_disconnected_without_delaying_the_others() {
    let mut options = Options::default();
    options.limits.outgoing_queue = 4;
    // Long enough that the stuck peer is cut off for falling behind, never for a
    // send that timed out.
    options.limits.write_timeout = Duration::from_secs(60);
    let app = spawn_with(options).await;
    let state = app.state();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let (open, opened) = oneshot::channel();
    let stuck = StuckPeer { open: Some(opened), sent: sent.clone() };
    let peer = server::ClientKey::of(std::net::Ipv4Addr::LOCALHOST.into());
    let stuck_connection = tokio::spawn(server::ws::serve_connection(stuck, state, peer, None));
    let (mut booker, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;

    let slots: Vec<_> = free_future_slots(&schedule).take(20).map(|s| s.id.clone()).collect();
    for slot in slots {
        assert!(matches!(booker.book(slot, patient()).await.unwrap(), BookingReply::Booked { .. }));
    }
    for _ in 0..20 {
        assert!(matches!(recv(&mut watcher).await, ServerMessage::Update { .. }));
    }
    // The others got every update while the stuck peer could take nothing: it
    // did not set their pace. Now it reads, and finds it fell too far behind.
    open.send(()).unwrap();

    tokio::time::timeout(Duration::from_secs(10), stuck_connection)
        .await
        .expect("stuck peer cut off")
        .unwrap();
    let sent = sent.lock().unwrap();
    let Some(Message::Close(Some(frame))) = sent.last() else { panic!("expected a close frame last") };
    assert_eq!(u16::from(frame.code), 1013);
    let updates = sent.iter().filter(|m| matches!(m, Message::Text(_))).count();
    assert!(updates < 20, "the stuck peer was cut off before receiving everything");
}
