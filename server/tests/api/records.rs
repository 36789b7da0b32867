//! What staff record about bookings after the fact, and what is forgotten:
//! no-show marks (only once the slot has started, seen by every staff
//! console, and in the audit trail), the erasure of one patient's details on
//! request by an admin (with the waitlist entry the booking came from), both
//! across two instances on PostgreSQL too, the retention job (in
//! `records/retention.rs`), and what an erasure leaves in the SQLite files
//! (in `records/forgotten.rs`).

mod forgotten;
mod retention;

use std::sync::{Arc, Mutex};

use chrono::Duration;
use client::{BookingReply, Client};
use protocol::{
    Actor, AuditAction, AuditEntry, BookingFailure, ClientMessage, ErrorCode, HistoryQuery, Patient,
    ServerMessage, SlotId, StaffBooking,
};
use server::secret::manage_hash;
use server::store::{SqlStore, Store};

use crate::common::postgres::TestDatabase;
use crate::common::{
    ADMIN, Options, RITA, TestApp, database_url, log_in, patient, recv, spawn_app, spawn_on, test_now,
};

fn slot(id: &str) -> SlotId {
    SlotId(id.into())
}

/// Books `slot` for `who` from `client`: the code and the manage link's secret.
async fn book(client: &mut Client, slot: &SlotId, who: Patient) -> (String, String) {
    match client.book(slot.clone(), who).await.unwrap() {
        BookingReply::Booked { code, manage_token: Some(token) } => (code, token),
        other => panic!("expected {slot} booked, got {other:?}"),
    }
}

/// A staff console of the test member of staff `who` (name and password).
async fn console(app: &TestApp, who: (&str, &str)) -> Client {
    let (mut client, _) = app.connect_with_state().await;
    log_in(&mut client, who).await;
    client
}

/// Sends `message` and reads its `actionResult`.
async fn act(client: &mut Client, message: ClientMessage) -> Result<(), BookingFailure> {
    match client.call(message).await.unwrap() {
        ServerMessage::ActionResult { ok: true, .. } => Ok(()),
        ServerMessage::ActionResult { ok: false, reason: Some(reason), .. } => Err(reason),
        other => panic!("expected an actionResult, got {other:?}"),
    }
}

async fn no_show(client: &mut Client, slot: &SlotId, no_show: bool) -> Result<(), BookingFailure> {
    let request_id = client.request_id();
    act(client, ClientMessage::StaffNoShow { request_id, slot_id: slot.clone(), no_show }).await
}

fn erase_message(client: &mut Client, code: &str) -> ClientMessage {
    ClientMessage::StaffErase { request_id: client.request_id(), booking_code: code.into() }
}

/// The next `staffUpdate` of `slot` a console is sent: the slot's booking.
async fn staff_update(client: &mut Client, slot: &SlotId) -> Option<StaffBooking> {
    loop {
        if let ServerMessage::StaffUpdate { slot_id, booking, .. } = recv(client).await
            && slot_id == *slot
        {
            return booking;
        }
    }
}

/// What a staff console logging in now is told of `slot`'s booking.
async fn fresh_staff_state(app: &TestApp, slot: &SlotId) -> Option<StaffBooking> {
    let (_, bookings) = app.state().engine().staff_state().await.unwrap();
    bookings.into_iter().find(|b| b.slot_id == *slot)
}

/// The audit rows of the booking with `code` of these actions, newest first.
async fn history(store: &SqlStore, code: &str, actions: &[AuditAction]) -> Vec<AuditEntry> {
    let query = HistoryQuery {
        booking_code: Some(code.into()),
        actions: actions.to_vec(),
        ..HistoryQuery::default()
    };
    store.history(&query).await.unwrap()
}

fn staff(name: &str) -> Actor {
    Actor::Staff { name: name.into() }
}

