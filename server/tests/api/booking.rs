//! Booking through real sockets: the initial state, fan-out, races, refusals,
//! reset and durability across restarts.

use crate::common::*;
use client::{BookingReply, Client};
use protocol::{BookingFailure, ErrorCode, ServerMessage, SlotId, SlotStatus, Version};

/// Shows that nothing else was on its way to `client`: the next message it gets
/// must be the update of the change `version`, to `slot`. (A window of silence
/// would say the same only of a fast enough machine.)
async fn next_is_the_change(client: &mut Client, version: Version, slot: &SlotId) {
    match recv(client).await {
        ServerMessage::Update { version: v, slot: s } if v == version && s.id == *slot => {}
        other => panic!("expected the update of version {version} to {slot:?} next, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_client_receives_the_whole_schedule_first() {
    let app = spawn_app().await;

    let (_client, state) = app.connect_with_state().await;

    assert_eq!(
        (state.clinic.name.as_str(), state.clinic.default_language.as_str()),
        ("Городская клиника", "ru")
    );
    assert_eq!(state.clinic.name_in("en"), "City Clinic");
    assert_eq!(state.clinic.time_zone, "Europe/Moscow");
    assert_eq!((state.clinic.hold_seconds, state.clinic.hold_extensions), (120, 2));
    let specialties: Vec<_> = state.doctors.iter().map(|d| d.specialty.as_str()).collect();
    assert_eq!(specialties, ["Терапевт", "Стоматолог", "Хирург"]);
    let in_english: Vec<_> = state.doctors.iter().map(|d| d.text_in("en").specialty).collect();
    assert_eq!(in_english, ["Therapist", "Dentist", "Surgeon"]);
    let configured = server::clinic::ClinicConfig::demo().slots_from(test_now().date_naive());
    assert_eq!(state.slots.len(), configured.len());
    assert_eq!(state.clinic.min_notice_minutes, 30);
    assert!(state.slots.iter().all(|s| s.status == SlotStatus::Free));
    assert!(state.version >= 1, "creating the slots was a change");
}

#[tokio::test]
async fn one_booking_reaches_all_twenty_clients_as_one_update_each() {
    let app = spawn_app().await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        clients.push(app.connect_with_state().await);
    }
    let (schedule, version) = (clients[0].1.clone(), clients[0].1.version);
    let mut free = free_future_slots(&schedule).map(|s| s.id.clone());
    let (slot, next) = (free.next().unwrap(), free.next().unwrap());

    let reply = clients[0].0.book(slot.clone(), patient()).await.unwrap();

    let BookingReply::Booked { code, .. } = reply else { panic!("expected a booking, got {reply:?}") };
    assert_eq!(code.len(), 9);
    for (client, _) in &mut clients {
        match recv(client).await {
            ServerMessage::Update { version: v, slot: s } => {
                assert_eq!(v, version + 1);
                assert_eq!(s.id, slot);
                assert_eq!(s.status, SlotStatus::Booked);
            }
            other => panic!("expected the update, got {other:?}"),
        }
    }
    // One update each: the next booking's is the next message.
    clients[0].0.book(next.clone(), patient()).await.unwrap();
    for (client, _) in &mut clients {
        next_is_the_change(client, version + 2, &next).await;
    }
}

#[tokio::test]
async fn a_hundred_clients_racing_for_one_slot_get_exactly_one_success() {
    let app = spawn_app().await;
    let mut clients = Vec::new();
    for _ in 0..100 {
        clients.push(app.connect_with_state().await.0);
    }
    let (mut booker, schedule) = app.connect_with_state().await;
    let mut free = free_future_slots(&schedule).map(|s| s.id.clone());
    let (slot, next) = (free.next().unwrap(), free.next().unwrap());

    let attempts = clients.into_iter().map(|mut client| {
        let slot = slot.clone();
        tokio::spawn(async move {
            let reply = client.book(slot, patient()).await.unwrap();
            (reply, client)
        })
    });
    let results: Vec<_> =
        futures_util::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();

    let wins = results.iter().filter(|(r, _)| matches!(r, BookingReply::Booked { .. })).count();
    let lost =
        results.iter().filter(|(r, _)| *r == BookingReply::Refused(BookingFailure::AlreadyBooked)).count();
    assert_eq!((wins, lost), (1, 99));
    booker.book(next.clone(), patient()).await.unwrap();
    for (_, mut client) in results {
        next_is_the_change(&mut client, schedule.version + 1, &slot).await;
        next_is_the_change(&mut client, schedule.version + 2, &next).await;
    }
}

#[tokio::test]
async fn refused_bookings_say_why_and_change_nothing() {
    let app = spawn_app().await;
    let (mut booker, schedule) = app.connect_with_state().await;
    let (mut watcher, _) = app.connect_with_state().await;
    let started = schedule.slots.iter().find(|s| s.start <= test_now()).expect("a slot already started");
    let free = free_future_slot(&schedule);

    let past = booker.book(started.id.clone(), patient()).await.unwrap();
    let missing = booker.book(SlotId("no-such-slot".into()), patient()).await.unwrap();
    let mut nameless = patient();
    nameless.name = "  ".into();
    let invalid = booker.book(free.id.clone(), nameless).await.unwrap();

    assert_eq!(past, BookingReply::Refused(BookingFailure::Past));
    assert_eq!(missing, BookingReply::Refused(BookingFailure::NotFound));
    assert_eq!(invalid, BookingReply::Refused(BookingFailure::InvalidPatient));
    // Nothing changed: the next change is the very next version, and the very
    // next message either of them gets.
    let reply = booker.book(free.id.clone(), patient()).await.unwrap();
    assert!(matches!(reply, BookingReply::Booked { .. }), "{reply:?}");
    next_is_the_change(&mut watcher, schedule.version + 1, &free.id).await;
    next_is_the_change(&mut booker, schedule.version + 1, &free.id).await;
}

#[tokio::test]
async fn booking_a_taken_slot_tells_only_the_sender() {
    let app = spawn_app().await;
    let (mut first, schedule) = app.connect_with_state().await;
    let (mut second, _) = app.connect_with_state().await;
    let mut free = free_future_slots(&schedule).map(|s| s.id.clone());
    let (slot, next) = (free.next().unwrap(), free.next().unwrap());
    assert!(matches!(first.book(slot.clone(), patient()).await.unwrap(), BookingReply::Booked { .. }));
    assert!(matches!(recv(&mut second).await, ServerMessage::Update { .. }));
    assert!(matches!(recv(&mut first).await, ServerMessage::Update { .. }));

    let again = second.book(slot, patient()).await.unwrap();

    assert_eq!(again, BookingReply::Refused(BookingFailure::AlreadyBooked));
    second.book(next.clone(), patient()).await.unwrap();
    next_is_the_change(&mut first, schedule.version + 2, &next).await;
}

#[tokio::test]
async fn reset_needs_an_admin_and_then_gives_everyone_a_fresh_schedule() {
    let app = spawn_app().await;
    let (mut staff, schedule) = app.connect_with_state().await;
    let (mut patient_page, _) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    staff.book(slot.clone(), patient()).await.unwrap();
    let _ = recv(&mut staff).await;
    let _ = recv(&mut patient_page).await;

    staff.reset().await.unwrap();
    match recv(&mut staff).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::Forbidden),
        other => panic!("expected forbidden, got {other:?}"),
    }
    // The patient's page gets nothing until the reset that succeeds: its next
    // message must be the fresh schedule.

    log_in_admin(&mut staff).await;
    staff.reset().await.unwrap();
    for client in [&mut staff, &mut patient_page] {
        match recv(client).await {
            ServerMessage::InitialState(fresh) => {
                assert!(fresh.version > schedule.version + 1, "the version keeps growing");
                assert!(fresh.slots.iter().all(|s| s.status == SlotStatus::Free));
            }
            other => panic!("expected initialState, got {other:?}"),
        }
    }
    let rebooked = staff.book(slot, patient()).await.unwrap();
    assert!(matches!(rebooked, BookingReply::Booked { .. }));
}

