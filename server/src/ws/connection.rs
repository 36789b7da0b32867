//! The life of one connection: the schedule (or only what a returning client
//! missed), then every change as it is published, an answer to each message,
//! and an orderly close.
//!
//! The connection's task reads and answers the client. Updates do not pass
//! through it while the client only watches: the fan-out workers write them to
//! the socket themselves (see `fanout`). The task takes them over while it is
//! busy with the client, and for a staff console or a page watching a waitlist
//! entry, which get frames of their own beside each update.

use std::io::ErrorKind;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use protocol::{ErrorCode, ServerMessage, Version};
use tokio::net::TcpStream;
use tokio::time::{Interval, MissedTickBehavior};

use super::frames::{self, Decoder, Incoming};
use super::requests::{Conn, Reply};
use super::resync::resync;
use crate::AppState;
use crate::address::ClientKey;
use crate::fanout::{Fault, Outlet};
use crate::hub::Broadcast;
use crate::limits::Bucket;
use crate::wire::{self, Frame};

/// Close code for a client that fell too far behind its updates: it should
/// reconnect and resume.
const TOO_SLOW: u16 = 1013;
/// Close code for a server going away.
const GOING_AWAY: u16 = 1001;
/// Close code for a client that breaks the rules (here: keeps flooding).
const POLICY: u16 = 1008;
/// How long the server waits for the peer's answer to its close frame.
const CLOSING: Duration = Duration::from_secs(1);
/// Frames longer than this are written from their shared bytes rather than
/// copied into one write with the others.
const COPY_UP_TO: usize = 16 * 1024;
/// What one read takes from the socket at most.
const READ_CHUNK: usize = 4096;

/// Sets the socket up: each update is one write, so nothing is gained by
/// waiting to fill a packet; and a send buffer of `send_buffer` bytes (0: the
/// kernel's), so that a client that stops reading makes the kernel hold that
/// much for it, not the megabytes its autotuning would grow to.
fn tune(stream: &TcpStream, send_buffer: usize) {
    let _ = stream.set_nodelay(true);
    if send_buffer > 0 {
        let _ = socket2::SockRef::from(stream).set_send_buffer_size(send_buffer);
    }
}

/// Why a connection ends.
enum End {
    /// The peer vanished, or the socket failed; nothing more to send.
    Gone,
    /// The peer closed with this code (1005 when it gave none); the server
    /// answers with its close frame.
    Left(Option<u16>),
    /// The server ends it with this close frame.
    Close(u16, &'static str),
}

/// The socket as the task uses it: its outlet, shared with the fan-out, and
/// the decoder of what the client sends.
struct Socket {
    outlet: Arc<Outlet>,
    decoder: Decoder,
    timeout: Duration,
}

impl Socket {
    /// Sends `bytes` (whole frames) and waits until the socket took them;
    /// `false` when it failed or stalled.
    async fn send(&self, bytes: Bytes) -> bool {
        self.outlet.send(bytes);
        self.outlet.drain(self.timeout).await
    }

    async fn send_message(&self, message: &ServerMessage) -> bool {
        self.send(frames::text(wire::encode(message).bytes())).await
    }

    /// Reads what the socket has and drops it: `false` at its end or on an
    /// error.
    fn discard_some(&self) -> bool {
        let mut buffer = [0u8; READ_CHUNK];
        match self.outlet.stream().try_read(&mut buffer) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) => e.kind() == ErrorKind::WouldBlock,
        }
    }

    /// Reads what the socket has into the decoder: `false` at its end or on
    /// an error.
    fn read_some(&mut self) -> bool {
        let mut buffer = [0u8; READ_CHUNK];
        match self.outlet.stream().try_read(&mut buffer) {
            Ok(0) => false,
            Ok(n) => {
                self.decoder.feed(&buffer[..n]);
                true
            }
            Err(e) => e.kind() == ErrorKind::WouldBlock,
        }
    }
}

