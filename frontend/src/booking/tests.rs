//! Tests of the booking dialog's flow: holds and their refusals, waiting for the
//! robot check, and every kind of answer to a booking.

use super::*;
use crate::fixtures::{patient, proof};

fn result(request_id: &str, ok: bool, code: Option<&str>, reason: Option<BookingFailure>) -> ServerMessage {
    ServerMessage::BookingResult {
        request_id: request_id.into(),
        ok,
        booking_code: code.map(Into::into),
        manage_token: code.map(|_| "secret".into()),
        reason,
    }
}

fn hold_result(ok: bool, reason: Option<BookingFailure>) -> ServerMessage {
    ServerMessage::HoldResult {
        request_id: "h1".into(),
        ok,
        expires_at: ok.then(|| "2026-11-25T06:02:00Z".parse().unwrap()),
        reason,
    }
}

fn opened(slot: &str) -> Booking {
    let mut booking = Booking::default();
    let hold = booking.open(SlotId(slot.into()), "h1".into());
    assert_eq!(hold, Some(ClientMessage::Hold { request_id: "h1".into(), slot_id: SlotId(slot.into()) }));
    booking
}

/// A form on slot `a` whose hold was granted, submitted with a solved check.
fn sent() -> Booking {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(true, None));
    assert!(booking.submit(patient(), Some(proof("n1")), "r1".into()).is_some());
    booking
}

#[test]
fn opening_the_form_holds_the_slot_and_closing_it_lets_go() {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(true, None));
    assert!(matches!(booking, Booking::Form { hold: Hold::Held { .. }, .. }));
    assert_eq!(booking.close(), Some(ClientMessage::Release { slot_id: SlotId("a".into()) }));
    assert_eq!(booking, Booking::Closed);
}

#[test]
fn a_slot_someone_else_is_booking_is_shown_as_taken() {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(false, Some(BookingFailure::Held)));
    assert_eq!(booking, Booking::Taken { slot: SlotId("a".into()), reason: BookingFailure::Held });
}

#[test]
fn a_hold_refused_by_a_limit_keeps_the_form_open_and_says_the_slot_is_not_reserved() {
    for reason in [BookingFailure::HoldCooldown, BookingFailure::TooManyHolds] {
        let mut booking = opened("a");
        booking.on_reply(&hold_result(false, Some(reason)));
        let hold = booking.hold().expect("the form stays open").clone();
        assert_eq!(hold, Hold::NotHeld { reason });
        assert_eq!(hold.kind(), "not-held");
        let note = hold.note(0).expect("a note");
        assert!(note.contains("not reserved for you"), "{note}");
        assert!(note.contains("someone else may book it first"), "{note}");
        let sent = booking.submit(patient(), Some(proof("n1")), "r1".into());
        assert!(matches!(sent, Some(ClientMessage::Book { .. })), "it can still be booked");
        assert!(matches!(booking, Booking::Sending { .. }));
    }
    let mut booking = opened("a");
    booking.on_reply(&hold_result(false, Some(BookingFailure::HoldCooldown)));
    assert_eq!(booking.close(), None, "nothing held, so nothing to let go");
}

#[test]
fn the_cooldown_note_explains_that_others_get_a_turn() {
    let note = Hold::NotHeld { reason: BookingFailure::HoldCooldown }.note(0).unwrap();
    assert!(note.contains("others get a turn"), "{note}");
    let note = Hold::NotHeld { reason: BookingFailure::TooManyHolds }.note(0).unwrap();
    assert!(note.contains("already reserving several"), "{note}");
}

#[test]
fn the_held_note_counts_whole_minutes_rounded_up() {
    let hold = Hold::Held { until_ms: 120_000 };
    assert_eq!(hold.note(0).unwrap(), "This time is held for you for about 2 minutes.");
    assert_eq!(hold.note(61_000).unwrap(), "This time is held for you for about 1 minute.");
    assert_eq!(hold.note(500_000).unwrap(), "This time is held for you for about 1 minute.");
    assert_eq!(Hold::Asking { request_id: "h1".into() }.note(0), None);
}

