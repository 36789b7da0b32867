//! The life of one connection: the schedule (or only what a returning client
//! missed), then every change as it is published, an answer to each message,
//! pings, and an orderly close.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use protocol::{ErrorCode, ServerMessage, Version};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame as WsFrame};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::requests::{Conn, Reply};
use crate::AppState;
use crate::address::ClientKey;
use crate::hub::Replay;
use crate::limits::Bucket;
use crate::wire::{self, Frame};

/// Close code for a client that fell too far behind its updates: it should
/// reconnect and resume.
const TOO_SLOW: u16 = 1013;
/// Close code for a message over the size limit.
const TOO_BIG: u16 = 1009;
/// Close code for a server going away.
const GOING_AWAY: u16 = 1001;
/// Close code for a client that breaks the rules (here: keeps flooding).
const POLICY: u16 = 1008;
/// Close code for a text frame that is not UTF-8.
const INVALID_DATA: u16 = 1007;

/// Largest fragment of a long message; this bounds what a connection's write
/// buffer ever holds.
const CHUNK: usize = 2048;
/// The most update bytes gathered into one write when updates queue up.
const BATCH: usize = 4096;
/// How long the server waits for the peer's answer to its close frame.
const CLOSING: Duration = Duration::from_secs(1);

/// Why a connection ends.
enum End {
    /// The peer vanished, or the socket failed; nothing more to send.
    Gone,
    /// The peer closed with this code (1005 when it gave none); nothing more
    /// to send.
    Left(u16),
    /// The server ends it with this close frame.
    Close(u16, &'static str),
}

/// Serves one connection until it closes. A client that comes back holding
/// version `resume` gets `resumed` and only the updates it missed, when the hub
/// still has them; anybody else gets the whole schedule first. Then every change,
/// and an answer to each message the client sends.
pub async fn serve_connection<S>(socket: S, state: AppState, peer: ClientKey, resume: Option<Version>)
where
    S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let write_timeout = state.limits.write_timeout;
    let mut conn = Conn::new(state.next_connection.fetch_add(1, std::sync::atomic::Ordering::Relaxed), peer);
    tracing::Span::current().record("id", conn.id());
    let mut bucket = Bucket::new(state.limits.messages_per_sec);
    // Subscribe before taking the snapshot or the replay: a change committed in
    // between is then both there and in the queue, and the version check drops
    // the copy.
    let mut updates = state.engine.subscribe();
    let mut shutdown = state.shutdown.clone();
    let idle_timeout = state.limits.idle_timeout;
    // The tick re-checks a staff console's session, and pings (no more often
    // than a third of the idle timeout, however often it re-checks).
    let ping_every = idle_timeout / 3;
    let tick = ping_every.min(state.limits.staff_recheck);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + tick, tick);
    let mut last_heard = Instant::now();
    let mut last_ping = Instant::now();

    let end = 'conn: {
        let Some(mut version) = Box::pin(resync(&mut sink, &state, resume)).await else {
            break 'conn End::Gone;
        };
        loop {
            tokio::select! {
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    // Every frame a client sends costs the server work, pings and
                    // pongs too, so all of them count against the rate.
                    let counted = matches!(incoming, Some(Ok(Message::Text(_) | Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_))));
                    if counted && !bucket.take() {
                        if bucket.abused() {
                            tracing::warn!(%peer, "closing a connection that keeps flooding");
                            break 'conn End::Close(POLICY, "too many messages");
                        }
                        let request_id = match &incoming {
                            Some(Ok(Message::Text(text))) => wire::request_id_of(text),
                            _ => None,
                        };
                        let slow_down = ServerMessage::Error {
                            code: ErrorCode::RateLimited,
                            message: "Too many messages; slow down.".into(),
                            request_id,
                        };
                        if !timed(write_timeout, sink.send(message(wire::encode(&slow_down)))).await {
                            break 'conn End::Gone;
                        }
                        continue;
                    }
                    let reply = match incoming {
                        // Boxed: an idle connection then does not carry the space of
                        // a request's future for all its life.
                        Some(Ok(Message::Text(text))) => Box::pin(conn.handle_text(&text, &state)).await,
                        Some(Ok(Message::Binary(_))) => Reply::Send(ServerMessage::Error {
                            code: ErrorCode::BinaryFrame,
                            message: "Binary frames are not supported; send JSON text frames.".into(),
                            request_id: None,
                        }),
                        // The socket queues the pong itself; flushing sends it now.
                        Some(Ok(Message::Ping(_))) => {
                            if !timed(write_timeout, sink.flush()).await {
                                break 'conn End::Gone;
                            }
                            Reply::Nothing
                        }
                        Some(Ok(Message::Pong(_) | Message::Frame(_))) => Reply::Nothing,
                        Some(Ok(Message::Close(frame))) => break 'conn End::Left(frame.map_or(1005, |f| f.code.into())),
                        None => break 'conn End::Gone,
                        Some(Err(WsError::Capacity(_))) => break 'conn End::Close(TOO_BIG, "message too large"),
                        Some(Err(WsError::Utf8(_))) => break 'conn End::Close(INVALID_DATA, "text is not UTF-8"),
                        Some(Err(_)) => break 'conn End::Gone,
                    };
                    match reply {
                        Reply::Nothing => {}
                        Reply::Send(reply) => {
                            if !timed(write_timeout, sink.send(message(wire::encode(&reply)))).await {
                                break 'conn End::Gone;
                            }
                        }
                        Reply::SendAll(replies) => {
                            if !Box::pin(send_all(&mut sink, replies, write_timeout)).await {
                                break 'conn End::Gone;
                            }
                        }
                        Reply::Resync(since) => match Box::pin(resync(&mut sink, &state, Some(since))).await {
                            Some(resynced) => version = version.max(resynced),
                            None => break 'conn End::Gone,
                        },
                    }
                }
                notice = conn.ended_notice() => {
                    if Box::pin(conn.session_ends(notice, &state)).await && !Box::pin(staff_ended(&mut sink, write_timeout)).await {
                        break 'conn End::Gone;
                    }
                }
                update = updates.recv() => {
                    // A session ended on this server before this change gets no
                    // staff frame of it.
                    if let Some(notice) = conn.waiting_notice()
                        && Box::pin(conn.session_ends(notice, &state)).await
                        && !Box::pin(staff_ended(&mut sink, write_timeout)).await
                    {
                        break 'conn End::Gone;
                    }
                    let mut next = update;
                    let mut batched = 0;
                    // Gather what is already queued into one write.
                    loop {
                        match next {
                            Ok(update) if update.version <= version => {}
                            Ok(update) => {
                                version = update.version;
                                let waiting = conn.waiting_frame(&update);
                                let staff = update.staff.filter(|_| conn.receives_staff_frames(update.version));
                                for frame in std::iter::once(update.frame).chain(staff).chain(waiting) {
                                    batched += frame.len();
                                    let sent = if frame.len() > CHUNK {
                                        // A whole new schedule: out with what is gathered,
                                        // then the schedule in fragments.
                                        timed(write_timeout, sink.flush()).await
                                            && Box::pin(send_fragmented(&mut sink, frame, write_timeout)).await
                                    } else {
                                        timed(write_timeout, sink.feed(message(frame))).await
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
                        tracing::debug!(conn = conn.id(), "dropping a silent connection");
                        break 'conn End::Close(GOING_AWAY, "idle timeout");
                    }
                    if last_ping.elapsed() + tick / 2 >= ping_every {
                        last_ping = Instant::now();
                        if !timed(write_timeout, sink.send(Message::Ping(Bytes::new()))).await {
                            break 'conn End::Gone;
                        }
                    }
                    if conn.member().is_some()
                        && Box::pin(conn.staff_session_ended(&state)).await
                        && !Box::pin(staff_ended(&mut sink, write_timeout)).await
                    {
                        break 'conn End::Gone;
                    }
                }
                () = stopping(&mut shutdown) => break 'conn End::Close(GOING_AWAY, "server stopping"),
            }
        }
    };
    // Whatever this connection held is free for others again.
    let _ = Box::pin(state.engine.gone(conn.id())).await;
    crate::metrics::connection_closed(match end {
        End::Gone => crate::metrics::Closed::Gone,
        End::Left(code) => crate::metrics::Closed::Client(code),
        End::Close(code, _) => crate::metrics::Closed::Server(code),
    });
    if let End::Close(code, reason) = end {
        // Boxed, like every rarely used step, so that an idle connection does not
        // carry its space.
        Box::pin(close(&mut sink, &mut stream, code, reason, write_timeout)).await;
    }
}

