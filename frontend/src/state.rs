//! The page's state as plain data: the schedule it shows and how messages change
//! it, the booking dialog's flow, and the staff reset flow. No browser APIs here,
//! so all of it is unit-tested natively.

use std::collections::BTreeMap;

pub use protocol::Applied;
use protocol::{
    BookingCode, BookingFailure, ClientMessage, ErrorCode, ManageToken, Patient, Replica, Schedule,
    ServerMessage, SlotId, SlotStatus, Version,
};
use serde::{Deserialize, Serialize};

/// A booking made from this browser, remembered across visits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mine {
    /// The code to quote.
    pub code: BookingCode,
    /// The manage link's secret, when the server gave one.
    pub token: Option<ManageToken>,
}

/// The schedule as this page knows it, and the bookings made from this browser.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    replica: Replica,
    /// Bookings made from this browser, by slot.
    pub mine: BTreeMap<SlotId, Mine>,
}

impl Board {
    /// The schedule, once the first `initialState` has arrived.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.replica.schedule()
    }

    /// The version of the schedule shown.
    pub fn version(&self) -> Option<Version> {
        self.replica.version()
    }

    /// The slot's status, if the slot is known.
    pub fn status(&self, id: &SlotId) -> Option<SlotStatus> {
        self.replica.status(id)
    }

    /// Whether this browser booked the slot.
    pub fn is_mine(&self, id: &SlotId) -> bool {
        self.mine.contains_key(id)
    }

    /// Applies one server message in version order (see `Replica::apply`), and
    /// forgets bookings of ours whose slot is no longer booked (cleared by staff
    /// or a reset, or cancelled).
    pub fn apply(&mut self, message: ServerMessage) -> Applied {
        let applied = self.replica.apply(message);
        match &applied {
            Applied::Replaced => {
                let replica = &self.replica;
                self.mine.retain(|id, _| replica.status(id) == Some(SlotStatus::Booked));
            }
            Applied::Changed(slot) if slot.status == SlotStatus::Free => {
                self.mine.remove(&slot.id);
            }
            _ => {}
        }
        applied
    }
}

/// Whether the slot of an open booking form is held for this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Asked for; the answer has not come yet.
    Asking {
        /// The request id of the `hold`.
        request_id: String,
    },
    /// Held until the instant given (milliseconds since the epoch).
    Held {
        /// When the hold ends.
        until_ms: i64,
    },
}

/// The booking dialog: choosing a slot, holding it, sending the request once, and
/// its outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Booking {
    /// No dialog.
    #[default]
    Closed,
    /// Asking for the patient's details.
    Form {
        /// The chosen slot.
        slot: SlotId,
        /// Why the last attempt was refused, when it was.
        problem: Option<String>,
        /// The hold on the slot.
        hold: Hold,
    },
    /// Sent; waiting for the server.
    Sending {
        /// The chosen slot.
        slot: SlotId,
        /// The request id of the `book` sent.
        request_id: String,
    },
    /// Committed by the server.
    Booked {
        /// The booked slot.
        slot: SlotId,
        /// The code to quote.
        code: BookingCode,
        /// The manage link's secret.
        token: Option<ManageToken>,
    },
    /// Someone else got the slot, or is booking it right now.
    Taken {
        /// The slot lost.
        slot: SlotId,
        /// Why it cannot be had.
        reason: BookingFailure,
    },
    /// The outcome is unknown or failed for another reason.
    Failed {
        /// The slot tried.
        slot: SlotId,
        /// What to tell the patient.
        message: String,
    },
}

impl Booking {
    /// Opens the form for a slot and returns the `hold` to send, unless a request
    /// is already on its way.
    pub fn open(&mut self, slot: SlotId, request_id: String) -> Option<ClientMessage> {
        if matches!(self, Self::Sending { .. }) {
            return None;
        }
        *self = Self::Form {
            slot: slot.clone(),
            problem: None,
            hold: Hold::Asking { request_id: request_id.clone() },
        };
        Some(ClientMessage::Hold { request_id, slot_id: slot })
    }

    /// Closes the dialog, unless a request is on its way (its answer must be seen),
    /// and returns the `release` of a hold to send.
    pub fn close(&mut self) -> Option<ClientMessage> {
        match std::mem::take(self) {
            sending @ Self::Sending { .. } => {
                *self = sending;
                None
            }
            Self::Form { slot, .. } => Some(ClientMessage::Release { slot_id: slot }),
            _ => None,
        }
    }

