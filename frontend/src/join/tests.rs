//! Tests of the join dialog's flow: one request per confirmation, paid with a
//! proof of work, and each answer leading where the patient can act on it.

use super::*;
use protocol::ErrorCode;

use crate::fixtures::{patient, proof};

fn doctor() -> DoctorId {
    DoctorId("d".into())
}

fn window() -> WaitWindow {
    WaitWindow {
        from_day: "2026-11-24".parse().unwrap(),
        to_day: "2026-11-26".parse().unwrap(),
        from_time: None,
        to_time: None,
    }
}

/// A join sent as request `j1` with the solution of challenge `n1`.
fn sending() -> Join {
    let mut join = Join::default();
    join.open(doctor());
    join.submit(window(), patient(), Some(proof("n1")), "j1".into()).expect("a join to send");
    join
}

fn result(ok: bool, token: Option<&str>, reason: Option<BookingFailure>) -> ServerMessage {
    ServerMessage::JoinResult { request_id: "j1".into(), ok, wait_token: token.map(Into::into), reason }
}

#[test]
fn confirming_with_a_solution_sends_one_join_with_the_proof() {
    let mut join = Join::default();
    join.open(doctor());
    assert!(join.form() && join.phase() == "form");
    let sent = join.submit(window(), patient(), Some(proof("n1")), "j1".into());
    assert_eq!(
        sent,
        Some(ClientMessage::JoinWaitlist {
            request_id: "j1".into(),
            doctor_id: doctor(),
            window: window(),
            patient: patient(),
            proof: Some(proof("n1")),
        })
    );
    assert_eq!(join.phase(), "sending");
    assert_eq!(join.submit(window(), patient(), Some(proof("n2")), "j2".into()), None, "a double click");
    join.close();
    assert_eq!(join.phase(), "sending", "the answer must be seen");
}

#[test]
fn confirming_before_the_robot_check_waits_for_it_then_sends() {
    let mut join = Join::default();
    join.open(doctor());
    assert_eq!(join.submit(window(), patient(), None, "j1".into()), None);
    assert!(join.waiting());
    join.open(DoctorId("other".into()));
    assert!(join.waiting(), "a waiting join is not replaced");
    let sent = join.on_proof(proof("n1"), "j2".into());
    assert!(matches!(sent, Some(ClientMessage::JoinWaitlist { request_id, .. }) if request_id == "j2"));
    assert_eq!(Join::default().on_proof(proof("n1"), "j3".into()), None, "nobody waits");
}

#[test]
fn a_join_taken_gives_the_entry_to_remember_and_spends_the_solution() {
    let mut join = sending();
    let settled = join.on_reply(&result(true, Some("w-secret"), None));
    let entry = Waiting { token: "w-secret".into(), doctor: doctor() };
    assert_eq!(settled, Some(Settled::Joined { entry, nonce: "n1".into() }));
    assert_eq!(join, Join::Joined { doctor: doctor(), token: "w-secret".into() });
}

#[test]
fn every_refusal_goes_back_to_the_form_and_says_why() {
    for reason in [
        BookingFailure::InvalidWindow,
        BookingFailure::InvalidPatient,
        BookingFailure::AlreadyWaiting,
        BookingFailure::TooManyBookings,
    ] {
        let mut join = sending();
        assert_eq!(
            join.on_reply(&result(false, None, Some(reason))),
            Some(Settled::Spent { nonce: "n1".into() })
        );
        assert_eq!(join, Join::Form { doctor: doctor(), problem: Some(Say::Refused(reason)) }, "{reason:?}");
    }
    let mut join = sending();
    let settled = join.on_reply(&result(false, None, Some(BookingFailure::ChallengeFailed)));
    assert_eq!(settled, Some(Settled::ProofRefused { nonce: "n1".into() }), "a new check is needed");
    assert!(join.form());
}

#[test]
fn only_the_answer_to_its_own_request_is_taken() {
    let mut join = sending();
    let other =
        ServerMessage::JoinResult { request_id: "x".into(), ok: true, wait_token: None, reason: None };
    assert_eq!(join.on_reply(&other), None);
    let booking = ServerMessage::BookingResult {
        request_id: "x".into(),
        ok: true,
        booking_code: None,
        manage_token: None,
        reason: None,
    };
    assert_eq!(join.on_reply(&booking), None);
    assert_eq!(join.phase(), "sending");
}

#[test]
fn an_error_or_a_senseless_answer_fails_with_words() {
    let mut join = sending();
    let error = ServerMessage::Error {
        code: ErrorCode::RateLimited,
        message: "slow".into(),
        request_id: Some("j1".into()),
    };
    assert!(join.on_reply(&error).is_some());
    assert_eq!(join, Join::Failed { doctor: doctor(), problem: Say::Error(ErrorCode::RateLimited) });
    let mut join = sending();
    join.on_reply(&result(true, None, None));
    assert_eq!(join, Join::Failed { doctor: doctor(), problem: Say::Unexpected }, "ok without a token");
}

#[test]
fn a_failed_robot_check_tells_the_patient_who_waits_for_it() {
    let mut join = Join::default();
    join.open(doctor());
    join.on_pow_failed(Say::RobotCheckUnavailable);
    assert!(join.form(), "nobody waited: the form stays");
    join.submit(window(), patient(), None, "j1".into());
    join.on_pow_failed(Say::RobotCheckUnavailable);
    assert_eq!(join, Join::Failed { doctor: doctor(), problem: Say::RobotCheckUnavailable });
}

#[test]
fn a_drop_makes_an_unanswered_join_unknown_and_keeps_an_open_form() {
    let mut join = sending();
    assert_eq!(join.on_disconnect(), Some("n1".into()), "the solution may have been spent");
    assert_eq!(join, Join::Failed { doctor: doctor(), problem: Say::JoinDroppedWhileSending });

    let mut join = Join::default();
    join.open(doctor());
    join.submit(window(), patient(), None, "j1".into());
    assert_eq!(join.on_disconnect(), None);
    assert_eq!(join, Join::Failed { doctor: doctor(), problem: Say::JoinDroppedBeforeSending });

    let mut join = Join::default();
    join.open(doctor());
    assert_eq!(join.on_disconnect(), None);
    assert!(join.form(), "nothing was sent; what was typed stays");
    join.close();
    assert_eq!((join.phase(), join.doctor()), ("closed", None));
}
