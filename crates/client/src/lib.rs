//! An async client of the booking protocol (see the `booking-protocol` crate,
//! re-exported here as [`protocol`]), on tokio and tungstenite.
//!
//! Connect, follow the live schedule, and book a free slot:
//!
//! ```no_run
//! use booking_client::protocol::{Patient, SlotStatus};
//! use booking_client::{BookingReply, Followed, Follower};
//!
//! # async fn demo() -> Result<(), booking_client::Error> {
//! let mut follower = Follower::connect(&["ws://127.0.0.1:8080/ws"]).await?;
//! let schedule = follower.schedule();
//! println!("{}: {} slots", schedule.clinic.name, schedule.slots.len());
//!
//! let free = schedule.slots.iter().find(|slot| slot.status == SlotStatus::Free);
//! if let Some(slot_id) = free.map(|slot| slot.id.clone()) {
//!     // The proof of work the server asks for is solved on the way.
//!     let patient = Patient { name: "Anna Petrova".into(), phone: "+7 912 345-67-89".into() };
//!     match follower.client().book(slot_id, patient).await? {
//!         BookingReply::Booked { code, .. } => println!("booked: {code}"),
//!         BookingReply::Refused(why) => println!("refused: {why:?}"),
//!     }
//! }
//!
//! loop {
//!     match follower.next().await? {
//!         Followed::Changed(slot) => println!("{} is {:?} now", slot.id.0, slot.status),
//!         Followed::Replaced => println!("a new schedule: {} slots", follower.schedule().slots.len()),
//!         Followed::Resumed | Followed::Other(_) => {}
//!     }
//! }
//! # }
//! ```
//!
//! `examples/follow_and_book.rs` is the same as a program to run.
//!
//! A [`Client`] is one connection: it sends requests and waits for the answer
//! that names each one, keeping whatever else arrives meanwhile for
//! [`Client::recv`]. Messages of a type this client does not know (from a newer
//! server) are skipped.
//!
//! [`Follower`] keeps a live copy of the schedule: it applies updates in version
//! order, asks for what it missed when it sees a gap, and when its connection
//! drops it reconnects (to the next server, when given several) and resumes from
//! the version it holds.
//!
//! The waitlist has requests of its own (`join_waitlist`, `watch_waitlist`,
//! `accept_offer`, …), and `next_waitlist` waits for the entry the server pushes
//! to a watching connection when an offer to it is made or ends.
//!
//! Staff log in with `staff_login` (or `staff_resume` after a reconnect), and
//! admins manage the staff accounts (`staff_accounts`, `add_staff`,
//! `remove_staff`).

#![deny(missing_docs)]

mod follower;
mod staff;
mod waitlist;

pub use follower::{Followed, Follower};
pub use staff::StaffSession;
pub use waitlist::Outcome;

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use protocol::{
    BookingCode, BookingFailure, ClientMessage, ErrorCode, ManageToken, Patient, Proof, ServerMessage,
    SlotId, Version,
};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The protocol's types, for programs that depend on this crate alone.
pub use protocol;
pub use tokio_tungstenite::tungstenite;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The WebSocket failed.
    #[error("websocket: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The server sent a frame that is not a protocol message.
    #[error("undecodable server message: {0}")]
    Decode(#[from] serde_json::Error),
    /// The server closed the connection, with this close code and reason if given.
    #[error("closed by the server ({code:?}: {reason})")]
    Closed {
        /// The close code, when the server sent one.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
    /// The server answered a request with an `error`.
    #[error("server error {code:?}: {message}")]
    Server {
        /// The error code.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
    },
}

/// How to open a connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectOptions {
    /// The local address to connect from; with many connections, spreading them
    /// over several 127.0.0.x addresses avoids running out of ephemeral ports.
    pub local_ip: Option<IpAddr>,
    /// Small WebSocket buffers, for programs that hold many idle connections.
    pub small_buffers: bool,
    /// An `Origin` header, as a browser page would send.
    pub origin: Option<&'static str>,
    /// An `X-Forwarded-For` header naming this address, as a reverse proxy in
    /// front of the server adds (the server believes it only from a proxy it
    /// trusts).
    pub forwarded_for: Option<IpAddr>,
    /// Any other header, for tests and tools that send what a client may.
    pub header: Option<(&'static str, &'static str)>,
}

