//! Tests of the routing of messages: each kind of message reaches the part of
//! the page it is for and no other, and a dropped connection resets what was in
//! flight.

use super::*;
use protocol::{
    BookingDetails, BookingFailure, BookingStatus, DoctorId, ErrorCode, Offer, StaffBooking, WaitStatus,
    WaitWindow, WaitlistEntry,
};

use crate::booking::Hold;
use crate::fixtures::{patient, proof, schedule, slot, update};
use crate::i18n::Locale;
use crate::join::Join;
use crate::manage::{Manage, Step};
use crate::pow::Work;
use crate::staff::Desk;
use crate::state::Mine;
use crate::waitlist::{WaitLink, Waiting};

fn id(slot: &str) -> SlotId {
    SlotId(slot.into())
}

/// Request ids `id-1`, `id-2`, … in turn.
fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("id-{n}")
    }
}

/// A session that has the schedule at version 10, with free slots `a` and `b`.
fn live() -> Session {
    let mut session = Session::default();
    session.receive(schedule(10, vec![slot("a", SlotStatus::Free), slot("b", SlotStatus::Free)]), 0.0, ids());
    session
}

/// A live session whose booking of slot `a` was sent with the solution of
/// challenge `n1`, which the robot check still keeps.
fn sending() -> Session {
    let mut session = live();
    session.booking.open(id("a"), "h1".into());
    session.booking.submit(patient(), Some(proof("n1")), "r1".into()).expect("a book to send");
    session.pow.work = Work::Ready { proof: proof("n1"), since_ms: 0.0 };
    session
}

fn booking_result(ok: bool, code: Option<&str>, reason: Option<BookingFailure>) -> ServerMessage {
    ServerMessage::BookingResult {
        request_id: "r1".into(),
        ok,
        booking_code: code.map(Into::into),
        manage_token: code.map(|_| "secret".into()),
        reason,
    }
}

fn details(slot_id: &str) -> BookingDetails {
    BookingDetails {
        code: "K7M2-QX4P".into(),
        slot: slot(slot_id, SlotStatus::Booked),
        patient: patient(),
        status: BookingStatus::Active,
        sequence: 0,
    }
}

#[test]
fn an_update_reaches_the_board_and_highlights_its_slot_and_nothing_else() {
    let mut session = live();
    let out = session.receive(update(11, "a", SlotStatus::Held), 0.0, ids());
    assert_eq!(session.board.status(&id("a")), Some(SlotStatus::Held));
    assert_eq!(session.board.version(), Some(11));
    assert_eq!(out.flash, Some(id("a")));
    assert_eq!(out.changed, Changed { board: true, ..Changed::default() });
    assert_eq!((out.hello, out.send.len(), out.replaced), (None, 0, false));
}

#[test]
fn an_update_to_the_slot_of_the_open_form_reaches_the_booking_dialog() {
    let mut session = live();
    session.booking.open(id("a"), "h1".into());
    let out = session.receive(update(11, "b", SlotStatus::Booked), 0.0, ids());
    assert!(matches!(session.booking, Booking::Form { .. }), "another slot's change leaves the form");
    assert!(!out.changed.booking);

    let out = session.receive(update(12, "a", SlotStatus::Booked), 0.0, ids());
    assert_eq!(session.booking, Booking::Taken { slot: id("a"), reason: BookingFailure::AlreadyBooked });
    assert!(out.changed.booking && out.changed.board);
}

#[test]
fn a_gap_in_the_versions_asks_for_hello_and_changes_nothing() {
    let mut session = live();
    let out = session.receive(update(12, "a", SlotStatus::Booked), 0.0, ids());
    assert_eq!(out.hello, Some(10));
    assert_eq!((out.changed, out.flash), (Changed::default(), None));
    assert_eq!(session.board.version(), Some(10));
    assert_eq!(session.board.status(&id("a")), Some(SlotStatus::Free), "nothing applied across the gap");

    let out = session.receive(ServerMessage::Resumed { version: 12 }, 0.0, ids());
    assert_eq!((out.hello, out.send.len()), (None, 0), "the same connection asks for nothing more");
    let out = session.receive(update(11, "b", SlotStatus::Held), 0.0, ids());
    assert_eq!(out.flash, Some(id("b")), "the missed updates reach the board");
}

