//! What a client asks for, carried out: each message decoded, checked against the
//! limits on secrets, handed to the engine, and answered.

use protocol::{BookingFailure, ClientMessage, ErrorCode, ServerMessage, Version};

use crate::address::ClientKey;
use crate::engine::{Book, BookOutcome, ConnId, StaffAction};
use crate::{AppState, wire};

mod history;
mod records;
mod staff;
mod waitlist;

/// What to do after one message.
// `Send` is as large as the largest message (a `waitlist` entry with its
// offer); a reply is made, sent and dropped at once, so its size costs nothing
// that boxing would save.
#[allow(clippy::large_enum_variant)]
pub(super) enum Reply {
    /// Nothing to send.
    Nothing,
    /// Send this to the client.
    Send(ServerMessage),
    /// Send these to the client, in this order.
    SendAll(Vec<ServerMessage>),
    /// The client says it holds this version: bring it up to date.
    Resync(Version),
}

/// One connection's own state.
pub(super) struct Conn {
    id: ConnId,
    /// The client's address, for the limits per address.
    peer: ClientKey,
    /// Set once the connection logged in as staff: the version its staff state
    /// was taken at; later staff updates are sent to it.
    staff_version: Option<Version>,
    /// Keeps staff frames being made while this console is connected.
    staff_presence: Option<crate::hub::StaffPresence>,
    /// The member of staff logged in on this connection.
    member: Option<crate::staff::Member>,
    /// While a member is logged in: the notices of sessions ended on this
    /// server, so that a logout elsewhere ends this console at once.
    ended: Option<tokio::sync::broadcast::Receiver<crate::staff::EndedSessions>>,
    /// The waitlist entry whose changes this connection is told of, once it
    /// showed the entry's link.
    watching: Option<crate::hub::Watching>,
    /// What to send after the answer to the message being carried out (the
    /// staff state after a login, `staffEnded` after a session found ended).
    after: Vec<ServerMessage>,
}

impl Conn {
    pub(super) fn new(id: ConnId, peer: ClientKey) -> Self {
        Self {
            id,
            peer,
            staff_version: None,
            staff_presence: None,
            member: None,
            ended: None,
            watching: None,
            after: Vec::new(),
        }
    }

    pub(super) fn id(&self) -> ConnId {
        self.id
    }

    /// The client's address.
    pub(super) fn peer(&self) -> ClientKey {
        self.peer
    }

    /// The member of staff logged in on this connection, if any. Handlers call
    /// `needs` first, which also makes sure the session still holds.
    pub(super) fn member(&self) -> Option<&crate::staff::Member> {
        self.member.as_ref()
    }

    /// Who this connection acts as, for the audit trail: its member of staff
    /// when one is logged in, `patient` otherwise.
    pub(super) fn origin(&self, patient: protocol::Actor) -> crate::audit::Origin {
        let actor = match &self.member {
            Some(member) => protocol::Actor::Staff { name: member.name.clone() },
            None => patient,
        };
        crate::audit::Origin::new(actor, self.peer)
    }

    /// The origin of a staff request that `needs` let through: its member of
    /// staff, who is logged in by then.
    pub(super) fn staff_origin(&self) -> crate::audit::Origin {
        self.origin(protocol::Actor::System)
    }

    /// Whether this connection gets only what every page gets: no staff
    /// frames and no waitlist offers. Its updates then go straight from the
    /// fan-out workers to its socket.
    pub(super) fn is_plain(&self) -> bool {
        self.staff_version.is_none() && self.member.is_none() && self.watching.is_none()
    }

    /// Whether the staff frame of the change with `version` goes to this
    /// connection: it is a staff console whose staff state is older.
    pub(super) fn receives_staff_frames(&self, version: Version) -> bool {
        self.staff_version.is_some_and(|v| version > v)
    }

    /// The frame of a change that goes to this connection for the waitlist
    /// entry it watches, if the change concerns that entry.
    pub(super) fn waiting_frame(&self, update: &crate::hub::Broadcast) -> Option<crate::wire::Frame> {
        let watching = self.watching.as_ref()?.entry();
        update.waiting.as_ref()?.iter().find(|(id, _)| *id == watching).map(|(_, frame)| frame.clone())
    }