/// The answer to a `book`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingReply {
    /// Booked: the code to quote and the secret of the manage link.
    Booked {
        /// The booking code.
        code: BookingCode,
        /// The manage link's secret (absent only for a retry answered after a
        /// server restart).
        manage_token: Option<ManageToken>,
    },
    /// Refused, and why.
    Refused(BookingFailure),
}

/// One connection to a booking server.
#[derive(Debug)]
pub struct Client {
    sink: SplitSink<Socket, Message>,
    stream: SplitStream<Socket>,
    /// Messages read while waiting for a reply, handed out by `recv` in order.
    pending: VecDeque<ServerMessage>,
    id_prefix: u128,
    next_request: u64,
}

impl Client {
    /// Connects to a `ws://…/ws` URL.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    /// Connects as a client that holds schedule `version`: the server answers with
    /// `resumed` and the updates after it, or with a fresh `initialState` when it
    /// no longer has them.
    pub async fn connect_resuming(url: &str, version: Version) -> Result<Self, Error> {
        Self::connect_with(&resuming_url(url, version), ConnectOptions::default()).await
    }

    /// Connects to a `ws://…/ws` URL with the given options.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Self, Error> {
        let mut request = url.into_client_request()?;
        if let Some(origin) = options.origin {
            let value = origin
                .parse()
                .map_err(|_| tungstenite::Error::Url(tungstenite::error::UrlError::NoHostName))?;
            request.headers_mut().insert("origin", value);
        }
        if let Some((name, value)) = options.header {
            let value = value
                .parse()
                .map_err(|_| tungstenite::Error::Url(tungstenite::error::UrlError::NoHostName))?;
            request.headers_mut().insert(name, value);
        }
        if let Some(address) = options.forwarded_for {
            let value = address.to_string().parse().expect("an address is a valid header value");
            request.headers_mut().insert("x-forwarded-for", value);
        }
        let host = request.uri().host().unwrap_or("127.0.0.1").trim_matches(['[', ']']).to_owned();
        let port = request.uri().port_u16().unwrap_or(80);
        let server = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(tungstenite::Error::Io)?
            .next()
            .ok_or(tungstenite::Error::Url(tungstenite::error::UrlError::NoHostName))?;
        let tcp = connect_tcp(server, options.local_ip).await.map_err(tungstenite::Error::Io)?;
        let config = options
            .small_buffers
            .then(|| WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0));
        let (socket, _) =
            tokio_tungstenite::client_async_with_config(request, MaybeTlsStream::Plain(tcp), config).await?;
        let (sink, stream) = socket.split();
        Ok(Self { sink, stream, pending: VecDeque::new(), id_prefix: rand::random(), next_request: 0 })
    }

    /// The next message from the server.
    pub async fn recv(&mut self) -> Result<ServerMessage, Error> {
        match self.pending.pop_front() {
            Some(message) => Ok(message),
            None => self.read().await,
        }
    }

    /// The next message's raw JSON text, for programs that decode only part of it
    /// (such as a load generator reading thousands of connections). Messages kept
    /// back by `book` are handed out first, re-encoded.
    pub async fn recv_text(&mut self) -> Result<String, Error> {
        if let Some(message) = self.pending.pop_front() {
            return Ok(serde_json::to_string(&message)?);
        }
        loop {
            match self.next_frame().await? {
                Message::Text(text) => return Ok(text.as_str().to_owned()),
                Message::Close(frame) => return Err(closed(frame)),
                _ => {}
            }
        }
    }

    /// Sends one protocol message.
    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), Error> {
        let text = serde_json::to_string(message)?;
        self.send_raw(Message::text(text)).await
    }

    /// Sends any frame, well-formed or not; for tests and tools.
    pub async fn send_raw(&mut self, frame: Message) -> Result<(), Error> {
        self.sink.send(frame).await?;
        Ok(())
    }

    /// A request id no other client will choose and nobody can guess: 128
    /// random bits of this connection's and a count (the server answers a
    /// retried booking to whoever repeats its id with the same details).
    pub fn request_id(&mut self) -> String {
        self.next_request += 1;
        format!("{:032x}-{}", self.id_prefix, self.next_request)
    }

    /// Sends a message that carries a request id and waits for the reply naming
    /// it (an `error` for it included). Other messages that arrive meanwhile are
    /// kept for `recv`.
    pub async fn call(&mut self, message: ClientMessage) -> Result<ServerMessage, Error> {
        let request_id = message.request_id().map(str::to_owned);
        self.send(&message).await?;
        let Some(request_id) = request_id else {
            return Err(Error::Server { code: ErrorCode::InvalidMessage, message: "no requestId".into() });
        };
        loop {
            let reply = self.read().await?;
            if reply.request_id() == Some(request_id.as_str()) {
                return Ok(reply);
            }
            self.pending.push_back(reply);
        }
    }

    /// Books `slot_id` for `patient` and waits for the server's answer. Other
    /// messages that arrive meanwhile are kept for `recv`.
    pub async fn book(&mut self, slot_id: SlotId, patient: Patient) -> Result<BookingReply, Error> {
        let request_id = self.request_id();
        self.book_as(request_id, slot_id, patient).await
    }

    /// Books with a chosen request id (a retry sends the same one again). The
    /// server's proof-of-work challenge is asked for and solved first.
    pub async fn book_as(
        &mut self,
        request_id: String,
        slot_id: SlotId,
        patient: Patient,
    ) -> Result<BookingReply, Error> {
        let proof = self.proof().await?;
        self.book_with(ClientMessage::Book { request_id, slot_id, patient, proof: Some(proof) }).await
    }

    /// Asks for a proof-of-work challenge and solves it (on a blocking thread:
    /// solving takes a moment of CPU).
    pub async fn proof(&mut self) -> Result<Proof, Error> {
        let request_id = self.request_id();
        let challenge = match self.call(ClientMessage::Challenge { request_id }).await? {
            ServerMessage::Challenge { challenge, .. } => challenge,
            other => return Err(unexpected("challenge", other)),
        };
        let solving = challenge.clone();
        let solution =
            tokio::task::spawn_blocking(move || solving.solve()).await.ok().flatten().ok_or_else(|| {
                Error::Server { code: ErrorCode::Internal, message: "unsolvable challenge".into() }
            })?;
        Ok(Proof { challenge, solution })
    }

    /// Sends a `book` as it is (with or without a proof) and waits for its answer.
    pub async fn book_with(&mut self, book: ClientMessage) -> Result<BookingReply, Error> {
        booking_reply("book", self.call(book).await?)
    }

    /// Tells the server this client holds `version` (after it noticed missed
    /// updates); the answer comes through `recv`.
    pub async fn hello(&mut self, version: Version) -> Result<(), Error> {
        self.send(&ClientMessage::Hello { last_version: version }).await
    }

    /// Asks the server to reset the schedule (this connection must be logged
    /// in as an admin). A refusal comes back through `recv` as an `error`;
    /// success as an `initialState`.
    pub async fn reset(&mut self) -> Result<(), Error> {
        let request_id = self.request_id();
        self.send(&ClientMessage::Reset { request_id }).await
    }

    /// Closes the connection politely.
    pub async fn close(mut self) -> Result<(), Error> {
        self.sink.send(Message::Close(None)).await?;
        Ok(())
    }

    async fn next_frame(&mut self) -> Result<Message, Error> {
        Ok(self.stream.next().await.ok_or(Error::Closed { code: None, reason: String::new() })??)
    }

    async fn read(&mut self) -> Result<ServerMessage, Error> {
        loop {
            match self.next_frame().await? {
                Message::Text(text) => {
                    if let Some(message) = decode(&text)? {
                        return Ok(message);
                    }
                }
                Message::Close(frame) => return Err(closed(frame)),
                // Pings are answered by tungstenite itself.
                Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {}
            }
        }
    }
}