#[test]
fn a_booking_result_reaches_the_booking_flow_and_the_board_remembers_the_booking() {
    let mut session = sending();
    let out = session.receive(booking_result(true, Some("K7M2-QX4P"), None), 0.0, ids());
    assert!(matches!(&session.booking, Booking::Booked { slot, .. } if *slot == id("a")));
    assert_eq!(
        session.board.mine.get(&id("a")),
        Some(&Mine { code: "K7M2-QX4P".into(), token: Some("secret".into()) })
    );
    assert_eq!(session.pow.work, Work::Idle, "the solution is spent");
    assert!(out.save_mine);
    assert_eq!(
        out.changed,
        Changed { board: true, booking: true, pow: true, ..Changed::default() },
        "no other part takes the booking's answer"
    );
}

#[test]
fn a_refused_solution_is_spent_and_a_new_challenge_is_asked_for() {
    let mut session = sending();
    let out = session.receive(booking_result(false, None, Some(BookingFailure::ChallengeFailed)), 5.0, ids());
    assert!(matches!(&session.booking, Booking::Form { problem: Some(_), .. }), "back to the form");
    assert_eq!(out.send, [ClientMessage::Challenge { request_id: "id-1".into() }]);
    assert_eq!(session.pow.work, Work::Asking { request_id: "id-1".into() });
}

#[test]
fn a_challenge_reaches_the_robot_check_to_be_solved() {
    let mut session = live();
    session.pow.start(0.0, "c1".into());
    let challenge = proof("n7").challenge;
    let out = session.receive(ServerMessage::Challenge { request_id: "c1".into(), challenge }, 0.0, ids());
    assert_eq!(out.solve.as_deref(), Some("n7"));
    assert_eq!(session.pow.phase(), "solving");
    assert_eq!(out.changed, Changed { pow: true, ..Changed::default() });
}

#[test]
fn a_refused_challenge_tells_the_patient_who_waits_for_it() {
    let mut session = live();
    session.booking.open(id("a"), "h1".into());
    session.booking.submit(patient(), None, "r1".into());
    session.pow.start(0.0, "c1".into());
    let refused = ServerMessage::Error {
        code: ErrorCode::RateLimited,
        message: "Slow down.".into(),
        request_id: Some("c1".into()),
    };
    let out = session.receive(refused, 0.0, ids());
    let problem = Say::Error(ErrorCode::RateLimited);
    assert_eq!(session.booking, Booking::Failed { slot: id("a"), problem });
    assert!(problem.text(Locale::en).contains("Too many requests"), "{}", problem.text(Locale::en));
    assert_eq!(out.notice, None, "an answer to a request is not a notice");
}

#[test]
fn a_reply_to_the_manage_link_reaches_it_and_a_moved_booking_of_mine_moves_with_it() {
    let mut session = live();
    let mut link = ManageLink::new("t".into());
    link.lookup("l1".into());
    session.manage = Some(link);
    session.board.mine.insert(id("a"), Mine { code: "K7M2-QX4P".into(), token: Some("t".into()) });

    let out = session.receive(
        ServerMessage::Booking { request_id: "l1".into(), booking: details("a") },
        0.0,
        ids(),
    );
    assert!(matches!(session.manage.as_ref().map(|m| &m.state), Some(Manage::Shown { .. })));
    assert_eq!(out.changed, Changed { manage: true, ..Changed::default() });

    let link = session.manage.as_mut().expect("a manage link");
    link.step(Step::ConfirmMove { to: id("b") });
    link.reschedule("m1".into());
    let out = session.receive(
        ServerMessage::Booking { request_id: "m1".into(), booking: details("b") },
        0.0,
        ids(),
    );
    assert!(session.board.is_mine(&id("b")) && !session.board.is_mine(&id("a")));
    assert!(out.save_mine && out.changed.board);
}

