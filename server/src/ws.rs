//! The `/ws` endpoint. The handler only upgrades; `serve_connection` is the whole
//! life of one connection and is generic over the socket so it can be tested alone.
//!
//! The upgrade is done here rather than by axum's extractor so that each
//! connection gets small buffers (a few KiB instead of 128 KiB) and so that the
//! large `initialState` can be sent as fragments: the socket's write buffer keeps
//! the capacity of the largest frame it ever held, for as long as the connection
//! lives.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use hyper_util::rt::TokioIo;
use protocol::{BookingFailure, ClientMessage, ErrorCode, ServerMessage, Version};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::engine::{BookOutcome, ConnId, StaffAction};
use crate::limits::Bucket;
use crate::{AppState, secret, wire};

/// Close code for a client that fell too far behind its updates: it should
/// reconnect and start again from a fresh `initialState`.
const TOO_SLOW: u16 = 1013;
/// Close code for a message over the size limit.
const TOO_BIG: u16 = 1009;
/// Close code for a server going away.
const GOING_AWAY: u16 = 1001;
/// Close code for a client that breaks the rules (here: keeps flooding).
const POLICY: u16 = 1008;

/// Largest fragment of a long message, and the most update bytes gathered into
/// one write; this bounds what a connection's write buffer ever holds.
const CHUNK: usize = 2048;
/// The most update bytes gathered into one write when updates queue up.
const BATCH: usize = 4096;
/// Read buffer per connection; clients send little and rarely.
const READ_BUFFER: usize = 2048;

/// Counts a connection for as long as it lives.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Whether a page of `origin` may open a connection: this server's own host, a
/// configured origin, or no `Origin` at all (not a browser). This stops other
/// sites' pages from using a visitor's browser against the server (cross-site
/// WebSocket hijacking).
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let own = origin.split_once("://").is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host));
    own || allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Upgrades `GET /ws` to a WebSocket connection.