#[tokio::test]
async fn a_booking_survives_a_restart_and_the_version_continues() {
    let app = spawn_app().await;
    let (mut client, schedule) = app.connect_with_state().await;
    let slot = free_future_slot(&schedule).id;
    client.book(slot.clone(), patient()).await.unwrap();
    let ServerMessage::Update { version: booked_version, .. } = recv(&mut client).await else {
        panic!("expected the update")
    };
    drop(client);

    let data = app.stop().await;
    let app = TestApp::restart(data).await;
    let (mut client, state) = app.connect_with_state().await;

    assert_eq!(state.version, booked_version, "a restart alone changes nothing");
    let stored = state.slots.iter().find(|s| s.id == slot).unwrap();
    assert_eq!(stored.status, SlotStatus::Booked);
    let other = free_future_slot(&state).id;
    client.book(other, patient()).await.unwrap();
    let ServerMessage::Update { version, .. } = recv(&mut client).await else {
        panic!("expected the update")
    };
    assert_eq!(version, booked_version + 1);
}

#[tokio::test]
async fn the_http_schedule_is_the_same_snapshot_as_the_initial_state() {
    let app = spawn_app().await;
    let (_client, state) = app.connect_with_state().await;

    let (status, body) = http_get(app.addr, "/api/schedule").await;
    let (health_status, health) = http_get(app.addr, "/healthz").await;

    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<protocol::Schedule>(&body).unwrap(), state);
    assert_eq!(health_status, 200);
    assert!(health.contains("\"ok\""));
}

#[tokio::test]
async fn the_root_explains_how_to_build_the_page_until_it_is_built() {
    let app = spawn_app().await;
    let (status, body) = http_get(app.addr, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("cargo xtask"), "{body}");

    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<title>Booking page</title>").unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log(1)").unwrap();
    let app = spawn_with(Options { static_dir: dist.path().into(), ..Options::default() }).await;
    assert!(http_get(app.addr, "/").await.1.contains("Booking page"));
    assert_eq!(http_get(app.addr, "/app.js").await.1, "console.log(1)");
    assert!(http_get(app.addr, "/manage/abc").await.1.contains("Booking page"), "deep links get the app");
}