#[test]
fn a_refused_reset_goes_back_to_asking_and_a_new_schedule_answers_it() {
    let mut session = live();
    session.reset = Reset::Sending { request_id: "r1".into() };
    let forbidden = ServerMessage::Error {
        code: ErrorCode::Forbidden,
        message: "No.".into(),
        request_id: Some("r1".into()),
    };
    let out = session.receive(forbidden, 0.0, ids());
    assert!(matches!(session.reset, Reset::Asking { problem: Some(_) }));
    assert_eq!((out.notice, out.changed.staff), (None, false), "the refusal is the reset's alone");

    session.reset = Reset::Sending { request_id: "r2".into() };
    let out = session.receive(schedule(20, vec![slot("a", SlotStatus::Free)]), 0.0, ids());
    assert_eq!(session.reset, Reset::Done);
    assert!(out.replaced);
    assert_eq!(out.notice, Some(Say::ScheduleReset));
    assert_eq!(Say::ScheduleReset.text(Locale::en), "The schedule was reset.");
}

#[test]
fn an_error_for_no_request_becomes_a_notice() {
    let mut session = live();
    let error =
        ServerMessage::Error { code: ErrorCode::Internal, message: "Try later.".into(), request_id: None };
    let out = session.receive(error, 0.0, ids());
    assert_eq!(out.notice, Some(Say::Error(ErrorCode::Internal)));
    assert_eq!(out.changed, Changed::default());
}

#[test]
fn each_fresh_connection_asks_again_for_the_manage_link_and_the_staff_console() {
    let mut session = Session { manage: Some(ManageLink::new("t".into())), ..Session::default() };
    session.staff.resume_from("kept".into());
    let resume = |id: &str| ClientMessage::StaffResume { request_id: id.into(), session: "kept".into() };
    let lookup = |id: &str| ClientMessage::Lookup { request_id: id.into(), manage_token: "t".into() };

    let out = session.receive(schedule(10, vec![slot("a", SlotStatus::Free)]), 0.0, ids());
    assert_eq!(out.send, [lookup("id-1"), resume("id-2")]);
    assert!(out.replaced && !session.fresh);

    let out = session.receive(ServerMessage::Resumed { version: 10 }, 0.0, ids());
    assert!(out.send.is_empty(), "a resume within the same connection asks for nothing");

    session.on_disconnect();
    let out = session.receive(ServerMessage::Resumed { version: 10 }, 0.0, ids());
    assert_eq!(out.send, [lookup("id-1"), resume("id-2")], "the first resume of a new connection does");
}

#[test]
fn a_disconnect_resets_what_was_in_flight_and_keeps_the_schedule() {
    let mut session = sending();
    session.board.mine.insert(id("b"), Mine { code: "K7M2-QX4P".into(), token: None });
    session.reset = Reset::Sending { request_id: "r1".into() };
    let mut link = ManageLink::new("t".into());
    link.lookup("l1".into());
    session.manage = Some(link);
    session.staff.resume_from("kept".into());
    session.staff.resume("s1".into());
    session.staff.on_message(&ServerMessage::StaffState { version: 10, bookings: vec![] });
    session.fresh = false;

    let changed = session.on_disconnect();
    assert!(matches!(session.booking, Booking::Failed { .. }), "the booking's outcome is unknown");
    assert_eq!(session.pow.work, Work::Idle, "its solution may have been spent");
    assert!(matches!(session.reset, Reset::Asking { problem: Some(_) }));
    assert_eq!(session.manage.as_ref().and_then(|m| m.waiting_for.clone()), None);
    assert_eq!(session.staff.desk, Desk::Resuming, "the console logs in again");
    assert!(session.fresh);
    assert!(session.board.is_mine(&id("b")) && session.board.version() == Some(10));
    assert_eq!(
        changed,
        Changed {
            board: false,
            booking: true,
            join: false,
            pow: true,
            reset: true,
            manage: true,
            wait: false,
            staff: true,
            staff_waitlist: false,
            audit: false,
            admin: false,
        }
    );
}

#[test]
fn the_answer_to_more_time_reaches_the_booking_dialog_and_nothing_else() {
    let mut session = live();
    session.booking.open(id("a"), "h1".into());
    let granted = |request_id: &str, until: &str| ServerMessage::HoldResult {
        request_id: request_id.into(),
        ok: true,
        expires_at: Some(until.parse().unwrap()),
        reason: None,
    };
    session.receive(granted("h1", "2026-11-25T06:02:00Z"), 0.0, ids());
    let sent = session.booking.extend("x1".into());
    assert_eq!(sent, Some(ClientMessage::ExtendHold { request_id: "x1".into(), slot_id: id("a") }));

    let out = session.receive(granted("x1", "2026-11-25T06:04:00Z"), 0.0, ids());
    let until_ms =
        "2026-11-25T06:04:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp_millis();
    assert_eq!(session.booking.hold(), Some(&Hold::Held { until_ms }));
    assert_eq!(out.changed, Changed { booking: true, ..Changed::default() });
    assert_eq!((out.send.len(), out.notice, out.flash), (0, None, None));
}

