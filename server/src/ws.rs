//! The `/ws` endpoint. The handler only upgrades; `serve_connection` is the whole
//! life of one connection and is generic over the socket so it can be tested alone.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use protocol::{ClientMessage, ErrorCode, ServerMessage};
use tokio::sync::broadcast::error::RecvError;

use crate::engine::BookOutcome;
use crate::{AppState, secret, wire};

/// Close code for a client that fell too far behind its updates: it should
/// reconnect and start again from a fresh `initialState`.
const TOO_SLOW: u16 = close_code::AGAIN;

/// Upgrades `GET /ws` to a WebSocket connection.
pub async fn handler(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    let limit = state.limits.max_message_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket: WebSocket| serve_connection(socket, state))
}

/// Why a connection ends.
enum End {
    /// The peer closed or vanished; nothing more to send.
    Gone,
    /// The server ends it with this close frame.
    Close(u16, &'static str),
}

/// Serves one connection until it closes: first the current schedule, then every
/// change, and an answer to each message the client sends.
pub async fn serve_connection<S>(socket: S, state: AppState)
where
    S: Sink<Message> + Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let write_timeout = state.limits.write_timeout;
    // Subscribe before taking the snapshot: a change committed in between is then
    // both in the snapshot and in the queue, and the version check drops the copy.
    let mut updates = state.engine.subscribe();
    let snapshot = state.engine.snapshot();
    let mut version = snapshot.version();
    let mut shutdown = state.shutdown.clone();

    let end = 'conn: {
        if !send(&mut sink, Message::Text(snapshot.frame()), write_timeout).await {
            break 'conn End::Gone;
        }
        drop(snapshot);
        loop {
            tokio::select! {
                incoming = stream.next() => {
                    let reply = match incoming {
                        Some(Ok(Message::Text(text))) => handle_text(&text, &state).await,
                        Some(Ok(Message::Binary(_))) => Some(ServerMessage::Error {
                            code: ErrorCode::BinaryFrame,
                            message: "Binary frames are not supported; send JSON text frames.".into(),
                            request_id: None,
                        }),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                        Some(Ok(Message::Close(_))) | None => break 'conn End::Gone,
                        Some(Err(e)) if too_large(&e) => {
                            break 'conn End::Close(close_code::SIZE, "message too large");
                        }
                        Some(Err(_)) => break 'conn End::Gone,
                    };
                    if let Some(reply) = reply
                        && !send(&mut sink, Message::Text(wire::encode(&reply)), write_timeout).await
                    {
                        break 'conn End::Gone;
                    }
                }
                update = updates.recv() => match update {
                    Ok(update) if update.version <= version => {}
                    Ok(update) => {
                        version = update.version;
                        if !send(&mut sink, Message::Text(update.frame), write_timeout).await {
                            break 'conn End::Gone;
                        }
                    }
                    Err(RecvError::Lagged(_)) => break 'conn End::Close(TOO_SLOW, "too slow; reconnect"),
                    Err(RecvError::Closed) => break 'conn End::Close(close_code::AWAY, "server stopping"),
                },
                () = stopping(&mut shutdown) => {
                    break 'conn End::Close(close_code::AWAY, "server stopping");
                }
            }
        }
    };
    if let End::Close(code, reason) = end {
        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        send(&mut sink, Message::Close(Some(frame)), write_timeout).await;
    }
}

/// Resolves once the server starts shutting down.
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // An error means the server is gone altogether, which is stopping too.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Sends one message; `false` when the peer is gone or does not read in time.
async fn send<S: Sink<Message> + Unpin>(sink: &mut S, message: Message, timeout: Duration) -> bool {
    matches!(tokio::time::timeout(timeout, sink.send(message)).await, Ok(Ok(())))
}

/// Whether a read failed because the message was over the size limit.
fn too_large(error: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(WsError::Capacity(_)) = e.downcast_ref::<WsError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Carries out one text frame and returns the reply for its sender, if any.
async fn handle_text(text: &str, state: &AppState) -> Option<ServerMessage> {
    let message = match wire::decode(text) {
        Ok(message) => message,
        Err(rejection) => return Some(rejection.into_message()),
    };
    match message {
        ClientMessage::Book { request_id, slot_id, patient } => {
            let outcome = state.engine.book(slot_id, patient, request_id.clone()).await;
            Some(match outcome {
                Ok(BookOutcome::Booked(code)) => ServerMessage::BookingResult {
                    request_id,
                    ok: true,
                    booking_code: Some(code),
                    reason: None,
                },
                Ok(BookOutcome::Refused(reason)) => ServerMessage::BookingResult {
                    request_id,
                    ok: false,
                    booking_code: None,
                    reason: Some(reason),
                },
                Err(e) => {
                    tracing::error!(error = %e, "booking failed");
                    ServerMessage::Error {
                        code: e.code(),
                        message: e.public_message().into(),
                        request_id: Some(request_id),
                    }
                }
            })
        }
        ClientMessage::Reset { admin_token } => {
            if !secret::same(&admin_token, &state.admin_token) {
                tracing::warn!("reset refused: wrong admin token");
                return Some(ServerMessage::Error {
                    code: ErrorCode::Forbidden,
                    message: "The admin token is not valid.".into(),
                    request_id: None,
                });
            }
            // Everyone, this client included, receives the new `initialState`.
            state.engine.reset().await.err().map(|e| {
                tracing::error!(error = %e, "reset failed");
                ServerMessage::Error { code: e.code(), message: e.public_message().into(), request_id: None }
            })
        }
    }
}
