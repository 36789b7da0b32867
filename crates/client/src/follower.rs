//! A live copy of the schedule that looks after itself: updates applied in
//! version order, a `hello` when one was missed, and on a lost connection a new
//! one (to the next server given, round the list) that resumes from the version
//! held.

use std::time::{Duration, Instant};

use protocol::{Applied, Replica, Schedule, ServerMessage, Slot, Version};

use crate::{Client, Error};

/// How long `Follower` keeps trying to reconnect before it gives up.
const RECONNECT_FOR: Duration = Duration::from_secs(30);

/// What `Follower::next` saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// One slot changed.
    Changed(Slot),
    /// A whole new schedule replaced the copy (on connect, after a reset, or
    /// when the server no longer had the updates missed).
    Replaced,
    /// A new connection resumed from the version held, without a new schedule.
    Resumed,
    /// Any other message, such as an answer to a request.
    Other(ServerMessage),
}

/// A connection that keeps a copy of the schedule up to date.
#[derive(Debug)]
pub struct Follower {
    urls: Vec<String>,
    current: usize,
    client: Client,
    replica: Replica,
    reconnects: u32,
}

impl Follower {
    /// Connects to the first of `urls` that answers and waits for the schedule.
    pub async fn connect(urls: &[&str]) -> Result<Self, Error> {
        let urls: Vec<String> = urls.iter().map(|u| (*u).to_owned()).collect();
        let (current, client) = reach(&urls, 0, None).await?;
        let mut follower = Self { urls, current, client, replica: Replica::default(), reconnects: 0 };
        while follower.replica.schedule().is_none() {
            follower.next().await?;
        }
        Ok(follower)
    }

    /// The schedule as followed so far.
    pub fn schedule(&self) -> &Schedule {
        self.replica.schedule().expect("a follower has a schedule from the start")
    }

    /// The version of the schedule held.
    pub fn version(&self) -> Version {
        self.schedule().version
    }

    /// The server currently connected to.
    pub fn url(&self) -> &str {
        &self.urls[self.current]
    }

    /// How many times the connection was made again.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// The connection, for sending requests. Replies that arrive come back
    /// through `next` as `Other`, unless read here with `call`.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Waits for the next message and applies it. Missed updates are asked for,
    /// and a lost connection is made again, transparently.
    pub async fn next(&mut self) -> Result<Followed, Error> {
        loop {
            let message = match self.client.recv().await {
                Ok(message) => message,
                Err(Error::Decode(e)) => return Err(Error::Decode(e)),
                Err(_) => {
                    self.reconnect().await?;
                    continue;
                }
            };
            match self.replica.apply(message) {
                Applied::Changed(slot) => return Ok(Followed::Changed(slot)),
                Applied::Replaced => return Ok(Followed::Replaced),
                Applied::Resumed => return Ok(Followed::Resumed),
                Applied::Other(message) => return Ok(Followed::Other(message)),
                Applied::Stale => {}
                Applied::Gap(version) => {
                    if self.client.hello(version).await.is_err() {
                        self.reconnect().await?;
                    }
                }
            }
        }
    }

    async fn reconnect(&mut self) -> Result<(), Error> {
        let (current, client) = reach(&self.urls, self.current, self.replica.version()).await?;
        self.current = current;
        self.client = client;
        self.reconnects += 1;
        Ok(())
    }
}

/// A connection to one of `urls`, trying them in turn from `start` (the one that
/// failed last comes last), resuming from `version` when one is held.
async fn reach(urls: &[String], start: usize, version: Option<Version>) -> Result<(usize, Client), Error> {
    let deadline = Instant::now() + RECONNECT_FOR;
    let mut wait = Duration::from_millis(50);
    let mut attempt = 0;
    loop {
        // After a failure the next server is tried first.
        let at = (start + attempt + usize::from(version.is_some())) % urls.len().max(1);
        let url = urls.get(at).ok_or(Error::Closed { code: None, reason: "no server given".into() })?;
        let connected = match version {
            Some(version) => Client::connect_resuming(url, version).await,
            None => Client::connect(url).await,
        };
        match connected {
            Ok(client) => return Ok((at, client)),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => {
                attempt += 1;
                if attempt % urls.len().max(1) == 0 {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}