/// A live session on the waitlist page of entry `w`, which waits with slot `a`
/// offered to it.
fn watching_an_offer() -> Session {
    let mut session = live();
    session.wait = Some(WaitLink::new("w".into()));
    let watch = session.wait.as_mut().expect("a waitlist link").watch("watch".into());
    assert!(matches!(watch, ClientMessage::WatchWaitlist { .. }));
    let offer =
        Offer { slot: slot("a", SlotStatus::Held), expires_at: "2026-11-25T05:50:00Z".parse().unwrap() };
    let entry = WaitlistEntry {
        doctor_id: DoctorId("d".into()),
        window: window(),
        patient: patient(),
        status: WaitStatus::Offered,
        place: Some(1),
        offer: Some(offer),
        booking_code: None,
        joined_at: "2026-11-24T07:00:00Z".parse().unwrap(),
    };
    session.receive(ServerMessage::Waitlist { request_id: Some("watch".into()), entry }, 0.0, ids());
    session
}

fn window() -> WaitWindow {
    WaitWindow {
        from_day: "2026-11-24".parse().unwrap(),
        to_day: "2026-11-26".parse().unwrap(),
        from_time: None,
        to_time: None,
    }
}

#[test]
fn a_join_taken_reaches_the_join_dialog_and_asks_for_the_entry_to_be_remembered() {
    let mut session = live();
    session.join.open(DoctorId("d".into()));
    session.join.submit(window(), patient(), Some(proof("n1")), "j1".into()).expect("a join to send");
    session.pow.work = Work::Ready { proof: proof("n1"), since_ms: 0.0 };
    let joined = ServerMessage::JoinResult {
        request_id: "j1".into(),
        ok: true,
        wait_token: Some("w-secret".into()),
        reason: None,
    };
    let out = session.receive(joined, 0.0, ids());
    assert_eq!(session.join, Join::Joined { doctor: DoctorId("d".into()), token: "w-secret".into() });
    assert_eq!(out.joined, Some(Waiting { token: "w-secret".into(), doctor: DoctorId("d".into()) }));
    assert_eq!(session.pow.work, Work::Idle, "the solution is spent");
    assert_eq!(out.changed, Changed { join: true, pow: true, ..Changed::default() });
}

#[test]
fn a_refused_join_goes_back_to_the_form_and_starts_a_new_robot_check() {
    let mut session = live();
    session.join.open(DoctorId("d".into()));
    session.join.submit(window(), patient(), Some(proof("n1")), "j1".into());
    session.pow.work = Work::Ready { proof: proof("n1"), since_ms: 0.0 };
    let refused = ServerMessage::JoinResult {
        request_id: "j1".into(),
        ok: false,
        wait_token: None,
        reason: Some(BookingFailure::AlreadyWaiting),
    };
    let out = session.receive(refused, 0.0, ids());
    let problem = Some(Say::Refused(BookingFailure::AlreadyWaiting));
    assert_eq!(session.join, Join::Form { doctor: DoctorId("d".into()), problem });
    assert_eq!(out.send, [ClientMessage::Challenge { request_id: "id-1".into() }]);
    assert_eq!(out.joined, None);
}

#[test]
fn a_pushed_offer_reaches_the_waitlist_page_and_nothing_else() {
    let mut session = watching_an_offer();
    let mut ended = session.wait.as_ref().and_then(|w| w.entry().cloned()).expect("an entry");
    ended.status = WaitStatus::Waiting;
    ended.offer = None;
    let out = session.receive(ServerMessage::Waitlist { request_id: None, entry: ended }, 0.0, ids());
    assert_eq!(out.changed, Changed { wait: true, ..Changed::default() });
    assert_eq!(session.wait.as_ref().and_then(|w| w.entry()).map(|e| e.status), Some(WaitStatus::Waiting));
    assert_eq!((out.notice, out.send.len()), (None, 0));
}

