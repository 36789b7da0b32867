//! Holds, manage links (lookup, cancel, reschedule), retries, staff, minimum
//! notice, privacy and configuration changes — all through real sockets.

use std::time::Duration;

use crate::common::*;
use client::{BookingReply, Client};
use protocol::{BookingFailure, BookingStatus, ClientMessage, ErrorCode, ServerMessage, SlotId, SlotStatus};

async fn hold(client: &mut Client, slot: &SlotId) -> ServerMessage {
    let request_id = client.request_id();
    client.call(ClientMessage::Hold { request_id, slot_id: slot.clone() }).await.unwrap()
}

async fn book(client: &mut Client, slot: &SlotId) -> (String, String) {
    match client.book(slot.clone(), patient()).await.unwrap() {
        BookingReply::Booked { code, manage_token: Some(token) } => (code, token),
        other => panic!("expected a booking with a manage token, got {other:?}"),
    }
}

async fn call(client: &mut Client, make: impl FnOnce(String) -> ClientMessage) -> ServerMessage {
    let request_id = client.request_id();
    client.call(make(request_id)).await.unwrap()
}

fn refused(reply: &ServerMessage) -> Option<BookingFailure> {
    match reply {
        ServerMessage::ActionResult { ok: false, reason, .. }
        | ServerMessage::HoldResult { ok: false, reason, .. } => *reason,
        _ => None,
    }
}

