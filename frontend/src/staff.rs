//! The staff console's logic as plain data: logging in, the bookings with their
//! patients, and staff actions (cancel, block, unblock, end a hold). The
//! waitlist's part is in `waitlist`.

pub mod waitlist;

use std::collections::HashMap;

use crate::say::Say;
use protocol::{BookingFailure, ClientMessage, ErrorCode, ServerMessage, SlotId, StaffBooking, Version};

/// Whether this page is a staff console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Desk {
    /// Asking for the admin token.
    #[default]
    LoggedOut,
    /// Sent the token; waiting.
    LoggingIn,
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
}

/// The staff console.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffDesk {
    /// Kept in memory only, to log in again after a reconnect.
    token: Option<String>,
    /// Logged in or not.
    pub desk: Desk,
    /// Every active booking, by slot.
    pub bookings: HashMap<SlotId, StaffBooking>,
    version: Version,
    /// The slot whose details are open.
    pub selected: Option<SlotId>,
    /// The request id of the action in flight.
    waiting_for: Option<String>,
    /// What the last login or action said, for people.
    pub said: Option<Say>,
}

impl StaffDesk {
    /// The `staffLogin` for a token typed in.
    pub fn login(&mut self, token: String) -> ClientMessage {
        self.token = Some(token.clone());
        self.desk = Desk::LoggingIn;
        self.said = None;
        ClientMessage::StaffLogin { admin_token: token }
    }

    /// The `staffLogin` to send again on a fresh connection, when logged in.
    pub fn login_message(&self) -> Option<ClientMessage> {
        self.token.clone().map(|admin_token| ClientMessage::StaffLogin { admin_token })
    }

    /// Whether the console shows the schedule.
    pub fn logged_in(&self) -> bool {
        self.desk == Desk::In
    }

    /// A staff action to send.
    pub fn act(&mut self, action: Action, slot: SlotId, request_id: String) -> ClientMessage {
        self.waiting_for = Some(request_id.clone());
        self.said = None;
        match action {
            Action::Cancel => ClientMessage::StaffCancel { request_id, slot_id: slot },
            Action::Block => ClientMessage::Block { request_id, slot_id: slot },
            Action::Unblock => ClientMessage::Unblock { request_id, slot_id: slot },
            Action::EndHold => ClientMessage::EndHold { request_id, slot_id: slot },
        }
    }

    /// Whether an action is on its way.
    pub fn busy(&self) -> bool {
        self.waiting_for.is_some()
    }

    /// Takes a server message; `true` when it was for the console.
    pub fn on_message(&mut self, message: &ServerMessage) -> bool {
        match message {
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
            ServerMessage::Error { code: ErrorCode::Forbidden, request_id: None, .. }
                if self.desk == Desk::LoggingIn =>
            {
                self.desk = Desk::LoggedOut;
                self.token = None;
                self.said = Some(Say::BadAdminToken);
                true
            }
            ServerMessage::ActionResult { request_id, ok, reason }
                if self.waiting_for.as_ref() == Some(request_id) =>
            {
                self.waiting_for = None;
                self.said = (!ok).then(|| Say::Refused(reason.unwrap_or(BookingFailure::WrongState)));
                if *ok {
                    self.selected = None;
                }
                true
            }
            _ => false,
        }
    }

    /// The connection dropped: log in again on the next one.
    pub fn on_disconnect(&mut self) {
        self.waiting_for = None;
        if self.desk == Desk::In {
            self.desk = Desk::LoggingIn;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Patient;

    fn booking(slot: &str) -> StaffBooking {
        StaffBooking {
            slot_id: SlotId(slot.into()),
            code: "K7M2-QX4P".into(),
            patient: Patient { name: "Anna".into(), phone: "+7 912 345-67-89".into() },
            booked_at: "2026-11-24T07:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_wrong_token_logs_out_with_a_message_and_is_forgotten() {
        let mut desk = StaffDesk::default();
        desk.login("nope".into());
        let forbidden =
            ServerMessage::Error { code: ErrorCode::Forbidden, message: "no".into(), request_id: None };
        assert!(desk.on_message(&forbidden));
        assert_eq!(desk.desk, Desk::LoggedOut);
        assert_eq!(desk.said, Some(Say::BadAdminToken));
        assert!(desk.login_message().is_none());
    }

    #[test]
    fn staff_updates_newer_than_the_state_change_the_bookings() {
        let mut desk = StaffDesk::default();
        desk.login("t".into());
        desk.on_message(&ServerMessage::StaffState { version: 10, bookings: vec![booking("a")] });
        assert!(desk.logged_in());
        desk.on_message(&ServerMessage::StaffUpdate {
            version: 9,
            slot_id: SlotId("a".into()),
            booking: None,
        });
        assert!(desk.bookings.contains_key(&SlotId("a".into())), "an older update is ignored");
        desk.on_message(&ServerMessage::StaffUpdate {
            version: 11,
            slot_id: SlotId("b".into()),
            booking: Some(booking("b")),
        });
        desk.on_message(&ServerMessage::StaffUpdate {
            version: 12,
            slot_id: SlotId("a".into()),
            booking: None,
        });
        assert_eq!(desk.bookings.keys().map(|k| k.0.as_str()).collect::<Vec<_>>(), ["b"]);
        desk.on_disconnect();
        assert!(matches!(desk.login_message(), Some(ClientMessage::StaffLogin { .. })), "logs in again");
    }

    #[test]
    fn ending_a_hold_sends_end_hold_and_a_refusal_is_said_in_words() {
        let mut desk = StaffDesk::default();
        let sent = desk.act(Action::EndHold, SlotId("a".into()), "e1".into());
        assert_eq!(sent, ClientMessage::EndHold { request_id: "e1".into(), slot_id: SlotId("a".into()) });
        assert!(desk.busy());
        let refused = ServerMessage::ActionResult {
            request_id: "e1".into(),
            ok: false,
            reason: Some(BookingFailure::WrongState),
        };
        assert!(desk.on_message(&refused));
        assert!(!desk.busy());
        assert_eq!(desk.said, Some(Say::Refused(BookingFailure::WrongState)));
        desk.selected = Some(SlotId("a".into()));
        desk.act(Action::EndHold, SlotId("a".into()), "e2".into());
        desk.on_message(&ServerMessage::ActionResult { request_id: "e2".into(), ok: true, reason: None });
        assert_eq!((desk.said, desk.selected.as_ref()), (None, None), "done: the details close");
    }
}
