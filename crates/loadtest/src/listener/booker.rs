//! A booking connection on the listeners' lean reader. A booker is sent every
//! update too, and while it waits for the answer to its own `book` most of what
//! arrives is other bookings' updates: decoding each one (tungstenite, serde,
//! dates) cost the two cores more than the server spent writing it. Here a
//! booker sends its `challenge` and `book` as masked text frames, counts the
//! updates it reads by their prefix, and decodes only the answers.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use protocol::{ClientMessage, Patient, Proof, ServerMessage, SlotId};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use super::frames;
use super::{Ended, Listener, Read, peek};

/// A listener that books: its request ids and the updates it counted.
pub(crate) struct Booker<S> {
    connection: Listener<S>,
    /// Makes this run's request ids unlike those of any other run on the
    /// same server (a reused id with the same slot and patient would get the
    /// first answer again).
    id_prefix: String,
    next_request: u64,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Booker<S> {
    pub(crate) fn new(connection: Listener<S>, id_prefix: String) -> Self {
        Self { connection, id_prefix, next_request: 0 }
    }

    fn request_id(&mut self) -> String {
        self.next_request += 1;
        format!("{}-{}", self.id_prefix, self.next_request)
    }

    /// Asks for a challenge, solves it and books `slot_id` for `patient`:
    /// whether the server booked it. The updates read meanwhile are added to
    /// `updates`.
    pub(crate) async fn book(
        &mut self,
        slot_id: SlotId,
        patient: Patient,
        updates: &AtomicU64,
    ) -> Result<bool> {
        let request_id = self.request_id();
        let challenge = match self.call(&ClientMessage::Challenge { request_id }, updates).await? {
            ServerMessage::Challenge { challenge, .. } => challenge,
            other => bail!("unexpected answer to challenge: {other:?}"),
        };
        // The load generator's server asks for the least work: solving here
        // takes less than handing it to another thread would.
        let solution = challenge.solve().context("an unsolvable challenge")?;
        let request_id = self.request_id();
        let proof = Some(Proof { challenge, solution });
        match self.call(&ClientMessage::Book { request_id, slot_id, patient, proof }, updates).await? {
            ServerMessage::BookingResult { ok, .. } => Ok(ok),
            other => bail!("unexpected answer to book: {other:?}"),
        }
    }

    /// Sends `message` and reads until the answer that names its request id;
    /// the updates before it are counted into `updates`, anything else read
    /// meanwhile is passed over.
    async fn call(&mut self, message: &ClientMessage, updates: &AtomicU64) -> Result<ServerMessage> {
        let request_id = message.request_id().context("a call needs a request id")?.to_owned();
        frames::text(&serde_json::to_vec(message)?, &mut self.connection.out);
        let mut counted = 0;
        let mut answer = None;
        let ended = self
            .connection
            .read(None, |read| {
                match read {
                    Read::Text(text) if peek::update(text).is_some() => counted += 1,
                    Read::Text(text) => {
                        let message: ServerMessage = serde_json::from_slice(text)?;
                        if message.request_id() == Some(request_id.as_str()) {
                            answer = Some(message);
                            return Ok(true);
                        }
                    }
                    Read::Drained => {
                        updates.fetch_add(counted, Ordering::AcqRel);
                        counted = 0;
                    }
                }
                Ok(false)
            })
            .await?;
        match (ended, answer) {
            (Ended::Done, Some(answer)) => Ok(answer),
            _ => bail!("the server closed the connection before answering"),
        }
    }

    /// Once its bookings are done: goes on reading and counting updates until
    /// `stop`, or until the connection ends (then `open` loses this one: the
    /// wait for the last updates no longer expects them here).
    pub(crate) async fn count_updates(
        mut self,
        mut stop: watch::Receiver<bool>,
        updates: &AtomicU64,
        open: &AtomicU64,
    ) {
        let mut counted = 0;
        let ended = self
            .connection
            .read(Some(&mut stop), |read| {
                match read {
                    Read::Text(text) => counted += u64::from(peek::update(text).is_some()),
                    Read::Drained => {
                        updates.fetch_add(counted, Ordering::AcqRel);
                        counted = 0;
                    }
                }
                Ok(false)
            })
            .await;
        if !matches!(ended, Ok(Ended::Stopped)) {
            open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}