/// Sends the close frame, then waits briefly for the peer's close, reading and
/// dropping what it still sends: closing the socket with unread data would reset
/// it, and the peer would never see why it was closed.
async fn close<S>(
    sink: &mut futures_util::stream::SplitSink<S, Message>,
    stream: &mut futures_util::stream::SplitStream<S>,
    code: u16,
    reason: &'static str,
    write_timeout: Duration,
) where
    S: Sink<Message, Error = WsError> + Stream<Item = Result<Message, WsError>> + Unpin,
{
    let frame = CloseFrame { code: CloseCode::from(code), reason: Utf8Bytes::from_static(reason) };
    if !timed(write_timeout, sink.send(Message::Close(Some(frame)))).await {
        return;
    }
    let _ = tokio::time::timeout(CLOSING, async {
        loop {
            match stream.next().await {
                Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
                // Unreadable now (the peer broke the protocol, or left): give it
                // the time to read the close frame all the same.
                Some(Err(_)) | None => std::future::pending::<()>().await,
            }
        }
    })
    .await;
}

/// Brings a client that holds `since` (or nothing) up to date: `resumed` and the
/// updates it missed when the hub still has them, otherwise the whole schedule.
/// Returns the version the client holds afterwards; `None` when the socket failed.
async fn resync<S>(sink: &mut S, state: &AppState, since: Option<Version>) -> Option<Version>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let timeout = state.limits.write_timeout;
    if let Some(since) = since
        && let Replay::Updates(missed) = state.engine.replay(since)
    {
        crate::metrics::resynced(true);
        let version = missed.last().map_or(since, |(v, _)| *v);
        let resumed = wire::encode(&ServerMessage::Resumed { version });
        let mut batched = 0;
        for frame in std::iter::once(resumed).chain(missed.into_iter().map(|(_, frame)| frame)) {
            batched += frame.len();
            if !timed(timeout, sink.feed(message(frame))).await {
                return None;
            }
            if batched >= BATCH {
                batched = 0;
                if !timed(timeout, sink.flush()).await {
                    return None;
                }
            }
        }
        return timed(timeout, sink.flush()).await.then_some(version);
    }
    crate::metrics::resynced(false);
    let snapshot = state.engine.snapshot();
    send_fragmented(sink, snapshot.frame(), timeout).await.then(|| snapshot.version())
}

