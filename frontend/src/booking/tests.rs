//! Tests of the booking dialog's flow: holds, their refusals and extensions,
//! waiting for the robot check, and every kind of answer to a booking.

use super::*;
use protocol::{ErrorCode, PatientProblem};

use crate::fixtures::{patient, proof};
use crate::i18n::{Locale, td_string};
use crate::say::{patient_problem, refusal};

fn result(request_id: &str, ok: bool, code: Option<&str>, reason: Option<BookingFailure>) -> ServerMessage {
    ServerMessage::BookingResult {
        request_id: request_id.into(),
        ok,
        booking_code: code.map(Into::into),
        manage_token: code.map(|_| "secret".into()),
        reason,
    }
}

/// When the hold of `hold_result(true, …)` ends.
const HELD_UNTIL: &str = "2026-11-25T06:02:00Z";

fn ms(at: &str) -> i64 {
    at.parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp_millis()
}

fn hold_result(ok: bool, reason: Option<BookingFailure>) -> ServerMessage {
    ServerMessage::HoldResult {
        request_id: "h1".into(),
        ok,
        expires_at: ok.then(|| HELD_UNTIL.parse().unwrap()),
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
        assert_eq!(hold.note(0), Some(HoldNote::NotHeld(reason)));
        let sent = booking.submit(patient(), Some(proof("n1")), "r1".into());
        assert!(matches!(sent, Some(ClientMessage::Book { .. })), "it can still be booked");
        assert!(matches!(booking, Booking::Sending { .. }));
    }
    let mut booking = opened("a");
    booking.on_reply(&hold_result(false, Some(BookingFailure::HoldCooldown)));
    assert_eq!(booking.close(), None, "nothing held, so nothing to let go");
}

#[test]
fn the_note_of_a_hold_refused_by_a_limit_explains_which_limit() {
    for reason in [BookingFailure::HoldCooldown, BookingFailure::TooManyHolds] {
        assert_eq!(Hold::NotHeld { reason }.note(0), Some(HoldNote::NotHeld(reason)));
    }
    // The words the dialog puts to these notes.
    let l = Locale::en;
    assert!(td_string!(l, hold_cooldown).to_string().contains("others get a turn"));
    assert!(td_string!(l, hold_too_many).to_string().contains("already reserving several"));
    assert!(td_string!(l, not_reserved).to_string().contains("someone else may book it first"));
}

#[test]
fn the_held_note_counts_whole_minutes_rounded_down() {
    // Rounded down, so that "1 more minute" never means less than a minute.
    let hold = Hold::Held { until_ms: 120_000 };
    assert_eq!(hold.note(0), Some(HoldNote::Minutes(2)));
    assert_eq!(hold.note(1_000), Some(HoldNote::Minutes(1)));
    assert_eq!(hold.note(60_000), Some(HoldNote::Minutes(1)));
    assert_eq!(hold.note(61_000), Some(HoldNote::LessThanAMinute));
    assert_eq!(hold.note(500_000), Some(HoldNote::LessThanAMinute), "a hold past its end");
    assert_eq!(Hold::Asking { request_id: "h1".into() }.note(0), None);
    // A hold being extended or that cannot be extended counts the same way.
    assert_eq!(
        Hold::Extending { request_id: "x1".into(), until_ms: 120_000 }.note(0),
        Some(HoldNote::Minutes(2))
    );
    assert_eq!(Hold::Final { until_ms: 120_000 }.note(61_000), Some(HoldNote::LessThanAMinute));
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
    booking.on_pow_failed(Say::Error(ErrorCode::RateLimited));
    assert_eq!(
        booking,
        Booking::Failed { slot: SlotId("a".into()), problem: Say::Error(ErrorCode::RateLimited) }
    );
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
        assert_eq!(*problem, Say::Refused(reason));
        assert!(matches!(hold, Hold::Held { until_ms } if *until_ms > 0), "the hold is kept");
    }
}

#[test]
fn a_refused_proof_returns_to_the_form_and_asks_for_a_new_check() {
    let mut booking = sent();
    let settled = booking.on_reply(&result("r1", false, None, Some(BookingFailure::ChallengeFailed)));
    assert_eq!(settled, Some(Settled::ProofRefused { nonce: "n1".into() }));
    let Booking::Form { problem: Some(problem), .. } = &booking else { panic!("{booking:?}") };
    assert_eq!(*problem, Say::Refused(BookingFailure::ChallengeFailed));
    assert!(problem.text(Locale::en).contains("robot"), "{}", problem.text(Locale::en));
}

