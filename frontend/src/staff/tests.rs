//! Tests of the staff console's login, session and actions.

use super::*;
use protocol::Patient;

pub(crate) fn booking(slot: &str) -> StaffBooking {
    StaffBooking {
        slot_id: SlotId(slot.into()),
        code: "K7M2-QX4P".into(),
        patient: Patient { name: "Anna".into(), phone: "+7 912 345-67-89".into() },
        booked_at: "2026-11-24T07:00:00Z".parse().unwrap(),
        no_show: false,
    }
}

fn session(request_id: &str, role: StaffRole) -> ServerMessage {
    ServerMessage::StaffSession {
        request_id: request_id.into(),
        session: "s3cr3t".into(),
        name: "rita".into(),
        role,
        expires_at: "2026-11-24T19:00:00Z".parse().unwrap(),
    }
}

fn forbidden(request_id: &str) -> ServerMessage {
    ServerMessage::Error {
        code: ErrorCode::Forbidden,
        message: "no".into(),
        request_id: Some(request_id.into()),
    }
}

fn logged_in(role: StaffRole) -> StaffDesk {
    let mut desk = StaffDesk::default();
    desk.login("rita".into(), "correct horse battery".into(), "l1".into());
    desk.on_message(&session("l1", role));
    desk.on_message(&ServerMessage::StaffState { version: 10, bookings: vec![booking("a")] });
    desk
}

#[test]
fn a_login_sends_name_and_password_and_keeps_only_the_session() {
    let mut desk = StaffDesk::default();
    let sent = desk.login("rita".into(), "correct horse battery".into(), "l1".into());
    assert_eq!(
        sent,
        ClientMessage::StaffLogin {
            request_id: "l1".into(),
            name: "rita".into(),
            password: "correct horse battery".into()
        }
    );
    assert_eq!(desk.desk, Desk::LoggingIn);
    assert!(!format!("{desk:?}").contains("horse"), "the password is not kept");
    assert!(desk.on_message(&session("l1", StaffRole::Receptionist)));
    assert_eq!(desk.session(), Some("s3cr3t"));
    assert!(!desk.logged_in(), "the console opens with the bookings");
    desk.on_message(&ServerMessage::StaffState { version: 10, bookings: vec![booking("a")] });
    assert!(desk.logged_in());
    assert_eq!(desk.me, Some(Me { name: "rita".into(), role: StaffRole::Receptionist }));
    assert!(!desk.admin());
    assert!(logged_in(StaffRole::Admin).admin());
}

#[test]
fn a_session_for_another_request_is_not_taken() {
    let mut desk = StaffDesk::default();
    desk.login("rita".into(), "pw".into(), "l1".into());
    assert!(!desk.on_message(&session("other", StaffRole::Admin)));
    assert_eq!(desk.session(), None);
}

#[test]
fn a_wrong_password_logs_out_with_a_message() {
    let mut desk = StaffDesk::default();
    desk.login("rita".into(), "nope".into(), "l1".into());
    assert!(desk.on_message(&forbidden("l1")));
    assert_eq!(desk.desk, Desk::LoggedOut);
    assert_eq!(desk.said, Some(Say::BadLogin));
    let mut limited = StaffDesk::default();
    limited.login("rita".into(), "nope".into(), "l2".into());
    let slow_down = ServerMessage::Error {
        code: ErrorCode::RateLimited,
        message: "x".into(),
        request_id: Some("l2".into()),
    };
    limited.on_message(&slow_down);
    assert_eq!(limited.said, Some(Say::Error(ErrorCode::RateLimited)));
}

#[test]
fn a_kept_session_resumes_on_a_fresh_connection_and_a_refusal_forgets_it() {
    let mut desk = StaffDesk::default();
    assert_eq!(desk.resume("r0".into()), None, "nothing to resume");
    desk.resume_from("kept".into());
    assert_eq!(desk.desk, Desk::Resuming);
    assert_eq!(
        desk.resume("r1".into()),
        Some(ClientMessage::StaffResume { request_id: "r1".into(), session: "kept".into() })
    );
    assert!(desk.on_message(&forbidden("r1")));
    assert_eq!(
        (desk.desk.clone(), desk.session(), desk.said),
        (Desk::LoggedOut, None, Some(Say::SessionOver))
    );
}