#[test]
fn a_confirm_before_the_robot_check_is_done_waits_for_it_and_then_sends_once() {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(true, None));
    assert_eq!(booking.submit(patient(), None, "r1".into()), None, "nothing to send yet");
    assert!(booking.waiting());
    assert_eq!(booking.submit(patient(), None, "r2".into()), None, "a second click changes nothing");
    let sent = booking.on_proof(proof("n1"), "r3".into());
    let Some(ClientMessage::Book { request_id, slot_id, patient: who, proof: Some(p) }) = sent else {
        panic!("a booking with its proof: {sent:?}")
    };
    assert_eq!((request_id.as_str(), slot_id.0.as_str(), who), ("r3", "a", patient()));
    assert_eq!(p, proof("n1"));
    assert_eq!(booking.on_proof(proof("n2"), "r4".into()), None, "sent once");
    assert!(matches!(booking, Booking::Sending { .. }));
}

#[test]
fn a_solved_check_with_no_patient_waiting_sends_nothing() {
    let mut booking = opened("a");
    let before = booking.clone();
    assert_eq!(booking.on_proof(proof("n1"), "r1".into()), None);
    assert_eq!(booking, before);
}

#[test]
fn a_patient_waiting_for_the_check_may_still_cancel_and_let_go_of_the_hold() {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(true, None));
    booking.submit(patient(), None, "r1".into());
    assert_eq!(booking.close(), Some(ClientMessage::Release { slot_id: SlotId("a".into()) }));
    assert_eq!(booking, Booking::Closed);
}

#[test]
fn a_check_that_cannot_be_done_tells_the_waiting_patient() {
    let mut booking = opened("a");
    booking.submit(patient(), None, "r1".into());
    booking.on_pow_failed("Too many messages.");
    assert_eq!(booking, Booking::Failed { slot: SlotId("a".into()), message: "Too many messages.".into() });
}

#[test]
fn a_hold_answer_that_comes_after_the_confirm_is_still_taken() {
    let mut booking = opened("a");
    booking.submit(patient(), None, "r1".into());
    booking.on_reply(&hold_result(false, Some(BookingFailure::HoldCooldown)));
    assert_eq!(booking.hold(), Some(&Hold::NotHeld { reason: BookingFailure::HoldCooldown }));
    assert!(booking.waiting());
}

#[test]
fn a_double_submit_sends_one_booking() {
    let mut booking = sent();
    assert!(booking.submit(patient(), Some(proof("n1")), "r2".into()).is_none());
    assert_eq!(booking.open(SlotId("b".into()), "h2".into()), None);
    assert_eq!(booking.close(), None);
    assert!(matches!(booking, Booking::Sending { .. }), "a request in flight keeps the dialog");
}

#[test]
fn a_confirmed_booking_shows_its_code_keeps_its_manage_link_and_spends_the_proof() {
    let mut booking = sent();
    assert_eq!(booking.on_reply(&result("other", true, Some("X"), None)), None, "not ours");
    let settled = booking.on_reply(&result("r1", true, Some("K7M2-QX4P"), None));
    let mine = Mine { code: "K7M2-QX4P".into(), token: Some("secret".into()) };
    assert_eq!(settled, Some(Settled::Booked { slot: SlotId("a".into()), mine, nonce: "n1".into() }));
    assert!(matches!(booking, Booking::Booked { token: Some(_), .. }));
}

#[test]
fn a_lost_race_says_the_slot_was_taken_and_spends_the_solution() {
    let mut booking = sent();
    let settled = booking.on_reply(&result("r1", false, None, Some(BookingFailure::AlreadyBooked)));
    assert_eq!(booking, Booking::Taken { slot: SlotId("a".into()), reason: BookingFailure::AlreadyBooked });
    assert_eq!(settled, Some(Settled::Spent { nonce: "n1".into() }));
}

#[test]
fn refusals_the_patient_can_act_on_return_to_the_form_with_the_hold_and_the_problem() {
    // Only a mistyped detail keeps the solution; the server spent it otherwise.
    for (reason, spent) in [(BookingFailure::InvalidPatient, false), (BookingFailure::LimitReached, true)] {
        let mut booking = sent();
        let settled = booking.on_reply(&result("r1", false, None, Some(reason)));
        assert_eq!(settled, spent.then(|| Settled::Spent { nonce: "n1".into() }), "{reason:?}");
        let Booking::Form { problem: Some(problem), hold, .. } = &booking else { panic!("{booking:?}") };
        assert_eq!(problem, reason.describe());
        assert!(matches!(hold, Hold::Held { until_ms } if *until_ms > 0), "the hold is kept");
    }
}