#[test]
fn too_many_bookings_from_the_network_ends_the_attempt_in_plain_words() {
    let mut booking = sent();
    booking.on_reply(&result("r1", false, None, Some(BookingFailure::TooManyBookings)));
    assert_eq!(booking, Booking::Taken { slot: SlotId("a".into()), reason: BookingFailure::TooManyBookings });
    let (title, text) = refusal(BookingFailure::TooManyBookings, Locale::en);
    assert_eq!(title, "Not booked");
    assert!(text.contains("internet connection") && text.contains("call the clinic"), "{text}");
}

#[test]
fn a_drop_while_sending_makes_the_outcome_unknown_and_the_proof_perhaps_spent() {
    let mut booking = sent();
    assert_eq!(booking.on_disconnect(), Some("n1".into()));
    assert_eq!(booking, Booking::Failed { slot: SlotId("a".into()), problem: Say::DroppedWhileSending });
}

#[test]
fn a_drop_while_waiting_for_the_check_says_nothing_was_booked() {
    let mut booking = opened("a");
    booking.submit(patient(), None, "r1".into());
    assert_eq!(booking.on_disconnect(), None, "nothing was sent, so nothing was spent");
    assert_eq!(booking, Booking::Failed { slot: SlotId("a".into()), problem: Say::DroppedBeforeSending });
    let text = Say::DroppedBeforeSending.text(Locale::en);
    assert!(text.contains("nothing was booked"), "{text}");
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
    assert_eq!(booking.hold().unwrap().note(0), Some(HoldNote::Ended));
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
    let name = patient_problem(PatientProblem::Name, Locale::en);
    let phone = patient_problem(PatientProblem::Phone, Locale::en);
    assert!(name.contains("name") && !name.contains("phone"), "{name}");
    assert!(phone.contains("phone number") && phone.contains("5 to 15 digits"), "{phone}");
    // The words follow the shared rule, which decides what is wrong.
    let typed = |name: &str, phone: &str| Patient { name: name.into(), phone: phone.into() }.normalized();
    assert_eq!(typed("  ", "+7 912 345-67-89"), Err(PatientProblem::Name));
    assert_eq!(typed("Anna", "12-34"), Err(PatientProblem::Phone));
}

/// The answer to the `extendHold` with `request_id`: extended to `until`, or
/// refused for `reason`.
fn extend_result(request_id: &str, until: Option<&str>, reason: Option<BookingFailure>) -> ServerMessage {
    ServerMessage::HoldResult {
        request_id: request_id.into(),
        ok: until.is_some(),
        expires_at: until.map(|t| t.parse().unwrap()),
        reason,
    }
}

/// A form on slot `a` whose hold was granted and which asked for more time
/// with `x1`.
fn extending() -> Booking {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(true, None));
    let sent = booking.extend("x1".into());
    assert_eq!(
        sent,
        Some(ClientMessage::ExtendHold { request_id: "x1".into(), slot_id: SlotId("a".into()) })
    );
    booking
}

#[test]
fn more_time_is_asked_for_only_while_the_slot_is_held() {
    let mut closed = Booking::default();
    assert_eq!(closed.extend("x1".into()), None, "no dialog");

    let mut asking = opened("a");
    let before = asking.clone();
    assert!(!asking.hold().unwrap().extendable());
    assert_eq!(asking.extend("x1".into()), None, "the hold is not granted yet");
    assert_eq!(asking, before);

    for refusal in [BookingFailure::HoldCooldown, BookingFailure::TooManyHolds] {
        let mut not_held = opened("a");
        not_held.on_reply(&hold_result(false, Some(refusal)));
        assert_eq!(not_held.extend("x1".into()), None, "nothing held to extend");
        assert_eq!(not_held.hold(), Some(&Hold::NotHeld { reason: refusal }));
    }

    let mut ended = opened("a");
    ended.on_reply(&hold_result(true, None));
    ended.on_slot(&SlotId("a".into()), Some(SlotStatus::Free));
    assert_eq!(ended.extend("x1".into()), None, "an ended hold cannot be extended");

    let mut booking = extending();
    assert_eq!(booking.hold(), Some(&Hold::Extending { request_id: "x1".into(), until_ms: ms(HELD_UNTIL) }));
    assert!(!booking.hold().unwrap().extendable());
    assert_eq!(booking.hold().unwrap().kind(), "held", "the hold stands while more time is asked for");
    assert_eq!(booking.extend("x2".into()), None, "one request at a time");
}