/// Tells a console that its staff session has ended; `false` when the socket
/// failed.
async fn staff_ended<S>(sink: &mut S, timeout: Duration) -> bool
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    timed(timeout, sink.send(message(wire::encode(&ServerMessage::StaffEnded {})))).await
}

/// Sends several messages in order; `false` when the socket failed.
async fn send_all<S>(sink: &mut S, replies: Vec<ServerMessage>, timeout: Duration) -> bool
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    for reply in replies {
        if !timed(timeout, sink.send(message(wire::encode(&reply)))).await {
            return false;
        }
    }
    true
}

/// Sends one text message, as fragments of at most `CHUNK` bytes when it is
/// longer, each fully written before the next, so the socket's write buffer never
/// grows beyond one fragment.
async fn send_fragmented<S>(sink: &mut S, text: Frame, timeout: Duration) -> bool
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    if text.len() <= CHUNK {
        return timed(timeout, sink.send(message(text))).await;
    }
    let bytes = Bytes::from(text);
    let mut start = 0;
    while start < bytes.len() {
        let end = (start + CHUNK).min(bytes.len());
        let opcode = if start == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
        let frame = WsFrame::message(bytes.slice(start..end), opcode, end == bytes.len());
        if !timed(timeout, sink.send(Message::Frame(frame))).await {
            return false;
        }
        start = end;
    }
    true
}

/// One of the server's frames as the WebSocket library sends it: whole, as
/// text, and as it is (its bytes are JSON the server made, so they are not
/// checked again for every connection).
fn message(frame: Frame) -> Message {
    Message::Frame(WsFrame::message(Bytes::from(frame), OpCode::Data(Data::Text), true))
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

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;

    /// A socket that never has anything to say.
    struct Quiet;

    impl Stream for Quiet {
        type Item = Result<Message, WsError>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Pending
        }
    }

    impl Sink<Message> for Quiet {
        type Error = WsError;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), WsError> {
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), WsError>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn an_idle_connection_carries_little() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/size.db", dir.path().display());
        let server = crate::Server::bind(crate::Settings::local(url)).await.unwrap();
        let peer = ClientKey::of(std::net::Ipv4Addr::LOCALHOST.into());
        let connection = serve_connection(Quiet, server.state(), peer, None);
        // Every idle connection keeps this future for its whole life; the rarely
        // used steps are boxed so that it stays small (about 1.9 KiB today).
        let size = std::mem::size_of_val(&connection);
        assert!(size <= 2048, "the connection's future takes {size} bytes");
    }
}