#[tokio::test]
async fn a_hold_is_seen_by_everyone_at_once_and_ends_when_the_holder_disconnects() {
    let app = spawn_app().await;
    let (mut holder, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;

    let reply = hold(&mut holder, &slot).await;

    let ServerMessage::HoldResult { ok: true, expires_at: Some(until), .. } = reply else {
        panic!("{reply:?}")
    };
    assert_eq!(until, test_now() + chrono::Duration::seconds(120));
    let seen = next_update(&mut watcher).await;
    assert_eq!((seen.id.clone(), seen.status), (slot.clone(), SlotStatus::Held));
    drop(holder);
    let seen = next_update(&mut watcher).await;
    assert_eq!((seen.id, seen.status), (slot, SlotStatus::Free));
}

#[tokio::test]
async fn a_held_slot_is_refused_to_others_and_booked_by_its_holder() {
    let app = spawn_app().await;
    let (mut holder, schedule) = app.connect_with_state().await;
    let (mut other, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    hold(&mut holder, &slot).await;

    let other_hold = hold(&mut other, &slot).await;
    let other_book = other.book(slot.clone(), patient()).await.unwrap();
    let mine = holder.book(slot.clone(), patient()).await.unwrap();

    assert_eq!(refused(&other_hold), Some(BookingFailure::Held));
    assert_eq!(other_book, BookingReply::Refused(BookingFailure::Held));
    assert!(matches!(mine, BookingReply::Booked { manage_token: Some(_), .. }), "{mine:?}");
    let statuses: Vec<_> = [next_update(&mut other).await, next_update(&mut other).await]
        .into_iter()
        .map(|s| s.status)
        .collect();
    assert_eq!(statuses, [SlotStatus::Held, SlotStatus::Booked]);
}

#[tokio::test]
async fn a_hold_ends_by_itself_when_its_time_is_up_and_on_release() {
    let app = spawn_app().await;
    let (mut holder, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (first, second) = (slots.next().unwrap(), slots.next().unwrap());
    hold(&mut holder, &first).await;
    assert_eq!(next_update(&mut watcher).await.status, SlotStatus::Held);

    app.advance(chrono::Duration::seconds(121));
    let expired = next_update(&mut watcher).await;
    assert_eq!((expired.id, expired.status), (first, SlotStatus::Free));

    hold(&mut holder, &second).await;
    assert_eq!(next_update(&mut watcher).await.status, SlotStatus::Held);
    holder.send(&ClientMessage::Release { slot_id: second.clone() }).await.unwrap();
    let released = next_update(&mut watcher).await;
    assert_eq!((released.id, released.status), (second, SlotStatus::Free));
}

#[tokio::test]
async fn holding_or_booking_another_slot_lets_go_of_the_first_hold() {
    let app = spawn_app().await;
    let (mut holder, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (a, b, c) = (slots.next().unwrap(), slots.next().unwrap(), slots.next().unwrap());

    hold(&mut holder, &a).await;
    hold(&mut holder, &b).await;
    book(&mut holder, &c).await;

    let mut changes = Vec::new();
    for _ in 0..5 {
        let slot = next_update(&mut watcher).await;
        changes.push((slot.id, slot.status));
    }
    assert_eq!(
        changes,
        [
            (a.clone(), SlotStatus::Held),
            (a, SlotStatus::Free),
            (b.clone(), SlotStatus::Held),
            (c, SlotStatus::Booked),
            (b, SlotStatus::Free),
        ]
    );
}

#[tokio::test]
async fn slots_inside_the_minimum_notice_can_be_neither_held_nor_booked() {
    let app = spawn_app().await;
    let (mut client, schedule) = app.connect_with_state().await;
    let soon = schedule
        .slots
        .iter()
        .find(|s| s.start > test_now() && s.start <= test_now() + chrono::Duration::minutes(30))
        .expect("a slot within 30 minutes")
        .id
        .clone();

    assert_eq!(refused(&hold(&mut client, &soon).await), Some(BookingFailure::TooSoon));
    assert_eq!(client.book(soon, patient()).await.unwrap(), BookingReply::Refused(BookingFailure::TooSoon));
}

#[tokio::test]
async fn the_manage_link_shows_and_cancels_the_booking_and_a_wrong_secret_gets_nothing() {
    let app = spawn_app().await;
    let (mut patient_page, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    let (code, token) = book(&mut patient_page, &slot).await;
    next_update(&mut watcher).await;
    let (mut manage, _) = app.connect_with_state().await;

    let wrong =
        call(&mut manage, |r| ClientMessage::Cancel { request_id: r, manage_token: "0".repeat(64) }).await;
    let wrong_lookup =
        call(&mut manage, |r| ClientMessage::Lookup { request_id: r, manage_token: format!("{token}x") })
            .await;
    let shown =
        call(&mut manage, |r| ClientMessage::Lookup { request_id: r, manage_token: token.clone() }).await;
    let cancelled =
        call(&mut manage, |r| ClientMessage::Cancel { request_id: r, manage_token: token.clone() }).await;
    let again =
        call(&mut manage, |r| ClientMessage::Cancel { request_id: r, manage_token: token.clone() }).await;

    assert_eq!(refused(&wrong), Some(BookingFailure::NotFound));
    assert_eq!(refused(&wrong_lookup), Some(BookingFailure::NotFound));
    let ServerMessage::Booking { booking, .. } = shown else { panic!("{shown:?}") };
    assert_eq!(
        (booking.code, booking.slot.id.clone(), booking.status),
        (code, slot.clone(), BookingStatus::Active)
    );
    assert_eq!(booking.patient, patient());
    assert!(matches!(cancelled, ServerMessage::ActionResult { ok: true, .. }), "{cancelled:?}");
    assert_eq!(refused(&again), Some(BookingFailure::Cancelled));
    let freed = next_update(&mut watcher).await;
    assert_eq!((freed.id, freed.status), (slot.clone(), SlotStatus::Free));
    assert!(matches!(watcher.book(slot, patient()).await.unwrap(), BookingReply::Booked { .. }));
}

#[tokio::test]
async fn the_calendar_sequence_rises_with_each_move_and_with_the_cancel() {
    let app = spawn_app().await;
    let (mut client, schedule) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (first, second, third) = (slots.next().unwrap(), slots.next().unwrap(), slots.next().unwrap());
    let (_, token) = book(&mut client, &first).await;
    let sequence = |reply: ServerMessage| match reply {
        ServerMessage::Booking { booking, .. } => (booking.status, booking.sequence),
        other => panic!("expected the booking, got {other:?}"),
    };
    let lookup = |r| ClientMessage::Lookup { request_id: r, manage_token: token.clone() };
    let to = |slot: &SlotId| {
        let (token, slot) = (token.clone(), slot.clone());
        move |r| ClientMessage::Reschedule { request_id: r, manage_token: token, slot_id: slot }
    };

    assert_eq!(sequence(call(&mut client, lookup).await), (BookingStatus::Active, 0));
    assert_eq!(sequence(call(&mut client, to(&second)).await), (BookingStatus::Active, 1));
    assert_eq!(sequence(call(&mut client, to(&third)).await), (BookingStatus::Active, 2));
    let onto_itself = call(&mut client, to(&third)).await;
    assert_eq!(refused(&onto_itself), Some(BookingFailure::AlreadyBooked), "{onto_itself:?}");
    assert_eq!(sequence(call(&mut client, lookup).await), (BookingStatus::Active, 2), "no move, no raise");
    let cancel =
        call(&mut client, |r| ClientMessage::Cancel { request_id: r, manage_token: token.clone() }).await;
    assert!(matches!(cancel, ServerMessage::ActionResult { ok: true, .. }), "{cancel:?}");
    assert_eq!(sequence(call(&mut client, lookup).await), (BookingStatus::Cancelled, 3));
}

#[tokio::test]
async fn a_reschedule_racing_a_booking_for_the_target_ends_on_exactly_one_slot() {
    let app = spawn_app().await;
    let (mut setup, schedule) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let mut outcomes = (0, 0);
    for round in 0..12 {
        let (from, target) = (slots.next().unwrap(), slots.next().unwrap());
        let (_, token) = book(&mut setup, &from).await;
        let mut mover = app.connect_ws().await;
        let mut racer = app.connect_ws().await;

        let move_to = ClientMessage::Reschedule {
            request_id: mover.request_id(),
            manage_token: token.clone(),
            slot_id: target.clone(),
        };
        // Either request may be sent first; the rounds take turns.
        let (moved, raced) = if round % 2 == 0 {
            tokio::join!(mover.call(move_to), racer.book(target.clone(), patient()))
        } else {
            let (raced, moved) = tokio::join!(racer.book(target.clone(), patient()), mover.call(move_to));
            (moved, raced)
        };
        let (moved, raced) = (moved.unwrap(), raced.unwrap());

        let now =
            call(&mut mover, |r| ClientMessage::Lookup { request_id: r, manage_token: token.clone() }).await;
        let ServerMessage::Booking { booking, .. } = now else { panic!("{now:?}") };
        match (&moved, &raced) {
            (ServerMessage::Booking { .. }, BookingReply::Refused(BookingFailure::AlreadyBooked)) => {
                assert_eq!(booking.slot.id, target, "moved");
                outcomes.0 += 1;
            }
            (ServerMessage::ActionResult { ok: false, .. }, BookingReply::Booked { .. }) => {
                assert_eq!(booking.slot.id, from, "stayed where it was");
                outcomes.1 += 1;
            }
            other => panic!("exactly one must get the target: {other:?}"),
        }
        assert_eq!(booking.status, BookingStatus::Active);
    }
    eprintln!("reschedule won {} races, the booking {}", outcomes.0, outcomes.1);
    let (_, fresh) = app.connect_with_state().await;
    let booked = fresh.slots.iter().filter(|s| s.status == SlotStatus::Booked).count();
    assert_eq!(booked, 12 + outcomes.1, "every booking holds exactly one slot");
}

#[tokio::test]
async fn a_retried_request_books_once_and_gets_the_first_answer_again() {
    let app = spawn_app().await;
    let (mut client, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let mut free = free_future_slots(&schedule).map(|s| s.id.clone());
    let (slot, next) = (free.next().unwrap(), free.next().unwrap());
    let request = "retry-me".to_owned();

    let first = client.book_as(request.clone(), slot.clone(), patient()).await.unwrap();
    let mut reconnected = app.connect_ws().await;
    let second = reconnected.book_as(request.clone(), slot.clone(), patient()).await.unwrap();

    assert!(matches!(first, BookingReply::Booked { manage_token: Some(_), .. }));
    assert_eq!(first, second);
    assert_eq!(next_update(&mut watcher).await.id, slot);
    // The retry changed nothing: the next booking's update is the next one.
    book(&mut client, &next).await;
    assert_eq!(next_update(&mut watcher).await.id, next);

    drop((client, reconnected, watcher));
    let app = TestApp::restart(app.stop().await).await;
    let mut after_restart = app.connect_ws().await;
    let third = after_restart.book_as(request, slot, patient()).await.unwrap();
    let (BookingReply::Booked { code: first_code, .. }, BookingReply::Booked { code, manage_token }) =
        (first, third)
    else {
        panic!("the retry after a restart is answered with the booking")
    };
    assert_eq!((code, manage_token), (first_code, None));
}

#[tokio::test]
async fn staff_see_patients_and_cancel_block_and_unblock_and_others_may_not() {
    let app = spawn_app().await;
    let (mut patient_page, schedule) = app.connect_with_state().await;
    let (mut staff, _) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (booked, blocked) = (slots.next().unwrap(), slots.next().unwrap());
    let (code, _) = book(&mut patient_page, &booked).await;

    let intruder =
        call(&mut patient_page, |r| ClientMessage::Block { request_id: r, slot_id: blocked.clone() }).await;
    assert!(matches!(intruder, ServerMessage::Error { code: ErrorCode::Forbidden, .. }), "{intruder:?}");
    staff
        .send(&ClientMessage::StaffLogin {
            request_id: "login".into(),
            name: "admin".into(),
            password: "nope".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        recv_skipping_updates(&mut staff).await,
        ServerMessage::Error { code: ErrorCode::Forbidden, .. }
    ));
    staff.staff_login(ADMIN.0, ADMIN.1).await.expect("the admin logs in");
    let ServerMessage::StaffState { bookings, .. } = recv_skipping_updates(&mut staff).await else {
        panic!("expected the staff state")
    };
    assert_eq!(bookings.len(), 1);
    assert_eq!((bookings[0].slot_id.clone(), bookings[0].code.clone()), (booked.clone(), code));
    assert_eq!(bookings[0].patient, patient());

    let block = call(&mut staff, |r| ClientMessage::Block { request_id: r, slot_id: blocked.clone() }).await;
    assert!(matches!(block, ServerMessage::ActionResult { ok: true, .. }), "{block:?}");
    assert_eq!(
        patient_page.book(blocked.clone(), patient()).await.unwrap(),
        BookingReply::Refused(BookingFailure::Blocked)
    );
    let cancel =
        call(&mut staff, |r| ClientMessage::StaffCancel { request_id: r, slot_id: booked.clone() }).await;
    assert!(matches!(cancel, ServerMessage::ActionResult { ok: true, .. }), "{cancel:?}");
    let unblock =
        call(&mut staff, |r| ClientMessage::Unblock { request_id: r, slot_id: blocked.clone() }).await;
    assert!(matches!(unblock, ServerMessage::ActionResult { ok: true, .. }), "{unblock:?}");
    let twice =
        call(&mut staff, |r| ClientMessage::Unblock { request_id: r, slot_id: blocked.clone() }).await;
    assert_eq!(refused(&twice), Some(BookingFailure::WrongState));

    // What the patient's page saw: every staff action as a plain update.
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let slot = next_update(&mut patient_page).await;
        seen.push((slot.id, slot.status));
    }
    assert_eq!(
        seen,
        [
            (booked.clone(), SlotStatus::Booked),
            (blocked.clone(), SlotStatus::Blocked),
            (booked.clone(), SlotStatus::Free),
            (blocked, SlotStatus::Free),
        ]
    );
    // What staff saw: the booking, then its cancellation, with details.
    let mut staff_updates = Vec::new();
    while staff_updates.len() < 3 {
        if let ServerMessage::StaffUpdate { slot_id, booking, .. } = recv(&mut staff).await {
            staff_updates.push((slot_id, booking.map(|b| b.patient.name)));
        }
    }
    assert_eq!(staff_updates[1], (booked, None));
}

async fn recv_skipping_updates(client: &mut Client) -> ServerMessage {
    loop {
        match recv(client).await {
            ServerMessage::Update { .. } | ServerMessage::StaffUpdate { .. } => {}
            other => return other,
        }
    }
}

#[tokio::test]
async fn a_third_client_never_receives_patient_data() {
    let app = spawn_app().await;
    let (mut third, schedule) = app.connect_with_state().await;
    let (mut a, _) = app.connect_with_state().await;
    let mut slots = free_future_slots(&schedule).map(|s| s.id.clone());
    let (x, y, z) = (slots.next().unwrap(), slots.next().unwrap(), slots.next().unwrap());

    hold(&mut a, &x).await;
    let (code, token) = book(&mut a, &x).await;
    call(&mut a, |r| ClientMessage::Reschedule {
        request_id: r,
        manage_token: token.clone(),
        slot_id: y.clone(),
    })
    .await;
    call(&mut a, |r| ClientMessage::Lookup { request_id: r, manage_token: token.clone() }).await;
    book(&mut a, &z).await;
    call(&mut a, |r| ClientMessage::Cancel { request_id: r, manage_token: token.clone() }).await;
    log_in_admin(&mut a).await;
    a.reset().await.unwrap();

    // hold, book, reschedule (two slots), book, cancel, and the reset.
    let mut seen = Vec::new();
    for _ in 0..7 {
        let text = tokio::time::timeout(Duration::from_secs(5), third.recv_text()).await;
        seen.push(text.expect("the third client sees every change").unwrap());
    }
    for text in &seen {
        for secret in ["Anna", "Petrova", "912", code.as_str(), token.as_str()] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
    // The next change is the next message: nothing else was on its way.
    let w = slots.next().unwrap();
    hold(&mut a, &w).await;
    let next = recv(&mut third).await;
    assert!(matches!(&next, ServerMessage::Update { slot, .. } if slot.id == w), "{next:?}");
}

#[tokio::test]
async fn changing_the_configuration_never_moves_or_deletes_a_booking() {
    let app = spawn_app().await;
    let (mut client, schedule) = app.connect_with_state().await;
    let slot = free_future_slots(&schedule).find(|s| s.doctor_id.0 == "therapist").unwrap().clone();
    let (_, token) = book(&mut client, &slot.id).await;
    drop(client);

    // The therapist now sees patients for 20 minutes from 08:50.
    let text = server::clinic::DEMO_CONFIG
        .replacen("slot_minutes = 30", "slot_minutes = 20", 1)
        .replace("[\"09:00-13:00\", \"14:00-18:00\"]", "[\"08:50-13:00\", \"14:00-18:00\"]");
    let options =
        Options { clinic: server::clinic::ClinicConfig::parse(&text).unwrap(), ..Options::default() };
    let app = TestApp::restart_with(app.stop().await, options).await;
    let (mut client, state) = app.connect_with_state().await;

    let kept = state.slots.iter().find(|s| s.id == slot.id).expect("the booked slot is still there");
    assert_eq!((kept.start, kept.end, kept.status), (slot.start, slot.end, SlotStatus::Booked));
    let overlapping: Vec<_> = state
        .slots
        .iter()
        .filter(|s| {
            s.doctor_id == slot.doctor_id && s.id != slot.id && s.start < slot.end && slot.start < s.end
        })
        .collect();
    assert!(overlapping.is_empty(), "no new slot overlaps the booking: {overlapping:?}");
    let therapist_today: Vec<_> = state
        .slots
        .iter()
        .filter(|s| s.doctor_id == slot.doctor_id)
        .take(2)
        .map(|s| s.end - s.start)
        .collect();
    assert!(therapist_today.contains(&chrono::Duration::minutes(20)), "the new length applies to free slots");
    let shown =
        call(&mut client, |r| ClientMessage::Lookup { request_id: r, manage_token: token.clone() }).await;
    assert!(matches!(shown, ServerMessage::Booking { .. }));
}
