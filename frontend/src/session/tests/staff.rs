//! Tests of the staff console's part of the session: its messages reach it
//! alone, and the end of a session forgets what the console loaded.

use super::*;

#[test]
fn staff_messages_reach_the_console_and_nothing_else() {
    let mut session = live();
    session.staff.login("rita".into(), "correct horse".into(), "l1".into());
    let booking = StaffBooking {
        slot_id: id("a"),
        code: "K7M2-QX4P".into(),
        patient: patient(),
        booked_at: "2026-11-24T07:00:00Z".parse().unwrap(),
        no_show: false,
    };
    let out = session.receive(ServerMessage::StaffState { version: 10, bookings: vec![booking] }, 0.0, ids());
    assert!(session.staff.logged_in());
    assert!(session.staff.bookings.contains_key(&id("a")));
    // The console's waitlist is asked for as it opens.
    assert_eq!(out.changed, Changed { staff: true, staff_waitlist: true, ..Changed::default() });
}

#[test]
fn the_end_of_a_staff_session_forgets_what_the_console_loaded() {
    let mut session = live();
    session.staff.login("admin".into(), "correct horse".into(), "l1".into());
    let welcome = ServerMessage::StaffSession {
        request_id: "l1".into(),
        session: "s".into(),
        name: "admin".into(),
        role: protocol::StaffRole::Admin,
        expires_at: "2026-11-24T19:00:00Z".parse().unwrap(),
    };
    session.receive(welcome, 0.0, ids());
    session.receive(ServerMessage::StaffState { version: 10, bookings: vec![] }, 0.0, ids());
    session.audit.open(crate::staff::audit::Subject::Slot(id("a")), "h1".into());
    session.admin.load("a1".into());
    let accounts = ServerMessage::StaffAccounts { request_id: "a1".into(), accounts: vec![] };
    let out = session.receive(accounts, 0.0, ids());
    assert_eq!(
        out.changed,
        Changed { admin: true, ..Changed::default() },
        "the accounts' answer is the admin part's"
    );
    // An added account reloads the accounts.
    let add = session.admin.add(
        "rita".into(),
        protocol::StaffRole::Receptionist,
        "correct horse".into(),
        "a2".into(),
    );
    assert!(matches!(add, Ok(Some(_))));
    let added = ServerMessage::ActionResult { request_id: "a2".into(), ok: true, reason: None };
    let out = session.receive(added, 0.0, ids());
    assert_eq!(out.send, [ClientMessage::StaffAccounts { request_id: "id-1".into() }]);

    let out = session.receive(ServerMessage::StaffEnded {}, 0.0, ids());
    assert!(!session.staff.logged_in() && session.staff.session().is_none());
    assert_eq!(session.staff.said, Some(Say::SessionEnded));
    assert_eq!((session.audit.history.as_ref(), session.admin.loaded), (None, false));
    assert!(out.changed.staff && out.changed.audit && out.changed.admin);
}