pub async fn handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
) -> Response {
    let Some(accept) = handshake_accept(request.method(), request.headers()) else {
        return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade (RFC 6455)").into_response();
    };
    if !origin_allowed(request.headers(), &state.allowed_origins) {
        tracing::warn!(origin = ?request.headers().get(header::ORIGIN), "refused a page of another site");
        return (StatusCode::FORBIDDEN, "this origin may not connect").into_response();
    }
    // Counted before the upgrade, so that a flood of handshakes cannot overshoot.
    let open = state.open_connections.fetch_add(1, Ordering::AcqRel);
    let counted = Counted(state.open_connections.clone());
    if open >= state.limits.max_connections {
        tracing::warn!(open, "refused a connection: at the limit");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections; try again shortly").into_response();
    }
    let Some(on_upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return (StatusCode::BAD_REQUEST, "this connection cannot be upgraded").into_response();
    };
    let limit = state.limits.max_message_bytes;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    tokio::spawn(async move {
        let _counted = counted;
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                        .await;
                serve_connection(socket, state, peer.ip()).await;
            }
            Err(e) => tracing::debug!(error = %e, "upgrade failed"),
        }
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// The `Sec-WebSocket-Accept` value for a valid upgrade request, or `None`.
fn handshake_accept(method: &Method, headers: &HeaderMap) -> Option<String> {
    let has = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
        })
    };
    let version_ok = headers.get(header::SEC_WEBSOCKET_VERSION).is_some_and(|v| v == "13");
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    (method == Method::GET
        && has(header::CONNECTION, "upgrade")
        && has(header::UPGRADE, "websocket")
        && version_ok)
        .then(|| derive_accept_key(key.as_bytes()))
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
pub async fn serve_connection<S>(socket: S, state: AppState, peer: IpAddr)
where
    S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let write_timeout = state.limits.write_timeout;
    let mut conn = Conn {
        id: state.next_connection.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        peer,
        staff_version: None,
        staff_presence: None,
    };
    let mut bucket = Bucket::new(state.limits.messages_per_sec);
    // Subscribe before taking the snapshot: a change committed in between is then
    // both in the snapshot and in the queue, and the version check drops the copy.
    let mut updates = state.engine.subscribe();
    let snapshot = state.engine.snapshot();
    let mut version = snapshot.version();
    let mut shutdown = state.shutdown.clone();
    let idle_timeout = state.limits.idle_timeout;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + idle_timeout / 3, idle_timeout / 3);
    let mut last_heard = Instant::now();

    let end = 'conn: {
        if !Box::pin(send_fragmented(&mut sink, snapshot.frame(), write_timeout)).await {
            break 'conn End::Gone;
        }
        drop(snapshot);
        loop {
            tokio::select! {
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    let data = matches!(incoming, Some(Ok(Message::Text(_) | Message::Binary(_))));
                    if data && !bucket.take() {
                        if bucket.abused() {
                            tracing::warn!(%peer, "closing a connection that keeps flooding");
                            break 'conn End::Close(POLICY, "too many messages");
                        }
                        let slow_down = ServerMessage::Error {
                            code: ErrorCode::RateLimited,
                            message: "Too many messages; slow down.".into(),
                            request_id: None,
                        };
                        if !timed(write_timeout, sink.send(Message::Text(wire::encode(&slow_down)))).await {
                            break 'conn End::Gone;
                        }
                        continue;
                    }
                    let reply = match incoming {
                        // Boxed: an idle connection then does not carry the space of
                        // a request's future for all its life.
                        Some(Ok(Message::Text(text))) => Box::pin(conn.handle_text(&text, &state)).await,
                        Some(Ok(Message::Binary(_))) => Some(ServerMessage::Error {
                            code: ErrorCode::BinaryFrame,
                            message: "Binary frames are not supported; send JSON text frames.".into(),
                            request_id: None,
                        }),
                        // The socket queues the pong itself; flushing sends it now.
                        Some(Ok(Message::Ping(_))) => {
                            if !timed(write_timeout, sink.flush()).await {
                                break 'conn End::Gone;
                            }
                            None
                        }
                        Some(Ok(Message::Pong(_) | Message::Frame(_))) => None,
                        Some(Ok(Message::Close(_))) | None => break 'conn End::Gone,
                        Some(Err(WsError::Capacity(_))) => break 'conn End::Close(TOO_BIG, "message too large"),
                        Some(Err(_)) => break 'conn End::Gone,
                    };
                    if let Some(reply) = reply
                        && !timed(write_timeout, sink.send(Message::Text(wire::encode(&reply)))).await
                    {
                        break 'conn End::Gone;
                    }
                }
                update = updates.recv() => {
                    let mut next = update;
                    let mut batched = 0;
                    // Gather what is already queued into one write.
                    loop {
                        match next {
                            Ok(update) if update.version <= version => {}
                            Ok(update) => {
                                version = update.version;
                                let staff = update.staff.filter(|_| conn.staff_version.is_some_and(|v| update.version > v));
                                for frame in std::iter::once(update.frame).chain(staff) {
                                    batched += frame.len();
                                    let sent = if frame.len() > CHUNK {
                                        // A whole new schedule: out with what is gathered,
                                        // then the schedule in fragments.
                                        timed(write_timeout, sink.flush()).await
                                            && Box::pin(send_fragmented(&mut sink, frame, write_timeout)).await
                                    } else {
                                        timed(write_timeout, sink.feed(Message::Text(frame))).await
                                    };
                                    if !sent {
                                        break 'conn End::Gone;
                                    }
                                }
                            }
                            Err(RecvError::Lagged(_)) => break 'conn End::Close(TOO_SLOW, "too slow; reconnect"),
                            Err(RecvError::Closed) => break 'conn End::Close(GOING_AWAY, "server stopping"),
                        }
                        if batched >= BATCH {
                            break;
                        }
                        next = match updates.try_recv() {
                            Ok(update) => Ok(update),
                            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                            Err(TryRecvError::Closed) => Err(RecvError::Closed),
                            Err(TryRecvError::Empty) => break,
                        };
                    }
                    if !timed(write_timeout, sink.flush()).await {
                        break 'conn End::Gone;
                    }
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > idle_timeout {
                        tracing::debug!(conn = conn.id, "dropping a silent connection");
                        break 'conn End::Close(GOING_AWAY, "idle timeout");
                    }
                    if !timed(write_timeout, sink.send(Message::Ping(Bytes::new()))).await {
                        break 'conn End::Gone;
                    }
                }
                () = stopping(&mut shutdown) => break 'conn End::Close(GOING_AWAY, "server stopping"),
            }
        }
    };
    // Whatever this connection held is free for others again.
    let _ = state.engine.gone(conn.id).await;
    if let End::Close(code, reason) = end {
        let frame = CloseFrame { code: CloseCode::from(code), reason: Utf8Bytes::from_static(reason) };
        timed(write_timeout, sink.send(Message::Close(Some(frame)))).await;
    }
}