    /// The slot the dialog is about.
    pub fn slot(&self) -> Option<&SlotId> {
        match self {
            Self::Closed => None,
            Self::Form { slot, .. }
            | Self::Sending { slot, .. }
            | Self::Booked { slot, .. }
            | Self::Taken { slot, .. }
            | Self::Failed { slot, .. } => Some(slot),
        }
    }

    /// Submits the form: returns the `book` message to send, or `None` when nothing
    /// must be sent (no form open, or the same request already sent — a double
    /// click sends one booking).
    pub fn submit(&mut self, patient: Patient, request_id: String) -> Option<ClientMessage> {
        let Self::Form { slot, .. } = self else { return None };
        let slot = slot.clone();
        *self = Self::Sending { slot: slot.clone(), request_id: request_id.clone() };
        Some(ClientMessage::Book { request_id, slot_id: slot, patient })
    }

    /// Takes a server reply; returns the booked slot and what to remember of it
    /// when this reply confirmed our booking.
    pub fn on_reply(&mut self, reply: &ServerMessage) -> Option<(SlotId, Mine)> {
        match (&mut *self, reply) {
            (
                Self::Form { slot, hold, .. },
                ServerMessage::HoldResult { request_id: id, ok, expires_at, reason },
            ) if matches!(&*hold, Hold::Asking { request_id } if request_id == id) => {
                match (ok, expires_at, reason) {
                    (true, Some(until), _) => *hold = Hold::Held { until_ms: until.timestamp_millis() },
                    (_, _, reason) => {
                        let reason = reason.unwrap_or(BookingFailure::WrongState);
                        *self = Self::Taken { slot: slot.clone(), reason };
                    }
                }
                None
            }
            (
                Self::Sending { slot, request_id },
                ServerMessage::BookingResult { request_id: id, ok, booking_code, manage_token, reason },
            ) if id == request_id => {
                let slot = slot.clone();
                match (ok, booking_code, reason) {
                    (true, Some(code), _) => {
                        let mine = Mine { code: code.clone(), token: manage_token.clone() };
                        *self = Self::Booked {
                            slot: slot.clone(),
                            code: code.clone(),
                            token: manage_token.clone(),
                        };
                        return Some((slot, mine));
                    }
                    (_, _, Some(BookingFailure::InvalidPatient)) => {
                        *self = Self::Form {
                            slot,
                            problem: Some(BookingFailure::InvalidPatient.describe().into()),
                            hold: Hold::Held { until_ms: 0 },
                        }
                    }
                    (_, _, Some(reason)) => *self = Self::Taken { slot, reason: *reason },
                    _ => {
                        *self = Self::Failed { slot, message: "The clinic sent an unexpected answer.".into() }
                    }
                }
                None
            }
            (
                Self::Sending { slot, request_id },
                ServerMessage::Error { message, request_id: Some(id), .. },
            ) if id == request_id => {
                *self = Self::Failed { slot: slot.clone(), message: message.clone() };
                None
            }
            _ => None,
        }
    }

    /// The connection dropped: an unanswered request's outcome is unknown, and a
    /// hold ended with the connection.
    pub fn on_disconnect(&mut self) {
        match self {
            Self::Sending { slot, .. } => {
                *self = Self::Failed {
                    slot: slot.clone(),
                    message: "The connection dropped before the clinic answered. When the schedule is \
                              back, check this slot: if it shows as booked and not as yours, please call \
                              the clinic."
                        .into(),
                }
            }
            Self::Form { .. } => *self = Self::Closed,
            _ => {}
        }
    }
}

/// The staff reset flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reset {
    /// Nothing going on.
    #[default]
    Idle,
    /// Asking for the admin token.
    Asking {
        /// What went wrong last time.
        problem: Option<String>,
    },
    /// Sent; waiting for the new schedule or a refusal.
    Sending,
    /// The schedule was reset.
    Done,
}

impl Reset {
    /// Takes a server message; `true` when it answered the reset.
    pub fn on_message(&mut self, message: &ServerMessage) -> bool {
        if *self != Self::Sending {
            return false;
        }
        match message {
            ServerMessage::Error { code: ErrorCode::Forbidden, .. } => {
                *self = Self::Asking { problem: Some("That admin token is not valid.".into()) };
                true
            }
            ServerMessage::InitialState(_) => {
                *self = Self::Done;
                true
            }
            _ => false,
        }
    }