/// Serves one connection until it closes; `early` is what the client sent
/// right after its handshake, already read. A client that comes back holding
/// version `resume` gets `resumed` and only the updates it missed, when the hub
/// still has them (see `resync`); anybody else gets the whole schedule first. Then every
/// change, and an answer to each message the client sends.
pub async fn serve_connection(
    stream: TcpStream,
    early: Bytes,
    state: AppState,
    peer: ClientKey,
    resume: Option<Version>,
) {
    tune(&stream, state.limits.send_buffer);
    // Joined before the snapshot or the replay is taken: a change committed in
    // between is then both there and in the outlet, and the version check drops
    // the copy.
    let outlet = state.engine.join(stream);
    // Lets the fan-out forget the outlet however the task ends, a panic too.
    let _leave = Leave(&state, outlet.clone());
    let mut socket = Socket {
        outlet: outlet.clone(),
        decoder: Decoder::new(state.limits.max_message_bytes),
        timeout: state.limits.write_timeout,
    };
    socket.decoder.feed(&early);
    // It may share the buffer hyper read the handshake into: let that go.
    drop(early);
    // Boxed: the connection's future, which every idle connection keeps, then
    // holds only a pointer to it.
    let mut conn =
        Box::new(Conn::new(state.next_connection.fetch_add(1, std::sync::atomic::Ordering::Relaxed), peer));
    tracing::Span::current().record("id", conn.id());
    let mut bucket = Bucket::new(state.limits.messages_per_sec);
    // A staff console's session is checked again now and then; made only while
    // a member is logged in.
    let mut recheck: Option<Interval> = None;

    let end = 'conn: {
        let Some(mut version) = Box::pin(resync(&outlet, socket.timeout, &state, resume)).await else {
            break 'conn End::Gone;
        };
        // Anything the client sent with its handshake.
        let mut readable = true;
        let mut stale_wakers = true;
        loop {
            if stale_wakers {
                stale_wakers = !forget_wakers(outlet.stream());
            }
            if readable {
                readable = false;
                match Box::pin(answer(&mut socket, &mut conn, &mut bucket, &mut version, &state)).await {
                    Ok(()) => {}
                    Err(end) => break 'conn end,
                }
            }
            if conn.is_plain() {
                outlet.direct(version);
            }
            match (conn.member().is_some(), recheck.is_some()) {
                (true, false) => {
                    let every = state.limits.staff_recheck;
                    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
                    recheck = Some(interval);
                }
                (false, true) => recheck = None,
                _ => {}
            }
            tokio::select! {
                ready = socket.outlet.stream().readable() => {
                    if ready.is_err() || !socket.read_some() {
                        break 'conn End::Gone;
                    }
                    outlet.heard(state.engine.now_ms());
                    readable = true;
                }
                () = outlet.woken() => {
                    match outlet.fault() {
                        Some(Fault::TooSlow) => break 'conn End::Close(TOO_SLOW, "too slow; reconnect"),
                        Some(Fault::Idle) => {
                            tracing::debug!(conn = conn.id(), "dropping a silent connection");
                            break 'conn End::Close(GOING_AWAY, "idle timeout");
                        }
                        Some(Fault::Stopping) => break 'conn End::Close(GOING_AWAY, "server stopping"),
                        Some(Fault::Gone) => break 'conn End::Gone,
                        None => {}
                    }
                    // A session ended on this server before these changes gets no
                    // staff frame of them.
                    if let Some(notice) = conn.waiting_notice()
                        && Box::pin(conn.session_ends(notice, &state)).await
                        && !Box::pin(staff_ended(&socket)).await
                    {
                        break 'conn End::Gone;
                    }
                    if !Box::pin(forward(&socket, &conn, &mut version)).await {
                        break 'conn End::Gone;
                    }
                }
                // Boxed, and only for a console: a page does not carry the
                // space of this future.
                notice = async {
                    if conn.member().is_some() {
                        Box::pin(conn.ended_notice()).await
                    } else {
                        std::future::pending().await
                    }
                } => {
                    if Box::pin(conn.session_ends(notice, &state)).await && !Box::pin(staff_ended(&socket)).await {
                        break 'conn End::Gone;
                    }
                }
                () = tick(&mut recheck) => {
                    if conn.member().is_some()
                        && Box::pin(conn.staff_session_ended(&state)).await
                        && !Box::pin(staff_ended(&socket)).await
                    {
                        break 'conn End::Gone;
                    }
                }
            }
        }
    };
    // A send that failed because the outlet stopped ends the connection as
    // the outlet says.
    let end = match (end, outlet.fault()) {
        (End::Gone, Some(Fault::TooSlow)) => End::Close(TOO_SLOW, "too slow; reconnect"),
        (End::Gone, Some(Fault::Idle)) => End::Close(GOING_AWAY, "idle timeout"),
        (End::Gone, Some(Fault::Stopping)) => End::Close(GOING_AWAY, "server stopping"),
        (end, _) => end,
    };
    // Whatever this connection held is free for others again.
    let _ = Box::pin(state.engine.gone(conn.id())).await;
    crate::metrics::connection_closed(match end {
        End::Gone => crate::metrics::Closed::Gone,
        End::Left(code) => crate::metrics::Closed::Client(code.unwrap_or(1005)),
        End::Close(code, _) => crate::metrics::Closed::Server(code),
    });
    // Boxed, like every rarely used step, so that an idle connection does not
    // carry its space. Then what the client did not take is dropped, not kept.
    Box::pin(close(&mut socket, end)).await;
    Box::pin(outlet.settle(CLOSING)).await;
}