    /// Carries out one text frame and says what to send back.
    pub(super) async fn handle_text(&mut self, text: &str, state: &AppState) -> Reply {
        let message = match wire::decode(text) {
            Ok(ClientMessage::Hello { last_version }) => return Reply::Resync(last_version),
            Ok(message) => message,
            Err(rejection) => return Reply::Send(rejection.into_message()),
        };
        let request_id = message.request_id().map(str::to_owned);
        let reply = match self.handle(message, state).await {
            Ok(Some(reply)) => Some(reply),
            Ok(None) => None,
            Err(e) => Some(failed(&e, request_id)),
        };
        match reply {
            Some(reply) if self.after.is_empty() => Reply::Send(reply),
            None if self.after.is_empty() => Reply::Nothing,
            reply => Reply::SendAll(reply.into_iter().chain(self.after.drain(..)).collect()),
        }
    }

    async fn handle(
        &mut self,
        message: ClientMessage,
        state: &AppState,
    ) -> crate::Result<Option<ServerMessage>> {
        // Which secret the message tries, if it tries one: manage links and
        // staff logins have budgets of their own.
        let guesses = match &message {
            ClientMessage::Lookup { .. }
            | ClientMessage::Cancel { .. }
            | ClientMessage::WatchWaitlist { .. }
            | ClientMessage::ChangeWaitlist { .. }
            | ClientMessage::LeaveWaitlist { .. }
            | ClientMessage::AcceptOffer { .. }
            | ClientMessage::DeclineOffer { .. } => Some(&state.manage_guesses),
            // A move to a slot that does not exist fails whatever the secret, and
            // says nothing about it: a mistyped slot is not a guess.
            ClientMessage::Reschedule { slot_id, .. } => {
                state.engine.snapshot().has_slot(slot_id).then_some(&state.manage_guesses)
            }
            ClientMessage::StaffLogin { .. } | ClientMessage::StaffResume { .. } => {
                Some(&state.staff_guesses)
            }
            _ => None,
        };
        // The try is counted before the secret is checked, so that tries sent
        // at once on many connections cannot all be checked before the first
        // is counted; a right one is given back.
        let reserved = match guesses.map(|guesses| (guesses, guesses.reserve(self.peer))) {
            Some((_, None)) => {
                tracing::warn!(peer = %self.peer, "refused a secret unchecked: too many wrong ones");
                return Ok(Some(rate_limited(
                    "Too many wrong links, logins or sessions; try again in a minute.",
                    message.request_id().map(str::to_owned),
                )));
            }
            Some((guesses, Some(reserved))) => Some((guesses, reserved)),
            None => None,
        };
        let reply = self.carry_out(message, state).await?;
        let wrong_secret = matches!(
            &reply,
            Some(
                ServerMessage::ActionResult { ok: false, reason: Some(BookingFailure::NotFound), .. }
                    | ServerMessage::BookingResult { ok: false, reason: Some(BookingFailure::NotFound), .. }
                    | ServerMessage::Error { code: ErrorCode::Forbidden, .. }
            )
        );
        // A request that failed inside the server keeps its try: whether its
        // secret was right is not known.
        match reserved {
            Some((guesses, _)) if wrong_secret => guesses.wrong(self.peer),
            Some((guesses, reserved)) => guesses.give_back(self.peer, reserved),
            None => {}
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
            ClientMessage::Book { request_id, slot_id, patient, proof } => {
                // The proof is checked here, on the connection's own task, so that
                // the engine spends nothing on a request without one.
                let proof = match proof {
                    Some(proof) if state.pow.required() => state.pow.verify(&proof),
                    _ => None,
                };
                let outcome = if state.pow.required() && proof.is_none() {
                    BookOutcome::Refused(BookingFailure::ChallengeFailed)
                } else {
                    let book = Book { slot_id, patient, request_id: request_id.clone(), proof };
                    engine.book(self.id, self.peer, book, self.origin(protocol::Actor::Patient)).await?
                };
                match outcome {
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
            ClientMessage::Challenge { request_id } => {
                ServerMessage::Challenge { request_id, challenge: state.pow.challenge(chrono::Utc::now()) }
            }
            ClientMessage::Hold { request_id, slot_id } => {
                let origin = self.origin(protocol::Actor::Patient);
                hold_result(request_id, engine.hold(self.id, self.peer, slot_id, origin).await?)
            }
            ClientMessage::ExtendHold { request_id, slot_id } => {
                let origin = self.origin(protocol::Actor::Patient);
                hold_result(request_id, engine.extend_hold(self.id, slot_id, origin).await?)
            }
            ClientMessage::Release { slot_id } => {
                engine.release(self.id, slot_id, self.origin(protocol::Actor::Patient)).await?;
                return Ok(None);
            }
            ClientMessage::Lookup { request_id, manage_token } => match engine.lookup(manage_token).await? {
                Ok(booking) => ServerMessage::Booking { request_id, booking },
                Err(reason) => action(request_id, Err(reason)),
            },
            ClientMessage::Cancel { request_id, manage_token } => action(
                request_id,
                engine.cancel(manage_token, self.origin(protocol::Actor::ManageLink)).await?,
            ),
            ClientMessage::Reschedule { request_id, manage_token, slot_id } => {
                let origin = self.origin(protocol::Actor::ManageLink);
                match engine.reschedule(self.id, manage_token, slot_id, origin).await? {
                    Ok(booking) => ServerMessage::Booking { request_id, booking },
                    Err(reason) => action(request_id, Err(reason)),
                }
            }
            ClientMessage::Reset { request_id } => {
                if let Some(refusal) = self.needs(state, protocol::StaffRole::Admin, &request_id).await? {
                    return Ok(Some(refusal));
                }
                // Everyone, this client included, receives the new `initialState`.
                engine.reset(self.staff_origin()).await?;
                return Ok(None);
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
            ClientMessage::EndHold { request_id, slot_id } => {
                self.staff_action(state, StaffAction::EndHold, request_id, slot_id).await?
            }
            // Answered by the connection itself, which holds the socket.
            ClientMessage::Hello { .. } => return Ok(None),
            // Staff sessions and accounts.
            message @ (ClientMessage::StaffLogin { .. }
            | ClientMessage::StaffResume { .. }
            | ClientMessage::StaffLogout { .. }
            | ClientMessage::StaffAccounts { .. }
            | ClientMessage::AddStaff { .. }
            | ClientMessage::RemoveStaff { .. }) => self.staff_accounts(message, state).await?,
            // The audit trail.
            ClientMessage::StaffHistory { request_id, query } => {
                self.history(request_id, query, state).await?
            }
            // No-shows and erasure.
            message @ (ClientMessage::StaffNoShow { .. } | ClientMessage::StaffErase { .. }) => {
                self.records(message, state).await?
            }
            message @ (ClientMessage::JoinWaitlist { .. }
            | ClientMessage::WatchWaitlist { .. }
            | ClientMessage::ChangeWaitlist { .. }
            | ClientMessage::LeaveWaitlist { .. }
            | ClientMessage::AcceptOffer { .. }
            | ClientMessage::DeclineOffer { .. }
            | ClientMessage::StaffWaitlist { .. }
            | ClientMessage::StaffRemoveWaiting { .. }) => self.waitlist(message, state).await?,
        }))
    }

    async fn staff_action(
        &mut self,
        state: &AppState,
        kind: StaffAction,
        request_id: String,
        slot_id: protocol::SlotId,
    ) -> crate::Result<ServerMessage> {
        if let Some(refusal) = self.needs(state, protocol::StaffRole::Receptionist, &request_id).await? {
            return Ok(refusal);
        }
        let result = state.engine.staff(kind, slot_id, self.staff_origin()).await?;
        Ok(ServerMessage::ActionResult { request_id, ok: result.is_ok(), reason: result.err() })
    }
}

/// The answer to a `hold` or an `extendHold`.
fn hold_result(
    request_id: String,
    outcome: Result<chrono::DateTime<chrono::Utc>, BookingFailure>,
) -> ServerMessage {
    ServerMessage::HoldResult {
        request_id,
        ok: outcome.is_ok(),
        expires_at: outcome.ok(),
        reason: outcome.err(),
    }
}

/// The `error` a client gets when the server failed it. Every kind of `Error` is
/// the server's own fault, so clients only learn that it was internal; the
/// details go to the log.
fn failed(e: &crate::Error, request_id: Option<String>) -> ServerMessage {
    tracing::error!(error = %e, "request failed");
    ServerMessage::Error {
        code: ErrorCode::Internal,
        message: "The server could not process this request; please try again.".into(),
        request_id,
    }
}

/// The `rateLimited` error, saying `why`.
fn rate_limited(why: &str, request_id: Option<String>) -> ServerMessage {
    ServerMessage::Error { code: ErrorCode::RateLimited, message: why.into(), request_id }
}

fn forbidden(request_id: Option<String>) -> ServerMessage {
    ServerMessage::Error {
        code: ErrorCode::Forbidden,
        message: "Not allowed: log in as staff (with a role that may do this), or the name, password or \
                  session is wrong or ended."
            .into(),
        request_id,
    }
}
