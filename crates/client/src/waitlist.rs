//! The waitlist requests of `Client`: joining (paid with a proof of work, like a
//! booking), watching, changing and leaving an entry, taking or turning down the
//! slot offered to it, the staff's view of the list, and waiting for the entry
//! the server pushes to a watching connection when an offer is made or ends.

use protocol::{
    BookingFailure, ClientMessage, DoctorId, Patient, ServerMessage, StaffWaiting, WaitToken, WaitWindow,
    WaitlistEntry,
};

use crate::{BookingReply, Client, Error, booking_reply, unexpected};

/// What a request came to when the server answered it: done (with what it
/// gave back), or refused and why. Failures to talk to the server at all are
/// the outer `Result`'s [`Error`].
pub type Outcome<T> = Result<T, BookingFailure>;

impl Client {
    /// Puts `patient` on the waitlist of `doctor_id` for `window` and waits for
    /// the answer: the secret of the entry's waitlist link, or why not. The
    /// server's proof-of-work challenge is asked for and solved first, as for
    /// `book`. Other messages that arrive meanwhile are kept for `recv`.
    pub async fn join_waitlist(
        &mut self,
        doctor_id: DoctorId,
        window: WaitWindow,
        patient: Patient,
    ) -> Result<Outcome<WaitToken>, Error> {
        let proof = self.proof().await?;
        let request_id = self.request_id();
        let join = ClientMessage::JoinWaitlist { request_id, doctor_id, window, patient, proof: Some(proof) };
        self.join_waitlist_with(join).await
    }

    /// Sends a `joinWaitlist` as it is (with or without a proof) and waits for
    /// its `joinResult`.
    pub async fn join_waitlist_with(&mut self, join: ClientMessage) -> Result<Outcome<WaitToken>, Error> {
        joined(self.call(join).await?)
    }

    /// Shows the entry behind a waitlist link, and from then on has the server
    /// push it to this connection whenever an offer to it is made or ends (see
    /// `next_waitlist`).
    pub async fn watch_waitlist(&mut self, wait_token: &str) -> Result<Outcome<WaitlistEntry>, Error> {
        let request_id = self.request_id();
        let watch = ClientMessage::WatchWaitlist { request_id, wait_token: wait_token.to_owned() };
        entry("watchWaitlist", self.call(watch).await?)
    }

    /// Gives a waiting entry another window; the answer is the entry with it.
    pub async fn change_waitlist(
        &mut self,
        wait_token: &str,
        window: WaitWindow,
    ) -> Result<Outcome<WaitlistEntry>, Error> {
        let request_id = self.request_id();
        let change = ClientMessage::ChangeWaitlist { request_id, wait_token: wait_token.to_owned(), window };
        entry("changeWaitlist", self.call(change).await?)
    }

    /// Takes the entry off the waitlist; a live offer to it passes on.
    pub async fn leave_waitlist(&mut self, wait_token: &str) -> Result<Outcome<()>, Error> {
        let request_id = self.request_id();
        let leave = ClientMessage::LeaveWaitlist { request_id, wait_token: wait_token.to_owned() };
        action("leaveWaitlist", self.call(leave).await?)
    }

    /// Books the slot offered to the entry, for the entry's patient: answered
    /// like a `book`, with the booking code and the manage link's secret.
    pub async fn accept_offer(&mut self, wait_token: &str) -> Result<BookingReply, Error> {
        let request_id = self.request_id();
        let accept = ClientMessage::AcceptOffer { request_id, wait_token: wait_token.to_owned() };
        booking_reply("acceptOffer", self.call(accept).await?)
    }

    /// Turns the live offer down: it passes to the next patient waiting, and the
    /// entry keeps waiting.
    pub async fn decline_offer(&mut self, wait_token: &str) -> Result<Outcome<()>, Error> {
        let request_id = self.request_id();
        let decline = ClientMessage::DeclineOffer { request_id, wait_token: wait_token.to_owned() };
        action("declineOffer", self.call(decline).await?)
    }

    /// Staff (after `staffLogin`): every entry on the waitlist now, in the order
    /// offers go to them. Not being staff is an [`Error::Server`] `forbidden`.
    pub async fn staff_waitlist(&mut self) -> Result<Vec<StaffWaiting>, Error> {
        let request_id = self.request_id();
        match self.call(ClientMessage::StaffWaitlist { request_id }).await? {
            ServerMessage::StaffWaitlist { entries, .. } => Ok(entries),
            other => Err(unexpected("staffWaitlist", other)),
        }
    }

    /// Staff: takes the entry with this id (as `staff_waitlist` gives it) off
    /// the waitlist; a live offer to it passes on.
    pub async fn staff_remove_waiting(&mut self, entry_id: u64) -> Result<Outcome<()>, Error> {
        let request_id = self.request_id();
        let remove = ClientMessage::StaffRemoveWaiting { request_id, entry_id };
        action("staffRemoveWaiting", self.call(remove).await?)
    }

    /// Waits for the next entry the server pushes to this connection (after
    /// `watch_waitlist`) because an offer to it was made or ended. Other
    /// messages that arrive meanwhile, schedule updates included, are kept for
    /// `recv` in order, so a `Follower` whose client waits here applies them
    /// on its next `next`. Cancelling the wait (a timeout) loses no message.
    pub async fn next_waitlist(&mut self) -> Result<WaitlistEntry, Error> {
        let kept = self.pending.iter().position(is_pushed_entry);
        if let Some(ServerMessage::Waitlist { entry, .. }) = kept.and_then(|at| self.pending.remove(at)) {
            return Ok(entry);
        }
        loop {
            match self.read().await? {
                ServerMessage::Waitlist { request_id: None, entry } => return Ok(entry),
                other => self.pending.push_back(other),
            }
        }
    }
}

/// Whether `message` is an entry pushed unasked, not the answer to a request.
fn is_pushed_entry(message: &ServerMessage) -> bool {
    matches!(message, ServerMessage::Waitlist { request_id: None, .. })
}

/// What a `joinResult` says.
fn joined(reply: ServerMessage) -> Result<Outcome<WaitToken>, Error> {
    match reply {
        ServerMessage::JoinResult { ok: true, wait_token: Some(token), .. } => Ok(Ok(token)),
        ServerMessage::JoinResult { ok: false, reason: Some(reason), .. } => Ok(Err(reason)),
        other => Err(unexpected("joinWaitlist", other)),
    }
}

/// What the answer to a request about one entry says: the entry, or the
/// `actionResult` that refused the request.
fn entry(request: &str, reply: ServerMessage) -> Result<Outcome<WaitlistEntry>, Error> {
    match reply {
        ServerMessage::Waitlist { entry, .. } => Ok(Ok(entry)),
        ServerMessage::ActionResult { ok: false, reason: Some(reason), .. } => Ok(Err(reason)),
        other => Err(unexpected(request, other)),
    }
}

/// What an `actionResult` says.
fn action(request: &str, reply: ServerMessage) -> Result<Outcome<()>, Error> {
    match reply {
        ServerMessage::ActionResult { ok: true, .. } => Ok(Ok(())),
        ServerMessage::ActionResult { ok: false, reason: Some(reason), .. } => Ok(Err(reason)),
        other => Err(unexpected(request, other)),
    }
}

#[cfg(test)]
mod tests;