#[test]
fn a_taken_offer_becomes_a_booking_this_browser_remembers() {
    let mut session = watching_an_offer();
    let accept = session.wait.as_mut().and_then(|w| w.accept("a1".into()));
    assert!(matches!(accept, Some(ClientMessage::AcceptOffer { .. })));
    let booked = ServerMessage::BookingResult {
        request_id: "a1".into(),
        ok: true,
        booking_code: Some("K7M2-QX4P".into()),
        manage_token: Some("m-secret".into()),
        reason: None,
    };
    let out = session.receive(booked, 0.0, ids());
    assert_eq!(
        session.board.mine.get(&id("a")),
        Some(&Mine { code: "K7M2-QX4P".into(), token: Some("m-secret".into()) })
    );
    assert!(out.save_mine);
    assert_eq!(out.changed, Changed { board: true, wait: true, ..Changed::default() });
    assert_eq!(session.booking, Booking::Closed, "the booking dialog does not take it");
}

#[test]
fn each_fresh_connection_watches_the_waitlist_entry_again() {
    let mut session = watching_an_offer();
    session.on_disconnect();
    let out = session.receive(ServerMessage::Resumed { version: 10 }, 0.0, ids());
    assert_eq!(
        out.send,
        [ClientMessage::WatchWaitlist { request_id: "id-1".into(), wait_token: "w".into() }]
    );
}

#[test]
fn a_resync_on_a_live_connection_watches_the_waitlist_entry_again() {
    // Replayed updates carry no word of an offer made meanwhile.
    let mut session = watching_an_offer();
    let out = session.receive(ServerMessage::Resumed { version: 10 }, 0.0, ids());
    assert_eq!(
        out.send,
        [ClientMessage::WatchWaitlist { request_id: "id-1".into(), wait_token: "w".into() }]
    );
}

#[test]
fn the_staff_console_loads_the_waitlist_when_it_opens_and_reloads_it_after_changes() {
    let mut session = live();
    session.staff.login("rita".into(), "correct horse".into(), "l1".into());
    let out = session.receive(ServerMessage::StaffState { version: 10, bookings: vec![] }, 5_000.0, ids());
    assert_eq!(out.send, [ClientMessage::StaffWaitlist { request_id: "id-1".into() }]);
    let entries = ServerMessage::StaffWaitlist { request_id: "id-1".into(), entries: vec![] };
    let out = session.receive(entries, 5_100.0, ids());
    assert!(session.staff_waitlist.loaded);
    assert_eq!(
        out.changed,
        Changed { staff_waitlist: true, ..Changed::default() },
        "the console is not redrawn"
    );

    // A change and its staff update, 200 ms after the load: one reload, a
    // second after the load.
    let out = session.receive(update(11, "a", SlotStatus::Held), 5_200.0, ids());
    assert_eq!(out.reload_waitlist.map(|(ms, _)| ms), Some(800.0));
    let staff_update = ServerMessage::StaffUpdate { version: 11, slot_id: id("a"), booking: None };
    let out = session.receive(staff_update, 5_201.0, ids());
    assert_eq!(out.reload_waitlist, None, "already waited for");
}

#[test]
fn a_patient_page_does_not_reload_a_waitlist_it_cannot_see() {
    let mut session = live();
    let out = session.receive(update(11, "a", SlotStatus::Held), 0.0, ids());
    assert_eq!(out.reload_waitlist, None);
}

#[test]
fn a_disconnect_makes_the_join_in_flight_unknown() {
    let mut session = live();
    session.join.open(DoctorId("d".into()));
    session.join.submit(window(), patient(), Some(proof("n1")), "j1".into());
    session.pow.work = Work::Ready { proof: proof("n1"), since_ms: 0.0 };
    let changed = session.on_disconnect();
    let problem = Say::JoinDroppedWhileSending;
    assert_eq!(session.join, Join::Failed { doctor: DoctorId("d".into()), problem });
    assert_eq!(session.pow.work, Work::Idle, "its solution may have been spent");
    assert!(changed.join && changed.pow);
}

mod staff;