#[test]
fn a_refused_proof_returns_to_the_form_and_asks_for_a_new_check() {
    let mut booking = sent();
    let settled = booking.on_reply(&result("r1", false, None, Some(BookingFailure::ChallengeFailed)));
    assert_eq!(settled, Some(Settled::ProofRefused { nonce: "n1".into() }));
    assert!(matches!(&booking, Booking::Form { problem: Some(p), .. } if p.contains("robot")));
}

#[test]
fn too_many_bookings_from_the_network_ends_the_attempt_in_plain_words() {
    let mut booking = sent();
    booking.on_reply(&result("r1", false, None, Some(BookingFailure::TooManyBookings)));
    assert_eq!(booking, Booking::Taken { slot: SlotId("a".into()), reason: BookingFailure::TooManyBookings });
    let (title, text) = refusal(BookingFailure::TooManyBookings);
    assert_eq!(title, "✕ Not booked");
    assert!(text.contains("network") && text.contains("call the clinic"), "{text}");
}

#[test]
fn every_refusal_has_a_title_and_an_explanation() {
    use BookingFailure::*;
    let all = [
        AlreadyBooked,
        NotFound,
        Past,
        InvalidPatient,
        Held,
        TooSoon,
        Blocked,
        Cancelled,
        WrongState,
        TooManyHolds,
        HoldCooldown,
        LimitReached,
        TooManyBookings,
        ChallengeFailed,
    ];
    for reason in all {
        let (title, text) = refusal(reason);
        assert!(title.starts_with('✕') && text.ends_with('.'), "{reason:?}: {title} / {text}");
    }
}

#[test]
fn a_drop_while_sending_makes_the_outcome_unknown_and_the_proof_perhaps_spent() {
    let mut booking = sent();
    assert_eq!(booking.on_disconnect(), Some("n1".into()));
    assert!(matches!(booking, Booking::Failed { .. }));
}

#[test]
fn a_drop_while_waiting_for_the_check_says_nothing_was_booked() {
    let mut booking = opened("a");
    booking.submit(patient(), None, "r1".into());
    assert_eq!(booking.on_disconnect(), None, "nothing was sent, so nothing was spent");
    assert!(matches!(&booking, Booking::Failed { message, .. } if message.contains("nothing was booked")));
}

#[test]
fn a_slot_booked_or_blocked_under_an_open_form_is_lost() {
    for (status, reason) in
        [(SlotStatus::Booked, BookingFailure::AlreadyBooked), (SlotStatus::Blocked, BookingFailure::Blocked)]
    {
        let mut booking = opened("a");
        booking.on_slot(&SlotId("b".into()), Some(status));
        assert!(matches!(booking, Booking::Form { .. }), "another slot changes nothing");
        booking.on_slot(&SlotId("a".into()), Some(status));
        assert_eq!(booking, Booking::Taken { slot: SlotId("a".into()), reason });
    }
}

#[test]
fn a_held_slot_that_turns_free_under_the_form_has_lost_its_hold_but_can_be_booked() {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(true, None));
    booking.on_slot(&SlotId("a".into()), Some(SlotStatus::Held));
    assert!(matches!(booking.hold(), Some(Hold::Held { .. })), "our own hold");
    booking.on_slot(&SlotId("a".into()), Some(SlotStatus::Free));
    assert_eq!(booking.hold(), Some(&Hold::Ended));
    assert!(booking.hold().unwrap().note(0).unwrap().contains("has ended"));
    assert_eq!(booking.close(), None, "an ended hold needs no release");
}

#[test]
fn a_slot_someone_else_holds_while_ours_was_refused_is_lost() {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(false, Some(BookingFailure::HoldCooldown)));
    booking.on_slot(&SlotId("a".into()), Some(SlotStatus::Held));
    assert_eq!(booking, Booking::Taken { slot: SlotId("a".into()), reason: BookingFailure::Held });
}

#[test]
fn each_problem_with_the_details_is_said_about_its_own_field() {
    let name = patient_problem(PatientProblem::Name);
    let phone = patient_problem(PatientProblem::Phone);
    assert!(name.contains("name") && !name.contains("phone"), "{name}");
    assert!(phone.contains("phone number") && phone.contains("5 to 15 digits"), "{phone}");
    // The words follow the shared rule, which decides what is wrong.
    let typed = |name: &str, phone: &str| Patient { name: name.into(), phone: phone.into() }.normalized();
    assert_eq!(typed("  ", "+7 912 345-67-89"), Err(PatientProblem::Name));
    assert_eq!(typed("Anna", "12-34"), Err(PatientProblem::Phone));
}