/// Sends one text message, as fragments of at most `CHUNK` bytes when it is
/// longer, each fully written before the next, so the socket's write buffer never
/// grows beyond one fragment.
async fn send_fragmented<S>(sink: &mut S, text: Utf8Bytes, timeout: Duration) -> bool
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    if text.len() <= CHUNK {
        return timed(timeout, sink.send(Message::Text(text))).await;
    }
    let bytes = Bytes::from(text);
    let mut start = 0;
    while start < bytes.len() {
        let end = (start + CHUNK).min(bytes.len());
        let opcode = if start == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
        let frame = Frame::message(bytes.slice(start..end), opcode, end == bytes.len());
        if !timed(timeout, sink.send(Message::Frame(frame))).await {
            return false;
        }
        start = end;
    }
    true
}

/// Resolves once the server starts shutting down.
async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // An error means the server is gone altogether, which is stopping too.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Runs one socket operation; `false` when it failed or took longer than `timeout`
/// (a peer that does not read).
async fn timed<F: Future<Output = Result<(), WsError>>>(timeout: Duration, operation: F) -> bool {
    matches!(tokio::time::timeout(timeout, operation).await, Ok(Ok(())))
}

/// One connection's own state.
struct Conn {
    id: ConnId,
    /// The peer's address, for limiting guesses of secrets.
    peer: IpAddr,
    /// Set once the connection logged in as staff: the version its staff state
    /// was taken at; later staff updates are sent to it.
    staff_version: Option<Version>,
    /// Keeps staff frames being made while this console is connected.
    staff_presence: Option<crate::hub::StaffPresence>,
}

impl Conn {
    /// Carries out one text frame and returns the reply for its sender, if any.
    async fn handle_text(&mut self, text: &str, state: &AppState) -> Option<ServerMessage> {
        let message = match wire::decode(text) {
            Ok(message) => message,
            Err(rejection) => return Some(rejection.into_message()),
        };
        let request_id = message.request_id().map(str::to_owned);
        match self.handle(message, state).await {
            Ok(reply) => reply,
            Err(e) => {
                tracing::error!(error = %e, "request failed");
                Some(ServerMessage::Error { code: e.code(), message: e.public_message().into(), request_id })
            }
        }
    }

    async fn handle(
        &mut self,
        message: ClientMessage,
        state: &AppState,
    ) -> crate::Result<Option<ServerMessage>> {
        let guessing = matches!(
            message,
            ClientMessage::Lookup { .. }
                | ClientMessage::Cancel { .. }
                | ClientMessage::Reschedule { .. }
                | ClientMessage::Reset { .. }
                | ClientMessage::StaffLogin { .. }
        );
        if guessing && !state.guesses.allowed(self.peer) {
            tracing::warn!(peer = %self.peer, "refused a secret unchecked: too many wrong ones");
            return Ok(Some(ServerMessage::Error {
                code: ErrorCode::RateLimited,
                message: "Too many wrong links or tokens from this address; try again in a minute.".into(),
                request_id: message.request_id().map(str::to_owned),
            }));
        }
        let reply = self.carry_out(message, state).await?;
        let wrong_secret = match &reply {
            Some(ServerMessage::ActionResult {
                ok: false, reason: Some(BookingFailure::NotFound), ..
            }) => guessing,
            Some(ServerMessage::Error { code: ErrorCode::Forbidden, .. }) => guessing,
            _ => false,
        };
        if wrong_secret {
            state.guesses.failed(self.peer);
        }
        Ok(reply)
    }

