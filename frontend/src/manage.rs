//! The manage link's logic as plain data: showing the booking, cancelling it,
//! and moving it to another slot.

use crate::say::Say;
use protocol::{
    BookingDetails, BookingFailure, BookingStatus, ClientMessage, ManageToken, ServerMessage, SlotId,
};

/// What the manage page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Manage {
    /// Waiting for the booking.
    #[default]
    Loading,
    /// No booking behind this link.
    NotFound,
    /// The booking, and what the patient is doing with it.
    Shown {
        /// The booking as last seen.
        booking: BookingDetails,
        /// The step of an action in progress.
        step: Step,
    },
}

/// An action on a shown booking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Step {
    /// Nothing going on.
    #[default]
    Idle,
    /// Asking whether to cancel.
    ConfirmCancel,
    /// Choosing a new slot in the schedule.
    Picking,
    /// Asking whether to move to `to`.
    ConfirmMove {
        /// The slot chosen.
        to: SlotId,
    },
    /// Sent; waiting for the answer.
    Waiting,
    /// What happened.
    Said(Say),
}

/// The manage page's requests and their answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageLink {
    /// The secret from the link.
    pub token: ManageToken,
    /// What is shown.
    pub state: Manage,
    /// The request id of the request in flight, if any.
    pub waiting_for: Option<String>,
}

impl ManageLink {
    /// A page for this secret.
    pub fn new(token: ManageToken) -> Self {
        Self { token, state: Manage::Loading, waiting_for: None }
    }

    /// The `lookup` to send (on every fresh connection).
    pub fn lookup(&mut self, request_id: String) -> ClientMessage {
        self.waiting_for = Some(request_id.clone());
        ClientMessage::Lookup { request_id, manage_token: self.token.clone() }
    }

    /// The `cancel` to send once the patient confirmed.
    pub fn cancel(&mut self, request_id: String) -> Option<ClientMessage> {
        let Manage::Shown { step, .. } = &mut self.state else { return None };
        *step = Step::Waiting;
        self.waiting_for = Some(request_id.clone());
        Some(ClientMessage::Cancel { request_id, manage_token: self.token.clone() })
    }

    /// The `reschedule` to send once the patient confirmed the new slot.
    pub fn reschedule(&mut self, request_id: String) -> Option<ClientMessage> {
        let Manage::Shown { step, .. } = &mut self.state else { return None };
        let Step::ConfirmMove { to } = std::mem::replace(step, Step::Waiting) else { return None };
        self.waiting_for = Some(request_id.clone());
        Some(ClientMessage::Reschedule { request_id, manage_token: self.token.clone(), slot_id: to })
    }

    /// Whether the patient is choosing a new slot (the schedule is shown then).
    pub fn picking(&self) -> bool {
        matches!(&self.state, Manage::Shown { step: Step::Picking | Step::ConfirmMove { .. }, .. })
    }

    /// Moves to another step of a shown booking.
    pub fn step(&mut self, next: Step) {
        if let Manage::Shown { step, .. } = &mut self.state {
            *step = next;
        }
    }

    /// Takes a server reply; returns `(old slot, new slot)` when the booking moved.
    pub fn on_reply(&mut self, reply: &ServerMessage) -> Option<(SlotId, SlotId)> {
        let id = reply.request_id()?;
        if self.waiting_for.as_deref() != Some(id) {
            return None;
        }
        self.waiting_for = None;
        let was = match &self.state {
            Manage::Shown { booking, step } => Some((booking.clone(), step.clone())),
            _ => None,
        };
        match (reply, was) {
            (ServerMessage::Booking { booking, .. }, Some((old, Step::Waiting)))
                if old.slot.id != booking.slot.id =>
            {
                let moved = (old.slot.id.clone(), booking.slot.id.clone());
                self.state = Manage::Shown { booking: booking.clone(), step: Step::Said(Say::Moved) };
                return Some(moved);
            }
            (ServerMessage::Booking { booking, .. }, was) => {
                let step = was.map(|(_, step)| step).filter(|s| *s != Step::Waiting).unwrap_or_default();
                self.state = Manage::Shown { booking: booking.clone(), step };
            }
            (ServerMessage::ActionResult { ok: true, .. }, Some((mut booking, _))) => {
                mark_cancelled(&mut booking);
                self.state = Manage::Shown { booking, step: Step::Said(Say::Cancelled) };
            }
            (ServerMessage::ActionResult { reason, .. }, Some((booking, _))) => {
                let reason = reason.unwrap_or(BookingFailure::WrongState);
                let said = match reason {
                    BookingFailure::AlreadyBooked | BookingFailure::Held => Say::MoveTaken,
                    other => Say::Refused(other),
                };
                let mut booking = booking;
                if reason == BookingFailure::Cancelled {
                    mark_cancelled(&mut booking);
                }
                self.state = Manage::Shown { booking, step: Step::Said(said) };
            }
            (ServerMessage::ActionResult { .. }, None) => self.state = Manage::NotFound,
            (ServerMessage::Error { code, .. }, Some((booking, _))) => {
                self.state = Manage::Shown { booking, step: Step::Said(Say::Error(*code)) };
            }
            _ => {}
        }
        None
    }

    /// The connection dropped: whatever was in flight is unknown until the next
    /// lookup shows the booking again.
    pub fn on_disconnect(&mut self) {
        self.waiting_for = None;
        self.step(Step::Idle);
    }
}

