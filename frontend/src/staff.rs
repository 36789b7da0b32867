//! The staff console's logic as plain data: logging in by name and password,
//! the session kept for a reload or a reconnect, the bookings with their
//! patients, and staff actions (cancel, block, unblock, end a hold, mark a
//! no-show). The waitlist's part is in `waitlist`, the day agenda in `agenda`,
//! the audit trail in `audit`, and what only admins do in `admin`.

pub mod admin;
pub mod agenda;
pub mod audit;
pub mod waitlist;

use std::collections::HashMap;

use crate::say::Say;
use protocol::{
    BookingFailure, ClientMessage, ErrorCode, ServerMessage, SlotId, StaffBooking, StaffRole, Version,
};

/// Whether this page is a staff console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Desk {
    /// Asking for a name and a password.
    #[default]
    LoggedOut,
    /// Sent the name and password; waiting.
    LoggingIn,
    /// Logging in again with the session kept (after a reload or a reconnect).
    Resuming,
    /// Logged in.
    In,
}

/// A staff action on one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Cancel the slot's booking.
    Cancel,
    /// Take the slot out of the schedule (a free one, or a held one, whose hold
    /// it ends).
    Block,
    /// Put it back.
    Unblock,
    /// End whoever's hold of the slot, so that it turns free for everyone.
    EndHold,
    /// Mark the booking's patient as not having come.
    NoShow,
    /// Take the no-show mark back.
    UndoNoShow,
}

/// Who is logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// The account's login name.
    pub name: String,
    /// What it may do.
    pub role: StaffRole,
}

/// The staff console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffDesk {
    /// The session's secret, to log in again after a reconnect or a reload;
    /// the password itself is never kept.
    session: Option<String>,
    /// Who is logged in, once the server said.
    pub me: Option<Me>,
    /// Logged in or not.
    pub desk: Desk,
    /// Every active booking, by slot.
    pub bookings: HashMap<SlotId, StaffBooking>,
    version: Version,
    /// The slot whose details are open.
    pub selected: Option<SlotId>,
    /// The request id of the `staffLogin` or `staffResume` in flight.
    logging_in: Option<String>,
    /// The request id of the action in flight, and its slot.
    waiting_for: Option<(String, SlotId)>,
    /// What the last login or action said, for people.
    pub said: Option<Say>,
}

impl StaffDesk {
    /// The `staffLogin` for a name and a password typed in.
    pub fn login(&mut self, name: String, password: String, request_id: String) -> ClientMessage {
        self.desk = Desk::LoggingIn;
        self.said = None;
        self.logging_in = Some(request_id.clone());
        ClientMessage::StaffLogin { request_id, name, password }
    }

    /// Starts from a session kept by this browser tab: the console logs in
    /// with it as soon as it can (see `resume`).
    pub fn resume_from(&mut self, session: String) {
        if self.desk == Desk::LoggedOut {
            self.session = Some(session);
            self.desk = Desk::Resuming;
        }
    }

    /// The `staffResume` to send on a fresh connection, while resuming.
    pub fn resume(&mut self, request_id: String) -> Option<ClientMessage> {
        if self.desk != Desk::Resuming {
            return None;
        }
        let session = self.session.clone()?;
        self.logging_in = Some(request_id.clone());
        Some(ClientMessage::StaffResume { request_id, session })
    }

    /// The session this browser tab should keep, if any.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// Logs out: everything is forgotten at once, and the `staffLogout` to send
    /// ends the session on the server too.
    pub fn logout(&mut self, request_id: String) -> Option<ClientMessage> {
        let had = self.session.is_some();
        *self = Self { said: Some(Say::LoggedOut), ..Self::default() };
        had.then_some(ClientMessage::StaffLogout { request_id })
    }

    /// Whether the console shows the schedule.
    pub fn logged_in(&self) -> bool {
        self.desk == Desk::In
    }

    /// Whether the one logged in may do what admins may.
    pub fn admin(&self) -> bool {
        self.me.as_ref().is_some_and(|me| me.role.is_admin())
    }

