//! Staff on one connection: logging in with a name and password or resuming a
//! session, logging out, the admins' management of accounts, and the one
//! check of a member's role that every staff request goes through. A session
//! ended on this server (a logout, its account removed, its password changed)
//! ends every console using it at once, by a notice; a session is also read
//! again from the database before every staff request and on the
//! connection's periodic tick, so one that ended elsewhere (on another
//! instance, or run out) ends here too: the console is told `staffEnded` and
//! is an ordinary page again.

use protocol::{BookingFailure, ClientMessage, ErrorCode, ServerMessage, StaffRole};

use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::{Conn, forbidden, rate_limited};
use crate::AppState;
use crate::staff::{Login, Refusal, Session};

/// What a notice of ended sessions says about a console's own session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::ws) enum Notice {
    /// It has ended.
    Ended,
    /// Notices were missed: it may have.
    Unsure,
}

impl Conn {
    /// Checks, with a read of the database, that a member of staff whose role
    /// is `role` or above is logged in on this connection and that their
    /// session still holds. Returns the refusal to answer otherwise: a
    /// `forbidden` error echoing `request_id` (a session found ended also
    /// ends this console, which is then told `staffEnded`). Every staff
    /// request calls this first; `member()` then says who asks.
    pub(in crate::ws) async fn needs(
        &mut self,
        state: &AppState,
        role: StaffRole,
        request_id: &str,
    ) -> crate::Result<Option<ServerMessage>> {
        let Some(member) = &self.member else {
            return Ok(Some(forbidden(Some(request_id.to_owned()))));
        };
        if state.staff().member(&member.session_hash, state.now()).await?.is_none() {
            self.end_staff();
            self.after.push(ServerMessage::StaffEnded {});
            return Ok(Some(forbidden(Some(request_id.to_owned()))));
        }
        if role.is_admin() && !member.role.is_admin() {
            tracing::warn!(name = %member.name, "refused a request that only admins may make");
            return Ok(Some(forbidden(Some(request_id.to_owned()))));
        }
        Ok(None)
    }

    /// On the connection's tick: whether this was a staff console whose
    /// session has ended since (the caller then sends `staffEnded`). A
    /// database that cannot be read ends nothing; the next tick tries again.
    pub(in crate::ws) async fn staff_session_ended(&mut self, state: &AppState) -> bool {
        let Some(member) = &self.member else { return false };
        match state.staff().member(&member.session_hash, state.now()).await {
            Ok(Some(_)) => false,
            Ok(None) => {
                tracing::info!(name = %member.name, conn = self.id, "staff session ended");
                self.end_staff();
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not check a staff session");
                false
            }
        }
    }

    /// Resolves once a notice says that this console's session has ended on
    /// this server (`Notice::Unsure` when too many notices went by unread);
    /// never on a connection with no member logged in.
    pub(in crate::ws) async fn ended_notice(&mut self) -> Notice {
        let (Some(ended), Some(member)) = (&mut self.ended, &self.member) else {
            return std::future::pending().await;
        };
        loop {
            match ended.recv().await {
                Ok(hashes) if hashes.contains(&member.session_hash) => return Notice::Ended,
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => return Notice::Unsure,
                Err(RecvError::Closed) => return std::future::pending().await,
            }
        }
    }

    /// A notice already waiting that concerns this console's session, if
    /// any, without waiting for one: read before staff frames go out, so that
    /// none follows a logout.
    pub(in crate::ws) fn waiting_notice(&mut self) -> Option<Notice> {
        let (Some(ended), Some(member)) = (&mut self.ended, &self.member) else { return None };
        loop {
            match ended.try_recv() {
                Ok(hashes) if hashes.contains(&member.session_hash) => return Some(Notice::Ended),
                Ok(_) => {}
                Err(TryRecvError::Lagged(_)) => return Some(Notice::Unsure),
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            }
        }
    }

    /// Acts on `notice`: whether this console's session has ended (the caller
    /// then sends `staffEnded`). Unsure, it reads the session again.
    pub(in crate::ws) async fn session_ends(&mut self, notice: Notice, state: &AppState) -> bool {
        match notice {
            Notice::Ended => {
                if let Some(member) = &self.member {
                    tracing::info!(name = %member.name, conn = self.id, "staff session ended here");
                }
                self.end_staff();
                true
            }
            Notice::Unsure => self.staff_session_ended(state).await,
        }
    }