#[tokio::test]
async fn a_no_show_is_refused_before_the_start_then_marked_seen_by_every_console_and_undone() {
    let app = spawn_app().await;
    // 11:00 in Moscow, 50 minutes after the test's start.
    let slot = slot("therapist-20261124-1100");
    let (mut page, _) = app.connect_with_state().await;
    let (code, _) = book(&mut page, &slot, patient()).await;
    // A receptionist marks no-shows; an admin's console sees them too.
    let mut desk = console(&app, RITA).await;
    let mut other = console(&app, ADMIN).await;

    assert_eq!(no_show(&mut desk, &slot, true).await, Err(BookingFailure::WrongState), "not begun yet");
    app.advance(Duration::minutes(55));

    assert_eq!(no_show(&mut desk, &slot, true).await, Ok(()));
    let marked = staff_update(&mut other, &slot).await.expect("still booked");
    assert!(marked.no_show, "the other console sees the mark");
    assert_eq!(marked.patient, patient());
    assert!(fresh_staff_state(&app, &slot).await.expect("booked").no_show, "and so does a new one");
    assert_eq!(no_show(&mut desk, &slot, true).await, Ok(()), "marking it again changes nothing");

    assert_eq!(no_show(&mut desk, &slot, false).await, Ok(()));
    assert!(!staff_update(&mut other, &slot).await.expect("still booked").no_show, "undone");
    assert!(!fresh_staff_state(&app, &slot).await.expect("booked").no_show);

    let store = SqlStore::open(&database_url(app.data_dir.path())).await.unwrap();
    let rows = history(&store, &code, &[AuditAction::NoShow, AuditAction::NoShowUndone]).await;
    let rows: Vec<_> = rows.iter().map(|r| (r.action, r.actor.clone(), r.slot_id.clone())).collect();
    assert_eq!(
        rows,
        [
            (AuditAction::NoShowUndone, staff("rita"), Some(slot.clone())),
            (AuditAction::NoShow, staff("rita"), Some(slot.clone())),
        ],
        "one row for the mark and one for taking it back, none for marking it twice"
    );
}

#[tokio::test]
async fn only_staff_mark_no_shows_and_only_of_booked_slots_in_the_schedule() {
    let app = spawn_app().await;
    let (mut page, _) = app.connect_with_state().await;
    let request_id = page.request_id();
    let message =
        ClientMessage::StaffNoShow { request_id, slot_id: slot("therapist-20261124-0900"), no_show: true };
    match page.call(message).await.unwrap() {
        ServerMessage::Error { code: ErrorCode::Forbidden, .. } => {}
        other => panic!("a patient's page may not mark no-shows, got {other:?}"),
    }
    let mut desk = console(&app, RITA).await;
    // 09:00 has begun, but nobody booked it.
    let free = slot("therapist-20261124-0900");
    assert_eq!(no_show(&mut desk, &free, true).await, Err(BookingFailure::WrongState));
    assert_eq!(no_show(&mut desk, &slot("no-such-slot"), true).await, Err(BookingFailure::NotFound));
}