/// Decodes a server frame, or gives `None` for a message of a type this client
/// does not know: a newer server may send types an older client has never heard
/// of (the wire format's compatibility promise allows it), and skipping them
/// keeps such a client working. A known type with a malformed payload, or a
/// frame that is not a message at all, is still an error.
fn decode(text: &str) -> Result<Option<ServerMessage>, serde_json::Error> {
    let error = match serde_json::from_str(text) {
        Ok(message) => return Ok(Some(message)),
        Err(error) => error,
    };
    let unknown = serde_json::from_str::<serde_json::Value>(text).ok().is_some_and(|value| {
        value
            .get("type")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|name| !ServerMessage::TYPES.contains(&name))
    });
    if unknown { Ok(None) } else { Err(error) }
}

/// What a `bookingResult` says, for the request named `request`.
fn booking_reply(request: &str, reply: ServerMessage) -> Result<BookingReply, Error> {
    match reply {
        ServerMessage::BookingResult { ok: true, booking_code: Some(code), manage_token, .. } => {
            Ok(BookingReply::Booked { code, manage_token })
        }
        ServerMessage::BookingResult { ok: false, reason: Some(reason), .. } => {
            Ok(BookingReply::Refused(reason))
        }
        other => Err(unexpected(request, other)),
    }
}