/// Marks a booking cancelled as the server did, which raised its revision by
/// one: the cancellation's calendar file then outranks every file made before.
fn mark_cancelled(booking: &mut BookingDetails) {
    if booking.status == BookingStatus::Active {
        booking.status = BookingStatus::Cancelled;
        booking.sequence += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{DoctorId, ErrorCode, Patient, Slot, SlotStatus};

    use crate::i18n::Locale;

    fn details(slot: &str, status: BookingStatus) -> BookingDetails {
        BookingDetails {
            code: "K7M2-QX4P".into(),
            slot: Slot {
                id: SlotId(slot.into()),
                doctor_id: DoctorId("d".into()),
                start: "2026-11-25T06:00:00Z".parse().unwrap(),
                end: "2026-11-25T06:30:00Z".parse().unwrap(),
                status: SlotStatus::Booked,
                held_until: None,
            },
            patient: Patient { name: "Anna".into(), phone: "+7 912 345-67-89".into() },
            status,
            sequence: 0,
        }
    }

    fn shown() -> ManageLink {
        let mut link = ManageLink::new("t".into());
        link.lookup("l1".into());
        link.on_reply(&ServerMessage::Booking {
            request_id: "l1".into(),
            booking: details("a", BookingStatus::Active),
        });
        link
    }

    #[test]
    fn an_unknown_link_shows_not_found() {
        let mut link = ManageLink::new("t".into());
        link.lookup("l1".into());
        let reply = ServerMessage::ActionResult {
            request_id: "l1".into(),
            ok: false,
            reason: Some(BookingFailure::NotFound),
        };
        link.on_reply(&reply);
        assert_eq!(link.state, Manage::NotFound);
    }

    #[test]
    fn a_confirmed_cancel_marks_the_booking_cancelled() {
        let mut link = shown();
        link.step(Step::ConfirmCancel);
        assert!(matches!(link.cancel("c1".into()), Some(ClientMessage::Cancel { .. })));
        link.on_reply(&ServerMessage::ActionResult { request_id: "c1".into(), ok: true, reason: None });
        let Manage::Shown { booking, step } = &link.state else { panic!() };
        assert_eq!(booking.status, BookingStatus::Cancelled);
        assert_eq!(booking.sequence, 1, "the cancellation outranks the calendar files made before");
        assert_eq!(step, &Step::Said(Say::Cancelled));
    }

    #[test]
    fn a_move_sends_the_chosen_slot_and_reports_where_the_booking_went() {
        let mut link = shown();
        link.step(Step::ConfirmMove { to: SlotId("b".into()) });
        let sent = link.reschedule("m1".into());
        assert!(matches!(sent, Some(ClientMessage::Reschedule { slot_id, .. }) if slot_id.0 == "b"));
        let moved = link.on_reply(&ServerMessage::Booking {
            request_id: "m1".into(),
            booking: details("b", BookingStatus::Active),
        });
        assert_eq!(moved, Some((SlotId("a".into()), SlotId("b".into()))));
        let Manage::Shown { booking, step } = &link.state else { panic!() };
        assert_eq!((booking.slot.id.0.as_str(), step), ("b", &Step::Said(Say::Moved)));
    }

    #[test]
    fn a_lost_race_for_the_new_slot_leaves_the_booking_where_it_was() {
        let mut link = shown();
        link.step(Step::ConfirmMove { to: SlotId("b".into()) });
        link.reschedule("m1".into());
        let reply = ServerMessage::ActionResult {
            request_id: "m1".into(),
            ok: false,
            reason: Some(BookingFailure::AlreadyBooked),
        };
        assert_eq!(link.on_reply(&reply), None);
        let Manage::Shown { booking, step } = &link.state else { panic!() };
        assert_eq!(booking.slot.id.0, "a");
        assert_eq!(step, &Step::Said(Say::MoveTaken));
        let text = Say::MoveTaken.text(Locale::en);
        assert!(text.contains("Someone else") && text.contains("has not changed"), "{text}");
    }

    #[test]
    fn a_refusal_by_a_limit_is_said_in_plain_words_and_the_booking_stays() {
        let mut link = shown();
        link.step(Step::ConfirmMove { to: SlotId("b".into()) });
        link.reschedule("m1".into());
        let reply = ServerMessage::ActionResult {
            request_id: "m1".into(),
            ok: false,
            reason: Some(BookingFailure::TooManyBookings),
        };
        link.on_reply(&reply);
        let Manage::Shown { booking, step } = &link.state else { panic!() };
        assert_eq!(booking.status, BookingStatus::Active);
        assert_eq!(step, &Step::Said(Say::Refused(BookingFailure::TooManyBookings)));
    }

    #[test]
    fn a_cancel_refused_because_it_was_already_cancelled_shows_the_booking_cancelled() {
        let mut link = shown();
        link.step(Step::ConfirmCancel);
        link.cancel("c1".into());
        let reply = ServerMessage::ActionResult {
            request_id: "c1".into(),
            ok: false,
            reason: Some(BookingFailure::Cancelled),
        };
        link.on_reply(&reply);
        let Manage::Shown { booking, step } = &link.state else { panic!() };
        assert_eq!(booking.status, BookingStatus::Cancelled);
        assert_eq!(step, &Step::Said(Say::Refused(BookingFailure::Cancelled)));
    }

    #[test]
    fn an_error_in_answer_to_an_action_is_said_and_the_booking_stays() {
        let mut link = shown();
        link.step(Step::ConfirmCancel);
        link.cancel("c1".into());
        let error = ServerMessage::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            request_id: Some("c1".into()),
        };
        link.on_reply(&error);
        let Manage::Shown { booking, step } = &link.state else { panic!() };
        assert_eq!(booking.status, BookingStatus::Active);
        assert_eq!(step, &Step::Said(Say::Error(ErrorCode::RateLimited)));
    }
}