/// Ends a connection's outlet when dropped.
struct Leave<'a>(&'a AppState, Arc<Outlet>);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.engine.leave(self.1.clone());
    }
}

/// Answers every whole message the decoder holds; `Err` when the connection
/// must end.
async fn answer(
    socket: &mut Socket,
    conn: &mut Conn,
    bucket: &mut Bucket,
    version: &mut Version,
    state: &AppState,
) -> Result<(), End> {
    loop {
        let incoming = match socket.decoder.next() {
            Ok(Some(incoming)) => incoming,
            Ok(None) => return Ok(()),
            Err(violation) => return Err(End::Close(violation.code(), violation.reason())),
        };
        // Every frame a client sends costs the server work, pings and pongs
        // too, so all of them count against the rate.
        if !matches!(incoming, Incoming::Close(_)) && !bucket.take() {
            if bucket.abused() {
                tracing::warn!(peer = %conn.peer(), "closing a connection that keeps flooding");
                return Err(End::Close(POLICY, "too many messages"));
            }
            let request_id = match &incoming {
                Incoming::Text(text) => wire::request_id_of(text),
                _ => None,
            };
            let slow_down = ServerMessage::Error {
                code: ErrorCode::RateLimited,
                message: "Too many messages; slow down.".into(),
                request_id,
            };
            if !socket.send_message(&slow_down).await {
                return Err(End::Gone);
            }
            continue;
        }
        let reply = match incoming {
            Incoming::Text(text) => {
                // Updates wait for the task while it carries out the message, so
                // that they reach the client in order with its answer.
                if let Some(written) = socket.outlet.queued() {
                    *version = (*version).max(written);
                }
                conn.handle_text(&text, state).await
            }
            Incoming::Binary => Reply::Send(ServerMessage::Error {
                code: ErrorCode::BinaryFrame,
                message: "Binary frames are not supported; send JSON text frames.".into(),
                request_id: None,
            }),
            Incoming::Ping(payload) => {
                if !socket.send(frames::pong(&payload)).await {
                    return Err(End::Gone);
                }
                Reply::Nothing
            }
            Incoming::Pong => Reply::Nothing,
            Incoming::Close(code) => return Err(End::Left(code)),
        };
        let sent = match reply {
            Reply::Nothing => true,
            Reply::Send(reply) => socket.send_message(&reply).await,
            Reply::SendAll(replies) => {
                let mut bytes = BytesMut::new();
                for reply in &replies {
                    bytes.extend_from_slice(&frames::text(wire::encode(reply).bytes()));
                }
                socket.send(bytes.freeze()).await
            }
            Reply::Resync(since) => {
                match Box::pin(resync(&socket.outlet, socket.timeout, state, Some(since))).await {
                    Some(resynced) => {
                        *version = (*version).max(resynced);
                        true
                    }
                    None => false,
                }
            }
        };
        if !sent {
            return Err(End::Gone);
        }
    }
}

/// Sends the updates the workers queued for the task, with what only this
/// connection gets beside them, gathered into as few writes as possible;
/// `false` when the socket failed.
async fn forward(socket: &Socket, conn: &Conn, version: &mut Version) -> bool {
    let queue = socket.outlet.take_queue();
    if queue.is_empty() {
        return socket.outlet.drain(socket.timeout).await;
    }
    let mut gathered = BytesMut::new();
    // The rounds may begin with updates the task has seen: only the rest is
    // taken out of them.
    for update in queue.iter().flat_map(|round| round.iter()) {
        if update.version <= *version {
            continue;
        }
        *version = update.version;
        for frame in frames_of(conn, update.clone()) {
            let (header, len) = frames::header(frames::TEXT, frame.len());
            gathered.extend_from_slice(&header[..len]);
            if frame.len() > COPY_UP_TO {
                // A whole new schedule: what is gathered, then its shared bytes.
                socket.outlet.send_parts([std::mem::take(&mut gathered).freeze(), frame.into()]);
            } else {
                gathered.extend_from_slice(frame.bytes());
            }
        }
    }
    if !gathered.is_empty() {
        socket.outlet.send(gathered.freeze());
    }
    socket.outlet.drain(socket.timeout).await
}