    /// The connection dropped while waiting.
    pub fn on_disconnect(&mut self) {
        if *self == Self::Sending {
            *self = Self::Asking { problem: Some("The connection dropped; please try again.".into()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Clinic, Doctor, DoctorId, Slot};

    fn slot(id: &str, status: SlotStatus) -> Slot {
        Slot {
            id: SlotId(id.into()),
            doctor_id: DoctorId("d".into()),
            start: "2026-11-25T06:00:00Z".parse().unwrap(),
            end: "2026-11-25T06:30:00Z".parse().unwrap(),
            status,
        }
    }

    fn schedule(version: Version, slots: Vec<Slot>) -> ServerMessage {
        ServerMessage::InitialState(Schedule {
            version,
            clinic: Clinic {
                name: "C".into(),
                time_zone: "Europe/Moscow".into(),
                min_notice_minutes: 0,
                hold_seconds: 120,
            },
            doctors: vec![Doctor { id: DoctorId("d".into()), name: "D".into(), specialty: "S".into() }],
            slots,
        })
    }

    fn update(version: Version, id: &str, status: SlotStatus) -> ServerMessage {
        ServerMessage::Update { version, slot: slot(id, status) }
    }

    fn board() -> Board {
        let mut board = Board::default();
        board.apply(schedule(10, vec![slot("a", SlotStatus::Free), slot("b", SlotStatus::Free)]));
        board
    }

    #[test]
    fn an_update_before_any_initial_state_asks_for_a_resync() {
        assert_eq!(Board::default().apply(update(1, "a", SlotStatus::Booked)), Applied::Gap(0));
    }

    #[test]
    fn the_next_update_changes_its_slot_and_the_version() {
        let mut board = board();
        let applied = board.apply(update(11, "a", SlotStatus::Booked));
        assert_eq!(applied, Applied::Changed(slot("a", SlotStatus::Booked)));
        assert_eq!(board.version(), Some(11));
        assert_eq!(board.status(&SlotId("a".into())), Some(SlotStatus::Booked));
        assert_eq!(board.status(&SlotId("b".into())), Some(SlotStatus::Free));
    }

    #[test]
    fn an_update_already_seen_changes_nothing() {
        let mut board = board();
        let before = board.clone();
        assert_eq!(board.apply(update(10, "a", SlotStatus::Booked)), Applied::Stale);
        assert_eq!(board.apply(update(3, "a", SlotStatus::Booked)), Applied::Stale);
        assert_eq!(board, before);
    }

    #[test]
    fn a_version_gap_asks_for_the_missed_updates_and_changes_nothing() {
        let mut board = board();
        assert_eq!(board.apply(update(12, "a", SlotStatus::Booked)), Applied::Gap(10));
        assert_eq!(board.version(), Some(10));
        assert_eq!(board.status(&SlotId("a".into())), Some(SlotStatus::Free));
        assert_eq!(board.apply(ServerMessage::Resumed { version: 12 }), Applied::Resumed);
        assert!(matches!(board.apply(update(11, "b", SlotStatus::Held)), Applied::Changed(_)));
        assert!(matches!(board.apply(update(12, "a", SlotStatus::Booked)), Applied::Changed(_)));
    }

    #[test]
    fn a_booking_of_mine_whose_slot_turns_free_is_forgotten() {
        let mut board = board();
        board.mine.insert(SlotId("a".into()), Mine { code: "CODE-AAAA".into(), token: None });
        board.apply(update(11, "a", SlotStatus::Free));
        assert!(!board.is_mine(&SlotId("a".into())));
    }

    #[test]
    fn a_new_initial_state_replaces_everything_and_drops_cleared_bookings_of_mine() {
        let mut board = board();
        let mine = |code: &str| Mine { code: code.into(), token: None };
        board.mine.insert(SlotId("a".into()), mine("CODE-AAAA"));
        board.mine.insert(SlotId("b".into()), mine("CODE-BBBB"));
        board.apply(schedule(20, vec![slot("a", SlotStatus::Booked), slot("b", SlotStatus::Free)]));
        assert_eq!(board.version(), Some(20));
        assert!(board.is_mine(&SlotId("a".into())));
        assert!(!board.is_mine(&SlotId("b".into())), "b was cleared by a reset");
    }

    #[test]
    fn other_messages_are_handed_back() {
        let mut board = board();
        let reply = ServerMessage::Error { code: ErrorCode::Internal, message: "x".into(), request_id: None };
        assert_eq!(board.apply(reply.clone()), Applied::Other(reply));
    }

    fn patient() -> Patient {
        Patient { name: "Anna".into(), phone: "+7 912 345-67-89".into() }
    }

    fn result(
        request_id: &str,
        ok: bool,
        code: Option<&str>,
        reason: Option<BookingFailure>,
    ) -> ServerMessage {
        ServerMessage::BookingResult {
            request_id: request_id.into(),
            ok,
            booking_code: code.map(Into::into),
            manage_token: code.map(|_| "secret".into()),
            reason,
        }
    }

    fn opened(slot: &str) -> Booking {
        let mut booking = Booking::default();
        let hold = booking.open(SlotId(slot.into()), "h1".into());
        assert_eq!(hold, Some(ClientMessage::Hold { request_id: "h1".into(), slot_id: SlotId(slot.into()) }));
        booking
    }

    #[test]
    fn opening_the_form_holds_the_slot_and_closing_it_lets_go() {
        let mut booking = opened("a");
        let held = ServerMessage::HoldResult {
            request_id: "h1".into(),
            ok: true,
            expires_at: Some("2026-11-25T06:02:00Z".parse().unwrap()),
            reason: None,
        };
        booking.on_reply(&held);
        assert!(matches!(booking, Booking::Form { hold: Hold::Held { .. }, .. }));
        assert_eq!(booking.close(), Some(ClientMessage::Release { slot_id: SlotId("a".into()) }));
        assert_eq!(booking, Booking::Closed);
    }

    #[test]
    fn a_slot_someone_else_is_booking_is_shown_as_taken() {
        let mut booking = opened("a");
        let refused = ServerMessage::HoldResult {
            request_id: "h1".into(),
            ok: false,
            expires_at: None,
            reason: Some(BookingFailure::Held),
        };
        booking.on_reply(&refused);
        assert_eq!(booking, Booking::Taken { slot: SlotId("a".into()), reason: BookingFailure::Held });
    }

    #[test]
    fn a_double_submit_sends_one_booking() {
        let mut booking = opened("a");
        assert!(booking.submit(patient(), "r1".into()).is_some());
        assert!(booking.submit(patient(), "r2".into()).is_none());
        assert_eq!(booking.open(SlotId("b".into()), "h2".into()), None);
        assert_eq!(booking.close(), None);
        assert!(matches!(booking, Booking::Sending { .. }), "a request in flight keeps the dialog");
    }

    #[test]
    fn a_confirmed_booking_shows_its_code_and_keeps_its_manage_link() {
        let mut booking = opened("a");
        booking.submit(patient(), "r1".into());
        assert_eq!(booking.on_reply(&result("other", true, Some("X"), None)), None, "not ours");
        let confirmed = booking.on_reply(&result("r1", true, Some("K7M2-QX4P"), None));
        let mine = Mine { code: "K7M2-QX4P".into(), token: Some("secret".into()) };
        assert_eq!(confirmed, Some((SlotId("a".into()), mine)));
        assert!(matches!(booking, Booking::Booked { token: Some(_), .. }));
    }

    #[test]
    fn a_lost_race_says_the_slot_was_taken() {
        let mut booking = opened("a");
        booking.submit(patient(), "r1".into());
        booking.on_reply(&result("r1", false, None, Some(BookingFailure::AlreadyBooked)));
        assert_eq!(
            booking,
            Booking::Taken { slot: SlotId("a".into()), reason: BookingFailure::AlreadyBooked }
        );
    }

    #[test]
    fn invalid_details_return_to_the_form_with_the_problem() {
        let mut booking = opened("a");
        booking.submit(patient(), "r1".into());
        booking.on_reply(&result("r1", false, None, Some(BookingFailure::InvalidPatient)));
        assert!(matches!(booking, Booking::Form { problem: Some(_), .. }));
    }

    #[test]
    fn a_drop_while_sending_makes_the_outcome_unknown() {
        let mut booking = opened("a");
        booking.submit(patient(), "r1".into());
        booking.on_disconnect();
        assert!(matches!(booking, Booking::Failed { .. }));
    }

    #[test]
    fn a_reset_is_answered_by_a_refusal_or_the_new_schedule() {
        let mut reset = Reset::Sending;
        let forbidden =
            ServerMessage::Error { code: ErrorCode::Forbidden, message: "no".into(), request_id: None };
        assert!(reset.on_message(&forbidden));
        assert!(matches!(reset, Reset::Asking { problem: Some(_) }));
        reset = Reset::Sending;
        assert!(reset.on_message(&schedule(30, vec![])));
        assert_eq!(reset, Reset::Done);
        assert!(!Reset::Idle.on_message(&forbidden));
    }
}