#[test]
fn a_granted_extension_moves_the_end_of_the_hold_and_more_may_be_asked() {
    let mut booking = extending();
    let later = "2026-11-25T06:04:00Z";
    assert_eq!(booking.on_reply(&extend_result("x1", Some(later), None)), None);
    assert_eq!(booking.hold(), Some(&Hold::Held { until_ms: ms(later) }));
    assert_eq!(booking.hold().unwrap().note(ms(HELD_UNTIL)), Some(HoldNote::Minutes(2)));
    assert!(matches!(booking, Booking::Form { problem: None, .. }));
    assert!(booking.extend("x2".into()).is_some(), "held again, so more may be asked");
}

#[test]
fn a_refused_extension_keeps_the_hold_to_its_end_and_asks_no_more() {
    let mut booking = extending();
    booking.on_reply(&extend_result("x1", None, Some(BookingFailure::TooManyExtensions)));
    let hold = booking.hold().expect("the form stays open").clone();
    assert_eq!(hold, Hold::Final { until_ms: ms(HELD_UNTIL) });
    assert_eq!((hold.kind(), hold.extendable(), hold.until_ms()), ("final", false, Some(ms(HELD_UNTIL))));
    assert_eq!(booking.extend("x2".into()), None, "no more time to ask for");
    assert!(matches!(booking, Booking::Form { problem: None, .. }), "the slot may still be booked");
    let sent = booking.submit(patient(), Some(proof("n1")), "r1".into());
    assert!(matches!(sent, Some(ClientMessage::Book { .. })));
}

#[test]
fn an_extension_granted_without_an_end_is_taken_as_refused() {
    let mut booking = extending();
    let odd = ServerMessage::HoldResult { request_id: "x1".into(), ok: true, expires_at: None, reason: None };
    booking.on_reply(&odd);
    assert_eq!(booking.hold(), Some(&Hold::Final { until_ms: ms(HELD_UNTIL) }));
}

#[test]
fn a_hold_answer_to_another_request_leaves_the_extension_waiting() {
    let mut booking = extending();
    let before = booking.clone();
    let later = Some("2026-11-25T06:04:00Z");
    assert_eq!(booking.on_reply(&extend_result("other", later, None)), None);
    assert_eq!(booking.on_reply(&extend_result("h1", later, None)), None, "the first hold's answer, again");
    assert_eq!(booking.on_reply(&extend_result("x0", None, Some(BookingFailure::TooManyExtensions))), None);
    assert_eq!(booking, before);
}

#[test]
fn closing_the_form_lets_go_of_a_hold_being_extended_or_that_cannot_be() {
    let release = Some(ClientMessage::Release { slot_id: SlotId("a".into()) });
    let mut booking = extending();
    assert_eq!(booking.close(), release);
    assert_eq!(booking, Booking::Closed);

    let mut booking = extending();
    booking.on_reply(&extend_result("x1", None, Some(BookingFailure::TooManyExtensions)));
    assert_eq!(booking.close(), release);
    assert_eq!(booking, Booking::Closed);
}

#[test]
fn more_time_may_be_asked_while_the_patient_waits_for_the_check_and_the_booking_keeps_it() {
    let mut booking = opened("a");
    booking.on_reply(&hold_result(true, None));
    booking.submit(patient(), None, "r1".into());
    assert!(booking.extend("x1".into()).is_some());
    let later = "2026-11-25T06:04:00Z";
    booking.on_reply(&extend_result("x1", Some(later), None));
    assert!(booking.waiting());
    assert_eq!(booking.hold(), Some(&Hold::Held { until_ms: ms(later) }));
    booking.on_proof(proof("n1"), "r2".into());
    // Back to the form after a mistyped detail, with the extended hold.
    booking.on_reply(&result("r2", false, None, Some(BookingFailure::InvalidPatient)));
    assert_eq!(booking.hold(), Some(&Hold::Held { until_ms: ms(later) }));
}

#[test]
fn a_hold_that_runs_out_while_more_time_is_asked_has_ended() {
    let mut booking = extending();
    booking.on_slot(&SlotId("a".into()), Some(SlotStatus::Held));
    assert!(matches!(booking.hold(), Some(Hold::Extending { .. })), "still our own hold");
    booking.on_slot(&SlotId("a".into()), Some(SlotStatus::Free));
    assert_eq!(booking.hold(), Some(&Hold::Ended));
    booking.on_reply(&extend_result("x1", Some("2026-11-25T06:04:00Z"), None));
    assert_eq!(booking.hold(), Some(&Hold::Ended), "a late answer does not bring the hold back");
    assert_eq!(booking.close(), None);
}
