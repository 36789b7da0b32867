//! The typed connection to the server: protocol messages in and out over one
//! WebSocket, reconnecting by itself with backoff and resuming from the version
//! the page holds, so that a short drop costs only the updates missed.

use std::time::Duration;

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt, stream};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use leptos::prelude::*;
use protocol::{ClientMessage, ServerMessage, Version};

/// The state of the link to the server, as the header shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Opening the first connection.
    Connecting,
    /// Connected, with the current schedule.
    Live,
    /// Lost; trying again (the number of the attempt).
    Reconnecting(u32),
    /// The browser itself is offline; trying again when it is back.
    Offline,
}

/// What the connection should do after a message was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Go on.
    Continue,
    /// Updates were missed: tell the server the page holds this version, so
    /// that it sends what is missing.
    Hello(Version),
}

/// A handle for sending; cheap to copy into event handlers.
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    outgoing: StoredValue<mpsc::UnboundedSender<ClientMessage>>,
    /// The link's state.
    pub link: RwSignal<Link>,
    /// How the current connection caught up: `schedule` (the whole schedule was
    /// sent) or `resumed` (only what was missed); empty before the first one.
    pub synced: RwSignal<&'static str>,
}

impl Connection {
    /// Sends one message; `false` when the page is not connected.
    pub fn send(&self, message: ClientMessage) -> bool {
        self.link.get_untracked() == Link::Live
            && self.outgoing.with_value(|tx| tx.unbounded_send(message).is_ok())
    }
}

/// Connects to `/ws` of the page's own host and keeps reconnecting, each time
/// saying which version `holds` reports (so the server sends only what was
/// missed). Each message goes to `on_message`; `on_drop` runs whenever a
/// connection ends.
pub fn connect(
    on_message: impl Fn(ServerMessage) -> Next + 'static,
    on_drop: impl Fn() + 'static,
    holds: impl Fn() -> Option<Version> + 'static,
) -> Connection {
    let (tx, mut rx) = mpsc::unbounded::<ClientMessage>();
    let link = RwSignal::new(Link::Connecting);
    let synced = RwSignal::new("");
    let connection = Connection { outgoing: StoredValue::new(tx), link, synced };
    leptos::task::spawn_local(async move {
        let base = socket_url();
        let mut attempt: u32 = 0;
        loop {
            let url = match holds() {
                Some(version) => format!("{base}?lastVersion={version}"),
                None => base.clone(),
            };
            if let Ok(socket) = WebSocket::open(&url) {
                let (mut sink, incoming) = socket.split();
                // Outgoing messages are boxed: a booking with its proof is much
                // larger than the other events.
                enum Event {
                    In(Result<Message, gloo_net::websocket::WebSocketError>),
                    Out(Box<ClientMessage>),
                    Closed,
                }
                let incoming = incoming.map(Event::In).chain(stream::iter([Event::Closed]));
                let mut events = stream::select(incoming, (&mut rx).map(|m| Event::Out(Box::new(m))));
                while let Some(event) = events.next().await {
                    match event {
                        Event::In(Ok(Message::Text(text))) => {
                            let Ok(message) = serde_json::from_str::<ServerMessage>(&text) else {
                                leptos::logging::warn!("ignored an undecodable message");
                                continue;
                            };
                            let caught_up = match message {
                                ServerMessage::InitialState(_) => Some("schedule"),
                                ServerMessage::Resumed { .. } => Some("resumed"),
                                _ => None,
                            };
                            if let Some(how) = caught_up {
                                attempt = 0;
                                synced.set(how);
                                link.set(Link::Live);
                            }
                            if let Next::Hello(version) = on_message(message) {
                                let hello = ClientMessage::Hello { last_version: version };
                                let Ok(text) = serde_json::to_string(&hello) else { continue };
                                if sink.send(Message::Text(text)).await.is_err() {
                                    break;
                                }
                            }
                        }
                        Event::In(Ok(Message::Bytes(_))) => {}
                        Event::In(Err(_)) | Event::Closed => break,
                        Event::Out(message) => {
                            let Ok(text) = serde_json::to_string(&message) else { continue };
                            if sink.send(Message::Text(text)).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                drop(events);
                let _ = sink.close().await;
            }
            // Whatever was queued for the old connection is dropped, never sent on
            // a new one behind the page's back.
            while rx.try_recv().is_ok() {}
            on_drop();
            attempt = attempt.saturating_add(1);
            link.set(if online() { Link::Reconnecting(attempt) } else { Link::Offline });
            gloo_timers::future::sleep(backoff(attempt)).await;
        }
    });
    connection
}

/// Waits longer after each failed attempt, up to ten seconds, with jitter so that
/// many pages do not reconnect in step after a server restart.
fn backoff(attempt: u32) -> Duration {
    let base = 250u64.saturating_mul(1 << attempt.min(6)).min(10_000);
    let jitter = (js_sys::Math::random() * base as f64 * 0.3) as u64;
    Duration::from_millis(base + jitter)
}

fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn socket_url() -> String {
    let location = web_sys::window().expect("a window").location();
    let scheme = if location.protocol().as_deref() == Ok("https:") { "wss" } else { "ws" };
    let host = location.host().unwrap_or_else(|_| "127.0.0.1:8080".into());
    format!("{scheme}://{host}/ws")
}