    async fn carry_out(
        &mut self,
        message: ClientMessage,
        state: &AppState,
    ) -> crate::Result<Option<ServerMessage>> {
        let engine = &state.engine;
        let action = |request_id, result: Result<(), BookingFailure>| ServerMessage::ActionResult {
            request_id,
            ok: result.is_ok(),
            reason: result.err(),
        };
        Ok(Some(match message {
            ClientMessage::Book { request_id, slot_id, patient } => {
                match engine.book(self.id, slot_id, patient, request_id.clone()).await? {
                    BookOutcome::Booked(code, manage_token) => ServerMessage::BookingResult {
                        request_id,
                        ok: true,
                        booking_code: Some(code),
                        manage_token,
                        reason: None,
                    },
                    BookOutcome::Refused(reason) => ServerMessage::BookingResult {
                        request_id,
                        ok: false,
                        booking_code: None,
                        manage_token: None,
                        reason: Some(reason),
                    },
                }
            }
            ClientMessage::Hold { request_id, slot_id } => match engine.hold(self.id, slot_id).await? {
                Ok(until) => {
                    ServerMessage::HoldResult { request_id, ok: true, expires_at: Some(until), reason: None }
                }
                Err(reason) => ServerMessage::HoldResult {
                    request_id,
                    ok: false,
                    expires_at: None,
                    reason: Some(reason),
                },
            },
            ClientMessage::Release { slot_id } => {
                engine.release(self.id, slot_id).await?;
                return Ok(None);
            }
            ClientMessage::Lookup { request_id, manage_token } => match engine.lookup(manage_token).await? {
                Ok(booking) => ServerMessage::Booking { request_id, booking },
                Err(reason) => action(request_id, Err(reason)),
            },
            ClientMessage::Cancel { request_id, manage_token } => {
                action(request_id, engine.cancel(manage_token).await?)
            }
            ClientMessage::Reschedule { request_id, manage_token, slot_id } => {
                match engine.reschedule(self.id, manage_token, slot_id).await? {
                    Ok(booking) => ServerMessage::Booking { request_id, booking },
                    Err(reason) => action(request_id, Err(reason)),
                }
            }
            ClientMessage::Reset { admin_token } => {
                if !secret::same(&admin_token, &state.admin_token) {
                    tracing::warn!("reset refused: wrong admin token");
                    return Ok(Some(forbidden(None)));
                }
                // Everyone, this client included, receives the new `initialState`.
                engine.reset().await?;
                return Ok(None);
            }
            ClientMessage::StaffLogin { admin_token } => {
                if !secret::same(&admin_token, &state.admin_token) {
                    tracing::warn!("staff login refused: wrong admin token");
                    return Ok(Some(forbidden(None)));
                }
                if self.staff_presence.is_none() {
                    self.staff_presence = Some(engine.staff_present());
                }
                let (version, bookings) = engine.staff_state().await?;
                self.staff_version = Some(version);
                ServerMessage::StaffState { version, bookings }
            }
            ClientMessage::StaffCancel { request_id, slot_id } => {
                self.staff_action(state, StaffAction::Cancel, request_id, slot_id).await?
            }
            ClientMessage::Block { request_id, slot_id } => {
                self.staff_action(state, StaffAction::Block, request_id, slot_id).await?
            }
            ClientMessage::Unblock { request_id, slot_id } => {
                self.staff_action(state, StaffAction::Unblock, request_id, slot_id).await?
            }
        }))
    }

    async fn staff_action(
        &self,
        state: &AppState,
        kind: StaffAction,
        request_id: String,
        slot_id: protocol::SlotId,
    ) -> crate::Result<ServerMessage> {
        if self.staff_version.is_none() {
            return Ok(forbidden(Some(request_id)));
        }
        let result = state.engine.staff(kind, slot_id).await?;
        Ok(ServerMessage::ActionResult { request_id, ok: result.is_ok(), reason: result.err() })
    }
}

fn forbidden(request_id: Option<String>) -> ServerMessage {
    ServerMessage::Error {
        code: ErrorCode::Forbidden,
        message: "The admin token is not valid, or this connection has not logged in as staff.".into(),
        request_id,
    }
}