#[test]
fn a_reconnect_resumes_with_the_session_and_a_login_in_flight_is_typed_again() {
    let mut desk = logged_in(StaffRole::Receptionist);
    desk.on_disconnect();
    assert_eq!(desk.desk, Desk::Resuming);
    assert!(
        matches!(desk.resume("r2".into()), Some(ClientMessage::StaffResume { session, .. }) if session == "s3cr3t")
    );
    desk.on_message(&session("r2", StaffRole::Receptionist));
    desk.on_message(&ServerMessage::StaffState { version: 12, bookings: vec![] });
    assert!(desk.logged_in() && desk.bookings.is_empty());

    let mut typing = StaffDesk::default();
    typing.login("rita".into(), "pw".into(), "l1".into());
    typing.on_disconnect();
    assert_eq!((typing.desk.clone(), typing.said), (Desk::LoggedOut, Some(Say::LoginDropped)));
    assert_eq!(typing.resume("r3".into()), None);
}

#[test]
fn the_session_ending_or_a_logout_forgets_everything() {
    let mut desk = logged_in(StaffRole::Admin);
    assert!(desk.on_message(&ServerMessage::StaffEnded {}));
    assert_eq!(desk, StaffDesk { said: Some(Say::SessionEnded), ..StaffDesk::default() });
    let mut desk = logged_in(StaffRole::Admin);
    assert_eq!(desk.logout("o1".into()), Some(ClientMessage::StaffLogout { request_id: "o1".into() }));
    assert_eq!(desk, StaffDesk { said: Some(Say::LoggedOut), ..StaffDesk::default() });
    assert_eq!(desk.logout("o2".into()), None, "no session: nothing to send");
}

#[test]
fn staff_updates_newer_than_the_state_change_the_bookings() {
    let mut desk = logged_in(StaffRole::Receptionist);
    desk.on_message(&ServerMessage::StaffUpdate { version: 9, slot_id: SlotId("a".into()), booking: None });
    assert!(desk.bookings.contains_key(&SlotId("a".into())), "an older update is ignored");
    desk.on_message(&ServerMessage::StaffUpdate {
        version: 11,
        slot_id: SlotId("b".into()),
        booking: Some(booking("b")),
    });
    desk.on_message(&ServerMessage::StaffUpdate { version: 12, slot_id: SlotId("a".into()), booking: None });
    assert_eq!(desk.bookings.keys().map(|k| k.0.as_str()).collect::<Vec<_>>(), ["b"]);
}

#[test]
fn ending_a_hold_sends_end_hold_and_a_refusal_is_said_in_words() {
    let mut desk = StaffDesk::default();
    let sent = desk.act(Action::EndHold, SlotId("a".into()), "e1".into());
    assert_eq!(sent, ClientMessage::EndHold { request_id: "e1".into(), slot_id: SlotId("a".into()) });
    assert!(desk.busy());
    assert_eq!(desk.busy_with(), Some(&SlotId("a".into())));
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

#[test]
fn a_no_show_is_marked_and_undone_and_a_role_that_may_not_is_told_so() {
    let mut desk = logged_in(StaffRole::Receptionist);
    let slot = SlotId("a".into());
    assert_eq!(
        desk.act(Action::NoShow, slot.clone(), "n1".into()),
        ClientMessage::StaffNoShow { request_id: "n1".into(), slot_id: slot.clone(), no_show: true }
    );
    assert!(desk.on_message(&forbidden("n1")));
    assert_eq!(desk.said, Some(Say::Forbidden));
    assert_eq!(
        desk.act(Action::UndoNoShow, slot.clone(), "n2".into()),
        ClientMessage::StaffNoShow { request_id: "n2".into(), slot_id: slot, no_show: false }
    );
}