#[tokio::test]
async fn an_admin_erases_a_patients_details_on_request_and_the_booking_code_and_history_stay() {
    let app = spawn_app().await;
    let slot = slot("therapist-20261125-0900");
    let (mut page, _) = app.connect_with_state().await;
    let (code, token) = book(&mut page, &slot, patient()).await;
    let mut desk = console(&app, ADMIN).await;
    let mut other = console(&app, RITA).await;

    for client in [&mut page, &mut other] {
        let message = erase_message(client, &code);
        match client.call(message).await.unwrap() {
            ServerMessage::Error { code: ErrorCode::Forbidden, .. } => {}
            refused => panic!("only admins may erase, got {refused:?}"),
        }
    }
    // As read aloud over the phone and typed in: case does not count.
    let message = erase_message(&mut desk, &format!(" {} ", code.to_lowercase()));
    assert_eq!(act(&mut desk, message).await, Ok(()));

    let nobody = Patient { name: String::new(), phone: String::new() };
    let seen = staff_update(&mut other, &slot).await.expect("the booking stays");
    assert_eq!((seen.code.as_str(), &seen.patient), (code.as_str(), &nobody), "other consoles see it go");
    assert_eq!(fresh_staff_state(&app, &slot).await.expect("booked").patient, nobody);
    let store = SqlStore::open(&database_url(app.data_dir.path())).await.unwrap();
    let stored = store.booking_by_hash(&manage_hash(&token)).await.unwrap().expect("the row stays");
    assert_eq!((stored.code.as_str(), &stored.patient, stored.active), (code.as_str(), &nobody, true));

    let message = erase_message(&mut desk, &code);
    assert_eq!(act(&mut desk, message).await, Ok(()), "erasing again is no error");
    let rows = history(&store, &code, &[AuditAction::Erased]).await;
    let rows: Vec<_> = rows.iter().map(|r| (r.actor.clone(), r.slot_id.clone())).collect();
    assert_eq!(rows, [(staff("admin"), Some(slot.clone()))], "one row, by the admin, found by the code");

    let message = erase_message(&mut desk, "ZZZZ-ZZZZ");
    assert_eq!(act(&mut desk, message).await, Err(BookingFailure::NotFound));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set BOOKING_TEST_POSTGRES_URL (cargo xtask test sets one up)"]
async fn a_no_show_and_an_erasure_on_one_instance_reach_the_consoles_of_another_on_postgres() {
    let db = TestDatabase::require("a_no_show_and_an_erasure_on_one_instance_reach…").await;
    let now = Arc::new(Mutex::new(test_now()));
    let one = spawn_on(&db.url, now.clone(), Options::default()).await;
    let two = spawn_on(&db.url, now.clone(), Options::default()).await;
    let slot = slot("therapist-20261124-1100");
    let (mut page, _) = one.connect_with_state().await;
    let (code, _) = book(&mut page, &slot, patient()).await;
    let mut desk = console(&one, RITA).await;
    let mut office = console(&two, ADMIN).await;
    *now.lock().unwrap() += Duration::minutes(55);

    assert_eq!(no_show(&mut desk, &slot, true).await, Ok(()));
    assert!(staff_update(&mut desk, &slot).await.expect("booked").no_show, "the mark, on its own instance");
    assert!(staff_update(&mut office, &slot).await.expect("booked").no_show, "the mark reaches the other");
    assert!(fresh_staff_state(&two, &slot).await.expect("booked").no_show);

    let message = erase_message(&mut office, &code);
    assert_eq!(act(&mut office, message).await, Ok(()));
    let nobody = Patient { name: String::new(), phone: String::new() };
    let seen = staff_update(&mut desk, &slot).await.expect("the booking stays");
    assert_eq!((&seen.patient, seen.no_show), (&nobody, true), "the erasure too; the mark stays");

    let store = SqlStore::open(&db.url).await.unwrap();
    let rows = history(&store, &code, &[AuditAction::NoShow, AuditAction::Erased]).await;
    let rows: Vec<_> = rows.iter().map(|r| (r.action, r.actor.clone())).collect();
    assert_eq!(rows, [(AuditAction::Erased, staff("admin")), (AuditAction::NoShow, staff("rita"))]);
}

#[tokio::test]
async fn erasing_a_booking_taken_from_a_waitlist_offer_erases_the_entry_too() {
    let app = spawn_app().await;
    let slot = slot("therapist-20261125-0900");
    let (mut page, _) = app.connect_with_state().await;
    let (_, manage) = book(&mut page, &slot, patient()).await;
    let window = protocol::WaitWindow {
        from_day: "2026-11-25".parse().unwrap(),
        to_day: "2026-11-25".parse().unwrap(),
        from_time: None,
        to_time: None,
    };
    let waiting = Patient { name: "Boris Orlov".into(), phone: "+7 912 000-11-22".into() };
    let therapist = protocol::DoctorId("therapist".into());
    let wait_token = page.join_waitlist(therapist, window, waiting).await.unwrap().unwrap();
    let request_id = page.request_id();
    let cancel = act(&mut page, ClientMessage::Cancel { request_id, manage_token: manage }).await;
    assert_eq!(cancel, Ok(()), "the slot is offered to the waitlist");
    let BookingReply::Booked { code, .. } = page.accept_offer(&wait_token).await.unwrap() else {
        panic!("the offer is taken")
    };
    let mut desk = console(&app, ADMIN).await;

    let message = erase_message(&mut desk, &code);
    assert_eq!(act(&mut desk, message).await, Ok(()));

    let store = SqlStore::open(&database_url(app.data_dir.path())).await.unwrap();
    let entry = store.waiting_by_hash(&manage_hash(&wait_token)).await.unwrap().expect("the entry stays");
    assert_eq!(entry.patient, Patient { name: String::new(), phone: String::new() });
    assert_eq!(entry.booking_code.as_deref(), Some(code.as_str()), "still tied to its booking");
    let erased = HistoryQuery { actions: vec![AuditAction::Erased], ..HistoryQuery::default() };
    let rows = store.history(&erased).await.unwrap();
    let rows: Vec<_> = rows.iter().map(|r| (r.booking_code.clone(), r.entry_id)).collect();
    assert_eq!(rows, [(None, Some(entry.id as u64)), (Some(code.clone()), None)], "a row for each");
}