/// The frames one change makes for this connection: the change, then its staff
/// frame for a console, then a waitlist offer for a page watching its entry.
fn frames_of(conn: &Conn, update: Broadcast) -> impl Iterator<Item = Frame> {
    let waiting = conn.waiting_frame(&update);
    let staff = update.staff.filter(|_| conn.receives_staff_frames(update.version));
    std::iter::once(update.frame).chain(staff).chain(waiting)
}

/// Ends the connection as `end` says: the close frame, and for one the server
/// closes, a short wait for the peer's own close frame (closing the socket with
/// unread data would reset it, and the peer would never see why).
async fn close(socket: &mut Socket, end: End) {
    let frame = match end {
        End::Gone => return,
        End::Left(Some(code)) => frames::close(code, ""),
        End::Left(None) => Bytes::from_static(&[0x88, 0x00]),
        End::Close(code, reason) => frames::close(code, reason),
    };
    // However slowly the client reads, the close takes the write timeout at
    // most.
    let sent = socket.outlet.close(frame)
        && matches!(
            tokio::time::timeout(socket.timeout, socket.outlet.drain(socket.timeout)).await,
            Ok(true)
        );
    if !sent || matches!(end, End::Left(_)) {
        return;
    }
    // After a frame the decoder refused, what follows cannot be read as
    // frames: only the end of the stream says the peer is done.
    let mut readable = !matches!(end, End::Close(code, _) if matches!(code, 1002 | 1007 | 1009));
    let _ = tokio::time::timeout(CLOSING, async {
        loop {
            if readable {
                match socket.decoder.next() {
                    Ok(Some(Incoming::Close(_))) => break,
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(_) => readable = false,
                }
            }
            if socket.outlet.stream().readable().await.is_err() {
                break;
            }
            let more = if readable { socket.read_some() } else { socket.discard_some() };
            if !more {
                break;
            }
        }
    })
    .await;
}

/// Tells a console that its staff session has ended; `false` when the socket
/// failed.
async fn staff_ended(socket: &Socket) -> bool {
    socket.send_message(&ServerMessage::StaffEnded {}).await
}

/// Replaces the waker hyper's connection task left in the socket (it waited to
/// read before handing the socket over) with one that does nothing: a waker
/// keeps its task's memory, finished or not, until it is woken, and a page
/// that only listens would never wake it. Returns whether it was replaced; not
/// while the socket has something to read.
fn forget_wakers(stream: &TcpStream) -> bool {
    stream.poll_read_ready(&mut Context::from_waker(Waker::noop())).is_pending()
}

/// Resolves at the next tick of `interval`; never without one.
async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_idle_connection_carries_little() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/size.db", dir.path().display());
        let server = crate::Server::bind(crate::Settings::local(url)).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let peer = ClientKey::of(std::net::Ipv4Addr::LOCALHOST.into());
        let connection = serve_connection(stream, Bytes::new(), server.state(), peer, None);
        // Every idle connection keeps this future for its whole life; the rarely
        // used steps are boxed so that it stays small (0.7 KiB in a release build).
        let size = std::mem::size_of_val(&connection);
        assert!(size <= 1280, "the connection's future takes {size} bytes");
    }

    #[tokio::test]
    async fn a_connection_asks_the_kernel_for_a_send_buffer_of_the_set_size() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let size = || socket2::SockRef::from(&stream).send_buffer_size().unwrap();
        let kernels = size();
        tune(&stream, 0);
        assert_eq!(size(), kernels, "0 leaves the kernel's own");
        tune(&stream, 64 * 1024);
        // Linux reports twice what was asked: its bookkeeping is counted in.
        assert!((64 * 1024..=128 * 1024).contains(&size()), "{} bytes (the kernel's: {kernels})", size());
        assert!(stream.nodelay().unwrap());
    }
}