/// The error for a reply that does not answer `request` as the protocol says:
/// the server's own `error`, or one that names what came instead.
fn unexpected(request: &str, reply: ServerMessage) -> Error {
    match reply {
        ServerMessage::Error { code, message, .. } => Error::Server { code, message },
        other => Error::Server {
            code: ErrorCode::Internal,
            message: format!("unexpected answer to {request}: {other:?}"),
        },
    }
}

/// `url` with the version a returning client holds.
fn resuming_url(url: &str, version: Version) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}lastVersion={version}")
}

async fn connect_tcp(server: SocketAddr, local_ip: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let socket = if server.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let Some(ip) = local_ip {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn closed(frame: Option<CloseFrame>) -> Error {
    match frame {
        Some(f) => Error::Closed { code: Some(f.code.into()), reason: f.reason.to_string() },
        None => Error::Closed { code: None, reason: String::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_of_a_type_this_client_does_not_know_is_skipped() {
        let newer = r#"{"type": "clinicNews", "payload": {"text": "Closed on Monday"}}"#;
        assert!(decode(newer).expect("an unknown type is no error").is_none());
        let known = r#"{"type": "resumed", "payload": {"version": 7, "addedLater": true}}"#;
        assert_eq!(decode(known).unwrap(), Some(ServerMessage::Resumed { version: 7 }));
    }

    #[test]
    fn a_known_type_with_a_malformed_payload_is_still_an_error() {
        assert!(decode(r#"{"type": "resumed", "payload": {"version": "seven"}}"#).is_err());
        assert!(decode(r#"{"type": 7, "payload": {}}"#).is_err());
        assert!(decode("not json").is_err());
    }

    #[test]
    fn a_resuming_url_carries_the_version() {
        assert_eq!(resuming_url("ws://h/ws", 7), "ws://h/ws?lastVersion=7");
        assert_eq!(resuming_url("ws://h/ws?a=b", 7), "ws://h/ws?a=b&lastVersion=7");
    }
}