    /// A staff action to send.
    pub fn act(&mut self, action: Action, slot: SlotId, request_id: String) -> ClientMessage {
        self.waiting_for = Some((request_id.clone(), slot.clone()));
        self.said = None;
        let slot_id = slot;
        match action {
            Action::Cancel => ClientMessage::StaffCancel { request_id, slot_id },
            Action::Block => ClientMessage::Block { request_id, slot_id },
            Action::Unblock => ClientMessage::Unblock { request_id, slot_id },
            Action::EndHold => ClientMessage::EndHold { request_id, slot_id },
            Action::NoShow => ClientMessage::StaffNoShow { request_id, slot_id, no_show: true },
            Action::UndoNoShow => ClientMessage::StaffNoShow { request_id, slot_id, no_show: false },
        }
    }

    /// Whether an action is on its way.
    pub fn busy(&self) -> bool {
        self.waiting_for.is_some()
    }

    /// The slot of the action on its way.
    pub fn busy_with(&self) -> Option<&SlotId> {
        self.waiting_for.as_ref().map(|(_, slot)| slot)
    }

    /// Takes a server message; `true` when it was for the console.
    pub fn on_message(&mut self, message: &ServerMessage) -> bool {
        match message {
            ServerMessage::StaffSession { request_id, session, name, role, .. }
                if self.logging_in.as_ref() == Some(request_id) =>
            {
                self.logging_in = None;
                self.session = Some(session.clone());
                self.me = Some(Me { name: name.clone(), role: *role });
                true
            }
            ServerMessage::StaffState { version, bookings } => {
                self.desk = Desk::In;
                self.version = *version;
                self.bookings = bookings.iter().map(|b| (b.slot_id.clone(), b.clone())).collect();
                true
            }
            ServerMessage::StaffUpdate { version, slot_id, booking } => {
                if *version > self.version {
                    self.version = *version;
                    match booking {
                        Some(b) => self.bookings.insert(slot_id.clone(), b.clone()),
                        None => self.bookings.remove(slot_id),
                    };
                }
                true
            }
            ServerMessage::StaffEnded {} => {
                *self = Self { said: Some(Say::SessionEnded), ..Self::default() };
                true
            }
            ServerMessage::Error { code, request_id: Some(id), .. }
                if self.logging_in.as_ref() == Some(id) =>
            {
                let said = match (code, self.desk == Desk::Resuming) {
                    (ErrorCode::Forbidden, false) => Say::BadLogin,
                    (ErrorCode::Forbidden, true) => Say::SessionOver,
                    (other, _) => Say::Error(*other),
                };
                *self = Self { said: Some(said), ..Self::default() };
                true
            }
            ServerMessage::ActionResult { request_id, ok, reason } if self.waits_for(request_id) => {
                self.waiting_for = None;
                self.said = (!ok).then(|| Say::Refused(reason.unwrap_or(BookingFailure::WrongState)));
                if *ok {
                    self.selected = None;
                }
                true
            }
            ServerMessage::Error { code, request_id: Some(id), .. } if self.waits_for(id) => {
                self.waiting_for = None;
                self.said =
                    Some(if *code == ErrorCode::Forbidden { Say::Forbidden } else { Say::Error(*code) });
                true
            }
            _ => false,
        }
    }

    fn waits_for(&self, id: &str) -> bool {
        self.waiting_for.as_ref().is_some_and(|(waiting, _)| waiting == id)
    }

    /// The connection dropped: log in again with the session on the next one.
    /// A login sent with a password and not answered must be typed again, as
    /// the password is not kept.
    pub fn on_disconnect(&mut self) {
        self.waiting_for = None;
        self.logging_in = None;
        match (&self.desk, self.session.is_some()) {
            (Desk::In | Desk::LoggingIn, true) => self.desk = Desk::Resuming,
            (Desk::LoggingIn, false) => {
                self.desk = Desk::LoggedOut;
                self.said = Some(Say::LoginDropped);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
