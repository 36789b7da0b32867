//! The watched connection: a copy of the schedule that `protocol::Replica`
//! keeps in version order, a `hello` when an update was missed, and when the
//! connection drops a new one that resumes from the version held, as the page
//! and `client::Follower` do. Unlike `Follower` it says when the link drops
//! and when it is back, for the link indicator.

use std::time::Duration;

use client::Client;
use protocol::{Applied, Replica, Schedule, Slot};

use crate::failure::Failure;

/// The longest wait between two attempts to reconnect.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// The first wait after a dropped connection.
const FIRST_WAIT: Duration = Duration::from_millis(100);

/// Whether the schedule shown is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Connected: changes show as they happen.
    Live,
    /// The connection dropped; a new one is being made.
    Reconnecting,
}

/// What `Live::next` saw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A whole new schedule (after a reset, or when the server no longer had
    /// the updates missed while away).
    Schedule,
    /// One slot changed.
    Changed(Slot),
    /// The connection dropped, or is back.
    Link(Link),
}

/// A followed schedule.
#[derive(Debug)]
pub(crate) struct Live {
    url: String,
    client: Option<Client>,
    replica: Replica,
    wait: Duration,
}

impl Live {
    /// Connects to `url` and waits for the schedule.
    pub(crate) async fn connect(url: &str) -> Result<Self, Failure> {
        let client = Client::connect(url).await.map_err(|e| Failure::connecting(url, &e))?;
        let mut live =
            Self { url: url.to_owned(), client: Some(client), replica: Replica::default(), wait: FIRST_WAIT };
        while live.replica.schedule().is_none() {
            if live.next().await? == Event::Link(Link::Reconnecting) {
                return Err(Failure::Lost(format!("The server at {url} closed the connection at once.")));
            }
        }
        Ok(live)
    }

    /// The schedule as followed so far.
    pub(crate) fn schedule(&self) -> &Schedule {
        self.replica.schedule().expect("a followed schedule has arrived before `connect` returns")
    }

    /// Waits for the next change. A dropped connection is reported once, then
    /// made again as long as it takes, with growing pauses.
    pub(crate) async fn next(&mut self) -> Result<Event, Failure> {
        loop {
            let Some(client) = &mut self.client else {
                tokio::time::sleep(self.wait).await;
                self.wait = (self.wait * 2).min(MAX_WAIT);
                let connected = match self.replica.version() {
                    Some(version) => Client::connect_resuming(&self.url, version).await,
                    None => Client::connect(&self.url).await,
                };
                if let Ok(client) = connected {
                    self.client = Some(client);
                    self.wait = FIRST_WAIT;
                    return Ok(Event::Link(Link::Live));
                }
                continue;
            };
            let message = match client.recv().await {
                Ok(message) => message,
                Err(client::Error::Decode(e)) => {
                    return Err(Failure::Server(format!("The server sent an unreadable message: {e}.")));
                }
                Err(_) => {
                    self.client = None;
                    return Ok(Event::Link(Link::Reconnecting));
                }
            };
            match self.replica.apply(message) {
                Applied::Replaced => return Ok(Event::Schedule),
                Applied::Changed(slot) => return Ok(Event::Changed(slot)),
                Applied::Resumed | Applied::Stale | Applied::Other(_) => {}
                Applied::Gap(version) => {
                    if client.hello(version).await.is_err() {
                        self.client = None;
                        return Ok(Event::Link(Link::Reconnecting));
                    }
                }
            }
        }
    }
}