    /// Carries out one message about staff sessions or accounts.
    pub(super) async fn staff_accounts(
        &mut self,
        message: ClientMessage,
        state: &AppState,
    ) -> crate::Result<ServerMessage> {
        let staff = state.staff();
        let now = state.now();
        Ok(match message {
            ClientMessage::StaffLogin { request_id, name, password } => {
                let lasts = state.limits.staff_session;
                match staff.log_in(&name, &password, now, lasts, self.peer).await? {
                    Login::Session(session) => self.begin_staff(request_id, session, state).await?,
                    Login::Refused => {
                        tracing::warn!(peer = %self.peer, "staff login refused: wrong name or password");
                        forbidden(Some(request_id))
                    }
                    Login::Busy => {
                        tracing::warn!(peer = %self.peer, "staff login refused unchecked: too many at once");
                        rate_limited(
                            "The server is checking as many logins as it can; try again in a moment.",
                            Some(request_id),
                        )
                    }
                }
            }
            ClientMessage::StaffResume { request_id, session } => match staff.resume(&session, now).await? {
                Some(session) => self.begin_staff(request_id, session, state).await?,
                None => {
                    tracing::warn!(peer = %self.peer, "staff resume refused: no such session, or it ended");
                    forbidden(Some(request_id))
                }
            },
            ClientMessage::StaffLogout { request_id } => {
                let Some(member) = self.member.clone() else { return Ok(forbidden(Some(request_id))) };
                // This console ends first, whatever becomes of the write.
                self.end_staff();
                staff.log_out(&member, now, self.peer).await?;
                ServerMessage::ActionResult { request_id, ok: true, reason: None }
            }
            ClientMessage::StaffAccounts { request_id } => {
                if let Some(refusal) = self.needs(state, StaffRole::Admin, &request_id).await? {
                    return Ok(refusal);
                }
                ServerMessage::StaffAccounts { request_id, accounts: staff.list().await? }
            }
            ClientMessage::AddStaff { request_id, name, role, password } => {
                if let Some(refusal) = self.needs(state, StaffRole::Admin, &request_id).await? {
                    return Ok(refusal);
                }
                let origin = self.staff_origin();
                done(request_id, staff.add(&name, role, &password, now, &origin).await?)
            }
            ClientMessage::RemoveStaff { request_id, name } => {
                if let Some(refusal) = self.needs(state, StaffRole::Admin, &request_id).await? {
                    return Ok(refusal);
                }
                let origin = self.staff_origin();
                // The last admin is kept whoever asks, so that the clinic
                // cannot lock itself out from the console.
                done(request_id, staff.remove(&name, now, &origin, false).await?.map(|_| ()))
            }
            other => unreachable!("not a staff account message: {:?}", other.request_id()),
        })
    }

    /// Makes this connection a staff console for `session`: the answer is the
    /// `staffSession`, followed by the staff state.
    async fn begin_staff(
        &mut self,
        request_id: String,
        session: Session,
        state: &AppState,
    ) -> crate::Result<ServerMessage> {
        let Session { secret, member, expires_at } = session;
        let answer = ServerMessage::StaffSession {
            request_id,
            session: secret,
            name: member.name.clone(),
            role: member.role,
            expires_at,
        };
        tracing::info!(name = %member.name, conn = self.id, "staff logged in");
        self.member = Some(member);
        if self.ended.is_none() {
            self.ended = Some(state.staff().ended_sessions());
        }
        if self.staff_presence.is_none() {
            self.staff_presence = Some(state.engine.staff_present());
        }
        let (version, bookings) = state.engine.staff_state().await?;
        self.staff_version = Some(version);
        self.after.push(ServerMessage::StaffState { version, bookings });
        Ok(answer)
    }

    /// Makes this connection an ordinary page again: no member, no staff frames.
    fn end_staff(&mut self) {
        self.member = None;
        self.ended = None;
        self.staff_version = None;
        self.staff_presence = None;
    }
}

/// The answer to a change of the staff accounts: `actionResult`, or an `error`
/// that says why it was refused.
fn done(request_id: String, result: Result<(), Refusal>) -> ServerMessage {
    match result {
        Ok(()) => ServerMessage::ActionResult { request_id, ok: true, reason: None },
        Err(Refusal::Unknown) => {
            ServerMessage::ActionResult { request_id, ok: false, reason: Some(BookingFailure::NotFound) }
        }
        Err(refusal) => ServerMessage::Error {
            code: ErrorCode::InvalidMessage,
            message: format!("Refused: {refusal}."),
            request_id: Some(request_id),
        },
    }
}
